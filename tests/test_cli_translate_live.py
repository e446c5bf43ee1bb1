"""`signbind translate VIDEO --live`: a file read at its own pace, JSON lines, the summary, frames dropped when the
translator falls behind, and the one-line errors of `signbind translate`."""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path

import pytest

from signbind_cli.main import main
from signbind_hf.live import StreamingTranslator

from .test_pipeline import save_tiny_model
from .video.synthetic import write_video

DURATION = 2.0  # seconds of each test video


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("live_cli") / "model", use_lip=False)


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return write_video(tmp_path_factory.mktemp("live_videos") / "clip.mp4", num_frames=round(DURATION * 25))


@pytest.mark.slow
def test_json_lines_arrive_at_the_videos_pace_with_a_summary(model_dir, video, capsys):
    started = time.monotonic()
    assert main(["translate", str(video), "--live", "--json", "--model", str(model_dir)]) == 0
    elapsed = time.monotonic() - started
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert lines  # a random model reads words into anything
    for line in lines:
        assert set(line) == {"translation", "pseudo_gloss", "start", "end", "latency"}
        assert 0 <= line["start"] < line["end"] <= DURATION + 1e-6
        assert line["latency"] > -0.05  # printed after its end was shown (a sentence ending at the last frame: ~0)
    assert elapsed >= DURATION * 0.95  # read as a camera delivers it, not as fast as it decodes
    (summary,) = [line for line in captured.err.splitlines() if line.startswith("live:")]
    assert re.search(r"real-time factor \d+\.\d\d", summary), summary
    assert f"frames dropped 0 of {round(DURATION * 25)}" in summary


@pytest.mark.slow
def test_falling_behind_drops_frames_and_says_so(model_dir, video, capsys, caplog, monkeypatch):
    """A translator much slower than the video (160 ms a frame for 40 ms frames) loses frames, and the command says how many
    instead of drifting behind the signer."""
    push = StreamingTranslator.push

    def slow_push(self, frame, timestamp):
        time.sleep(0.16)
        return push(self, frame, timestamp)

    monkeypatch.setattr(StreamingTranslator, "push", slow_push)
    with caplog.at_level(logging.WARNING):
        assert main(["translate", str(video), "--live", "--model", str(model_dir)]) == 0
    summary = next(line for line in capsys.readouterr().err.splitlines() if line.startswith("live:"))
    dropped = int(re.search(r"frames dropped (\d+) of 50", summary).group(1))
    assert dropped > 5, summary
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert any("falling behind real time" in message for message in warnings)
    assert any(f"{dropped} of 50 frames were dropped" in message for message in warnings)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", r"no such file or folder: .*missing\.mp4$"),
        ("text", r"notes\.mp4: cannot be opened as a video container"),
        ("folder", r"frames: a folder; live translation reads a video file"),
        ("two", r"--live reads one video or camera; got 2"),
        ("output", r"--output is not available with --live"),
        ("no_person", r"clip\.mp4: no person found: no face was detected"),
    ],
)
def test_bad_input_gives_one_line_and_exit_code_2(case, message, model_dir, video, tmp_path, caplog):
    arguments = [str(video), "--live", "--model", str(model_dir)]
    if case == "missing":
        arguments[0] = str(tmp_path / "missing.mp4")
    elif case == "text":
        arguments[0] = str(tmp_path / "notes.mp4")
        Path(arguments[0]).write_text("this is not a video")
    elif case == "folder":
        arguments[0] = str(tmp_path / "frames")
        Path(arguments[0]).mkdir()
    elif case == "two":
        arguments.insert(1, str(video))
    elif case == "output":
        arguments += ["--output", str(tmp_path / "out.json")]
    else:  # a model that reads lips finds no face in a red frame
        arguments[-1] = str(save_tiny_model(tmp_path / "detecting", face_cropper="mediapipe"))
    with caplog.at_level(logging.ERROR):
        assert main(["translate", *arguments]) == 2
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1, errors
    assert "\n" not in errors[0]
    assert re.search(message, errors[0]), errors[0]
