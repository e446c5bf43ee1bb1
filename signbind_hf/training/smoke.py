"""The smoke run (``signbind smoke``): a mini SynthSign through the real training stages, save, reload and decode.

A few SynthSign clips are generated (``generate_synthsign``), the experts and then the fusion stage are trained by
``train_stage`` (what ``signbind train`` runs) for a fixed number of optimizer steps, the model folder is reloaded with
``AutoModel`` / ``AutoProcessor`` and must hold the trained weights exactly and give the trained model's logits, and
the training clips are decoded with the library's decoding and tokenizers (``decode_split``) next to their targets.
It checks that every stage runs end to end and that each loss falls; a few steps on a few clips fit little, so the
decoded strings are shown, not scored. ``make demo`` (the quickstart) is the run that measures.

Example:

```python
>>> summary = run_smoke("runs/smoke", steps=20, seed=0, learning_rates={"experts": 3e-3, "fusion": 1e-3})
>>> summary["stages"]["experts"]["last_loss"] < summary["stages"]["experts"]["first_loss"]
True
```
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import transformers
from transformers import TrainerCallback

from signbind_hf.training.arguments import parse_stage_arguments
from signbind_hf.training.clip_dataset import example_from_row, load_split, video_kwargs
from signbind_hf.training.evaluation import decode_split, load_for_evaluation
from signbind_hf.training.stages import TRAINER_STATE_FILE, train_stage

logger = logging.getLogger(__name__)

PRESET = "tiny"
# One batch holds every clip, so each step sees the same clips and a falling loss means the stage learns something.
NUM_CLIPS = 4
STAGES = ("experts", "fusion")
SUMMARY_FILE = "smoke.json"
# processor.batch_decode's stream -> the DecodedSplit field holding its targets.
STREAM_TARGETS = {
    "gloss": "pseudo_glosses",
    "sign": "pseudo_glosses",
    "fingerspelling": "letters",
    "phoneme": "phonemes",
}


class SmokeCheckError(RuntimeError):
    """A check of the smoke run failed (a loss did not fall, the reloaded model differs, ...)."""


@dataclass
class StageResult:
    """One stage's per-step training losses, and the means of their first and last fifths."""

    stage: str
    losses: list[float]
    seconds: float

    @property
    def first_loss(self) -> float:
        # Means over a fifth of the steps: a single step's loss is noisy (dropout, lip masking).
        return float(np.mean(self.losses[: self._window]))

    @property
    def last_loss(self) -> float:
        return float(np.mean(self.losses[-self._window :]))

    @property
    def _window(self) -> int:
        return max(1, len(self.losses) // 5)


class _KeepTrainedModel(TrainerCallback):
    """Keeps the model ``Trainer`` trained, to compare with what the run folder reloads."""

    def __init__(self) -> None:
        self.model: torch.nn.Module | None = None

    def on_train_end(self, args, state, control, model=None, **kwargs) -> None:
        # The fusion stage trains a wrapper around the SignBind model (fusion_inputs.FusionOnCachedOutputs).
        self.model = getattr(model, "signbind", model)


def stage_argv(stage: str, data_dir: Path, out: Path, steps: int, seed: int, learning_rate: float) -> list[str]:
    """The ``signbind train`` options of one smoke stage: ``steps`` optimizer steps on one batch of every clip."""
    start = ["--preset", PRESET] if stage == "experts" else ["--init", str(out.parent / "experts")]
    return [
        "--stage", stage, "--data", str(data_dir), "--out", str(out), "--seed", str(seed), *start,
        "--max_steps", str(steps), "--per_device_train_batch_size", str(NUM_CLIPS),
        "--learning_rate", str(learning_rate),
        # A constant rate from the first step: the paper's warm-up alone is longer than a smoke run.
        "--lr_scheduler_type", "constant", "--warmup_steps", "0",
        "--eval_split", "none", "--eval_strategy", "no", "--save_strategy", "no", "--logging_steps", "1",
        "--report_to", "none", "--torch_threads", "1",
    ]  # fmt: skip


def _losses(run_dir: Path) -> list[float]:
    history = json.loads((run_dir / TRAINER_STATE_FILE).read_text())["log_history"]
    return [entry["loss"] for entry in history if "loss" in entry]


def run_stage(stage: str, data_dir: Path, out: Path, steps: int, seed: int, learning_rate: float) -> tuple:
    """Train one stage into ``out``; its ``StageResult`` and the trained model. Raises ``SmokeCheckError`` unless the
    loss fell."""
    if out.exists():
        shutil.rmtree(out)  # a smoke run starts its stages afresh
    stage_args, training_args = parse_stage_arguments(stage_argv(stage, data_dir, out, steps, seed, learning_rate))
    kept = _KeepTrainedModel()
    started = time.perf_counter()
    train_stage(stage_args, training_args, callbacks=[kept])
    result = StageResult(stage, _losses(out), time.perf_counter() - started)
    logger.info(
        "smoke: %s stage, %d steps in %.1f s: loss %.3f -> %.3f (means of the first and last fifth)",
        stage,
        len(result.losses),
        result.seconds,
        result.first_loss,
        result.last_loss,
    )
    if len(result.losses) != steps:
        raise SmokeCheckError(
            f"stage {stage!r}: {out / TRAINER_STATE_FILE} logs {len(result.losses)} steps, not {steps}"
        )
    if not result.last_loss < result.first_loss:
        raise SmokeCheckError(
            f"stage {stage!r}: the loss did not fall in {steps} steps ({result.first_loss:.4f} -> "
            f"{result.last_loss:.4f}); try more --steps or another learning rate"
        )
    return result, kept.model


def check_reload(trained: torch.nn.Module, model_dir: Path, data_dir: Path) -> None:
    """The model folder, reloaded as a user loads it, holds the trained weights exactly and gives the trained
    model's logits on the processor's inputs of the training clips."""
    reloaded, processor = load_for_evaluation(model_dir)
    trained_state, reloaded_state = trained.state_dict(), reloaded.state_dict()
    if trained_state.keys() != reloaded_state.keys():
        raise SmokeCheckError(f"{model_dir}: the reloaded model's weights are {sorted(reloaded_state)}")
    changed = [name for name, value in trained_state.items() if not torch.equal(value, reloaded_state[name])]
    if changed:
        raise SmokeCheckError(f"{model_dir}: reloaded weights differ from the trained ones: {', '.join(changed[:5])}")
    rows = load_split(data_dir, "train")
    examples = [example_from_row(index, row, data_dir) for index, row in enumerate(rows)]
    inputs = processor(
        videos=[example.video for example in examples],
        return_tensors="pt",
        **video_kwargs(examples, processor.video_processor),
    )
    tensors = {key: inputs[key] for key in processor.model_input_names if key in inputs}
    trained.eval()
    with torch.no_grad():
        expected, received = trained(**tensors), reloaded(**tensors)
    for name, value in expected.items():
        if name.endswith("logits") and value is not None and not torch.equal(value, received[name]):
            difference = (value - received[name]).abs().max().item()
            raise SmokeCheckError(f"{model_dir}: the reloaded model's {name} differ (max abs diff {difference})")
    logger.info("smoke: %s reloads with the trained weights and logits (%d clips)", model_dir, len(examples))


def decode_training_clips(model_dir: Path, data_dir: Path) -> dict[str, dict[str, Any]]:
    """Every stream of the reloaded model decoded on the training clips, next to its targets."""
    model, processor = load_for_evaluation(model_dir)
    decoded = decode_split(model, processor, data_dir, "train", batch_size=NUM_CLIPS)
    results = {}
    for stream, texts in decoded.decoded.items():
        targets = getattr(decoded, STREAM_TARGETS[stream])
        results[stream] = {
            "targets": targets,
            "decoded": texts,
            "exact_matches": sum(text == target for text, target in zip(texts, targets, strict=True)),
        }
        logger.info(
            "smoke: %-14s %d of %d clips decoded exactly", stream, results[stream]["exact_matches"], len(texts)
        )
    return results


def run_smoke(out_dir: str | os.PathLike, steps: int, seed: int, learning_rates: dict[str, float]) -> dict[str, Any]:
    """Generate, train, reload and decode; write the summary to OUT/smoke.json and return it."""
    from signbind_hf.data.synthsign import generate_synthsign

    started = time.perf_counter()
    out_dir = Path(out_dir)
    data_dir = out_dir / "data"
    threads = torch.get_num_threads()  # train_stage sets its own (--torch_threads); the caller's comes back after
    try:
        generate_synthsign(data_dir, seed=seed, num_train=NUM_CLIPS, num_validation=0, num_test=0, overwrite=True)
        stages, trained = {}, None
        for stage, run_dir in zip(STAGES, (out_dir / "experts", out_dir / "model"), strict=True):
            stages[stage], trained = run_stage(stage, data_dir, run_dir, steps, seed, learning_rates[stage])
        model_dir = out_dir / "model"
        check_reload(trained, model_dir, data_dir)
        decoded = decode_training_clips(model_dir, data_dir)
    finally:
        torch.set_num_threads(threads)
    summary = {
        "preset": PRESET,
        "seed": seed,
        "steps_per_stage": steps,
        "learning_rates": learning_rates,
        "clips": NUM_CLIPS,
        "stages": {
            name: {
                "first_loss": result.first_loss,
                "last_loss": result.last_loss,
                "seconds": round(result.seconds, 2),
                "losses": result.losses,
            }
            for name, result in stages.items()
        },
        "reload_identical": True,  # check_reload raised otherwise
        "decoded": decoded,
        "parameters": trained.parameter_breakdown(),
        "model_dir": str(model_dir),
        "seconds": round(time.perf_counter() - started, 2),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
    }
    summary_path = out_dir / SUMMARY_FILE
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    logger.info("smoke passed in %.1f s; summary in %s", summary["seconds"], summary_path)
    return summary


__all__ = ["NUM_CLIPS", "SmokeCheckError", "run_smoke"]
