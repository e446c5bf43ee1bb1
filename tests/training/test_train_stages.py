"""Staged training end to end on a mini SynthSign: experts, then fusion on cached expert outputs; fine-tuning on
another gloss vocabulary; resume equality, atomic checkpoints and damaged ones; refused --init weights; the same
command under `accelerate launch` with two CPU processes."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import datasets
import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoConfig, AutoModel, AutoProcessor, TrainerCallback, set_seed

from signbind_cli.main import main as signbind_main
from signbind_hf import SignBindConfig, SignBindModel, SignBindProcessor
from signbind_hf.tokenization_signbind import SignBindCTCTokenizer
from signbind_hf.training.arguments import parse_stage_arguments
from signbind_hf.training.gloss_vocabulary import resize_gloss_heads
from signbind_hf.training.stages import StageTrainer, load_initial, train_stage, trained_steps

from ..conftest import tiny_config
from .conftest import stage_argv

RUN_FILES = (
    "config.json",
    "model.safetensors",
    "processor_config.json",
    "trainer_state.json",
    "training_log.jsonl",
    "training_log.csv",
    "training_curves.png",
    "skipped_rows.json",
    "stage_arguments.json",
)


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "model.safetensors"))


@pytest.fixture(scope="module")
def experts_run(mini_synthsign, clip_cache, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("experts") / "run"
    argv = stage_argv(
        "experts", mini_synthsign, out, clip_cache, "--max_steps", "3", "--eval_strategy", "steps", "--eval_steps", "3"
    )
    assert signbind_main(["train", *argv]) == 0  # through the command line, as a user runs it
    return out


@pytest.fixture(scope="module")
def fusion_run(mini_synthsign, clip_cache, experts_run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fusion") / "run"
    argv = stage_argv(
        "fusion",
        mini_synthsign,
        out,
        clip_cache,
        "--init",
        str(experts_run),
        "--feature_cache_dir",
        str(out.parent / "features"),
        "--max_steps",
        "3",
        "--eval_strategy",
        "steps",
        "--eval_steps",
        "3",
    )
    return train_stage(*parse_stage_arguments(argv))


@pytest.mark.compat
def test_experts_run_folder_loads_with_the_auto_classes(experts_run, mini_synthsign):
    for name in RUN_FILES:
        assert (experts_run / name).is_file(), name
    assert not list(experts_run.glob(".final-*"))  # no staging folder left behind
    model = AutoModel.from_pretrained(str(experts_run))
    processor = AutoProcessor.from_pretrained(str(experts_run))
    assert isinstance(model, SignBindModel)
    assert isinstance(processor, SignBindProcessor)
    train_glosses = datasets.load_from_disk(str(mini_synthsign))["train"]["pseudo_gloss"]
    assert processor.tokenizer.get_vocab() == SignBindCTCTokenizer.for_glosses(train_glosses).get_vocab()
    assert model.config.gloss_vocab_size == len(processor.tokenizer)
    log = [json.loads(line) for line in (experts_run / "training_log.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in log if "loss" in entry] == [1, 2, 3]
    assert all("sign_loss" in entry and "router_loss" in entry for entry in log if "loss" in entry)
    assert any("eval_loss" in entry for entry in log)
    skipped = json.loads((experts_run / "skipped_rows.json").read_text())
    assert skipped["train"]["kept"] + skipped["train"]["skipped"] == 8
    assert (experts_run / "training_curves.png").read_bytes()[:4] == b"\x89PNG"


def test_experts_stage_trains_the_experts_only(experts_run):
    set_seed(0)  # the run's seed: the same initial weights
    initial = SignBindModel(AutoConfig.from_pretrained(str(experts_run))).state_dict()
    trained = _weights(experts_run)
    for name, tensor in trained.items():
        if name.startswith("fusion."):
            assert torch.equal(tensor, initial[name]), name
    for name in ("manual.sign_head.weight", "manual.router.mlp.0.weight", "lip.phoneme_head.weight"):
        assert not torch.equal(trained[name], initial[name]), name


@pytest.mark.compat
def test_fusion_stage_freezes_the_experts_and_trains_the_fusion(fusion_run, experts_run):
    experts, fused = _weights(experts_run), _weights(fusion_run)
    assert experts.keys() == fused.keys()
    for name in experts:
        if name.startswith(("manual.", "lip.")):
            assert torch.equal(experts[name], fused[name]), name
    changed = [name for name in experts if name.startswith("fusion.") and not torch.equal(experts[name], fused[name])]
    assert "fusion.gloss_head.weight" in changed
    assert "fusion.gate.weight" in changed
    log = [json.loads(line) for line in (fusion_run / "training_log.jsonl").read_text().splitlines()]
    assert all("fusion_loss" in entry for entry in log if "loss" in entry)
    assert any("eval_loss" in entry for entry in log)  # the cached batches' label names are set right
    assert (fusion_run.parent / "features" / "manifest.json").is_file()
    assert AutoModel.from_pretrained(str(fusion_run)).config.fusion_type == "gated"


def test_fusion_on_live_experts_freezes_them_too(experts_run, mini_synthsign, clip_cache, tmp_path):
    # The baseline the feature cache is measured against: the frozen experts recomputed at every step.
    argv = stage_argv(
        "fusion", mini_synthsign, tmp_path / "live", clip_cache, "--init", str(experts_run), "--fusion_inputs", "live",
        "--max_steps", "2", "--eval_split", "none",
    )  # fmt: skip
    experts, fused = _weights(experts_run), _weights(train_stage(*parse_stage_arguments(argv)))
    assert all(torch.equal(experts[name], fused[name]) for name in experts if name.startswith(("manual.", "lip.")))
    assert not torch.equal(experts["fusion.gloss_head.weight"], fused["fusion.gloss_head.weight"])


def test_fusion_counts_the_rows_the_cache_could_not_read_and_resizes_to_the_new_vocabulary(
    experts_run, flawed_data, clip_cache, tmp_path
):
    # flawed_data: a missing and an unreadable video (the feature cache skips them), an empty pseudo-gloss (the
    # fusion data skips it; its words leave the train vocabulary, so the gloss heads are resized).
    argv = stage_argv(
        "fusion", flawed_data, tmp_path / "run", clip_cache, "--init", str(experts_run), "--max_steps", "1",
        "--feature_cache_dir", str(tmp_path / "features"), "--eval_split", "none",
    )  # fmt: skip
    out = train_stage(*parse_stage_arguments(argv))
    skipped = json.loads((out / "skipped_rows.json").read_text())["train"]
    assert skipped["reasons"]["missing_video"] == skipped["reasons"]["unreadable_video"] == 1
    assert skipped["reasons"]["empty_pseudo_gloss"] == 1
    assert skipped["kept"] == 8 - skipped["skipped"]
    old_vocab = SignBindProcessor.from_pretrained(str(experts_run)).tokenizer.get_vocab()
    new_vocab = SignBindProcessor.from_pretrained(str(out)).tokenizer.get_vocab()
    assert new_vocab != old_vocab
    assert AutoModel.from_pretrained(str(out)).config.gloss_vocab_size == len(new_vocab)


def test_fine_tuning_on_another_vocabulary_keeps_the_rows_of_shared_words(experts_run, mini_synthsign, tmp_path):
    old = SignBindProcessor.from_pretrained(str(experts_run)).tokenizer.get_vocab()
    shared = sorted(word for word in old if word not in ("<blank>", "[UNK]"))[:5]
    new_tokenizer = SignBindCTCTokenizer.for_glosses([" ".join([*shared, "ZEBRA", "AARDVARK"])])
    stage_args, _ = parse_stage_arguments(
        ["--stage", "experts", "--data", str(mini_synthsign), "--out", str(tmp_path), "--init", str(experts_run)]
    )
    model, processor = load_initial(stage_args, new_tokenizer)
    new = new_tokenizer.get_vocab()
    assert model.config.gloss_vocab_size == len(new) == len(processor.tokenizer)
    trained = _weights(experts_run)
    for word in [*shared, "<blank>", "[UNK]"]:
        torch.testing.assert_close(
            model.manual.sign_head.weight[new[word]], trained["manual.sign_head.weight"][old[word]]
        )
        torch.testing.assert_close(
            model.fusion.gloss_head.bias[new[word]], trained["fusion.gloss_head.bias"][old[word]]
        )
        torch.testing.assert_close(
            model.fusion.sign_projection.weight[:, new[word]], trained["fusion.sign_projection.weight"][:, old[word]]
        )
    assert model.manual.sign_head.bias[new["ZEBRA"]] == 0
    # The resized model runs and saves like any other.
    model.save_pretrained(tmp_path / "resized")
    assert AutoModel.from_pretrained(str(tmp_path / "resized")).config.gloss_vocab_size == len(new)


def test_resize_keeps_requires_grad_and_checks_the_old_vocabulary():
    model = SignBindModel(tiny_config(gloss_vocab_size=4)).set_stage("fusion")
    old = {"<blank>": 0, "[UNK]": 1, "A": 2, "B": 3}
    assert resize_gloss_heads(model, old, {"<blank>": 0, "[UNK]": 1, "B": 2, "C": 3, "D": 4}) == 3
    assert not model.manual.sign_head.weight.requires_grad
    assert model.fusion.gloss_head.weight.requires_grad
    with pytest.raises(ValueError, match="gloss_vocab_size"):
        resize_gloss_heads(model, old, old)


class StopAt(TrainerCallback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            control.should_training_stop = True


@pytest.mark.slow
def test_a_stopped_and_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(mini_synthsign, clip_cache, tmp_path):
    # Gumbel routing, lip masking and dropout draw random numbers at every step: equality needs Trainer to restore
    # the RNG states and the data order of the checkpoint, not only the weights and the optimizer.
    extra = ("--max_steps", "4", "--save_strategy", "steps", "--save_steps", "2", "--eval_split", "none")
    whole = train_stage(
        *parse_stage_arguments(stage_argv("experts", mini_synthsign, tmp_path / "a", clip_cache, *extra))
    )
    interrupted = tmp_path / "b"
    train_stage(
        *parse_stage_arguments(stage_argv("experts", mini_synthsign, interrupted, clip_cache, *extra)), [StopAt(2)]
    )
    assert [path.name for path in (interrupted / "checkpoints").iterdir()] == ["checkpoint-2"]
    resumed = train_stage(
        *parse_stage_arguments(stage_argv("experts", mini_synthsign, interrupted, clip_cache, *extra, "--resume"))
    )
    expected, received = _weights(whole), _weights(resumed)
    for name in expected:
        # Tolerance 1e-6: the same operations in the same order on one CPU thread (measured: bit-identical).
        torch.testing.assert_close(received[name], expected[name], rtol=0, atol=1e-6, msg=name)
    log = json.loads((resumed / "trainer_state.json").read_text())["log_history"]
    assert [entry["step"] for entry in log if "loss" in entry] == [1, 2, 3, 4]


@pytest.mark.slow
def test_two_cpu_processes_under_accelerate_train_and_save_a_checkpoint(mini_synthsign, clip_cache, tmp_path):
    # `accelerate launch --cpu` starts ONE process (its multi-CPU launcher is MPI's); `--multi_gpu` starts torchrun
    # processes, which with no GPU visible train on the CPU over gloo (accelerate's MULTI_CPU).
    out = tmp_path / "ddp"
    argv = stage_argv(
        "experts", mini_synthsign, out, clip_cache, "--max_steps", "2", "--save_strategy", "steps", "--save_steps", "2"
    )
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines",
        "1", "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "signbind_cli.main", "train", *argv,
        "--eval_split", "none",
    ]  # fmt: skip
    environment = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (out / "checkpoints" / "checkpoint-2" / "model.safetensors").is_file()
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["global_step"] == 2
    # 5 usable clips, 2 per process: 4 clips a step over two processes, so one step is 4/5 of an epoch (one process
    # would take 2 clips a step, 2/5 of an epoch).
    kept = json.loads((out / "skipped_rows.json").read_text())["train"]["kept"]
    assert state["log_history"][0]["epoch"] == pytest.approx(1 / -(-kept // 4))
    assert AutoModel.from_pretrained(str(out)).config.gloss_vocab_size > 2


def test_a_fusion_without_the_lip_stream_reuses_a_cache_made_with_face_crops():
    from signbind_hf.data.feature_cache import expert_streams
    from signbind_hf.training.stages import cache_serves

    config = tiny_config()
    processor = SignBindProcessor.from_model_config(config)
    made_by_full_model = {
        "video_processor": json.loads(json.dumps(processor.video_processor.to_dict())),
        "streams": expert_streams(config),
    }
    no_face_crops = SignBindProcessor.from_model_config(config, face_cropper=None)
    assert cache_serves(made_by_full_model, config, processor)
    # w/o lipreading: no face crops, and no lip stream read, so the full model's cache serves it as it is.
    no_lip = tiny_config(use_lip=False)
    assert cache_serves(made_by_full_model, no_lip, no_face_crops)
    # The reverse does not hold: a cache made without the lip expert lacks the stream a full fusion reads.
    made_without_lip = {
        "video_processor": json.loads(json.dumps(no_face_crops.video_processor.to_dict())),
        "streams": expert_streams(no_lip),
    }
    assert not cache_serves(made_without_lip, config, processor)
    # Other frame settings still have to match.
    other_frames = SignBindProcessor.from_model_config(config, target_fps=12.5)
    assert not cache_serves(made_by_full_model, no_lip, other_frames)


def test_a_feature_cache_serves_a_processor_that_differs_only_in_its_remote_code_entry():
    """The quickstart's ablation workers reuse the cache its main process made: the processor that wrote the cache
    saved itself into it, which adds an ``auto_map`` to its settings; a fresh processor in a worker has none."""
    from signbind_hf.data.feature_cache import expert_streams
    from signbind_hf.training.stages import cache_serves

    config = tiny_config()
    processor = SignBindProcessor.from_model_config(config)
    settings = json.loads(json.dumps(processor.video_processor.to_dict()))
    assert "auto_map" not in settings
    made_in_main_process = {
        "video_processor": {**settings, "auto_map": {"AutoProcessor": "processing_signbind.SignBindProcessor"}},
        "streams": expert_streams(config),
    }
    assert cache_serves(made_in_main_process, config, processor)
    assert cache_serves(made_in_main_process, tiny_config(lip_shift="none"), processor)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def test_init_refuses_truncated_and_pickled_weights_in_one_line(
    experts_run, mini_synthsign, clip_cache, tmp_path, caplog
):
    truncated = tmp_path / "truncated"
    shutil.copytree(experts_run, truncated, ignore=shutil.ignore_patterns("checkpoints"))
    _truncate(truncated / "model.safetensors")
    pickled = tmp_path / "pickled"
    shutil.copytree(experts_run, pickled, ignore=shutil.ignore_patterns("checkpoints"))
    torch.save(load_file(str(pickled / "model.safetensors")), pickled / "pytorch_model.bin")
    (pickled / "model.safetensors").unlink()
    bad_processor = tmp_path / "bad_processor"
    shutil.copytree(experts_run, bad_processor, ignore=shutil.ignore_patterns("checkpoints"))
    (bad_processor / "processor_config.json").write_text('{"video_processor": ')
    for init, problem in (
        (truncated, "model.safetensors is damaged"),
        (pickled, "pytorch_model.bin holds pickled"),
        (bad_processor, "the processor files cannot be read"),
    ):
        caplog.clear()
        argv = stage_argv("experts", mini_synthsign, tmp_path / "out", clip_cache, "--init", str(init))
        assert signbind_main(["train", *argv, "--max_steps", "1"]) == 2
        errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
        assert len(errors) == 1
        assert errors[0].startswith(f"--init {init}: {problem}")
        assert "\n" not in errors[0]
    assert not (tmp_path / "out").exists()
    # The good folder loads with the same command line: the cpu preset's model it was trained as.
    stage_args, _ = parse_stage_arguments(
        stage_argv("experts", mini_synthsign, tmp_path / "out", clip_cache, "--init", str(experts_run))
    )
    model, _ = load_initial(stage_args, SignBindProcessor.from_pretrained(str(experts_run)).tokenizer)
    assert model.config.backbone_config.hidden_size == SignBindConfig.from_preset("cpu").backbone_config.hidden_size
    assert model.config.manual_inputs == "keypoints"


@pytest.mark.slow
def test_resume_falls_back_past_a_damaged_checkpoint_and_names_it(mini_synthsign, clip_cache, tmp_path, caplog):
    out = tmp_path / "run"
    argv = stage_argv(
        "experts", mini_synthsign, out, clip_cache, "--max_steps", "3", "--save_strategy", "steps", "--save_steps",
        "1", "--save_total_limit", "3", "--eval_split", "none",
    )  # fmt: skip
    train_stage(*parse_stage_arguments(argv), [StopAt(2)])
    checkpoints = out / "checkpoints"
    assert sorted(path.name for path in checkpoints.iterdir()) == ["checkpoint-1", "checkpoint-2"]
    _truncate(checkpoints / "checkpoint-2" / "model.safetensors")

    resumed = train_stage(*parse_stage_arguments([*argv, "--resume"]))
    assert trained_steps(resumed) == 3
    assert "skipping the damaged checkpoint" in caplog.text
    assert "checkpoint-2: model.safetensors is damaged" in caplog.text
    log = json.loads((resumed / "trainer_state.json").read_text())["log_history"]
    assert [entry["step"] for entry in log if "loss" in entry] == [1, 2, 3]

    # Nothing left to resume from: one line naming each damaged checkpoint, exit 2.
    for checkpoint in checkpoints.iterdir():
        _truncate(checkpoint / "model.safetensors")
    caplog.clear()
    assert signbind_main(["train", *argv, "--resume"]) == 2
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "every checkpoint" in errors[0]
    assert all(f"checkpoint-{step} (model.safetensors is damaged" in errors[0] for step in (1, 2, 3))


@pytest.mark.slow
def test_an_interrupted_checkpoint_save_leaves_no_checkpoint_behind(mini_synthsign, clip_cache, tmp_path, monkeypatch):
    # Trainer writes the weights, then the optimizer and the RNG state, then trainer_state.json: a save that stops
    # after the weights must not leave a folder that --resume would take for a checkpoint.
    def disk_full(self, output_dir):
        raise OSError("disk full")

    monkeypatch.setattr(StageTrainer, "_save_rng_state", disk_full)
    out = tmp_path / "run"
    argv = stage_argv(
        "experts", mini_synthsign, out, clip_cache, "--max_steps", "1", "--save_strategy", "steps", "--save_steps",
        "1", "--eval_split", "none",
    )  # fmt: skip
    with pytest.raises(OSError, match="disk full"):
        train_stage(*parse_stage_arguments(argv))
    assert [path.name for path in (out / "checkpoints").iterdir() if not path.name.startswith(".")] == []
    monkeypatch.undo()
    assert signbind_main(["train", *argv, "--resume"]) == 2  # "no checkpoint to continue from", not a crash
    (out / "checkpoints" / ".checkpoint-7.partial").mkdir()  # a leftover of another step
    train_stage(*parse_stage_arguments(argv))  # a fresh run in the same --out clears the staged leftovers
    assert sorted(path.name for path in (out / "checkpoints").iterdir()) == ["checkpoint-1"]
