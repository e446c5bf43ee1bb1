"""ChicagoFSWild / ChicagoFSWild+ (https://home.ttic.edu/~klivescu/ChicagoFSWild.htm): fingerspelling in the wild.

Inputs, as released: the CSV (``ChicagoFSWild.csv``, comma-separated, columns ``filename, url, start_time,
number_of_frames, width, height, label_proc, label_raw, label_notes, partition, signer``) and the frame folders:
``filename`` is a folder of JPEG frames relative to the frames root (``--frames``).

Each clip is one fingerspelled sequence, so the whole clip is routed as fingerspelling: every frame's segment label
is ``SEGMENT_FINGERSPELLING``. The targets come from ``label_proc`` (the cleaned label): letters with a word boundary
between words, the pseudo-gloss is the spelled word(s) upper-case, and the phonemes are the gloss's pronunciation
where one can be made (else empty, counted as ``incomplete.no_phonemes`` in the report). ``partition`` dev -> the
``validation`` split.
"""

import os
from collections.abc import Iterator
from pathlib import Path

from signbind_hf.errors import SignBindInputError

from .core import MALFORMED_ROW, Candidate, Skip, Streams, build_dataset, read_text_table

SOURCE = "chicagofswild"
COLUMNS = (
    "filename", "url", "start_time", "number_of_frames", "width", "height", "label_proc", "label_raw", "label_notes",
    "partition", "signer",
)  # fmt: skip
PARTITIONS = {"train": "train", "dev": "validation", "val": "validation", "validation": "validation", "test": "test"}
LICENSE = "other"


def read_chicagofswild(csv_path: Path, frames: Path) -> Iterator[Candidate | Skip]:
    from signbind_hf.targets import letters

    if not frames.is_dir():
        raise SignBindInputError(f"--frames {frames}: not a folder (expected the root of the frame folders)")
    for line, row in enumerate(read_text_table(csv_path, delimiter=",", required=COLUMNS, argument="--csv"), 2):
        if isinstance(row, Skip):
            yield row
            continue
        where = f"{csv_path.name}:{line}"
        folder = (row["filename"] or "").strip()
        split = PARTITIONS.get((row["partition"] or "").strip().lower())
        if not folder or split is None:
            yield Skip(MALFORMED_ROW, where, f"filename {folder!r}, partition {row['partition']!r}")
            continue
        label = " ".join((row["label_proc"] or "").split())
        words = label.upper().split()
        yield Candidate(
            id=folder,
            video=frames / folder,
            sentence=label,
            split=split,
            root=frames,
            signer_id=(row["signer"] or "").strip() or None,
            pseudo_gloss=" ".join(words),
            letters=letters(label) if label else "",
            fingerspelled_words=label.split(),
            whole_clip_fingerspelled=True,
        )


def prepare_chicagofswild(
    csv_path: str | os.PathLike, frames: str | os.PathLike, out_dir: str | os.PathLike, **kwargs
):
    """Build ChicagoFSWild(+) into ``out_dir``; returns the ``DatasetDict`` (report: ``PrepareReport.read(out_dir)``). See the module docstring."""
    return build_dataset(
        read_chicagofswild(Path(csv_path), Path(frames)),
        out_dir,
        source=SOURCE,
        streams=Streams(segment_labels=True),
        source_info={
            "language": "en",
            "sign_language": "ase",
            "license": LICENSE,
            "inputs": {"csv": str(csv_path), "frames": str(frames)},
        },
        **kwargs,
    )
