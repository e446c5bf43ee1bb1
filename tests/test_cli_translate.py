"""`signbind translate`: JSON on stdout, human-readable text, --output, and one-line errors for bad input.

The tiny models here have no lip stream (no face crops), except the one that must find a person.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from signbind_cli.main import main

from .test_pipeline import RESULT_KEYS, save_tiny_model
from .video.synthetic import write_video

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("cli") / "model", use_lip=False)


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cli_videos")
    return {
        "short": write_video(folder / "short.mp4", num_frames=20),
        "long": write_video(folder / "long.mp4", num_frames=60),  # 2.4 s: three windows of at most 0.96 s
    }


def snapshot(*folders: Path) -> dict[str, float]:
    """Every file under ``folders`` with its modification time: to prove nothing else was written."""
    return {str(path): path.stat().st_mtime for folder in folders for path in folder.rglob("*")}


def test_json_is_the_pipeline_result(model_dir, videos, capsys):
    assert main(["translate", str(videos["short"]), "--model", str(model_dir), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == RESULT_KEYS
    assert (result["num_frames"], result["refined"], result["gate"]) == (20, False, None)

    assert main(["translate", str(videos["long"]), str(videos["short"]), "--model", str(model_dir), "--json"]) == 0
    long_result, short_result = json.loads(capsys.readouterr().out)
    assert isinstance(long_result, list)
    assert len(long_result) >= 2
    assert long_result[-1]["end"] == pytest.approx(2.4)
    assert {**short_result, "timing": None} == {**result, "timing": None}


def test_a_folder_of_frames_is_a_video(model_dir, tmp_path, capsys):
    from PIL import Image

    from .video.synthetic import coded_frame

    folder = tmp_path / "frames"
    folder.mkdir()
    for index in range(10):
        Image.fromarray(coded_frame(index, 64, 48)).save(folder / f"{index}.png")
    assert main(["translate", str(folder), "--model", str(model_dir), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["num_frames"], result["end"]) == (10, 0.4)  # read at the processor's 25 fps


def test_human_readable_output(model_dir, videos, capsys):
    assert main(["translate", str(videos["long"]), "--model", str(model_dir), "--beam-width", "2"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"{videos['long']}:\n  [0.00-")
    assert "pseudo-gloss:" in text
    assert "segments:" in text
    assert "(no LLM refiner in the model folder: the translation is the pseudo-gloss)" in text


def test_output_file_is_the_only_thing_written(model_dir, videos, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path, model_dir, videos["short"].parent)
    output = tmp_path / "results" / "short.json"
    assert main(["translate", str(videos["short"]), "--model", str(model_dir), "--output", str(output)]) == 0
    assert set(json.loads(output.read_text())) == RESULT_KEYS
    assert "pseudo-gloss:" in capsys.readouterr().out  # human-readable on stdout, JSON in the file
    after = snapshot(tmp_path, model_dir, videos["short"].parent)
    assert set(after) - set(before) == {str(output.parent), str(output)}
    assert {path: after[path] for path in before} == before


@pytest.fixture
def bad_inputs(tmp_path, videos) -> dict[str, Path]:
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video")
    not_a_model = tmp_path / "not_a_model"
    not_a_model.mkdir()
    (not_a_model / "weights.txt").write_text("x")
    return {"text": text, "not_a_model": not_a_model, "missing": tmp_path / "missing.mp4"}


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", r"no such file or folder: .*missing\.mp4$"),
        ("text", r"notes\.mp4: cannot be opened as a video container"),
        ("not_a_model", r"not_a_model: not a model folder \(no config\.json\)"),
        ("missing_model", r"nowhere/model: no such model folder$"),
        ("no_person", r"short\.mp4: no person found: no face was detected in any of the 20 frames"),
    ],
)
def test_bad_input_gives_one_line_and_exit_code_2(case, message, bad_inputs, model_dir, videos, tmp_path, caplog):
    video, model = str(videos["short"]), str(model_dir)
    if case in ("missing", "text"):
        video = str(bad_inputs[case])
    elif case == "not_a_model":
        model = str(bad_inputs[case])
    elif case == "missing_model":
        model = str(tmp_path / "nowhere" / "model")
    else:
        model = str(save_tiny_model(tmp_path / "detecting", face_cropper="opencv"))
    output = tmp_path / "out.json"
    with caplog.at_level(logging.ERROR):
        assert main(["translate", video, "--model", model, "--json", "--output", str(output)]) == 2
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "\n" not in errors[0]
    assert re.search(message, errors[0]), errors[0]
    assert not output.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_an_absent_device_is_refused(model_dir, videos, caplog):
    with caplog.at_level(logging.ERROR):
        assert main(["translate", str(videos["short"]), "--model", str(model_dir), "--device", "cuda"]) == 2
        assert main(["translate", str(videos["short"]), "--model", str(model_dir), "--device", "gpu0"]) == 2
    assert "--device cuda: no CUDA device on this machine; use --device cpu" in caplog.text
    assert "--device 'gpu0': not a device name" in caplog.text


def test_without_a_model_the_message_says_how_to_get_one(videos, tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)  # no runs/quickstart/model here
    with caplog.at_level(logging.ERROR):
        assert main(["translate", str(videos["short"])]) == 2
    assert "runs/quickstart/model does not exist" in caplog.text
    assert "`make demo`" in caplog.text
    assert "--model DIR" in caplog.text


def test_default_model_is_the_quickstart_one(model_dir, videos, tmp_path, monkeypatch, capsys):
    quickstart = tmp_path / "runs" / "quickstart"
    quickstart.mkdir(parents=True)
    (quickstart / "model").symlink_to(model_dir, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    assert main(["translate", str(videos["short"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["num_frames"] == 20


def run_cli(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "signbind_cli", *arguments],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_stdout_is_pure_json_and_logs_go_to_stderr(model_dir, videos, tmp_path):
    completed = run_cli("translate", str(videos["long"]), "--model", str(model_dir), "--json", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr[-2000:]
    results = json.loads(completed.stdout)  # nothing but the JSON document on stdout
    assert [part["start"] for part in results] == sorted(part["start"] for part in results)
    assert "Traceback" not in completed.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_missing_video_fails_fast_without_a_traceback(model_dir, tmp_path):
    completed = run_cli("translate", str(tmp_path / "gone.mp4"), "--model", str(model_dir), "--json", cwd=tmp_path)
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert "Traceback" not in completed.stderr
    assert f"no such file or folder: {tmp_path / 'gone.mp4'}" in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1


def test_a_bad_video_among_good_ones_keeps_the_good_results(model_dir, videos, tmp_path, caplog, capsys):
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video")
    good = str(videos["short"])
    output = tmp_path / "o.json"
    with caplog.at_level(logging.WARNING):
        code = main(["translate", good, str(bad), good, "--model", str(model_dir), "--json", "--output", str(output)])
    assert code == 3  # some translated, some not
    first, error, last = json.loads(output.read_text())
    assert json.loads(capsys.readouterr().out) == [first, error, last]
    assert set(first) == set(last) == RESULT_KEYS
    assert set(error) == {"video", "error"}
    assert error["video"] == str(bad)
    assert error["error"].startswith(f"{bad}: cannot be opened as a video container")
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == [error["error"]]
    assert "1 of 3 videos could not be translated (error entries in the results); exit status 3" in caplog.text

    assert main(["translate", good, str(bad), "--model", str(model_dir)]) == 3  # human-readable: the good one
    assert capsys.readouterr().out.startswith(f"{good}:\n")


def test_nothing_recognised_is_not_called_a_missing_refiner():
    part = {
        "translation": "",
        "refined": False,  # the refiner had no pseudo-gloss to translate
        "pseudo_gloss": "",
        "fingerspelling": "",
        "phonemes": "",
        "segments": [{"label": "rest", "start": 0.0, "end": 0.8}],
    }
    from signbind_cli.translate import _human_readable

    with_refiner = _human_readable("clip.mp4", part, has_refiner=True)
    assert "(nothing recognised)" in with_refiner
    assert "no LLM refiner" not in with_refiner
    assert "no LLM refiner" in _human_readable("clip.mp4", part, has_refiner=False)


@pytest.fixture(scope="module")
def broken_models(model_dir, tmp_path_factory) -> dict[str, Path]:
    from .test_pipeline_errors import broken_model_folders

    return broken_model_folders(model_dir, tmp_path_factory.mktemp("broken"))


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        ("truncated", "a safetensors weights file is damaged or truncated"),
        ("pickled", "its weights are pytorch_model.bin, a pickle file"),
        ("pickle_with_code", "its weights are pytorch_model.bin, a pickle file"),
    ],
)
def test_a_broken_model_folder_is_one_line_and_exit_code_2(broken_models, videos, case, problem, caplog):
    with caplog.at_level(logging.ERROR):
        assert main(["translate", str(videos["short"]), "--model", str(broken_models[case])]) == 2
    (line,) = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert line.startswith(f"{broken_models[case]}: {problem}")
    assert "\n" not in line
    assert not (broken_models[case].parent / "pickle_ran").exists()


@pytest.mark.slow
def test_truncated_weights_print_no_traceback(broken_models, videos, tmp_path):
    completed = run_cli("translate", str(videos["short"]), "--model", str(broken_models["truncated"]), cwd=tmp_path)
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    (line,) = completed.stderr.strip().splitlines()
    assert "truncated: a safetensors weights file is damaged or truncated" in line


# --- issue 19, items 7 and 9: hostile frames and misleading readings, one line each --------------------------------


def error_lines(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


def test_an_empty_path_is_refused_not_read_as_the_current_folder(model_dir, tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)  # a folder of frames would be read from here: Path("") is "."
    with caplog.at_level(logging.ERROR):
        assert main(["translate", "", "--model", str(model_dir)]) == 2
    assert error_lines(caplog) == ["a video argument is an empty string; expected a video file or a folder of frames"]


def test_a_decompression_bomb_frame_is_one_line(model_dir, tmp_path, caplog):
    from PIL import Image

    from .video.synthetic import coded_frame
    from .video.test_hostile_inputs import png_header

    folder = tmp_path / "frames"
    folder.mkdir()
    Image.fromarray(coded_frame(1, 64, 48)).save(folder / "0.png")
    (folder / "1.png").write_bytes(png_header(100_000, 100_000))  # was: a DecompressionBombError traceback
    with caplog.at_level(logging.ERROR):
        assert main(["translate", str(folder), "--model", str(model_dir), "--json"]) == 2
    (line,) = error_lines(caplog)
    assert re.fullmatch(r".*frames/1\.png: the image is over the limit of 33,177,600 pixels per frame \(.*\)", line)


def test_a_header_that_understates_the_length_is_translated_in_full(model_dir, videos, capsys):
    from .video.test_hostile_inputs import lying_mp4

    lying = lying_mp4(videos["long"], factor=4)  # 2.4 s of frames; the header says 0.6 s
    assert main(["translate", str(lying), "--model", str(model_dir), "--json"]) == 0
    parts = json.loads(capsys.readouterr().out)
    assert parts[-1]["end"] == pytest.approx(2.4)  # was: exit 2, "start=0.96 s is past the end of the video (0.600 s)"


def test_a_damaged_clip_without_a_face_is_called_damaged(model_dir, tmp_path, caplog):
    from .video.test_hostile_inputs import overwrite_middle

    damaged = overwrite_middle(write_video(tmp_path / "clip.mp4", num_frames=60), 100)  # 2 bad packets of 60
    model = str(save_tiny_model(tmp_path / "detecting", face_cropper="opencv"))
    with caplog.at_level(logging.ERROR):
        assert main(["translate", str(damaged), "--model", model, "--json"]) == 2
    (line,) = error_lines(caplog)  # was: "no person found", as if the signer were missing
    assert re.search(r"damaged_clip\.mp4: the video is damaged \(\d+ packets could not be decoded\) and no face", line)
