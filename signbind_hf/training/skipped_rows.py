"""Counting the data set rows a training run could not use, by reason, and writing them next to the model.

A bad row is skipped and counted, never silently dropped and never the end of the run. Rows that train with one
target left out (``no_phonemes``: the lip loss leaves them out) are counted apart, as ``partial``.

Example:

```python
>>> report = SkippedRows()
>>> report.skip("train", "too_short_for_glosses", "train[3] clip-3: 4 glosses need 4 frames, the clip has 2")
>>> report.write("runs/experts/skipped_rows.json")
```
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from signbind_hf.data.builders.core import (
    MISSING_POSE,
    MISSING_VIDEO,
    NO_PHONEMES,
    UNREADABLE_POSE,
    UNREADABLE_VIDEO,
)

logger = logging.getLogger(__name__)

SKIPPED_ROWS_FILE = "skipped_rows.json"
EXAMPLES_PER_REASON = 5

# Reasons a row is skipped, besides the data builders' MISSING_VIDEO, UNREADABLE_VIDEO and, for a model that reads
# keypoints, MISSING_POSE and UNREADABLE_POSE (a row's .pose file, or the video's sidecar, gone or broken since
# prepare; whether keypoints last as long as their video is checked once, by the builders); NO_PHONEMES (the
# builders' name too) marks a row kept with its lip target left out.
EMPTY_PSEUDO_GLOSS = "empty_pseudo_gloss"
TOO_SHORT_FOR_GLOSSES = "too_short_for_glosses"
TOO_SHORT_FOR_LETTERS = "too_short_for_letters"
TOO_SHORT_FOR_PHONEMES = "too_short_for_phonemes"


class SkippedRows:
    """Per split: rows kept, rows skipped by reason (with the first few named), rows kept with a target left out."""

    def __init__(self) -> None:
        self.kept: Counter = Counter()
        self.reasons: dict[str, Counter] = defaultdict(Counter)
        self.partial: dict[str, Counter] = defaultdict(Counter)
        self.examples: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))

    def keep(self, split: str) -> None:
        self.kept[split] += 1

    def skip(self, split: str, reason: str, where: str) -> None:
        self.reasons[split][reason] += 1
        self._name(split, reason, where)
        logger.debug("skipped %s (%s)", where, reason)

    def keep_partially(self, split: str, reason: str, where: str) -> None:
        self.partial[split][reason] += 1
        self._name(split, reason, where)

    def _name(self, split: str, reason: str, where: str) -> None:
        named = self.examples[split][reason]
        if len(named) < EXAMPLES_PER_REASON:
            named.append(where)

    def skipped(self, split: str | None = None) -> int:
        splits = [split] if split is not None else list(self.reasons)
        return sum(sum(self.reasons[name].values()) for name in splits)

    def merge(self, split: str, kept: int, reasons: dict[str, int], examples: dict[str, list[str]]) -> None:
        """Take over counts made elsewhere (the feature cache's manifest)."""
        self.kept[split] += kept
        self.reasons[split].update(reasons)
        for reason, named in examples.items():
            self.examples[split][reason].extend(named[: EXAMPLES_PER_REASON - len(self.examples[split][reason])])

    def to_dict(self) -> dict[str, Any]:
        splits = sorted(set(self.kept) | set(self.reasons) | set(self.partial))
        return {
            split: {
                "kept": self.kept[split],
                "skipped": sum(self.reasons[split].values()),
                "reasons": dict(sorted(self.reasons[split].items())),
                "kept_with_a_target_left_out": dict(sorted(self.partial[split].items())),
                "examples": {reason: list(named) for reason, named in sorted(self.examples[split].items())},
            }
            for split in splits
        }

    def log_summary(self) -> None:
        for split, entry in self.to_dict().items():
            logger.info(
                "%s: %d rows kept, %d skipped %s%s",
                split,
                entry["kept"],
                entry["skipped"],
                entry["reasons"] or "",
                f"; kept with a target left out: {entry['kept_with_a_target_left_out']}"
                if entry["kept_with_a_target_left_out"]
                else "",
            )

    def write(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        partial.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        os.replace(partial, path)
        return path


__all__ = [
    "EMPTY_PSEUDO_GLOSS",
    "MISSING_POSE",
    "MISSING_VIDEO",
    "NO_PHONEMES",
    "SKIPPED_ROWS_FILE",
    "TOO_SHORT_FOR_GLOSSES",
    "TOO_SHORT_FOR_LETTERS",
    "TOO_SHORT_FOR_PHONEMES",
    "UNREADABLE_POSE",
    "UNREADABLE_VIDEO",
    "SkippedRows",
]
