"""`signbind train` arguments: paper defaults, YAML + command line precedence, weight decay groups, CLI pass-through."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torch import nn
from transformers import Trainer

from signbind_cli.main import build_parser
from signbind_cli.train import _forwarded_argv
from signbind_hf import SignBindModel
from signbind_hf.constants import LABEL_NAMES
from signbind_hf.errors import SignBindInputError
from signbind_hf.training.arguments import parse_stage_arguments
from signbind_hf.training.stages import resume_checkpoint

from ..conftest import tiny_config

BASE = ["--stage", "experts", "--data", "data", "--out", "runs/x"]


def test_paper_defaults_without_a_config():
    stage_args, training_args = parse_stage_arguments(BASE)
    assert (training_args.adam_beta1, training_args.adam_beta2) == (0.9, 0.98)
    assert training_args.lr_scheduler_type == "cosine"
    assert training_args.warmup_steps == 1000
    assert training_args.weight_decay == 0.01
    assert training_args.max_grad_norm == 1.0
    assert training_args.per_device_train_batch_size == 8
    assert training_args.remove_unused_columns is False
    assert training_args.label_names == LABEL_NAMES
    assert training_args.report_to == [] or training_args.report_to == "none"
    assert training_args.use_cpu  # no GPU on the test machines
    assert training_args.output_dir.endswith("runs/x/checkpoints")
    assert (stage_args.preset, stage_args.min_frames, stage_args.max_frames) == ("tiny", 16, 512)


def test_command_line_overrides_yaml_which_overrides_defaults(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(
        "preset: paper\nlearning_rate: 0.003\nnum_train_epochs: 7\nmax_frames: 64\n"
        "model_overrides:\n  fusion_type: concat\n  lip_shift: none\n"
    )
    stage_args, training_args = parse_stage_arguments(
        [*BASE, "--config", str(config), "--learning_rate", "1e-3", "--model_overrides", '{"use_lip": false}']
    )
    assert training_args.learning_rate == 1e-3  # command line over YAML
    assert training_args.num_train_epochs == 7  # YAML over the default
    assert training_args.adam_beta2 == 0.98  # default, untouched
    assert (stage_args.preset, stage_args.max_frames) == ("paper", 64)
    assert stage_args.model_overrides == {"use_lip": False}  # the command line's mapping replaces the YAML's
    stage_args, _ = parse_stage_arguments([*BASE, "--config", str(config)])
    assert stage_args.model_overrides == {"fusion_type": "concat", "lip_shift": "none"}


def test_bad_arguments_name_the_option(tmp_path):
    with pytest.raises(SignBindInputError, match="--stage fusion needs --init"):
        parse_stage_arguments(["--stage", "fusion", "--data", "d", "--out", "o"])
    with pytest.raises(SignBindInputError, match="--preset must be one of"):
        parse_stage_arguments([*BASE, "--preset", "huge"])
    with pytest.raises(SignBindInputError, match="--augment applies to the experts stage only"):
        parse_stage_arguments(["--stage", "fusion", "--data", "d", "--out", "o", "--init", "e", "--augment", "true"])
    with pytest.raises(SignBindInputError, match=r"--augment_hand_dropout must be in \[0, 1\]; got 1.5"):
        parse_stage_arguments([*BASE, "--augment", "true", "--augment_hand_dropout", "1.5"])
    with pytest.raises(SignBindInputError, match="--augment_keypoint_noise must be >= 0"):
        parse_stage_arguments([*BASE, "--augment", "true", "--augment_keypoint_noise", "-0.1"])
    with pytest.raises(SignBindInputError, match="--model_overrides must be a JSON object"):
        parse_stage_arguments([*BASE, "--model_overrides", "fusion_type=concat"])
    with pytest.raises(SignBindInputError, match="--config: expected a YAML file"):
        parse_stage_arguments([*BASE, "--config", str(tmp_path / "missing.yaml")])
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("learning_rat: 0.1\n")
    with pytest.raises(SignBindInputError, match="learning_rat"):
        parse_stage_arguments([*BASE, "--config", str(unknown)])


def test_resume_needs_a_checkpoint_and_a_fresh_run_refuses_old_ones(tmp_path):
    stage_args, _ = parse_stage_arguments(["--stage", "experts", "--data", "d", "--out", str(tmp_path), "--resume"])
    with pytest.raises(SignBindInputError, match="--resume: no checkpoint"):
        resume_checkpoint(stage_args)
    checkpoint = tmp_path / "checkpoints" / "checkpoint-3"
    checkpoint.mkdir(parents=True)
    save_file({"weight": torch.zeros(2)}, checkpoint / "model.safetensors")  # resume checks the files it will read
    (checkpoint / "trainer_state.json").write_text("{}")
    assert resume_checkpoint(stage_args).endswith("checkpoint-3")
    stage_args.resume = False
    with pytest.raises(SignBindInputError, match="pass --resume to continue it"):
        resume_checkpoint(stage_args)


def test_weight_decay_skips_biases_and_every_layer_norm():
    model = SignBindModel(tiny_config())
    decayed = set(Trainer.get_decay_parameter_names(None, model))
    norms = {
        f"{module_name}.{name}"
        for module_name, module in model.named_modules()
        if isinstance(module, nn.LayerNorm)
        for name, _ in module.named_parameters()
    }
    # DINOv2's and VideoMAE's norms, the temporal encoders' norms, the fusion's input norm: all nn.LayerNorm.
    assert any(name.startswith("manual.backbone.") for name in norms)
    assert any(name.startswith("lip.vit.") for name in norms)
    assert not decayed & norms
    assert not [name for name in decayed if "bias" in name]
    assert "manual.sign_head.weight" in decayed
    assert "fusion.gate.weight" in decayed


def test_the_cli_passes_every_other_option_to_the_dataclass_parser():
    args = build_parser().parse_args(
        ["train", "--stage", "experts", "--data", "d", "--out", "o", "--learning_rate", "1e-3", "--data_seed", "3"]
    )
    assert args.extra_arguments == ["--learning_rate", "1e-3", "--data_seed", "3"]
    stage_args, training_args = parse_stage_arguments(_forwarded_argv(args, with_stage=True))
    assert (stage_args.data, training_args.learning_rate, training_args.data_seed) == ("d", 1e-3, 3)


def test_the_llm_stage_gets_the_refiners_folder_names():
    args = build_parser().parse_args(
        ["train", "--stage", "llm", "--data", "d", "--out", "o", "--base-model", "meta-llama/Llama-2-7b-hf"]
    )
    assert _forwarded_argv(args, with_stage=False) == [
        "--data_dir", "d", "--out_dir", "o", "--base-model", "meta-llama/Llama-2-7b-hf",
    ]  # fmt: skip


@pytest.mark.parametrize("name", ["experts_cpu", "experts_paper", "fusion_cpu", "fusion_paper"])
def test_shipped_configs_parse_and_build(name, tmp_path):
    """Every stage YAML in configs/ is one `signbind train --config` accepts; the tiny overrides build a config."""
    from signbind_hf import SignBindConfig
    from signbind_hf.training.quickstart import QuickstartSettings

    config = Path(__file__).parents[2] / "configs" / f"{name}.yaml"
    stage = name.split("_")[0]
    argv = ["--stage", stage, "--data", str(tmp_path), "--out", str(tmp_path / "run"), "--config", str(config)]
    if stage == "fusion":
        argv += ["--init", str(tmp_path / "experts")]
    stage_args, _ = parse_stage_arguments(argv)
    if stage == "experts" and "backbone_name_or_path" not in stage_args.model_overrides:  # a Hub id needs the network
        SignBindConfig.from_preset(stage_args.preset, **stage_args.model_overrides)
    if name == "experts_cpu":  # the documented CPU run trains what the quickstart trains
        settings = QuickstartSettings()
        assert (stage_args.preset, stage_args.model_overrides) == (settings.preset, settings.model_overrides)
