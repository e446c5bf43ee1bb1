"""The paper's ablations, measured: each variant's fusion module retrained on the same frozen experts, then scored.

Variants (names are the ``results.json`` keys of ``"ablations"``):

| variant | what changes | trained? |
|---|---|---|
| ``full`` | nothing: gated fusion, learned lip alignment | the full model |
| ``no_lip`` | ``use_lip=False``: the fusion sees the manual stream only | fusion retrained |
| ``no_fingerspelling`` | ``use_fingerspelling=False``: no letter stream into the fusion | fusion retrained |
| ``no_fusion`` | the sign expert's pseudo-gloss goes to the LLM | no (scored from the full model's decoding) |
| ``no_llm`` | the fused pseudo-gloss is the translation | no (scored from the full model's decoding) |
| ``fusion_concat`` / ``fusion_cross_attention`` | ``fusion_type`` | fusion retrained |
| ``lip_shift_none`` / ``lip_shift_5`` / ``lip_shift_10`` | ``lip_shift`` ("none" or a fixed shift in frames) | fusion retrained |

The experts are the full model's, frozen: a variant differs from ``full`` only in its fusion module (the paper's
ablations of Tables 4/7/8 retrain the affected part the same way). Every variant is scored with the full model's LLM
refiner, and each row records its training steps and wall time.

Example:

```python
>>> results = run_ablations("data/synthsign", "runs/ablations", experts_dir="runs/experts",
...                         full_model_dir="runs/model", variants=["no_lip", "lip_shift_none"])
>>> print(results["table"])
```
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

from signbind_hf.errors import SignBindInputError
from signbind_hf.metrics import markdown_table
from signbind_hf.training.evaluation import evaluate_model
from signbind_hf.training.stages import trained_steps
from signbind_hf.training.workers import worker_pool

logger = logging.getLogger(__name__)

# Variants whose fusion module is retrained, with the SignBindConfig fields they change.
FUSION_VARIANTS: dict[str, dict[str, Any]] = {
    "no_lip": {"use_lip": False},
    "no_fingerspelling": {"use_fingerspelling": False},
    "fusion_concat": {"fusion_type": "concat"},
    "fusion_cross_attention": {"fusion_type": "cross_attention"},
    "lip_shift_none": {"lip_shift": "none"},
    "lip_shift_5": {"lip_shift": 5},
    "lip_shift_10": {"lip_shift": 10},
}
# Variants scored from the full model's own evaluation (see signbind_hf.training.evaluation).
EVALUATION_VARIANTS = ("no_fusion", "no_llm")
ALL_VARIANTS = ("full", *FUSION_VARIANTS, *EVALUATION_VARIANTS)
# What the table shows, in this order (every row also keeps its full metrics in results.json).
TABLE_COLUMNS = (
    "bleu1", "bleu4", "rouge_l", "gloss_wer", "homonym_accuracy", "name_accuracy", "letter_accuracy",
    "phoneme_error_rate", "train_steps", "train_seconds",
)  # fmt: skip


def check_variants(variants: Sequence[str]) -> list[str]:
    unknown = [name for name in variants if name not in ALL_VARIANTS]
    if unknown:
        raise SignBindInputError(f"--variants: unknown {unknown}; choose from {list(ALL_VARIANTS)}")
    return list(dict.fromkeys(variants))


def train_fusion_variant(
    data_dir: str | os.PathLike,
    experts_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    overrides: dict[str, Any],
    training_overrides: Sequence[str] = (),
) -> tuple[Path, float]:
    """Train a fusion module with ``overrides`` on ``experts_dir``'s frozen experts; returns (model folder, seconds)."""
    from signbind_hf.training.arguments import parse_stage_arguments
    from signbind_hf.training.stages import train_stage

    argv = [
        "--stage", "fusion", "--data", str(data_dir), "--init", str(experts_dir), "--out", str(out_dir),
        "--model_overrides", json.dumps(overrides), "--save_strategy", "no", *training_overrides,
    ]  # fmt: skip
    stage_args, training_args = parse_stage_arguments(argv)
    started = time.perf_counter()
    model_dir = train_stage(stage_args, training_args)
    return model_dir, time.perf_counter() - started


def train_and_score_variant(
    variant: str,
    *,
    data_dir: str | os.PathLike,
    experts_dir: str | os.PathLike,
    out_dir: Path,
    full_model_dir: str | os.PathLike,
    split: str,
    training_overrides: Sequence[str],
    beam_width: int | None,
    refiner_from: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """One retrained variant's row: its fusion trained into ``out_dir/variant``, scored with the full model's
    refiner (or ``refiner_from``'s: a folder with ``refiner/``), plus its training steps and seconds."""
    logger.info("ablation %s: training the fusion with %s", variant, FUSION_VARIANTS[variant])
    model_dir, seconds = train_fusion_variant(
        data_dir, experts_dir, out_dir / variant, FUSION_VARIANTS[variant], training_overrides
    )
    scored = evaluate_model(
        model_dir,
        data_dir,
        split,
        model_dir / "evaluation",
        refiner_from=refiner_from or full_model_dir,
        beam_width=beam_width,
    )
    return {
        **scored["ablations"]["full"],
        "train_steps": trained_steps(model_dir),
        "train_seconds": round(seconds, 1),
    }


def submit_fusion_variants(pool: Executor, variants: Sequence[str], **arguments: Any) -> dict[str, Future]:
    """Queue ``train_and_score_variant`` for each of ``variants`` on ``pool`` (``workers.worker_pool``: no progress
    bars there); ``gather_variant_rows`` collects them. The full model's feature cache must exist already."""
    arguments = {**arguments, "training_overrides": [*arguments["training_overrides"], "--disable_tqdm", "true"]}
    return {variant: pool.submit(train_and_score_variant, variant, **arguments) for variant in variants}


def gather_variant_rows(futures: dict[str, Future]) -> dict[str, dict[str, Any]]:
    """The rows of ``submit_fusion_variants``' jobs, waiting for each; a variant that failed raises, naming it."""
    rows: dict[str, dict[str, Any]] = {}
    for variant, future in futures.items():
        try:
            rows[variant] = future.result()
        except SignBindInputError as error:
            raise SignBindInputError(f"ablation {variant}: {error}") from error
        except Exception as error:
            raise RuntimeError(f"ablation {variant}: {type(error).__name__}: {error}") from error
    return rows


def score_fusion_variants(variants: Sequence[str], num_workers: int, **arguments: Any) -> dict[str, dict[str, Any]]:
    """``train_and_score_variant`` for each of ``variants``, in ``num_workers`` processes at a time (1: here)."""
    if num_workers == 1 or len(variants) <= 1:
        return {variant: train_and_score_variant(variant, **arguments) for variant in variants}
    with worker_pool(num_workers) as pool:
        return gather_variant_rows(submit_fusion_variants(pool, variants, **arguments))


def run_ablations(
    data_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    experts_dir: str | os.PathLike,
    full_model_dir: str | os.PathLike,
    variants: Sequence[str] = ALL_VARIANTS,
    split: str = "test",
    fusion_training_overrides: Sequence[str] = (),
    full_results: dict[str, Any] | None = None,
    full_training: dict[str, Any] | None = None,
    beam_width: int | None = None,
    num_workers: int = 1,
    retrained_rows: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Train and score ``variants``; writes ``out_dir/ablations.json`` and ``ablations.md`` and returns
    ``{"ablations": {variant: metrics + train_steps + train_seconds}, "table": markdown}``.

    Args:
        experts_dir: the trained experts (``signbind train --stage experts``) the variants' fusion is trained on.
        full_model_dir: the full model (fusion trained on those experts, with ``refiner/``): the ``full`` row, the
            evaluation-only variants, and the refiner every variant is scored with.
        fusion_training_overrides: command-line style overrides of the fusion training (``["--num_train_epochs",
            "10"]``), the same for every variant so that rows compare.
        full_results: the full model's ``evaluate_model`` result on ``split`` when already computed (saves a pass).
        full_training: ``{"train_steps": ..., "train_seconds": ...}`` of the full model's fusion stage.
        beam_width: CTC prefix beam search width for every row's decoding (``None``: greedy).
        num_workers: processes training variants side by side (each with one torch thread). The variants share
            the full model's feature cache, which must exist already (training the full model's fusion made it).
        retrained_rows: rows of retrained variants already trained and scored (``submit_fusion_variants``, as the
            quickstart does beside the full model's fusion); the other retrained variants are trained here.
    """
    variants = check_variants(variants)
    if not isinstance(num_workers, int) or isinstance(num_workers, bool) or num_workers < 1:
        raise SignBindInputError(f"num_workers must be an integer >= 1; got {num_workers!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if full_results is None:
        full_results = evaluate_model(full_model_dir, data_dir, split, out_dir / "full", beam_width=beam_width)
    full_training = full_training or {"train_steps": trained_steps(Path(full_model_dir)), "train_seconds": None}
    retrained_rows = retrained_rows or {}
    retrained = [variant for variant in variants if variant in FUSION_VARIANTS and variant not in retrained_rows]
    scored = retrained_rows | score_fusion_variants(
        retrained,
        num_workers,
        data_dir=data_dir,
        experts_dir=experts_dir,
        out_dir=out_dir,
        full_model_dir=full_model_dir,
        split=split,
        training_overrides=fusion_training_overrides,
        beam_width=beam_width,
    )
    rows: dict[str, dict[str, Any]] = {}
    for variant in variants:
        if variant == "full":
            rows[variant] = {**full_results["ablations"]["full"], **full_training}
        elif variant in EVALUATION_VARIANTS:
            rows[variant] = {**full_results["ablations"][variant], "train_steps": 0, "train_seconds": 0.0}
        else:
            rows[variant] = scored[variant]
        logger.info(
            "ablation %s: BLEU-4 %.1f, gloss WER %.1f", variant, rows[variant]["bleu4"], rows[variant]["gloss_wer"]
        )
    table = markdown_table(rows, columns=TABLE_COLUMNS, row_header="variant")
    (out_dir / "ablations.json").write_text(json.dumps({"ablations": rows}, indent=2) + "\n")
    (out_dir / "ablations.md").write_text(f"# Ablations ({split} split)\n\n{table}\n")
    return {"ablations": rows, "table": table}


__all__ = [
    "ALL_VARIANTS",
    "EVALUATION_VARIANTS",
    "FUSION_VARIANTS",
    "gather_variant_rows",
    "run_ablations",
    "score_fusion_variants",
    "submit_fusion_variants",
    "train_and_score_variant",
    "train_fusion_variant",
]
