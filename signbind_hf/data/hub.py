"""Publishing a prepared data set on the Hugging Face Hub, with a card made from ``hub_cards/dataset_card.md``.

``push_dataset`` uploads the folder ``signbind prepare`` wrote (Arrow files, ``prepare_report.json``,
``signbind_streams.json``, ``signbind_source.json``) and its card as ``README.md``. Everything up to the upload is
local (``dataset_card``, ``files_to_upload``), so it is testable without the Hub; every failure of the upload itself
(no token, no network, a rejected token) becomes a one-line :class:`DatasetPushError`. The checks and messages are
shared with the model push (``signbind_hf.hub.publishing``).
"""

import json
import os
from pathlib import Path

from ..hub.publishing import (
    HubPushError,
    card_template,
    check_repo_id,
    folder_files,
    resolve_token,
    upload_folder_to_hub,
)
from .builders.core import REPORT_FILE, SOURCE_FILE, STREAMS_FILE

CARD_TEMPLATE = "dataset_card.md"  # in signbind_hf/hub_cards/
CARD_FILE = "README.md"
DATASET_DICT_FILE = "dataset_dict.json"  # written by DatasetDict.save_to_disk

# What each corpus is and the terms it comes under: the card repeats them so a published copy keeps them.
DESCRIPTIONS = {
    "how2sign": "How2Sign: continuous American Sign Language (ASL) instructional videos with English translations "
    "(Duarte et al., CVPR 2021), realigned per-sentence timestamps.",
    "chicagofswild": "ChicagoFSWild / ChicagoFSWild+: ASL fingerspelling sequences collected in the wild from online "
    "videos (Shi et al., 2018, 2019), each clip one fingerspelled word or phrase.",
    "youtube-asl": "YouTube-ASL: ASL videos from YouTube with English captions (Uthus et al., NeurIPS 2023), one "
    "example per caption cue.",
    "bobsl": "BOBSL: BBC-Oxford British Sign Language data set, signed TV episodes with English subtitles (Albanie et "
    "al., 2021), one example per subtitle cue.",
    "folder": "A sign-language data set assembled from a manifest of clips and their translations.",
}
LICENSE_NOTES = {
    "how2sign": "How2Sign is released under CC BY-NC 4.0: non-commercial use, with attribution.",
    "chicagofswild": "ChicagoFSWild(+) is released by TTIC for research use; see the corpus's own terms.",
    "youtube-asl": "YouTube-ASL lists public YouTube videos; each video remains under its uploader's licence.",
    "bobsl": "BOBSL is available under the BBC's research licence (non-commercial); its videos and subtitles must "
    "not be redistributed.",
    "folder": "The licence of the source clips is the publisher's to state.",
}


# The model push raises the same error: one type for "publishing failed for a reason the user can fix".
DatasetPushError = HubPushError


def _read_json(folder: Path, name: str) -> dict:
    path = folder / name
    if not path.is_file():
        raise DatasetPushError(
            f"{folder}: not a data set prepared by `signbind prepare` (no {name}); prepare it first, then push"
        )
    return json.loads(path.read_text())


def _size_category(total: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if total < limit:
            return name
    return "1M<n<10M"


def dataset_card(folder: str | os.PathLike, template: str = CARD_TEMPLATE):
    """The ``huggingface_hub.DatasetCard`` of the prepared data set in ``folder`` (read back and checked)."""
    from huggingface_hub import DatasetCard, DatasetCardData

    folder = Path(folder)
    source = _read_json(folder, SOURCE_FILE)
    report = _read_json(folder, REPORT_FILE)
    streams = _read_json(folder, STREAMS_FILE)
    splits = _read_json(folder, DATASET_DICT_FILE)["splits"]
    sizes = {split: report.get("splits", {}).get(split, 0) for split in splits}
    corpus = source["format"]
    language = source.get("language", "en")
    card_data = DatasetCardData(
        pretty_name=f"{corpus} (signbind-hf)",
        license=source.get("license", "other"),
        language=[language],
        task_categories=["translation"],
        tags=["sign-language", "video", "signbind", corpus],
        size_categories=[_size_category(sum(sizes.values()))],
        configs=[
            {
                "config_name": "default",
                "data_files": [{"split": split, "path": f"{split}/*.arrow"} for split in splits],
            }
        ],
    )
    card = DatasetCard.from_template(
        card_data,
        template_str=card_template(template),
        pretty_name=card_data.pretty_name,
        description=DESCRIPTIONS.get(corpus, DESCRIPTIONS["folder"]),
        format=corpus,
        language=language,
        glosser=source.get("glosser", "rule (English)"),
        split_sizes=sizes,
        streams=streams,
        report=report,
        license_note=LICENSE_NOTES.get(corpus, LICENSE_NOTES["folder"]),
    )
    # Read the rendered card back as the Hub will: its YAML must parse into the same metadata.
    parsed = DatasetCard(str(card))
    if parsed.data.to_dict() != card_data.to_dict():
        raise DatasetPushError(f"{folder}: the rendered card's metadata does not read back as written")
    return parsed


def files_to_upload(folder: str | os.PathLike) -> list[str]:
    """Paths (relative to ``folder``, sorted) that a push uploads, the card ``README.md`` included."""
    return sorted({*folder_files(Path(folder)), CARD_FILE})


def push_dataset(folder: str | os.PathLike, repo_id: str, *, private: bool = False, token: str | None = None) -> str:
    """Upload the prepared data set in ``folder`` and its card to the Hub data set ``repo_id``; returns its URL."""
    folder = Path(folder)
    check_repo_id(repo_id)
    card = dataset_card(folder)
    token = resolve_token(token)
    card.save(folder / CARD_FILE)
    upload_folder_to_hub(
        folder,
        repo_id=repo_id,
        repo_type="dataset",
        token=token,
        private=private,
        allow_patterns=files_to_upload(folder),
        commit_message="Upload a data set prepared with signbind prepare",
    )
    return f"https://huggingface.co/datasets/{repo_id}"
