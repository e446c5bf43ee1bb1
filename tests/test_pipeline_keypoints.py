"""The pipeline with a model whose manual expert reads hand and body keypoints: from a sidecar, from the extractor,
with the hands out of view, and as remote code in an interpreter without signbind_hf."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from signbind_hf import SignBindModel, SignBindProcessor
from signbind_hf.keypoints_signbind import sidecar_pose_path
from signbind_hf.pipeline_signbind import add_pipeline_code, translation_pipeline

from .conftest import tiny_config
from .test_pipeline import GLOSSES, WINDOW, assert_segments_tile, boxes
from .test_pipeline_remote import run_standalone
from .video.synthetic import write_video


def save_keypoint_model(folder: Path, manual_inputs: str = "keypoints") -> Path:
    config = tiny_config(manual_inputs=manual_inputs)
    processor = SignBindProcessor.from_model_config(
        config, glosses=GLOSSES, max_frames=WINDOW, min_frames=8, face_cropper="boxes"
    )
    assert processor.video_processor.keypoints
    torch.manual_seed(0)
    model = SignBindModel(tiny_config(manual_inputs=manual_inputs, gloss_vocab_size=len(processor.tokenizer)))
    model.eval().save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def keypoint_model(tmp_path_factory) -> Path:
    return save_keypoint_model(tmp_path_factory.mktemp("keypoint_model") / "model")


@pytest.fixture(scope="module")
def synthsign(tmp_path_factory) -> Path:
    """A SynthSign data set of one clip a split (drawn signers, hands in view, renderer keypoints in sidecars)."""
    from signbind_hf.data.synthsign import generate_synthsign

    data = tmp_path_factory.mktemp("synthsign") / "data"
    generate_synthsign(data, seed=0, num_train=1, num_validation=1, num_test=1, num_workers=1)
    return data


@pytest.fixture(scope="module")
def signer_clip(synthsign) -> Path:
    video = next((synthsign / "videos" / "test").glob("*.mp4"))
    assert sidecar_pose_path(video).is_file()
    return video


@pytest.mark.slow
def test_a_keypoint_model_translates_a_signer_with_its_sidecar_keypoints(keypoint_model, signer_clip, tmp_path):
    translator = translation_pipeline(keypoint_model)
    num_frames = 200
    result = translator(str(signer_clip), face_boxes=boxes(num_frames))
    for part in result if isinstance(result, list) else [result]:
        assert_segments_tile(part)
    # Without the sidecar the extractor runs on the frames: a result as well, not an error.
    bare = shutil.copy(signer_clip, tmp_path / "bare.mp4")
    extracted = translator(str(bare), face_boxes=boxes(num_frames))
    for part in extracted if isinstance(extracted, list) else [extracted]:
        assert_segments_tile(part)


def test_hands_out_of_view_are_masked_not_an_error(keypoint_model, tmp_path):
    """A video with no signer in it (random texture): no hand or body point is found; the model reads masks."""
    video = write_video(tmp_path / "no_hands.mp4", num_frames=20)
    processor = SignBindProcessor.from_pretrained(keypoint_model)
    inputs = processor(videos=str(video), face_boxes=[boxes(20)])
    assert inputs["keypoint_mask"].sum() == 0
    result = translation_pipeline(keypoint_model)(str(video), face_boxes=boxes(20))
    assert_segments_tile(result)


@pytest.mark.slow
def test_a_keypoint_model_runs_as_remote_code_without_signbind_hf(keypoint_model, tmp_path):
    folder = Path(shutil.copytree(keypoint_model, tmp_path / "with_code"))
    add_pipeline_code(folder)
    frames = np.random.default_rng(0).integers(0, 255, (20, 48, 64, 3), dtype=np.uint8)
    report = run_standalone(folder, frames, tmp_path)
    assert "error" not in report, report.get("error")
    assert report["model_module"].startswith("transformers_modules.")
    local = translation_pipeline(folder)(frames, face_boxes=boxes(len(frames)))
    assert {**report["result"], "timing": None} == {**local, "timing": None}


def test_the_pipeline_reads_a_synthsign_clip_as_evaluation_scores_it(synthsign, signer_clip, tmp_path):
    """The same clip, through evaluation's batch path and through the pipeline (as `signbind translate` runs it):
    the same sidecar keypoints, so the same pseudo-gloss."""
    from signbind_hf.training.clip_dataset import load_split
    from signbind_hf.training.evaluation import decode_split, load_for_evaluation

    glosses = list(load_split(synthsign, "train")["pseudo_gloss"]) + list(
        load_split(synthsign, "test")["pseudo_gloss"]
    )
    config = tiny_config(manual_inputs="keypoints", use_lip=False)
    processor = SignBindProcessor.from_model_config(config, glosses=glosses, max_frames=512)
    torch.manual_seed(0)
    model = SignBindModel(
        tiny_config(manual_inputs="keypoints", use_lip=False, gloss_vocab_size=len(processor.tokenizer))
    )
    model.eval().save_pretrained(tmp_path / "model")
    processor.save_pretrained(tmp_path / "model")

    loaded, loaded_processor = load_for_evaluation(tmp_path / "model")
    scored = decode_split(loaded, loaded_processor, synthsign, "test").decoded["gloss"][0]
    translated = translation_pipeline(tmp_path / "model")(str(signer_clip))
    assert scored  # a random model still says something, so that the comparison means something
    # The pipeline leaves out the words outside the vocabulary, which evaluation scores as [UNK].
    assert translated["pseudo_gloss"] == " ".join(word for word in scored.split() if word != "[UNK]")
