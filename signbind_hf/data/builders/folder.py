"""Your own videos, in any sign language: a manifest (CSV or JSONL) of ``path, text[, start, end][, split][, pose]``.

- ``path``: a video file or a folder of frames, relative to the manifest's folder and inside it (a path leading out,
  by ``..`` or a symlink, is skipped as ``outside_root``). An absolute path is kept only where it lies in the
  manifest's folder too, unless you pass ``allow_absolute_paths=True`` (``--allow-absolute-paths``): a manifest
  names files to read, so reading anywhere on the machine is the user's explicit choice.
- ``text``: the spoken-language translation of the clip.
- ``start``/``end``: seconds (optional; empty = the whole clip). ``split``: train (default), validation (or val,
  dev) or test. ``signer_id``: optional.
- ``pose``: optional, the clip's keypoints, a ``.pose`` file (``signbind keypoints`` writes them) covering the video
  named by ``path`` from its first frame; relative to the manifest's folder and inside it, by the same rules as
  ``path``. A file that is missing (``missing_pose``), cannot be read (``unreadable_pose``) or does not last as long
  as the video, within a frame (``pose_frame_mismatch``), skips the row. Empty: the processor reads the video's
  sidecar ``.pose``, else runs its extractor.

A row repeating an earlier row's clip, times and text is skipped as ``duplicate``; a row (a CSV record, a JSONL
line) that is not UTF-8 as ``not_utf8``.

``language`` is the spoken language of ``text`` (an ISO 639-1 code, default ``en``). The targets that depend on
English are made only for English: the rule pseudo-glosser (it drops English function words), CMUdict phonemes and
the fingerspelling detector (an English dictionary). For any other language the pseudo-gloss is the text's words
upper-case, and the phoneme and letter streams are disabled: ``false`` in ``signbind_streams.json`` and empty in every
row, rather than filled with English guesses.
"""

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

from signbind_hf.errors import SignBindInputError

from .core import (
    ENGLISH,
    MALFORMED_ROW,
    NOT_UTF8,
    Candidate,
    Skip,
    Streams,
    build_dataset,
    parse_seconds,
    read_text_table,
)

SOURCE = "folder"
REQUIRED = ("path", "text")
SPLIT_ALIASES = {
    "train": "train",
    "validation": "validation",
    "val": "validation",
    "dev": "validation",
    "test": "test",
}
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]+)*$")
# Words in any script: letters and digits, with inner apostrophes ("don't").
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def upper_case_words(text: str) -> str:
    """The language-neutral pseudo-gloss: the words of ``text`` upper-case, punctuation dropped."""
    return " ".join(_WORD.findall(text)).upper()


def _read_manifest(path: Path) -> list[dict | Skip]:
    if not path.is_file():
        raise SignBindInputError(f"--manifest {path}: no such file")
    if path.suffix.lower() != ".jsonl":
        return read_text_table(path, delimiter=",", required=REQUIRED, argument="--manifest")
    records: list[dict | Skip] = []
    # Lines are decoded one by one, so a line that is not UTF-8 costs that row only.
    for line_number, raw in enumerate(path.read_bytes().splitlines(), 1):
        try:
            line = raw.decode("utf-8-sig" if line_number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            bad = f"byte 0x{raw[error.start]:02X} at column {error.start + 1} is not UTF-8 (save as UTF-8)"
            records.append(Skip(NOT_UTF8, f"{path.name}:{line_number}", bad))
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            record = {"_error": f"not JSON ({error.msg})"}
        records.append({"_line": line_number, **(record if isinstance(record, dict) else {"_error": "not an object"})})
    return records


def read_folder_manifest(manifest: Path, *, allow_absolute_paths: bool = False) -> Iterator[Candidate | Skip]:
    for position, record in enumerate(_read_manifest(manifest), 1):
        if isinstance(record, Skip):
            yield record
            continue
        where = f"{manifest.name}:{record.get('_line', position + 1)}"
        if "_error" in record or not isinstance(record.get("path"), str) or not record["path"].strip():
            yield Skip(MALFORMED_ROW, where, record.get("_error", "no `path`"))
            continue
        split = SPLIT_ALIASES.get(str(record.get("split") or "train").strip().lower())
        try:
            start, end = _seconds(record.get("start")), _seconds(record.get("end"))
        except ValueError as error:
            yield Skip(MALFORMED_ROW, where, f"start/end: {error}")
            continue
        if split is None:
            yield Skip(MALFORMED_ROW, where, f"split {record.get('split')!r} is not one of {sorted(SPLIT_ALIASES)}")
            continue
        video = Path(record["path"].strip())
        pose = record.get("pose")
        if pose is not None and not isinstance(pose, str):
            yield Skip(MALFORMED_ROW, where, f"`pose` must be a path, got {type(pose).__name__}")
            continue
        pose = Path(pose.strip()) if pose and pose.strip() else None
        signer = record.get("signer_id")
        trusted = allow_absolute_paths and video.is_absolute()
        yield Candidate(
            id=f"{manifest.stem}-{position:06d}",
            video=manifest.parent / video,  # an absolute `video` replaces the folder
            sentence=str(record.get("text") or ""),
            split=split,
            root=None if trusted else manifest.parent,
            start=start,
            end=end,
            signer_id=str(signer) if signer not in (None, "") else None,
            pose=None if pose is None else manifest.parent / pose,  # an absolute `pose` replaces the folder
            pose_root=None if pose is not None and allow_absolute_paths and pose.is_absolute() else manifest.parent,
        )


def _seconds(value) -> float | None:
    if value is None or isinstance(value, (int, float)):
        return None if value is None else float(value)
    return parse_seconds(str(value))


def prepare_folder(
    manifest: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    language: str = ENGLISH,
    allow_absolute_paths: bool = False,
    **kwargs,
):
    """Build a data set from a manifest of your own clips; returns the ``DatasetDict`` (report: ``PrepareReport.read(out_dir)``).

    ``allow_absolute_paths``: keep rows whose absolute ``path`` lies outside the manifest's folder (see the module
    docstring)."""
    if not _LANGUAGE_CODE.match(language):
        raise SignBindInputError(f"--language {language!r}: expected an ISO 639 code such as en, de, fr, pt-BR")
    english = language == ENGLISH
    streams = Streams() if english else Streams(phonemes=False, letters=False)
    return build_dataset(
        read_folder_manifest(Path(manifest), allow_absolute_paths=allow_absolute_paths),
        out_dir,
        source=SOURCE,
        streams=streams,
        glosser=None if english else upper_case_words,
        source_info={
            "language": language,
            "license": "other",
            "glosser": "rule (English)" if english else "upper-case words",
            "inputs": {"manifest": str(manifest)},
        },
        **kwargs,
    )
