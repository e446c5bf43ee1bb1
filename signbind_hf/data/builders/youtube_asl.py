"""YouTube-ASL (Uthus et al., 2023): videos and their English caption tracks, one example per caption cue.

The corpus is released as a list of YouTube video ids; users download the videos and their manual captions (yt-dlp
writes ``ID.mp4`` and ``ID.en.vtt``). ``--videos`` holds the videos, ``--captions`` the ``.vtt`` tracks. YouTube-ASL
defines no split: every cue goes to ``train`` unless a split file (``--splits``, JSON ``{split: [video ids]}``) says
otherwise; videos it does not list are then skipped (``not_in_split_file``). Signers are not identified.
"""

import os
from pathlib import Path

from .core import build_dataset, english_streams
from .subtitled import read_split_file, read_subtitled

SOURCE = "youtube-asl"
LICENSE = "other"  # each video keeps its uploader's YouTube licence


def prepare_youtube_asl(
    videos: str | os.PathLike,
    captions: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    splits: str | os.PathLike | None = None,
    **kwargs,
):
    """Build YouTube-ASL into ``out_dir``; returns the ``DatasetDict`` (report: ``PrepareReport.read(out_dir)``). See the module docstring."""
    listing = read_split_file(Path(splits)) if splits is not None else {}
    split_of = listing.get if splits is not None else (lambda video_id: "train")
    return build_dataset(
        read_subtitled(Path(videos), Path(captions), split_of, listed=listing),
        out_dir,
        source=SOURCE,
        streams=english_streams(),
        source_info={
            "language": "en",
            "sign_language": "ase",
            "license": LICENSE,
            "inputs": {"videos": str(videos), "captions": str(captions), "splits": str(splits) if splits else None},
        },
        **kwargs,
    )
