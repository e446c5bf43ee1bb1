"""How2Sign (https://how2sign.github.io): the realigned per-sentence CSVs and their clips.

Inputs, as released:
- ``how2sign_realigned_{train,val,test}.csv``: TAB-separated, columns ``VIDEO_ID, VIDEO_NAME, SENTENCE_ID,
  SENTENCE_NAME, START_REALIGNED, END_REALIGNED, SENTENCE``; the split comes from the file name (val -> validation).
- a folder of clips, either the per-sentence clips ``SENTENCE_NAME.mp4`` (each row is then a whole clip) or the raw
  videos ``VIDEO_NAME.mp4``, cut by ``START_REALIGNED``/``END_REALIGNED`` seconds. A per-sentence clip wins when both
  exist. Some released timestamps run past the end of their video: those rows are skipped (``past_video_end``).
  A name that leads outside the folder (``../``, an absolute path, a symlink pointing out) is skipped
  (``outside_root``); a second row with the same ``SENTENCE_NAME`` is skipped (``duplicate``).

How2Sign does not name its signers per sentence: ``signer_id`` is None.
"""

import logging
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from signbind_hf.errors import SignBindInputError

from .core import (
    MALFORMED_ROW,
    Candidate,
    Skip,
    build_dataset,
    english_streams,
    is_inside,
    parse_seconds,
    read_text_table,
)

logger = logging.getLogger(__name__)

SOURCE = "how2sign"
COLUMNS = (
    "VIDEO_ID", "VIDEO_NAME", "SENTENCE_ID", "SENTENCE_NAME", "START_REALIGNED", "END_REALIGNED", "SENTENCE",
)  # fmt: skip
VIDEO_SUFFIX = ".mp4"
_SPLIT_IN_NAME = re.compile(r"(?:^|[_\-.])(train|val|validation|test)(?:[_\-.]|$)", re.IGNORECASE)
_SPLIT_NAMES = {"train": "train", "val": "validation", "validation": "validation", "test": "test"}
LICENSE = "cc-by-nc-4.0"


def split_of(csv_path: Path) -> str:
    """The split a How2Sign CSV holds, from its file name (``how2sign_realigned_val.csv`` -> ``validation``)."""
    found = _SPLIT_IN_NAME.findall(csv_path.stem)
    if not found:
        raise SignBindInputError(
            f"--csv {csv_path}: cannot tell the split from the file name; expected how2sign_realigned_train.csv, "
            "_val.csv or _test.csv (the released names)"
        )
    return _SPLIT_NAMES[found[-1].lower()]


def read_how2sign(csv_paths: Sequence[Path], videos: Path) -> Iterator[Candidate | Skip]:
    """Candidate rows of the How2Sign CSVs, each with its clip under ``videos``."""
    if not videos.is_dir():
        raise SignBindInputError(f"--videos {videos}: not a folder (expected the How2Sign clips or raw videos)")
    for csv_path in csv_paths:
        split = split_of(csv_path)
        for line, row in enumerate(read_text_table(csv_path, delimiter="\t", required=COLUMNS, argument="--csv"), 2):
            if isinstance(row, Skip):
                yield row
                continue
            where = f"{csv_path.name}:{line}"
            name = (row.get("SENTENCE_NAME") or "").strip()
            if not name or None in row or any(row.get(column) is None for column in COLUMNS):
                yield Skip(MALFORMED_ROW, where, "wrong number of fields")
                continue
            sentence = row["SENTENCE"] or ""
            clip = videos / f"{name}{VIDEO_SUFFIX}"
            # A SENTENCE_NAME leading outside --videos is never probed: handed on whole, it is skipped as outside_root.
            if not is_inside(clip, videos) or clip.exists():
                yield Candidate(id=name, video=clip, sentence=sentence, split=split, root=videos)
                continue
            try:
                start, end = parse_seconds(row["START_REALIGNED"]), parse_seconds(row["END_REALIGNED"])
            except ValueError as error:
                yield Skip(MALFORMED_ROW, where, f"timestamps: {error}")
                continue
            if start is None or end is None:
                yield Skip(MALFORMED_ROW, where, "empty timestamp")
                continue
            raw = videos / f"{row['VIDEO_NAME'].strip()}{VIDEO_SUFFIX}"
            yield Candidate(id=name, video=raw, sentence=sentence, split=split, root=videos, start=start, end=end)


def prepare_how2sign(
    csv_paths: Sequence[str | os.PathLike], videos: str | os.PathLike, out_dir: str | os.PathLike, **kwargs
):
    """Build How2Sign into ``out_dir``; returns the ``DatasetDict`` (report: ``PrepareReport.read(out_dir)``). See the module docstring."""
    csv_paths = [Path(path) for path in csv_paths]
    return build_dataset(
        read_how2sign(csv_paths, Path(videos)),
        out_dir,
        source=SOURCE,
        streams=english_streams(),
        source_info={
            "language": "en",
            "sign_language": "ase",
            "license": LICENSE,
            "inputs": {"csv": [str(path) for path in csv_paths], "videos": str(videos)},
        },
        **kwargs,
    )
