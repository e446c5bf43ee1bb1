"""The CPU quickstart (``make demo``): SynthSign → experts → fusion → LLM refiner → evaluation → ablations.

Every stage is the real one a user runs on their own data (``signbind synth``, ``signbind train --stage ...``,
``signbind evaluate``, ``signbind ablate``), with settings sized for a 2-core machine with no GPU. The run folder:

    OUT/data/            the SynthSign data set (kept between runs: generation is deterministic)
    OUT/experts/         the experts stage (router, sign, fingerspelling and lip experts)
    OUT/model/           the full model: experts + fusion, processor and refiner/: AutoModel, AutoProcessor and
                         pipeline("sign-language-translation") load it (`signbind push` adds the pipeline's code
                         for the Hub; a local folder with it would need trust_remote_code=True)
    OUT/ablations/       one folder per retrained variant
    OUT/results.json     test-split metrics, per-stream table, ablations, time per stage
    OUT/results.md       the same as Markdown tables

Example:

```python
>>> results = run_quickstart("runs/quickstart")
>>> results["test"]["bleu4"], results["ablations"]["no_lip"]["homonym_accuracy"]
```
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from signbind_hf.metrics import markdown_table
from signbind_hf.training.ablations import TABLE_COLUMNS, run_ablations
from signbind_hf.training.evaluation import RESULTS_FILE, evaluate_model, write_results
from signbind_hf.training.refiner import SMALL_LLM_SFT_OVERRIDES
from signbind_hf.training.stages import trained_steps

logger = logging.getLogger(__name__)

# The ablations the quickstart measures (`signbind ablate` runs all of them).
QUICKSTART_VARIANTS = ("full", "no_lip", "no_fingerspelling", "no_fusion", "no_llm", "lip_shift_none")


def cpu_schedule(epochs: int, warmup_steps: int, learning_rate: float = 3e-3) -> list[str]:
    """``signbind train`` options of one quickstart stage."""
    return [
        "--learning_rate", str(learning_rate), "--warmup_steps", str(warmup_steps), "--num_train_epochs", str(epochs),
        "--per_device_train_batch_size", "8", "--eval_strategy", "no", "--save_strategy", "no", "--logging_steps", "10",
    ]  # fmt: skip


# Keypoints mirrored at random, face crops as they are (see QuickstartSettings.experts_training).
AUGMENT = ["--augment", "true", "--augment_face_crops", "false"]


@dataclass
class QuickstartSettings:
    """What the quickstart trains, and for how long; each value is the reason-annotated choice for a 2-core CPU.

    The architecture is ``preset`` (``SignBindConfig.from_preset``) with ``model_overrides`` on top. ``*_training``
    are command-line style overrides of ``signbind train`` (``StageTrainingArguments`` fields), ``refiner`` of
    ``RefinerArguments``.
    """

    seed: int = 0
    num_train: int = 500  # SynthSign's default sizes: the targets are defined on its test split, not shrunk
    num_validation: int = 100
    num_test: int = 100
    # The keypoint-reading model made to learn from scratch (no DINOv2 weights can be downloaded here).
    preset: str = "cpu"
    model_overrides: dict[str, Any] = field(default_factory=dict)
    # The paper's optimiser (AdamW, cosine, clip 1.0, batch 8) at a tiny model's learning rate; no checkpoints and no
    # eval loss: the quickstart scores the test split itself once every stage is trained.
    # The experts need many passes to read signs and letters from keypoints (benchmarks/RESULTS.md). Each clip's
    # keypoints are mirrored at random (--augment), so that the few left-handed training signers do not leave
    # left-handed test signers unread; the lip expert's face crops are left as they are (recoloured and flipped,
    # they trained a worse lip expert).
    experts_training: list[str] = field(default_factory=lambda: [*cpu_schedule(epochs=40, warmup_steps=50), *AUGMENT])
    # The fusion module is cheap to train (on cached expert outputs) and gains most from more epochs: it was
    # under-trained, not over-fitted, at 20 (benchmarks/RESULTS.md, "the fusion stage's schedule").
    fusion_training: list[str] = field(default_factory=lambda: cpu_schedule(epochs=35, warmup_steps=30))
    # The paper's LoRA (r=16, alpha=32, q,k,v,o,gate,up,down) on the small local Llama, with the SFT schedule measured
    # best for it (batch 16, 30 epochs, lr 5e-3, against the paper's batch 1 x 4, 10 epochs, lr 2e-4 tuned for a 7B
    # model; signbind_hf/training/refiner.py).
    refiner: dict[str, Any] = field(default_factory=lambda: dict(SMALL_LLM_SFT_OVERRIDES))
    variants: tuple[str, ...] = QUICKSTART_VARIANTS
    # CTC prefix beam search when scoring: briefly trained CTC heads often keep blank the likeliest label where a word
    # is already there, and 8 beams find it (benchmarks/RESULTS.md, "greedy against beam search").
    beam_width: int | None = 8
    # Processes training side by side, one torch thread each (one per core, at most 2): the refiner beside the
    # experts, the ablation variants beside the full model's fusion, which keeps both cores busy
    # (benchmarks/RESULTS.md, "training side by side").
    num_workers: int = field(default_factory=lambda: min(2, os.cpu_count() or 1))


class StageClock:
    """Wall time per stage, logged as each one ends."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def run(self, name: str, function, *args, **kwargs):
        started = time.perf_counter()
        logger.info("quickstart: %s ...", name)
        result = function(*args, **kwargs)
        self.seconds[name] = round(time.perf_counter() - started, 1)
        logger.info("quickstart: %s done in %.1f s", name, self.seconds[name])
        return result


def _ensure_data(data_dir: Path, settings: QuickstartSettings) -> None:
    from signbind_hf.data.synthsign import generate_synthsign

    if (data_dir / "dataset_dict.json").is_file():
        logger.info("quickstart: reusing the SynthSign data set in %s", data_dir)
        return
    generate_synthsign(
        data_dir,
        seed=settings.seed,
        num_train=settings.num_train,
        num_validation=settings.num_validation,
        num_test=settings.num_test,
        overwrite=data_dir.exists(),
    )


def _stage_argv(stage: str, data_dir: Path, out: Path, settings: QuickstartSettings, init: Path | None) -> list[str]:
    """The ``signbind train`` options of one stage (after ``train``)."""
    argv = ["--stage", stage, "--data", str(data_dir), "--out", str(out), "--seed", str(settings.seed)]
    if init is None:
        # The model decodes as it was scored (pipeline, translate, evaluate): ctc_beam_width travels with it.
        overrides = {**settings.model_overrides, "ctc_beam_width": settings.beam_width}
        argv += ["--preset", settings.preset, "--model_overrides", json.dumps(overrides)]
    else:
        argv += ["--init", str(init)]
    return argv + (settings.experts_training if stage == "experts" else settings.fusion_training)


def _train(
    stage: str, data_dir: Path, out: Path, settings: QuickstartSettings, init: Path | None = None, callbacks=None
) -> Path:
    from signbind_hf.training.arguments import parse_stage_arguments
    from signbind_hf.training.stages import train_stage

    if out.exists():
        shutil.rmtree(out)  # a quickstart run starts its stages afresh; the data set is what is kept
    stage_args, training_args = parse_stage_arguments(_stage_argv(stage, data_dir, out, settings, init))
    return train_stage(stage_args, training_args, callbacks=callbacks)


def _train_experts_distributed(data_dir: Path, out: Path, settings: QuickstartSettings, processes: int) -> Path:
    """The experts stage trained by ``processes`` CPU processes under ``accelerate`` (DDP over gloo), each on its share
    of every batch: what ``accelerate launch --multi_gpu`` does with no GPU visible (README, "Train on your own data").

    The global batch stays the schedule's: each process takes ``per_device_train_batch_size / processes`` clips.
    """
    if out.exists():
        shutil.rmtree(out)
    argv = _stage_argv("experts", data_dir, out, settings, None)
    batch_flag = argv.index("--per_device_train_batch_size") + 1
    argv[batch_flag] = str(int(argv[batch_flag]) // processes)
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(processes),
        "--num_machines", "1", "--main_process_port", str(_free_port()), "--mixed_precision", "no",
        "--dynamo_backend", "no", "-m", "signbind_cli.main", "train", *argv, "--disable_tqdm", "true",
    ]  # fmt: skip
    environment = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    completed = subprocess.run(command, env=environment, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"the experts stage under accelerate exited with {completed.returncode}; see the log above")
    return out


def _free_port() -> int:
    """A TCP port free now on this machine, for the processes' rendezvous (two runs must not share one)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _splits_batch(settings: QuickstartSettings, processes: int) -> bool:
    """Whether the experts' batch divides evenly among ``processes``."""
    argv = settings.experts_training
    if processes < 2 or "--per_device_train_batch_size" not in argv:
        return False
    return int(argv[argv.index("--per_device_train_batch_size") + 1]) % processes == 0


def _train_refiner(data_dir: Path, model_dir: Path, settings: QuickstartSettings, **overrides: Any) -> Path:
    from signbind_hf.training.refiner import RefinerArguments, train_refiner

    return train_refiner(
        RefinerArguments(
            data_dir=str(data_dir), out_dir=str(model_dir), seed=settings.seed, **{**settings.refiner, **overrides}
        )
    )


def _timed(function, *args, **kwargs) -> tuple[Any, float]:
    started = time.perf_counter()
    return function(*args, **kwargs), round(time.perf_counter() - started, 1)


def _ablation_training(settings: QuickstartSettings) -> list[str]:
    # The same seed as the full model's fusion: a row differs from "full" by its switch alone.
    return [*settings.fusion_training, "--seed", str(settings.seed)]


class _VariantScheduler(TrainerCallback):
    """Starts the queued ablation variants on the worker pool so that ``cores`` processes stay busy: while the full
    model's fusion trains in this process (it calls back after each step), one fewer; once it is done (``finish``),
    all of them. A variant starts as soon as a core frees up, not when a whole round of them is done: variants
    without a stream train faster than the full model.

    ``submit(names)`` queues variants on the pool and returns their futures (``submit_fusion_variants``).
    """

    def __init__(self, names: list[str], submit, cores: int) -> None:
        self.pending = list(names)
        self.submit = submit
        self.cores = cores
        self.futures: dict[str, Future] = {}

    def _start_what_fits(self, busy_here: int) -> None:
        running = sum(not future.done() for future in self.futures.values())
        while self.pending and running + busy_here < self.cores:
            self.futures.update(self.submit([self.pending.pop(0)]))
            running += 1

    # The variants read the feature cache that the fusion stage writes before training begins.
    def on_train_begin(self, args, state, control, **kwargs) -> None:
        self._start_what_fits(busy_here=1)

    def on_step_end(self, args, state, control, **kwargs) -> None:
        self._start_what_fits(busy_here=1)

    def finish(self) -> dict[str, Future]:
        """Start the rest as cores free up; returns every variant's future."""
        self._start_what_fits(busy_here=0)
        while self.pending:
            wait([future for future in self.futures.values() if not future.done()], return_when=FIRST_COMPLETED)
            self._start_what_fits(busy_here=0)
        return self.futures

    def cancel_pending(self) -> None:
        """Drop the variants not started yet and those queued on the pool (leaving the pool waits for its jobs)."""
        self.pending.clear()
        for future in self.futures.values():
            future.cancel()


def _train_side_by_side(
    data_dir: Path, out_dir: Path, settings: QuickstartSettings, clock: StageClock
) -> dict[str, dict[str, Any]]:
    """Every training stage on two cores; returns the retrained ablation variants' rows.

    The LLM refiner learns pseudo-gloss -> English from the data set's own pairs, so it trains beside the experts.
    The ablation variants read the feature cache the full model's fusion writes as it starts, and train beside it
    and after it, one process per core (``_VariantScheduler``). The refiner lives in a folder of its own until the end
    (the fusion stage starts by clearing the model folder), and the variants are scored with it from there.
    """
    from signbind_hf.refiner import REFINER_DIR
    from signbind_hf.training.ablations import FUSION_VARIANTS, gather_variant_rows, submit_fusion_variants
    from signbind_hf.training.workers import worker_pool

    experts_dir, model_dir = out_dir / "experts", out_dir / "model"
    refiner_out = out_dir / ".refiner-stage"
    shutil.rmtree(refiner_out, ignore_errors=True)
    retrained = [variant for variant in settings.variants if variant in FUSION_VARIANTS]
    try:
        with worker_pool(settings.num_workers) as pool:
            logger.info("quickstart: the refiner trains in a second process, beside the experts")
            refiner = pool.submit(_timed, _train_refiner, data_dir, refiner_out, settings, disable_tqdm=True)
            if _splits_batch(settings, settings.num_workers):
                # Both cores train the experts (the refiner shares them while it lasts); one process would leave a
                # core idle once the refiner is done.
                clock.run("experts", _train_experts_distributed, data_dir, experts_dir, settings, settings.num_workers)
            else:
                clock.run("experts", _train, "experts", data_dir, experts_dir, settings)
            refiner_dir, clock.seconds["refiner"] = refiner.result()
            logger.info("quickstart: refiner done in %.1f s (beside the experts)", clock.seconds["refiner"])

            def submit(names: list[str]) -> dict[str, Future]:
                logger.info("quickstart: ablation variant %s starts training", ", ".join(names))
                return submit_fusion_variants(
                    pool,
                    names,
                    data_dir=data_dir,
                    experts_dir=experts_dir,
                    out_dir=out_dir / "ablations",
                    full_model_dir=model_dir,
                    refiner_from=refiner_out,
                    split="test",
                    training_overrides=_ablation_training(settings),
                    beam_width=settings.beam_width,
                )

            scheduler = _VariantScheduler(retrained, submit, cores=settings.num_workers)
            try:
                clock.run(
                    "fusion", _train, "fusion", data_dir, model_dir, settings, init=experts_dir, callbacks=[scheduler]
                )
                rows = clock.run("ablation variants", lambda: gather_variant_rows(scheduler.finish()))
            except BaseException:
                scheduler.cancel_pending()
                raise
        os.replace(refiner_dir, model_dir / REFINER_DIR)
    finally:
        shutil.rmtree(refiner_out, ignore_errors=True)
    return rows


def run_quickstart(out_dir: str | os.PathLike, settings: QuickstartSettings | None = None) -> dict[str, Any]:
    """Run every stage into ``out_dir`` (see the module docstring) and return the results written to results.json."""
    settings = settings or QuickstartSettings()
    out_dir = Path(out_dir).absolute()
    out_dir.mkdir(parents=True, exist_ok=True)
    data_dir, experts_dir, model_dir = out_dir / "data", out_dir / "experts", out_dir / "model"
    clock = StageClock()
    started = time.perf_counter()

    clock.run("data", _ensure_data, data_dir, settings)
    retrained_rows = None
    if settings.num_workers >= 2:
        retrained_rows = clock.run("training", _train_side_by_side, data_dir, out_dir, settings, clock)
    else:
        clock.run("experts", _train, "experts", data_dir, experts_dir, settings)
        clock.run("fusion", _train, "fusion", data_dir, model_dir, settings, init=experts_dir)
        clock.run("refiner", _train_refiner, data_dir, model_dir, settings)
    evaluation = clock.run("evaluation", evaluate_model, model_dir, data_dir, "test", beam_width=settings.beam_width)
    full_training = {"train_steps": trained_steps(model_dir), "train_seconds": clock.seconds["fusion"]}
    # With the variants trained and scored beside the fusion, all that is left here is assembling the table.
    ablations = clock.run(
        "ablations" if retrained_rows is None else "ablation table",
        run_ablations,
        data_dir,
        out_dir / "ablations",
        experts_dir=experts_dir,
        full_model_dir=model_dir,
        variants=settings.variants,
        fusion_training_overrides=_ablation_training(settings),
        full_results=evaluation,
        full_training=full_training,
        beam_width=settings.beam_width,
        num_workers=settings.num_workers,
        retrained_rows=retrained_rows,
    )
    results = {
        "test": evaluation["test"],
        "streams": evaluation["streams"],
        "ablations": ablations["ablations"],
        "refined": evaluation["refined"],
        "examples": evaluation["examples"],
        "seconds": {**clock.seconds, "total": round(time.perf_counter() - started, 1)},
        "settings": asdict(settings),
    }
    write_results(results, out_dir, title="SignBind-LLM quickstart on SynthSign (test split)")
    logger.info("quickstart: wrote %s and %s", out_dir / RESULTS_FILE, model_dir)
    return results


def summary(results: dict[str, Any]) -> str:
    """The tables the quickstart prints: streams, ablations, and time per stage."""
    timing = {stage: {"seconds": seconds} for stage, seconds in results["seconds"].items()}
    return "\n\n".join(
        [
            "## Streams (test split)\n\n" + markdown_table(results["streams"], row_header="stream"),
            "## Ablations (test split)\n\n"
            + markdown_table(results["ablations"], columns=TABLE_COLUMNS, row_header="variant"),
            "## Time per stage\n\n" + markdown_table(timing, row_header="stage"),
        ]
    )


__all__ = ["QUICKSTART_VARIANTS", "QuickstartSettings", "run_quickstart", "summary"]
