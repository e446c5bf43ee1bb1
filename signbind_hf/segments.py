"""Frame-level router decisions -> time segments, and where to cut a long video between two windows.

The router labels every frame sign / fingerspelling / rest (``constants.SEGMENT_NAMES``). This module turns those
labels into runs, the runs into time ranges in seconds, and picks the frame at which to cut a window of a long video
so that the cut falls inside a pause (a long rest run) rather than through a sign.

Kept flat with numpy-only imports so that it ships as remote code beside the pipeline (``pipeline_signbind``).

Example:

```python
>>> import numpy as np
>>> labels = np.array([2, 2, 0, 0, 0, 1, 1, 2])
>>> label_runs(labels)
[(2, 0, 2), (0, 2, 5), (1, 5, 7), (2, 7, 8)]
>>> time_segments(labels, start=10.0, fps=4.0)[1]
{'label': 'sign', 'start': 10.5, 'end': 11.25}
```
"""

import numpy as np

from .constants import SEGMENT_NAMES, SEGMENT_REST

__all__ = ["choose_cut", "label_runs", "mean_per_run", "time_segments"]


def label_runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """Runs of equal labels in a 1-D array, as ``(label, first_index, end_index)`` with ``end_index`` exclusive."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D (one label per frame); got shape {labels.shape}")
    if labels.size == 0:
        return []
    boundaries = np.flatnonzero(labels[1:] != labels[:-1]) + 1  # first index of every run but the first
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [labels.size]])
    return [(int(labels[start]), int(start), int(end)) for start, end in zip(starts, ends, strict=True)]


def time_segments(labels: np.ndarray, *, start: float, fps: float) -> list[dict]:
    """Router runs as ``{"label", "start", "end"}`` in seconds: frame ``i`` covers ``start + [i, i + 1) / fps``.

    The segments tile ``[start, start + len(labels) / fps)`` in order, each ending where the next begins.
    """
    return [
        {
            "label": SEGMENT_NAMES[label],
            "start": round(start + first / fps, 6),
            "end": round(start + end / fps, 6),
        }
        for label, first, end in label_runs(labels)
    ]


def mean_per_run(labels: np.ndarray, values: np.ndarray) -> list[float]:
    """The mean of ``values`` (one per frame) over each run of ``labels``, in run order."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape != np.asarray(labels).shape:
        raise ValueError(f"values must have one entry per label; got shapes {values.shape} and {labels.shape}")
    return [round(float(values[first:end].mean()), 6) for _, first, end in label_runs(labels)]


def choose_cut(labels: np.ndarray, rest_probability: np.ndarray, search_start: int) -> int:
    """The frame at which to end a window: inside the longest pause among frames ``search_start`` and after.

    Args:
        labels: (T,) router decision per frame of the window.
        rest_probability: (T,) the router's probability of "rest" per frame.
        search_start: first frame that may be a cut; the window's frames before it are always kept.

    Returns:
        ``cut`` in ``[search_start, T)``: frames ``[0, cut)`` belong to this window's result, the next window starts
        at frame ``cut``. The middle of the longest run of "rest" frames in the search range (the latest of equally
        long ones, so windows advance as far as they can); without any rest frame there, the frame the router finds
        most like a pause (highest rest probability).
    """
    labels, rest_probability = np.asarray(labels), np.asarray(rest_probability, dtype=np.float64)
    num_frames = labels.shape[0]
    if not 0 < search_start < num_frames:
        raise ValueError(f"search_start must be in (0, {num_frames}); got {search_start}")
    best: tuple[int, int] | None = None  # (length, middle frame)
    for label, first, end in label_runs(labels[search_start:]):
        if label != SEGMENT_REST:
            continue
        candidate = (end - first, search_start + (first + end) // 2)
        if best is None or candidate[0] >= best[0]:
            best = candidate
    if best is None:
        return search_start + int(np.argmax(rest_probability[search_start:]))
    return best[1]
