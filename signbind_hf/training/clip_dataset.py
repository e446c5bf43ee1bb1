"""Training examples from a prepared data set folder, and the collator that turns them into ``forward``'s batch.

``ClipDataset.from_split`` opens one split (``datasets.load_from_disk``; SynthSign's ``video`` paths are relative to
the folder, the real formats' absolute), checks every row once and keeps those the model can train on. The check
processes each clip (through the processor's video processor: with a ``CachingVideoProcessor`` this fills the cache,
so it is the run's only decode of the clip) and compares its length with its CTC targets: a clip with fewer frames
than its glosses or letters need, or fewer lip steps than its phonemes, would make the model raise, so it is skipped
and counted (``SkippedRows``); so are missing or unreadable videos and empty pseudo-gloss. A row with no phonemes is
kept, its phoneme labels all padding: the model leaves it out of the lip loss.

Keypoints, for a processor with the ``keypoints`` setting only (a frames-only processor gets no ``keypoints``
argument): each row's ``pose`` file (relative to the folder, or absolute), else the video's sidecar ``.pose``, else
the processor's extractor. A row whose pose file (or sidecar) is gone or cannot be read is skipped and counted
(``missing_pose``, ``unreadable_pose``) rather than silently trained on the extractor's keypoints.

``ClipCollator`` calls ``SignBindProcessor`` on a batch of examples (videos, face boxes when the row has them,
``start``/``end``, keypoints, glosses, letters, phonemes) and adds ``segment_labels`` resampled to the processed
frames, giving exactly the keys of ``SignBindModel.forward``. In a model with a letter expert each expert learns its
own channel (``signbind_hf.targets.gloss_targets``): fingerspelled words are the letter expert's, not the sign expert's, and the fusion
marks where they go.

Example:

```python
>>> report = SkippedRows()
>>> train = ClipDataset.from_split("data/synthsign", "train", processor, model.config, report)
>>> batch = ClipCollator(processor, letter_expert=model.config.use_fingerspelling)([train[0], train[1]])
>>> model(**batch).loss
```
"""

from __future__ import annotations

import itertools
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from signbind_hf.constants import (
    ATTENTION_MASK,
    FACE_ATTENTION_MASK,
    FACE_PIXEL_VALUES,
    GLOSS_LABELS,
    IGNORE_INDEX,
    KEYPOINT_MASK,
    KEYPOINTS,
    LETTER_LABELS,
    PHONEME_LABELS,
    PIXEL_VALUES,
    SEGMENT_LABELS,
    SIGN_LABELS,
)
from signbind_hf.data.builders.core import BadPose, in_data_set, read_row_pose
from signbind_hf.errors import SignBindInputError
from signbind_hf.keypoints_signbind import sidecar_pose_path
from signbind_hf.modeling_signbind import check_input_values
from signbind_hf.targets import gloss_targets
from signbind_hf.training.skipped_rows import (
    EMPTY_PSEUDO_GLOSS,
    MISSING_VIDEO,
    NO_PHONEMES,
    TOO_SHORT_FOR_GLOSSES,
    TOO_SHORT_FOR_LETTERS,
    TOO_SHORT_FOR_PHONEMES,
    UNREADABLE_VIDEO,
    SkippedRows,
)
from signbind_hf.video_processing_signbind import VIDEO_METADATA

logger = logging.getLogger(__name__)

FORWARD_KEYS = (
    PIXEL_VALUES,
    FACE_PIXEL_VALUES,
    ATTENTION_MASK,
    FACE_ATTENTION_MASK,
    KEYPOINTS,
    KEYPOINT_MASK,
    GLOSS_LABELS,
    SIGN_LABELS,
    LETTER_LABELS,
    PHONEME_LABELS,
    SEGMENT_LABELS,
)


@dataclass(frozen=True)
class ClipExample:
    """One usable row: where its video is and its targets (strings, as the processor takes them)."""

    row: int
    id: str
    video: str
    start: float | None
    end: float | None
    fps: float | None  # frame rate of a frame folder, and of its segment labels
    face_boxes: np.ndarray | None
    pose: str | None  # the row's .pose file; None: the video's sidecar, else the processor's extractor
    glosses: str
    fingerspelled: tuple[str, ...]  # the words of the sentence that are fingerspelled, as written
    letters: str
    phonemes: str
    segment_labels: tuple[int, ...]


def load_split(data_dir: str | os.PathLike, split: str) -> Any:
    """One split of a prepared data set folder, with errors that name the folder and the splits it has."""
    import datasets

    try:
        dataset = datasets.load_from_disk(str(data_dir))
    except FileNotFoundError as error:
        raise SignBindInputError(
            f"--data {data_dir}: not a prepared data set (signbind synth / signbind prepare write one): {error}"
        ) from error
    if not isinstance(dataset, datasets.DatasetDict):
        raise SignBindInputError(
            f"--data {data_dir}: expected a DatasetDict with splits, got a single {type(dataset)}"
        )
    if split not in dataset:
        raise SignBindInputError(f"--data {data_dir} has no split {split!r}; it has {list(dataset)}")
    return dataset[split]


def example_from_row(row_index: int, row: dict[str, Any], data_dir: Path) -> ClipExample:
    video = in_data_set(row["video"], data_dir)
    pose = row.get("pose")  # data sets prepared before keypoints have no such column
    boxes = row.get("face_boxes")
    boxes = np.asarray(boxes, dtype=np.float32) if boxes else None
    return ClipExample(
        row=row_index,
        id=str(row.get("id", row_index)),
        video=str(video),
        start=row.get("start"),
        end=row.get("end"),
        fps=row.get("fps"),
        face_boxes=boxes if boxes is not None and boxes.ndim == 2 and len(boxes) else None,
        pose=str(in_data_set(pose, data_dir)) if pose else None,
        glosses=row.get("pseudo_gloss") or "",
        fingerspelled=tuple(row.get("fingerspelled_words") or ()),
        letters=row.get("letters") or "",
        phonemes=row.get("phonemes") or "",
        segment_labels=tuple(row.get("segment_labels") or ()),
    )


def keypoint_file_problem(example: ClipExample) -> str | None:
    """``"reason: detail"`` when the keypoint file the processor would read for ``example`` (its row's, else its
    video's sidecar) is gone or cannot be read, else None."""
    if example.pose is not None:
        path = Path(example.pose)
    else:
        path = sidecar_pose_path(example.video)
        if os.path.isdir(example.video) or not path.is_file():
            return None  # no file: the extractor makes the keypoints
    try:
        read_row_pose(path)
    except BadPose as bad:
        return f"{bad.reason}: {bad.detail}"
    return None


def ctc_frames_needed(labels: list[int]) -> int:
    """Input steps CTC needs to emit ``labels``: one per label plus a blank between equal neighbours."""
    return len(labels) + sum(1 for left, right in itertools.pairwise(labels) if left == right)


def lip_steps(frames: int, config: Any) -> int:
    """Length of the lip stream for a clip of ``frames`` real frames (``LipreadingExpert.output_lengths``)."""
    tubelets = math.ceil(frames / config.lip_config.tubelet_size)
    kernel, stride = config.lip_temporal_kernel_size, config.lip_temporal_stride
    return (tubelets + 2 * (kernel // 2) - kernel) // stride + 1


class _ClipProbe(Dataset):
    """Processes one clip per item and reports its length (or why it cannot be read); run by DataLoader workers."""

    def __init__(self, examples: list[ClipExample], video_processor: Any) -> None:
        self.examples = examples
        self.video_processor = video_processor

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> tuple[int, int | None, str | None]:
        example = self.examples[index]
        if not os.path.exists(example.video):
            return index, None, MISSING_VIDEO
        if self.video_processor.keypoints:
            problem = keypoint_file_problem(example)
            if problem is not None:
                return index, None, problem
        try:
            processed = self.video_processor(
                [example.video],
                **video_kwargs([example], self.video_processor),
                return_tensors="np",
                return_metadata=False,
            )
        except SignBindInputError as error:
            return index, None, f"{UNREADABLE_VIDEO}: {error}"
        return index, int(processed[ATTENTION_MASK].sum()), None


class ClipDataset(Dataset):
    """The usable rows of one split (see the module docstring); item ``i`` is a ``ClipExample``."""

    def __init__(self, examples: list[ClipExample], split: str) -> None:
        self.examples = examples
        self.split = split

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> ClipExample:
        return self.examples[index]

    @classmethod
    def from_split(
        cls,
        data_dir: str | os.PathLike,
        split: str,
        processor: Any,
        config: Any,
        report: SkippedRows,
        max_examples: int | None = None,
        num_workers: int = 0,
    ) -> ClipDataset:
        data_dir = Path(data_dir).absolute()
        rows = load_split(data_dir, split)
        if max_examples is not None:
            rows = rows.select(range(min(max_examples, len(rows))))
        candidates = []
        for index, row in enumerate(rows):
            example = example_from_row(index, row, data_dir)
            if not example.glosses.strip():
                report.skip(split, EMPTY_PSEUDO_GLOSS, f"{split}[{index}] {example.id}")
                continue
            candidates.append(example)
        lengths = _probe_lengths(candidates, processor.video_processor, split, report, num_workers)
        kept = []
        for example in candidates:
            frames = lengths.get(example.row)
            if frames is None:
                continue
            reason = _too_short(example, frames, processor, config)
            where = f"{split}[{example.row}] {example.id}"
            if reason is not None:
                report.skip(split, reason[0], f"{where}: {reason[1]}")
                continue
            if config.use_lip and not example.phonemes.strip():
                report.keep_partially(split, NO_PHONEMES, where)
            report.keep(split)
            kept.append(example)
        logger.info("%s: %d of %d rows usable", split, len(kept), len(rows))
        if not kept:
            raise SignBindInputError(
                f"--data {data_dir}: no usable row in split {split!r} ({report.to_dict().get(split)}); see the "
                "reasons above"
            )
        return cls(kept, split)


def _probe_lengths(
    examples: list[ClipExample], video_processor: Any, split: str, report: SkippedRows, num_workers: int
) -> dict[int, int]:
    loader = DataLoader(
        _ClipProbe(examples, video_processor),
        batch_size=None,
        num_workers=num_workers,
        collate_fn=lambda item: item,
    )
    lengths = {}
    for index, frames, problem in tqdm(loader, desc=f"checking {split} clips", unit="clip", leave=False):
        example = examples[index]
        if problem is None:
            lengths[example.row] = frames
            continue
        reason, _, detail = problem.partition(": ")
        report.skip(
            split, reason, f"{split}[{example.row}] {example.id} ({example.video}){': ' + detail if detail else ''}"
        )
    return lengths


def _too_short(example: ClipExample, frames: int, processor: Any, config: Any) -> tuple[str, str] | None:
    # The fusion's target is the longest gloss target: a [FS] beside another needs a blank between them.
    fused, _ = gloss_targets(example.glosses, example.fingerspelled, config.use_fingerspelling)
    streams = [(TOO_SHORT_FOR_GLOSSES, processor.tokenizer, fused, frames, "frames")]
    if config.use_fingerspelling:
        streams.append((TOO_SHORT_FOR_LETTERS, processor.letter_tokenizer, example.letters, frames, "frames"))
    if config.use_lip:
        steps = lip_steps(frames, config)
        streams.append((TOO_SHORT_FOR_PHONEMES, processor.phoneme_tokenizer, example.phonemes, steps, "lip steps"))
    for reason, tokenizer, text, available, unit in streams:
        needed = ctc_frames_needed(tokenizer(text)["labels"]) if text.strip() else 0
        if needed > available:
            return reason, f"its targets need {needed} {unit}, the clip has {available}"
    return None


def video_kwargs(examples: list[ClipExample], video_processor: Any) -> dict[str, Any]:
    """Per-video processor arguments: face boxes (detection where a row has none), time window, folder frame rate,
    and keypoint files (the sidecar or the extractor where a row has none).

    A processor that makes no face crops (a model without the lip expert) gets no boxes, even where the rows have them;
    one without the ``keypoints`` setting gets no ``keypoints`` argument (it would raise).
    """
    boxes = [example.face_boxes for example in examples]
    wants_boxes = video_processor.face_cropper is not None and any(item is not None for item in boxes)
    keypoints = {"keypoints": [example.pose for example in examples]} if video_processor.keypoints else {}
    return {
        "face_boxes": boxes if wants_boxes else None,
        "start": [example.start for example in examples],
        "end": [example.end for example in examples],
        # Only frame folders take a frame rate; video files carry their timestamps.
        "fps": [example.fps if os.path.isdir(example.video) else None for example in examples],
        **keypoints,
    }


class ClipCollator:
    """``SignBindProcessor`` on a list of ``ClipExample``: the batch ``SignBindModel.forward`` takes, labels included.

    Segment labels are given per source frame; each processed frame takes the label of the source frame at its
    timestamp (``-100`` where the row has none), so subsampled or resampled clips stay aligned.
    """

    def __init__(self, processor: Any, letter_expert: bool = True) -> None:
        self.processor = processor
        self.letter_expert = letter_expert

    def __call__(self, examples: list[ClipExample]) -> dict[str, torch.Tensor]:
        targets = [gloss_targets(example.glosses, example.fingerspelled, self.letter_expert) for example in examples]
        batch = self.processor(
            videos=[example.video for example in examples],
            glosses=[fused for fused, _ in targets],
            signs=[signs for _, signs in targets],
            letters=[example.letters for example in examples],
            phonemes=[example.phonemes for example in examples],
            return_tensors="pt",
            return_metadata=True,
            **video_kwargs(examples, self.processor.video_processor),
        )
        metadata = batch.pop(VIDEO_METADATA)
        frames = batch[ATTENTION_MASK].shape[1]
        batch[SEGMENT_LABELS] = torch.stack(
            [segments_at_frames(example, clip, frames) for example, clip in zip(examples, metadata, strict=True)]
        )
        batch = {key: batch[key] for key in FORWARD_KEYS if key in batch}
        # The value checks SignBindModel.forward leaves out (they would make each step on a GPU wait): here, where the
        # data enters, on the CPU. A failing row raises in the DataLoader, naming the input.
        check_input_values(
            batch[ATTENTION_MASK],
            face_attention_mask=batch.get(FACE_ATTENTION_MASK),
            pixel_values=batch.get(PIXEL_VALUES),
            face_pixel_values=batch.get(FACE_PIXEL_VALUES),
            keypoints=batch.get(KEYPOINTS),
            keypoint_mask=batch.get(KEYPOINT_MASK),
        )
        return batch


def segments_at_frames(example: ClipExample, metadata: dict[str, Any], frames: int) -> torch.Tensor:
    """(frames,) segment class of each processed frame, -100 where unknown or padding."""
    labels = torch.full((frames,), IGNORE_INDEX, dtype=torch.long)
    if not example.segment_labels:
        return labels
    timestamps = np.asarray(metadata["timestamps"], dtype=np.float64)
    fps = example.fps or metadata.get("source_fps") or metadata["fps"]
    # Labels start at the clip's first frame (its `start`, when it has one).
    source = np.rint((timestamps - timestamps[0]) * fps).astype(np.int64)
    known = source < len(example.segment_labels)
    values = np.asarray(example.segment_labels, dtype=np.int64)[source[known]]
    labels[: len(source)][torch.from_numpy(known)] = torch.from_numpy(values)
    return labels


__all__ = [
    "ClipCollator",
    "ClipDataset",
    "ClipExample",
    "ctc_frames_needed",
    "in_data_set",
    "keypoint_file_problem",
    "lip_steps",
    "load_split",
    "video_kwargs",
]
