"""Tiny inputs for the builder tests: videos written with PyAV, a corrupt one, and the prepare report reader."""

import json
from pathlib import Path

from tests.video.synthetic import write_video

FPS = 10


def tiny_video(path: Path, seconds: float = 2.0) -> Path:
    """A 32x24 H.264 clip of ``seconds`` (10 fps): a few KB, written in milliseconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_video(path, width=32, height=24, num_frames=round(seconds * FPS), fps=FPS)


def corrupt_video(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a video container at all" * 10)
    return path


def read_report(out: Path) -> dict:
    return json.loads((out / "prepare_report.json").read_text())
