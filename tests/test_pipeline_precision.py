"""The pipeline's speed options on a tiny model: precision (bf16 autocast, int8 dynamic quantization of the visual
model) and backbone_frame_stride (the frame encoder on every k-th frame)."""

from __future__ import annotations

import json

import pytest
import torch

from signbind_cli.main import main
from signbind_hf import SignBindInputError
from signbind_hf.pipeline_signbind import translation_pipeline

from .test_pipeline import RESULT_KEYS, save_tiny_model
from .video.synthetic import write_video


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("precision") / "model", use_lip=False)


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("precision_video") / "clip.mp4", num_frames=20)


def linear_output_dtypes(translator, video) -> set[torch.dtype]:
    """The dtypes the model's Linear layers (plain or quantized) returned while translating ``video``."""
    seen, hooks = set(), []
    for module in translator.model.modules():
        if isinstance(module, torch.nn.Linear) or "Linear" in type(module).__name__:
            hooks.append(module.register_forward_hook(lambda module, args, output: seen.add(output.dtype)))
    try:
        result = translator(str(video))
    finally:
        for hook in hooks:
            hook.remove()
    assert set(result) == set(RESULT_KEYS)
    return seen


def test_bf16_runs_the_linear_layers_in_bfloat16(model_dir, video):
    assert linear_output_dtypes(translation_pipeline(model_dir, precision="fp32"), video) == {torch.float32}
    assert torch.bfloat16 in linear_output_dtypes(translation_pipeline(model_dir, precision="bf16"), video)


def test_int8_quantizes_the_frame_backbone(model_dir, video):
    translator = translation_pipeline(model_dir, precision="int8")
    backbone = list(translator.model.manual.backbone.modules())
    assert any(isinstance(module, torch.ao.nn.quantized.dynamic.Linear) for module in backbone)
    assert not any(type(module) is torch.nn.Linear for module in backbone)
    linear_output_dtypes(translator, video)  # translates


def test_a_bad_precision_is_one_line_naming_it(model_dir):
    with pytest.raises(SignBindInputError, match="precision must be one of fp32, bf16, int8, openvino; got 'fp16'"):
        translation_pipeline(model_dir, precision="fp16")


def test_the_command_takes_precision(model_dir, video, capsys):
    assert main(["translate", str(video), "--model", str(model_dir), "--precision", "int8", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == set(RESULT_KEYS)


def backbone_frames(translator, video) -> int:
    """How many frames the frame backbone encoded while translating ``video``."""
    seen = []
    hook = translator.model.manual.backbone.register_forward_hook(
        lambda module, args, kwargs, output: seen.append(kwargs["pixel_values"].shape[0]), with_kwargs=True
    )
    try:
        translator(str(video))
    finally:
        hook.remove()
    return sum(seen)


def test_frame_stride_encodes_every_kth_frame(model_dir, video):
    every_frame = backbone_frames(translation_pipeline(model_dir), video)
    strided = translation_pipeline(model_dir, backbone_frame_stride=3)
    assert strided.model.config.backbone_frame_stride == 3
    assert backbone_frames(strided, video) == -(-every_frame // 3)


@pytest.mark.parametrize("stride", [0, 1.5, True])
def test_a_bad_frame_stride_is_one_line_naming_it(model_dir, stride):
    with pytest.raises(SignBindInputError, match=f"backbone_frame_stride must be a positive whole number of frames; "
                       f"got {stride!r}"):  # fmt: skip
        translation_pipeline(model_dir, backbone_frame_stride=stride)


def test_the_command_takes_a_frame_stride(model_dir, video, capsys):
    argv = ["translate", str(video), "--model", str(model_dir), "--backbone-frame-stride", "2", "--json"]
    assert main(argv) == 0
    assert set(json.loads(capsys.readouterr().out)) == set(RESULT_KEYS)
