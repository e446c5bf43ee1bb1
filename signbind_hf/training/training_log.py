"""The record of a run: ``training_log.jsonl`` and ``.csv`` (one row per logging event) and a PNG of the curves.

Written from ``TrainerState.log_history``, which Trainer checkpoints and restores on ``--resume``, so a resumed run's
log covers the whole run once. Rows hold ``step``, ``epoch`` and whatever was logged: ``loss`` and the per-stream
training losses (``sign_loss``, ``lip_loss``, ...), ``learning_rate``, ``grad_norm``, ``eval_loss``.

Example:

```python
>>> write_training_log(trainer.state.log_history, "runs/experts")
>>> plot_training_curves(trainer.state.log_history, "runs/experts/training_curves.png", title="experts")
```
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

LOG_JSONL = "training_log.jsonl"
LOG_CSV = "training_log.csv"
CURVES_PNG = "training_curves.png"
# Summary entries Trainer appends at the end (train_runtime, ...) are not curve points.
SUMMARY_KEYS = ("train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos", "train_loss")


def _atomic_write(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def curve_rows(log_history: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [dict(entry) for entry in log_history if not any(key in entry for key in SUMMARY_KEYS)]


def write_training_log(log_history: Sequence[dict[str, Any]], out_dir: str | os.PathLike) -> tuple[Path, Path]:
    """``training_log.jsonl`` (every entry, the final summary included) and ``training_log.csv`` (curve rows)."""
    out_dir = Path(out_dir)
    jsonl = out_dir / LOG_JSONL
    _atomic_write(jsonl, "".join(json.dumps(entry) + "\n" for entry in log_history).encode())
    rows = curve_rows(log_history)
    columns = ["step", "epoch", *sorted({key for row in rows for key in row} - {"step", "epoch"})]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(rows)
    table = out_dir / LOG_CSV
    _atomic_write(table, buffer.getvalue().encode())
    return jsonl, table


def plot_training_curves(log_history: Sequence[dict[str, Any]], path: str | os.PathLike, title: str = "") -> Path:
    """Training and eval losses against the step (left), learning rate (right)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on training machines
    import matplotlib.pyplot as plt

    rows = curve_rows(log_history)
    loss_keys = sorted({key for row in rows for key in row if key.endswith("loss")})
    figure, (losses, rates) = plt.subplots(1, 2, figsize=(11, 4))
    for key in loss_keys:
        points = [(row["step"], row[key]) for row in rows if key in row]
        style = "o-" if key.startswith("eval") else "-"
        losses.plot([x for x, _ in points], [y for _, y in points], style, label=key, markersize=3)
    losses.set_xlabel("step")
    losses.set_ylabel("loss")
    if any(row.get(key, 0) > 0 for row in rows for key in loss_keys):
        losses.set_yscale("log")  # CTC losses fall by orders of magnitude
    if loss_keys:
        losses.legend(fontsize=8)
    losses.set_title(f"{title} losses".strip())
    rate_points = [(row["step"], row["learning_rate"]) for row in rows if "learning_rate" in row]
    rates.plot([x for x, _ in rate_points], [y for _, y in rate_points])
    rates.set_xlabel("step")
    rates.set_ylabel("learning rate")
    rates.set_title("schedule")
    figure.tight_layout()
    path = Path(path)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    _atomic_write(path, buffer.getvalue())
    return path


__all__ = ["CURVES_PNG", "LOG_CSV", "LOG_JSONL", "plot_training_curves", "write_training_log"]
