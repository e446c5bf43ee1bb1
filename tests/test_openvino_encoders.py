"""The OpenVINO fast path: export of the visual encoders (float32 and NNCF int8), loading, the pipeline and the
command, stale and missing exports."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
from matplotlib import cbook
from PIL import Image

from signbind_cli.main import main
from signbind_hf import SignBindInputError
from signbind_hf.data.synthsign.video_writer import write_mp4
from signbind_hf.openvino_encoders import (
    EXPORT_FILE,
    OPENVINO_FOLDER,
    OpenVINOEncoder,
    export_openvino_encoders,
    load_openvino_encoders,
)
from signbind_hf.pipeline_signbind import translation_pipeline

from .test_pipeline import RESULT_KEYS, save_tiny_model

pytest.importorskip("openvino", reason="the [openvino] extra is part of the tested environment (requirements-lock)")


@pytest.fixture(scope="module")
def portrait_video(tmp_path_factory):
    photo = np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB"))
    path = tmp_path_factory.mktemp("videos") / "hopper.mp4"
    write_mp4(path, np.stack([photo] * 16), fps=25)
    return path


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("openvino") / "model", face_cropper="mediapipe")


@pytest.fixture(scope="module")
def translator(model_dir):
    return translation_pipeline(model_dir, refiner=False)


@pytest.fixture(scope="module")
def batch(translator, portrait_video):
    features = translator.preprocess(str(portrait_video))
    return {name: features[name] for name in translator.processor.model_input_names if name in features}


def exported_copy(translator, batch, folder, *, quantize: bool):
    export_openvino_encoders(translator.model, [batch], folder, quantize=quantize)
    model = copy.deepcopy(translator.model)
    assert sorted(load_openvino_encoders(model, folder)) == ["frame_backbone", "lip_vit"]
    return model


def test_float_export_gives_the_torch_logits(translator, batch, tmp_path):
    model = exported_copy(translator, batch, tmp_path, quantize=False)
    assert isinstance(model.manual.backbone, OpenVINOEncoder)
    assert isinstance(model.lip.vit, OpenVINOEncoder)
    with torch.inference_mode():
        reference, exported = translator.model(**batch), model(**batch)
    for name in ("gloss_logits", "sign_logits", "phoneme_logits"):
        torch.testing.assert_close(getattr(exported, name), getattr(reference, name), atol=1e-4, rtol=1e-4)
    record = json.loads((tmp_path / OPENVINO_FOLDER / EXPORT_FILE).read_text())
    assert record["quantization"] == "none"
    assert record["encoders"]["frame_backbone"]["calibration_frames"] == int(batch["attention_mask"].sum())


def test_int8_export_is_quantized_and_keeps_the_decisions(translator, batch, tmp_path):
    model = exported_copy(translator, batch, tmp_path, quantize=True)
    backbone = model.manual.backbone.exported
    assert any(
        "FakeQuantize" in op.get_type_name() or "FakeConvert" in op.get_type_name() for op in backbone.get_ops()
    )
    with torch.inference_mode():
        reference, exported = translator.model(**batch), model(**batch)
    same = (exported.gloss_logits.argmax(-1) == reference.gloss_logits.argmax(-1)).float().mean()
    assert same >= 0.9, f"int8 changed the pseudo-gloss decision on {1 - same:.0%} of frames"


def test_an_export_from_other_weights_is_refused(translator, batch, tmp_path):
    export_openvino_encoders(translator.model, [batch], tmp_path, quantize=False)
    changed = copy.deepcopy(translator.model)
    with torch.no_grad():
        next(changed.lip.vit.parameters()).add_(1.0)
    with pytest.raises(SignBindInputError, match="the lip_vit was exported from other weights than this model's"):
        load_openvino_encoders(changed, tmp_path)


def test_no_export_says_how_to_make_one(translator, tmp_path):
    with pytest.raises(SignBindInputError, match=r"no OpenVINO export .*signbind export-openvino --model"):
        load_openvino_encoders(copy.deepcopy(translator.model), tmp_path)


def test_a_failed_export_leaves_nothing_behind(translator, batch, tmp_path, monkeypatch):
    import openvino

    export_openvino_encoders(translator.model, [batch], tmp_path, quantize=False)
    before = sorted(path.name for path in (tmp_path / OPENVINO_FOLDER).iterdir())

    def disk_full(model, path, *args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(openvino, "save_model", disk_full)
    with pytest.raises(OSError, match="No space left"):
        export_openvino_encoders(translator.model, [batch], tmp_path, quantize=False)
    assert sorted(path.name for path in tmp_path.iterdir()) == [OPENVINO_FOLDER]  # no partial folder
    assert sorted(path.name for path in (tmp_path / OPENVINO_FOLDER).iterdir()) == before  # the old export intact


def test_the_exported_encoders_run_inference_only(translator, batch, tmp_path):
    model = exported_copy(translator, batch, tmp_path, quantize=False)
    with pytest.raises(RuntimeError, match="runs inference only"):
        model.train()(**batch)


def test_command_exports_and_the_pipeline_translates_with_it(model_dir, portrait_video, tmp_path, capsys, caplog):
    caplog.set_level("INFO")
    missing = tmp_path / "missing.mp4"
    assert main(["export-openvino", "--model", str(model_dir), str(portrait_video), str(missing)]) == 0
    assert "skipping calibration video" in caplog.text
    assert "1 skipped" in caplog.text
    capsys.readouterr()  # NNCF's progress bars
    assert (model_dir / OPENVINO_FOLDER / "frame_backbone.xml").is_file()
    translator = translation_pipeline(model_dir, precision="openvino", refiner=False)
    assert isinstance(translator.model.manual.backbone, OpenVINOEncoder)
    assert set(translator(str(portrait_video))) == set(RESULT_KEYS)
    argv = ["translate", str(portrait_video), "--model", str(model_dir), "--precision", "openvino", "--json"]
    assert main(argv) == 0
    assert set(json.loads(capsys.readouterr().out)) == set(RESULT_KEYS)
