"""BOBSL (BBC-Oxford British Sign Language, Albanie et al., 2021): signed TV episodes with English subtitles.

Inputs:
- ``--videos``: the episode videos, ``EPISODE_ID.mp4``.
- ``--subtitles``: one WebVTT file per episode, ``EPISODE_ID.vtt`` (BOBSL ships audio-aligned subtitles and, for its
  test episodes, manually signing-aligned ones, each in its own folder: point this at the folder you train on).
- ``--splits``: a JSON object listing the episode ids of each split, ``{"train": [...], "val": [...],
  "public_test": [...]}`` (``val``/``validation``/``dev`` and ``test``/``public_test`` are accepted). Episodes with
  subtitles that no split lists are skipped, each cue counted as ``not_in_split_file``; listed episodes with no
  subtitle file are counted once each as ``missing_subtitles``.

One example per subtitle cue, cut from the episode by the cue's times. The subtitles are English (the BSL is
translated), so every target stream is made. BOBSL's licence is the BBC's research-only one: do not publish the
prepared videos; a pushed data set holds rows that point at the user's copies.
"""

import os
from pathlib import Path

from .core import build_dataset, english_streams
from .subtitled import read_split_file, read_subtitled

SOURCE = "bobsl"
LICENSE = "other"  # BBC research licence, non-commercial


def prepare_bobsl(
    videos: str | os.PathLike,
    subtitles: str | os.PathLike,
    splits: str | os.PathLike,
    out_dir: str | os.PathLike,
    **kwargs,
):
    """Build BOBSL into ``out_dir``; returns the ``DatasetDict`` (report: ``PrepareReport.read(out_dir)``). See the module docstring."""
    split_of = read_split_file(Path(splits))
    return build_dataset(
        read_subtitled(Path(videos), Path(subtitles), split_of.get, listed=split_of),
        out_dir,
        source=SOURCE,
        streams=english_streams(),
        source_info={
            "language": "en",
            "sign_language": "bfi",
            "license": LICENSE,
            "inputs": {"videos": str(videos), "subtitles": str(subtitles), "splits": str(splits)},
        },
        **kwargs,
    )
