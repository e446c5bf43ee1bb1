"""Fixtures for the video tests: a factory of tiny generated videos in a temporary folder."""

from collections.abc import Callable
from pathlib import Path

import pytest

from .synthetic import write_video


@pytest.fixture
def make_video(tmp_path: Path) -> Callable[..., Path]:
    """``make_video("clip.mp4", codec=..., ...)`` writes a coded video (see ``synthetic.write_video``) into tmp_path."""

    def make(file_name: str, **kwargs) -> Path:
        return write_video(tmp_path / file_name, **kwargs)

    return make
