"""The pipeline against bad neighbours and broken model folders: a batch keeps its good results when asked to
(``errors="return"``), and a model folder with truncated, pickled or missing weights is one ``SignBindModelError``
line naming the folder, never a traceback from safetensors or torch.load.
"""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from signbind_hf import SignBindInputError
from signbind_hf.errors import SignBindModelError
from signbind_hf.pipeline_signbind import one_line, translation_pipeline

from .test_pipeline import RESULT_KEYS, save_tiny_model
from .video.synthetic import write_video


class _RunsCodeWhenUnpickled:
    """A pickle that touches a marker file when loaded: proof of what loading a pickle can do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def broken_model_folders(good: Path, folder: Path) -> dict[str, Path]:
    """Copies of the model folder ``good``, each broken one way; written here, byte for byte."""
    folders = {}
    for name in ("truncated", "pickled", "pickle_with_code", "no_weights"):
        folders[name] = folder / name
        shutil.copytree(good, folders[name])
    weights = good / "model.safetensors"
    (folders["truncated"] / "model.safetensors").write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    for name in ("pickled", "pickle_with_code", "no_weights"):
        (folders[name] / "model.safetensors").unlink()
    # The same weights as a plain pickled state dict: what torch.save and old save_pretrained wrote.
    torch.save(load_file(weights), folders["pickled"] / "pytorch_model.bin")
    marker = folder / "pickle_ran"
    (folders["pickle_with_code"] / "pytorch_model.bin").write_bytes(
        pickle.dumps(_RunsCodeWhenUnpickled(marker), protocol=2)
    )
    return folders


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("errors") / "model", use_lip=False)


@pytest.fixture(scope="module")
def broken(model_dir, tmp_path_factory) -> dict[str, Path]:
    return broken_model_folders(model_dir, tmp_path_factory.mktemp("broken"))


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("truncated", r"truncated: a safetensors weights file is damaged or truncated \(.*incomplete metadata"),
        ("pickled", r"pickled: its weights are pytorch_model\.bin, a pickle file; signbind loads safetensors"),
        ("pickle_with_code", r"pickle_with_code: its weights are pytorch_model\.bin, a pickle file"),
        ("no_weights", r"no_weights: no model weights \(model\.safetensors\)"),
    ],
)
def test_a_broken_model_folder_is_one_line_naming_it(broken, case, message):
    with pytest.raises(SignBindModelError, match=message) as error:
        translation_pipeline(broken[case])
    assert "\n" not in str(error.value)
    assert not (broken[case].parent / "pickle_ran").exists()  # nothing was unpickled


def test_a_hub_repository_is_loaded_with_safetensors_only(monkeypatch):
    import transformers

    seen = {}

    def fake_pipeline(task, **kwargs):
        seen.update(kwargs)
        raise OSError("someorg/model does not appear to have a file named model.safetensors\nCheck the repository")

    monkeypatch.setattr(transformers, "pipeline", fake_pipeline)
    with pytest.raises(SignBindModelError, match=r"^someorg/model: cannot load the model: .* Check the repository$"):
        translation_pipeline("someorg/model")
    assert seen["model_kwargs"] == {"use_safetensors": True}


def test_one_line_drops_terminal_escapes():
    # torch's refusal of a pickle with a global prints part of its message in bold.
    error = pickle.UnpicklingError("Weights only load failed.\n\x1b[1mdo those steps only if you trust it\x1b[0m.")
    assert one_line(error) == "Weights only load failed. do those steps only if you trust it."


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("batch")
    text = folder / "notes.mp4"
    text.write_text("this is not a video")
    return {"good": str(write_video(folder / "good.mp4", num_frames=12)), "bad": str(text)}


def test_a_bad_video_in_a_batch_raises_by_default(model_dir, videos):
    translator = translation_pipeline(model_dir)
    with pytest.raises(SignBindInputError, match=r"notes\.mp4: cannot be opened as a video"):
        translator([videos["good"], videos["bad"], videos["good"]])


def test_errors_return_keeps_every_good_result(model_dir, videos):
    translator = translation_pipeline(model_dir)
    first, bad, last = translator([videos["good"], videos["bad"], videos["good"]], errors="return")
    assert set(first) == set(last) == RESULT_KEYS
    assert {**first, "timing": None} == {**last, "timing": None}
    assert set(bad) == {"video", "error"}
    assert bad["video"] == videos["bad"]
    assert bad["error"].startswith(f"{videos['bad']}: cannot be opened as a video")
    assert "\n" not in bad["error"]
    assert translator(videos["bad"], errors="return")["video"] == videos["bad"]  # one video: its entry
    with pytest.raises(SignBindInputError, match=r"errors must be one of 'raise', 'return'; got 'ignore'"):
        translator(videos["good"], errors="ignore")


def test_a_refiner_adapter_must_be_safetensors(tmp_path):
    from signbind_hf.refiner import Refiner, RefinerConfig

    RefinerConfig(base_model="base_model").save(tmp_path)
    (tmp_path / "adapter_model.bin").write_bytes(pickle.dumps(_RunsCodeWhenUnpickled(tmp_path / "ran"), protocol=2))
    with pytest.raises(SignBindModelError, match=r": no adapter_model\.safetensors; signbind loads safetensors"):
        Refiner.from_pretrained(tmp_path)
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize("case", ["truncated", "pickled", "pickle_with_code", "no_weights"])
@pytest.mark.parametrize("command", ["evaluate", "features", "ablate"])
def test_every_command_that_reads_a_model_folder_refuses_a_broken_one_in_one_line(
    broken, tmp_path, caplog, case, command
):
    from signbind_cli.main import main

    data = tmp_path / "no-data-needed"  # the model is read first
    arguments = {
        "evaluate": ["--data", str(data), "--out", str(tmp_path / "eval")],
        "features": ["--data", str(data)],
        "ablate": ["--data", str(data), "--experts", str(broken[case]), "--out", str(tmp_path / "ablate")],
    }[command]
    with caplog.at_level("ERROR"):
        assert main([command, "--model", str(broken[case]), *arguments]) == 2
    (record,) = [record for record in caplog.records if record.levelname == "ERROR"]
    assert str(broken[case]) in record.getMessage()
    assert "\n" not in record.getMessage()
    assert "Traceback" not in caplog.text
    assert not (broken[case].parent / "pickle_ran").exists()
