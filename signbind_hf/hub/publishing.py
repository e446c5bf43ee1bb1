"""What the model push (``signbind_hf.hub.model_push``) and the data set push (``signbind_hf.data.hub``) share.

The card templates (``signbind_hf/hub_cards/*.md``, package data, so they install with the wheel), the checks that
run before any upload (repository id, token), and the translation of every upload failure (no network, offline
mode, a rejected token) into a one-line :class:`HubPushError`. Only the standard library is imported here; the
``huggingface_hub`` imports happen inside the functions that need them.
"""

import importlib
import importlib.resources
import os
from pathlib import Path

CARD_TEMPLATES_DIR = "hub_cards"  # inside the signbind_hf package


class HubPushError(RuntimeError):
    """Publishing on the Hub failed for a reason the user can fix; the message is one line."""


def card_template(name: str) -> str:
    """The text of the card template ``name`` (e.g. ``"model_card.md"``) shipped in ``signbind_hf/hub_cards/``.

    >>> card_template("model_card.md").startswith("---")
    True
    """
    template = importlib.resources.files("signbind_hf").joinpath(CARD_TEMPLATES_DIR, name)
    if not template.is_file():
        raise HubPushError(
            f"the card template {CARD_TEMPLATES_DIR}/{name} is missing from the installed signbind_hf package "
            "(it ships as package data: reinstall signbind-hf)"
        )
    return template.read_text(encoding="utf-8")


def check_repo_id(repo_id: str) -> None:
    """Raise :class:`HubPushError` unless ``repo_id`` is a valid ``ORG/NAME`` (or ``USER/NAME``) Hub id."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        raise HubPushError(f"--repo-id {repo_id!r}: {str(error).splitlines()[0]}") from error
    if "/" not in repo_id:
        # The Hub would put a bare name under the token's user; say which namespace is meant instead of guessing.
        raise HubPushError(f"--repo-id {repo_id!r}: expected ORG/NAME (or USER/NAME)")


def resolve_token(token: str | None) -> str:
    """``token``, else the one from ``HF_TOKEN`` or ``hf auth login``; :class:`HubPushError` when there is none."""
    from huggingface_hub import get_token

    token = token or get_token()
    if not token:
        raise HubPushError(
            "no Hugging Face token: pass --token, set HF_TOKEN, or run `hf auth login` (a token with write access)"
        )
    return token


def check_not_offline(repo_id: str) -> None:
    """Refuse before any request when ``HF_HUB_OFFLINE`` is set: huggingface_hub would fail on the first call."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE or os.environ.get("HF_HUB_OFFLINE", "").upper() in {"1", "ON", "YES", "TRUE"}:
        raise HubPushError(f"cannot push {repo_id}: Hugging Face offline mode is on (unset HF_HUB_OFFLINE)")


def folder_files(folder: Path) -> list[str]:
    """Every file under ``folder`` as a sorted POSIX path relative to it, hidden files and folders left out."""
    return sorted(
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def _transport_errors() -> tuple[type[BaseException], ...]:
    """The HTTP client errors huggingface_hub may raise: it moved from requests to httpx, and to httpx2 in 2.x."""
    found: list[type[BaseException]] = [ConnectionError, TimeoutError, OSError]
    for module_name, error_name in (("httpx2", "HTTPError"), ("httpx", "HTTPError"), ("requests", "RequestException")):
        try:
            found.append(getattr(importlib.import_module(module_name), error_name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def upload_error(error: Exception, repo_id: str) -> Exception:
    """The one-line :class:`HubPushError` for an upload failure, or ``error`` itself when it is not a Hub failure."""
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    first_line = (str(error).splitlines() or [""])[0]
    if isinstance(error, OfflineModeIsEnabled):
        return HubPushError(f"cannot push {repo_id}: Hugging Face offline mode is on (unset HF_HUB_OFFLINE)")
    if isinstance(error, HfHubHTTPError) and error.response is not None and error.response.status_code in (401, 403):
        return HubPushError(f"cannot push {repo_id}: the Hub rejected the token ({first_line})")
    if isinstance(error, (HfHubHTTPError, *_transport_errors())):
        return HubPushError(f"cannot push {repo_id}: the Hugging Face Hub is unreachable or refused ({first_line})")
    return error  # not a network failure: a bug, keep its traceback


def upload_folder_to_hub(
    folder: Path,
    *,
    repo_id: str,
    repo_type: str,
    token: str,
    private: bool,
    allow_patterns: list[str],
    commit_message: str,
) -> None:
    """Create the repository if needed and upload ``allow_patterns`` of ``folder``; failures become one line."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True)
        api.upload_folder(
            repo_id=repo_id,
            repo_type=repo_type,
            folder_path=folder,
            allow_patterns=allow_patterns,
            commit_message=commit_message,
        )
    except Exception as error:
        raise upload_error(error, repo_id) from error
