"""Builders for real sign-language corpora in their released formats: each reads the user's files, skips and counts
bad rows, makes the Stage-1 targets and saves a ``datasets.DatasetDict`` (see ``core``; ``signbind prepare``)."""

from .bobsl import prepare_bobsl
from .chicagofswild import prepare_chicagofswild
from .core import (
    REPORT_FILE,
    SOURCE_FILE,
    SPLITS,
    STREAMS_FILE,
    Candidate,
    PrepareReport,
    Skip,
    Streams,
    build_dataset,
    example_features,
)
from .folder import prepare_folder
from .how2sign import prepare_how2sign
from .youtube_asl import prepare_youtube_asl

__all__ = [
    "REPORT_FILE",
    "SOURCE_FILE",
    "SPLITS",
    "STREAMS_FILE",
    "Candidate",
    "PrepareReport",
    "Skip",
    "Streams",
    "build_dataset",
    "example_features",
    "prepare_bobsl",
    "prepare_chicagofswild",
    "prepare_folder",
    "prepare_how2sign",
    "prepare_youtube_asl",
]
