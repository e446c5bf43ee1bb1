"""What the demo shows of a pipeline result: the text fields, the router timeline, the lip gate, the face-crop strip.

Pure functions of the ``sign-language-translation`` pipeline's output (one dict per sentence: ``translation``,
``pseudo_gloss``, ``fingerspelling``, ``phonemes``, ``segments`` = ``[{"label", "start", "end"}]`` in seconds of the
video, ``gate`` = mean lip weight per segment or None, ``timing``), so that they are tested without a model.

Example:

```python
>>> result = {"translation": "Hello.", "pseudo_gloss": "HELLO", "fingerspelling": "", "phonemes": "hh ah l ow",
...           "segments": [{"label": "sign", "start": 0.0, "end": 1.2}], "gate": [0.4], "timing": {}}
>>> text_fields([result]).translation
'Hello.'
>>> router_timeline_figure([result])  # a matplotlib Figure for gr.Plot
```
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

# One colour per router decision, the same in both plots (colour-blind-safe Okabe-Ito hues; rest is neutral grey).
LABEL_COLOURS = {"sign": "#0072B2", "fingerspelling": "#E69F00", "rest": "#BBBBBB"}
FIGURE_SIZE = (7.0, 1.9)  # inches: wide and low, a timeline under the video
PREVIEW_HEIGHT = 96  # pixels: face crops are as small as 32 px (tiny preset); shown enlarged, pixel for pixel


@dataclass(frozen=True)
class TextFields:
    translation: str
    pseudo_gloss: str
    fingerspelling: str
    phonemes: str


def text_fields(results: Sequence[Mapping[str, Any]]) -> TextFields:
    """The four text outputs; a long video's sentences are one line each, prefixed with their time range."""

    def joined(key: str) -> str:
        values = [str(result.get(key) or "") for result in results]
        if len(results) == 1:
            return values[0]
        return "\n".join(f"[{_time_range(result)}] {value}" for result, value in zip(results, values, strict=True))

    return TextFields(
        translation=joined("translation"),
        pseudo_gloss=joined("pseudo_gloss"),
        fingerspelling=joined("fingerspelling"),
        phonemes=joined("phonemes"),
    )


def details_markdown(
    results: Sequence[Mapping[str, Any]],
    *,
    model: str,
    video_seconds: float,
    wall_seconds: float,
    has_refiner: bool,
) -> str:
    """A short account of the run: model, length, sentences, refiner or not, seconds per stage and in all (the
    pipeline's stages plus the face-crop preview)."""
    lines = [
        f"**Model** `{model}` · **video** {video_seconds:.1f} s · **sentences** {len(results)} · "
        f"**translated in** {wall_seconds:.1f} s"
    ]
    if not has_refiner:
        lines.append(
            "This model folder has no LLM refiner (`refiner/`): the translation shown is the fused pseudo-gloss."
        )
    elif unrecognised := sum(not result.get("pseudo_gloss") for result in results):
        # "refined" is false here too, but the refiner is there: it had no pseudo-gloss to translate.
        where = "this video" if len(results) == 1 else f"{unrecognised} of {len(results)} sentences"
        lines.append(f"Nothing was recognised in {where}, so the LLM refiner had nothing to translate.")
    stage_seconds: dict[str, float] = {}
    for result in results:
        for stage, seconds in (result.get("timing") or {}).items():
            if isinstance(seconds, int | float):
                stage_seconds[stage] = stage_seconds.get(stage, 0.0) + float(seconds)
    if stage_seconds:
        lines.append(
            "**Seconds per stage** " + " · ".join(f"{stage} {value:.2f}" for stage, value in stage_seconds.items())
        )
    return "\n\n".join(lines)


def all_segments(results: Sequence[Mapping[str, Any]]) -> list[tuple[str, float, float, float | None]]:
    """Every router segment of every sentence as ``(label, start, end, lip gate or None)``, in time order."""
    segments = []
    for result in results:
        gates = result.get("gate")
        for index, segment in enumerate(result.get("segments") or []):
            gate = gates[index] if gates is not None and index < len(gates) else None
            segments.append(
                (str(segment["label"]), float(segment["start"]), float(segment["end"]), _optional_float(gate))
            )
    return sorted(segments, key=lambda segment: segment[1])


def router_timeline_figure(results: Sequence[Mapping[str, Any]]) -> Figure:
    """One bar over time, coloured by what the router chose: sign, fingerspelling or rest."""
    figure = Figure(figsize=FIGURE_SIZE, layout="constrained")
    axes = figure.add_subplot()
    segments = all_segments(results)
    for label, start, end, _ in segments:
        axes.broken_barh([(start, end - start)], (0, 1), facecolors=LABEL_COLOURS.get(label, "#555555"))
    axes.set_yticks([])
    axes.set_ylim(0, 1)
    axes.set_xlim(0, _end_time(segments))
    axes.set_xlabel("time (s)")
    axes.set_title("Router: which expert reads each moment", fontsize=10)
    axes.legend(
        handles=[Patch(color=colour, label=label) for label, colour in LABEL_COLOURS.items()],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),  # beside the bar, where constrained layout makes room for it
        frameon=False,
        fontsize=8,
    )
    return figure


def lip_gate_figure(results: Sequence[Mapping[str, Any]]) -> Figure:
    """The mean lip weight (1 − α of the gated fusion) of each segment, as a step line over time."""
    figure = Figure(figsize=FIGURE_SIZE, layout="constrained")
    axes = figure.add_subplot()
    segments = all_segments(results)
    gated = [(label, start, end, gate) for label, start, end, gate in segments if gate is not None]
    for label, start, end, gate in gated:
        axes.hlines(gate, start, end, colors=LABEL_COLOURS.get(label, "#555555"), linewidth=3)
    if not gated:
        axes.text(0.5, 0.5, "this model has no lip stream", ha="center", va="center", transform=axes.transAxes)
    axes.set_ylim(0, 1)
    axes.set_xlim(0, _end_time(segments))
    axes.set_xlabel("time (s)")
    axes.set_ylabel("lip weight")
    axes.set_title("Gate: how much the fusion listens to the lips", fontsize=10)
    return figure


def face_strip(face_crops: np.ndarray | None) -> np.ndarray | None:
    """(N, h, w, 3) uint8 crops side by side with a 2-pixel white gap, each pixel repeated to reach
    ``PREVIEW_HEIGHT`` rows (nearest neighbour: the crops are shown as the model saw them, not smoothed)."""
    if face_crops is None or len(face_crops) == 0:
        return None
    crops = np.asarray(face_crops)
    if crops.ndim != 4 or crops.shape[-1] != 3 or crops.dtype != np.uint8:
        raise ValueError(f"face crops must be an (N, h, w, 3) uint8 array; got {crops.dtype} {crops.shape}")
    scale = max(1, -(-PREVIEW_HEIGHT // crops.shape[1]))  # ceiling division
    crops = crops.repeat(scale, axis=1).repeat(scale, axis=2)
    gap = np.full((crops.shape[1], 2, 3), 255, dtype=np.uint8)
    pieces = [piece for crop in crops for piece in (crop, gap)][:-1]
    return np.concatenate(pieces, axis=1)


def _time_range(result: Mapping[str, Any]) -> str:
    segments = result.get("segments") or []
    start = result.get("start", segments[0]["start"] if segments else 0.0)
    end = result.get("end", segments[-1]["end"] if segments else 0.0)
    return f"{float(start):.1f}–{float(end):.1f} s"


def _end_time(segments: Sequence[tuple[str, float, float, float | None]]) -> float:
    return max((end for _, _, end, _ in segments), default=1.0) or 1.0


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)
