"""A model folder carrying the pipeline as remote code: it loads in a fresh interpreter where signbind_hf is absent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from transformers import pipeline

from signbind_hf.pipeline_signbind import TASK, SignBindTranslationPipeline, add_pipeline_code, translation_pipeline

from .test_pipeline import boxes, save_tiny_model

# End to end (fresh interpreters load a checkpoint's remote code): `make test-fast` leaves these out.
pytestmark = pytest.mark.slow

STANDALONE = textwrap.dedent(
    """
    import json
    import sys
    import traceback

    sys.modules["signbind_hf"] = None  # `import signbind_hf` fails, as on a machine without the package
    import numpy as np
    import torch
    from transformers import AutoModel, Pipeline, pipeline
    from transformers.dynamic_module_utils import get_class_from_dynamic_module

    model_dir, frames_file, out_file = sys.argv[1:]
    report = {}
    pipeline_class = get_class_from_dynamic_module("pipeline_signbind.SignBindTranslationPipeline", model_dir)
    report["pipeline_module"] = pipeline_class.__module__
    report["is_pipeline"] = issubclass(pipeline_class, Pipeline)
    model = AutoModel.from_pretrained(model_dir, trust_remote_code=True).eval()
    report["model_module"] = type(model).__module__
    try:
        translator = pipeline("sign-language-translation", model=model_dir, trust_remote_code=True)
        frames = np.load(frames_file)
        report["result"] = translator(frames, face_boxes=np.tile([[16.0, 8.0, 48.0, 40.0]], (len(frames), 1)))
        report["translator_module"] = type(translator).__module__
    except Exception:
        report["error"] = traceback.format_exc()
    with open(out_file, "w") as file:
        json.dump(report, file)
    """
)


@pytest.fixture(scope="module")
def carrying_folder(tmp_path_factory) -> Path:
    folder = save_tiny_model(tmp_path_factory.mktemp("with_code") / "model")
    add_pipeline_code(folder)
    return folder


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (20, 48, 64, 3), dtype=np.uint8)


def run_standalone(folder: Path, frames: np.ndarray, work: Path) -> dict:
    """What a fresh interpreter without signbind_hf loads and runs from ``folder`` on ``frames`` (STANDALONE's
    report), run in ``work``."""
    np.save(work / "frames.npy", frames)
    environment = {**os.environ, "HF_MODULES_CACHE": str(work / "modules"), "HF_HUB_OFFLINE": "1"}
    completed = subprocess.run(
        [sys.executable, "-c", STANDALONE, str(folder), str(work / "frames.npy"), str(work / "report.json")],
        cwd=work,  # not the repository root: signbind_hf is not on sys.path either
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads((work / "report.json").read_text())


@pytest.fixture(scope="module")
def standalone_report(carrying_folder, frames, tmp_path_factory) -> dict:
    """What a fresh interpreter without signbind_hf could load and run from the folder (one subprocess for all)."""
    return run_standalone(carrying_folder, frames, tmp_path_factory.mktemp("standalone"))


def test_add_pipeline_code_names_the_pipeline_and_copies_its_modules(carrying_folder):
    config = json.loads((carrying_folder / "config.json").read_text())
    assert config["custom_pipelines"] == {
        TASK: {"impl": "pipeline_signbind.SignBindTranslationPipeline", "pt": ["AutoModel"], "type": "multimodal"}
    }
    assert config["auto_map"]["AutoModel"] == "modeling_signbind.SignBindModel"  # the rest of the config is kept
    assert config["model_type"] == "signbind"
    names = set(os.listdir(carrying_folder))
    assert {"pipeline_signbind.py", "segments.py", "refiner.py", "modeling_signbind.py", "constants.py"} <= names
    assert not [name for name in names if name.endswith(".tmp")]
    before = (carrying_folder / "config.json").read_text()
    add_pipeline_code(carrying_folder)  # idempotent
    assert (carrying_folder / "config.json").read_text() == before


def test_add_pipeline_code_refuses_a_folder_without_a_model(tmp_path):
    from signbind_hf import SignBindInputError

    with pytest.raises(SignBindInputError, match=r"not a saved model folder \(no config\.json\)"):
        add_pipeline_code(tmp_path)


def test_pipeline_code_and_model_load_without_signbind_hf(standalone_report):
    assert standalone_report["pipeline_module"].startswith("transformers_modules.")
    assert standalone_report["is_pipeline"]
    assert standalone_report["model_module"].startswith("transformers_modules.")


@pytest.mark.compat
def test_full_pipeline_runs_without_signbind_hf(standalone_report, carrying_folder, frames):
    """The whole pipeline (processor, model, decoding) from the folder's code; the same result as the package's."""
    assert "error" not in standalone_report, standalone_report.get("error")
    assert standalone_report["translator_module"].startswith("transformers_modules.")
    local = translation_pipeline(carrying_folder)(frames, face_boxes=boxes(len(frames)))
    assert {**standalone_report["result"], "timing": None} == {**local, "timing": None}


def test_installed_package_still_runs_a_folder_carrying_the_code(carrying_folder, frames):
    # transformers asks for trust_remote_code for any folder naming its own pipeline code, even with the task
    # registered here; translation_pipeline passes the installed class instead.
    with pytest.raises(ValueError, match=r"trust_remote_code=True"):
        pipeline(TASK, model=str(carrying_folder))
    translator = translation_pipeline(carrying_folder)
    assert type(translator) is SignBindTranslationPipeline
    assert translator(frames, face_boxes=boxes(len(frames)))["num_frames"] == 20
