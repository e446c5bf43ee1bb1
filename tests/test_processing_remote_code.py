"""The saved processor as standalone remote code: AutoProcessor(trust_remote_code=True) where signbind_hf is missing.

A folder written by ``SignBindProcessor.save_pretrained`` must carry everything the processor needs: the flat modules
of the video stack and the MediaPipe face models. The check runs in a subprocess where ``import signbind_hf`` fails
and compares its tensors, from a real H.264 clip of a real face, with the installed processor's.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from signbind_hf import SignBindProcessor
from signbind_hf import landmark_models_signbind as landmark_models

from .test_processing import GLOSS_CORPUS, place, write_frames

REMOTE_PROCESS = textwrap.dedent(
    """
    import json
    import sys

    import numpy as np

    sys.modules["signbind_hf"] = None  # `import signbind_hf` raises, as on a machine without the package
    from transformers import AutoProcessor

    checkpoint, video, out, stripped = sys.argv[1:5]
    processor = AutoProcessor.from_pretrained(checkpoint, trust_remote_code=True)
    inputs = processor(videos=video, glosses="HAVE HERE", return_tensors="np", return_metadata=True)
    np.savez(out, **{key: value for key, value in inputs.items() if isinstance(value, np.ndarray)})
    report = {
        "module": type(processor).__module__,
        "tokenizer_module": type(processor.tokenizer).__module__,
        "detector_model": processor.video_processor.face_detector_model_path,
        "detector_calls": inputs["video_metadata"][0]["detector_calls"],
    }
    # A folder saved without its face models: no signbind-hf means no packaged models, and the error must say so.
    without_models = AutoProcessor.from_pretrained(stripped, trust_remote_code=True)
    try:
        without_models(videos=video)
    except ValueError as error:
        report["error_without_models"] = str(error)
    without_models.video_processor.close()
    processor.video_processor.close()
    print(json.dumps(report))
    """
)


@pytest.fixture
def face_clip(tmp_path: Path) -> Path:
    """Eight 640x480 H.264 frames of a real face (matplotlib's Grace Hopper photo) drifting right."""
    from matplotlib import cbook
    from PIL import Image

    photo = np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB"))
    frames = np.stack([place(photo, (150 + 4 * index, 40), 0.6) for index in range(8)])
    return write_frames(tmp_path / "face.mp4", frames)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_saved_processor_runs_as_remote_code_without_signbind_hf(tmp_path, face_clip):
    processor = SignBindProcessor.from_preset("tiny", glosses=GLOSS_CORPUS)
    checkpoint, stripped = tmp_path / "checkpoint", tmp_path / "stripped"
    processor.save_pretrained(checkpoint)
    processor.save_pretrained(stripped)
    for file in (stripped / "face_models").iterdir():
        file.unlink()
    (stripped / "face_models").rmdir()

    # The folder holds the face models (with the MediaPipe licence) and every module the processor imports.
    saved = checkpoint / "face_models"
    assert sorted(path.name for path in saved.iterdir()) == sorted(
        [landmark_models.SAVED_DETECTOR_FILE, landmark_models.SAVED_LANDMARK_FILE, *landmark_models.LICENCE_FILES]
    )
    assert (
        saved / landmark_models.SAVED_DETECTOR_FILE
    ).read_bytes() == landmark_models.FULL_RANGE_DETECTOR_PATH.read_bytes()
    assert {"video_decoding_signbind.py", "face_tracking_signbind.py", "landmark_models_signbind.py"} <= {
        path.name for path in checkpoint.glob("*.py")
    }

    environment = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "modules"), "HF_HUB_OFFLINE": "1"}
    environment.pop("PYTHONPATH", None)
    environment.pop(landmark_models.DETECTOR_MODEL_ENV, None)
    environment.pop(landmark_models.LANDMARK_MODEL_ENV, None)
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            REMOTE_PROCESS,
            str(checkpoint),
            str(face_clip),
            str(tmp_path / "remote.npz"),
            str(stripped),
        ],
        cwd=tmp_path,  # not the repository root, so signbind_hf is not on sys.path either
        env=environment,
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])

    assert report["module"].startswith("transformers_modules.")
    assert report["tokenizer_module"].startswith("transformers_modules.")
    assert Path(report["detector_model"]).parent.name == "face_models"  # the checkpoint's copy, not a packaged file
    assert report["detector_calls"] > 0
    assert "face_models" in report["error_without_models"]
    assert landmark_models.DETECTOR_MODEL_ENV in report["error_without_models"]

    expected = processor(videos=face_clip, glosses="HAVE HERE")
    processor.video_processor.close()
    remote = np.load(tmp_path / "remote.npz")
    assert set(remote.files) == set(expected.keys())
    assert expected["face_attention_mask"].sum() == 8  # the face was found on every frame, so the crops are real
    for key in remote.files:
        torch.testing.assert_close(torch.from_numpy(remote[key]), expected[key], rtol=0, atol=0, msg=key)


def test_push_to_hub_uploads_the_face_models_too(tmp_path, monkeypatch):
    import signbind_hf.processing_signbind as processing

    uploads = []

    def fake_upload(*, repo_id, folder_path, commit_message, token):
        # huggingface_hub.upload_folder sends every file of the folder: what is there when it is called.
        uploads.append((repo_id, sorted(os.listdir(folder_path))))
        assert (Path(folder_path) / "face_models" / landmark_models.SAVED_DETECTOR_FILE).is_file()

    monkeypatch.setattr(processing, "create_repo", lambda repo_id, **kwargs: type("Repo", (), {"repo_id": repo_id}))
    monkeypatch.setattr(processing, "upload_folder", fake_upload)
    processor = SignBindProcessor.from_preset("tiny", glosses=GLOSS_CORPUS)

    processor.save_pretrained(tmp_path / "ckpt", push_to_hub=True, repo_id="someone/signbind-processor")

    assert len(uploads) == 1  # once, after everything is written
    repo_id, uploaded = uploads[0]
    assert repo_id == "someone/signbind-processor"
    assert {"face_models", "processor_config.json", "video_processing_signbind.py"} <= set(uploaded)
