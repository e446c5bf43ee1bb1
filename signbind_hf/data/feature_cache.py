"""Cached expert outputs: run the frozen experts once per clip, then train the fusion stage without decoding video.

In the fusion stage the experts are frozen, so their outputs are the same every epoch; recomputing them means decoding
the video, cropping faces and running DINOv2 and the lip ViT again for each step. ``cache_expert_outputs`` runs them
once and stores, per example and unpadded, exactly what ``SignBindModel.fuse_expert_outputs`` needs:

    sign_logits            (T, |gloss|)     the sign expert's CTC logits
    router_logits          (T, 3)           the router's scores (fusion uses the eval router: their argmax)
    fingerspelling_logits  (T, 28)          when the model has a fingerspelling expert
    phoneme_logits         (T', 40)         when it has the lipreading expert: the lip steps covering real frames
    face_attention_mask    (T,)             1 where a face was seen
(T, the number of real frames, is the attention mask's length).

Layout, next to the data set: ``DATA_DIR/features/<experts fingerprint[:16]>/`` holding ``manifest.json`` (the model
folder, the experts' fingerprint, the processor settings, per split the kept and skipped counts by reason),
``index/<split>.jsonl`` (one line per cached example: data set row, id, shard, lengths, pseudo-gloss, fingerspelled words) and
``<split>/shard-NNNNN.safetensors``, plus ``processor/`` (the processor used, whose gloss tokenizer makes the labels).

Why safetensors shards rather than a ``datasets`` column: tensors keep the exact dtype the model produced (the cached
fusion equals the live one bit for bit in float32), each example is read lazily by memory map without loading a whole
Arrow table, nothing is pickled, and the prepared data set is never rewritten (a column would need a second Arrow
table kept row-aligned with it). ``dtype=torch.float16`` halves the disk (a gloss vocabulary of a few thousand words
makes ``sign_logits`` the largest tensor) at ~1e-3 relative error on the logits.

Example:

```python
>>> model = AutoModel.from_pretrained("runs/experts"); processor = AutoProcessor.from_pretrained("runs/experts")
>>> cache = cache_expert_outputs(model, processor, "data/synthsign")
>>> train = CachedExpertOutputs(cache, "train", model)
>>> batch = FusionFeatureCollator()([train[0], train[1]])
>>> model.fuse_expert_outputs(**batch).loss
```
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from signbind_hf.constants import ATTENTION_MASK, FACE_ATTENTION_MASK, GLOSS_LABELS, IGNORE_INDEX
from signbind_hf.data.builders.core import MISSING_VIDEO, UNREADABLE_VIDEO, BadPose, in_data_set, read_row_pose
from signbind_hf.errors import SignBindInputError
from signbind_hf.targets import gloss_targets

logger = logging.getLogger(__name__)

FEATURES_DIR = "features"
MANIFEST_FILE = "manifest.json"
INDEX_DIR = "index"
PROCESSOR_DIR = "processor"
CACHE_FORMAT = "signbind-expert-outputs"
CACHE_VERSION = 2  # 2: the index keeps each example's fingerspelled words
EXPERT_PREFIXES = ("manual.", "lip.")
FINGERPRINT_PREFIX_LENGTH = 16  # hex digits naming the cache folder: 64 bits, no accidental collision in practice
DEFAULT_BATCH_SIZE = 8  # the paper's clips per batch
DEFAULT_SHARD_SIZE = 256  # examples per safetensors file: few files, each small enough to write in one go
SKIPPED_EXAMPLES_PER_REASON = 5

SIGN_LOGITS = "sign_logits"
ROUTER_LOGITS = "router_logits"
FINGERSPELLING_LOGITS = "fingerspelling_logits"
PHONEME_LOGITS = "phoneme_logits"


class FeatureCacheMismatchError(ValueError):
    """A feature cache was made with other expert weights (or is not a feature cache at all)."""


def experts_fingerprint(model: torch.nn.Module) -> str:
    """SHA-256 of the experts' weights (every ``manual.*`` and ``lip.*`` entry of the state dict: name, dtype, shape,
    bytes), plus the config switches that change expert outputs without changing a weight (``center_frames``). The
    fusion weights are left out: they are what trains on the cache, and changing them keeps it valid."""
    digest = hashlib.sha256()
    digest.update(f"center_frames={bool(getattr(model.config, 'center_frames', False))}|".encode())
    for name, tensor in sorted(model.state_dict().items()):
        if not name.startswith(EXPERT_PREFIXES):
            continue
        flat = tensor.detach().contiguous().cpu().reshape(-1)
        digest.update(f"{name}|{flat.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(flat.view(torch.uint8).numpy().tobytes())  # raw bytes: works for bfloat16 too
    return digest.hexdigest()


def cache_dir_for(data_dir: str | os.PathLike, model: torch.nn.Module) -> Path:
    """Where ``cache_expert_outputs`` stores (and looks for) ``model``'s expert outputs for ``data_dir``."""
    return Path(data_dir) / FEATURES_DIR / experts_fingerprint(model)[:FINGERPRINT_PREFIX_LENGTH]


# --- writing ------------------------------------------------------------------------------------------------------


@dataclass
class SplitReport:
    kept: int = 0
    reasons: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    shards: list[str] = field(default_factory=list)

    def skip(self, reason: str, where: str) -> None:
        self.reasons[reason] += 1
        named = self.examples.setdefault(reason, [])
        if len(named) < SKIPPED_EXAMPLES_PER_REASON:
            named.append(where)
        logger.warning("skipped %s (%s)", where, reason)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kept": self.kept,
            "skipped": sum(self.reasons.values()),
            "reasons": dict(sorted(self.reasons.items())),
            "skipped_examples": dict(sorted(self.examples.items())),
            "shards": self.shards,
        }


def cache_expert_outputs(
    model: Any,
    processor: Any,
    data_dir: str | os.PathLike,
    out: str | os.PathLike | None = None,
    splits: Sequence[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dtype: torch.dtype = torch.float32,
    shard_size: int = DEFAULT_SHARD_SIZE,
) -> Path:
    """Run ``model``'s experts (eval mode, no gradients) on every example of ``data_dir`` and store their outputs.

    Args:
        model: a ``SignBindModel`` with a fusion module (its experts are what gets cached).
        processor: the ``SignBindProcessor`` matching it (frame and face sizes; its gloss tokenizer is saved with the
            cache to make the fusion labels).
        data_dir: a prepared data set (``datasets.load_from_disk``); relative ``video`` paths (SynthSign) are read
            from it, and a ``face_boxes`` column is used instead of face detection.
        out: the cache folder; default ``cache_dir_for(data_dir, model)``. Replaced atomically if it exists.
        splits: the splits to cache (default: all).
        batch_size: clips per model forward.
        dtype: stored dtype of the logits (``torch.float32`` or ``torch.float16``).
        shard_size: examples per safetensors file.

    Returns:
        The cache folder. Examples whose video cannot be read are skipped and counted by reason in its manifest.
    """
    import datasets
    from safetensors.torch import save_file

    if getattr(model, "fusion", None) is None:
        raise SignBindInputError(
            "cache_expert_outputs: the model has no fusion module (fusion_type='none'): there is nothing to train on "
            "cached expert outputs"
        )
    if len(processor.tokenizer) != model.config.gloss_vocab_size:
        raise SignBindInputError(
            f"the processor's gloss tokenizer has {len(processor.tokenizer)} ids but the model's gloss_vocab_size is "
            f"{model.config.gloss_vocab_size}: use the processor the model was trained with"
        )
    if dtype not in (torch.float32, torch.float16):
        raise SignBindInputError(f"dtype must be torch.float32 or torch.float16; got {dtype}")
    for name, value in (("batch_size", batch_size), ("shard_size", shard_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise SignBindInputError(f"{name} must be an integer >= 1; got {value!r}")
    data_dir = Path(data_dir).absolute()
    try:
        dataset = datasets.load_from_disk(str(data_dir))
    except FileNotFoundError as error:
        raise SignBindInputError(f"data_dir {data_dir}: not a prepared data set ({error})") from error
    if not isinstance(dataset, datasets.DatasetDict):
        raise SignBindInputError(f"data_dir {data_dir}: expected a DatasetDict (splits), got a single {type(dataset)}")
    splits = list(dataset) if splits is None else list(splits)
    unknown = [split for split in splits if split not in dataset]
    if unknown:
        raise SignBindInputError(f"splits: {unknown} are not splits of {data_dir}; it has {list(dataset)}")

    fingerprint = experts_fingerprint(model)
    out = Path(out) if out is not None else data_dir / FEATURES_DIR / fingerprint[:FINGERPRINT_PREFIX_LENGTH]
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    (staging / INDEX_DIR).mkdir(parents=True)
    was_training = model.training
    model.eval()
    reports: dict[str, SplitReport] = {}
    try:
        for split in splits:
            reports[split] = _cache_split(
                model, processor, dataset[split], data_dir, split, staging, batch_size, dtype, shard_size, save_file
            )
        processor.save_pretrained(staging / PROCESSOR_DIR)
        manifest = {
            "format": CACHE_FORMAT,
            "version": CACHE_VERSION,
            "model": str(model.config.name_or_path or ""),
            "experts_fingerprint": fingerprint,
            "data": str(data_dir),
            "dtype": str(dtype).removeprefix("torch."),
            "streams": expert_streams(model.config),
            "gloss_vocab_size": model.config.gloss_vocab_size,
            "video_processor": processor.video_processor.to_dict(),
            "kept": sum(report.kept for report in reports.values()),
            "skipped": sum(sum(report.reasons.values()) for report in reports.values()),
            "splits": {split: report.to_dict() for split, report in reports.items()},
        }
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
        _swap_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        model.train(was_training)
    logger.info(
        "cached expert outputs of %d examples (skipped %d) -> %s",
        manifest["kept"],
        manifest["skipped"],
        out,
    )
    return out


def expert_streams(config: Any) -> list[str]:
    """The expert outputs a fusion module of ``config`` reads (what a cache made with it holds)."""
    streams = [SIGN_LOGITS, ROUTER_LOGITS]
    if config.use_fingerspelling:
        streams.append(FINGERSPELLING_LOGITS)
    if config.use_lip:
        streams.append(PHONEME_LOGITS)
    return streams


def _swap_into_place(staging: Path, out: Path) -> None:
    if not out.exists():
        staging.rename(out)
        return
    retired = out.parent / f".{out.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    out.rename(retired)
    staging.rename(out)
    shutil.rmtree(retired, ignore_errors=True)


def _cache_split(model, processor, rows, data_dir, split, staging, batch_size, dtype, shard_size, save_file):
    report = SplitReport()
    (staging / split).mkdir()
    use_boxes = "face_boxes" in rows.column_names and processor.video_processor.face_cropper is not None
    # Only a processor with the keypoints setting takes keypoints (a frames-only one raises on the argument).
    use_poses = processor.video_processor.keypoints
    shard: dict[str, torch.Tensor] = {}
    index_lines: list[str] = []
    pending: list[tuple[int, dict, Any]] = []  # (row, example, processed inputs of one clip)

    def flush_shard() -> None:
        if not shard:
            return
        name = f"{split}/shard-{len(report.shards):05d}.safetensors"
        save_file(shard, str(staging / name), metadata={"format": CACHE_FORMAT})
        report.shards.append(name)
        shard.clear()

    def run_pending() -> None:
        if not pending:
            return
        outputs = _run_experts(model, [inputs for _, _, inputs in pending])
        for (row, example, _), stored in zip(pending, outputs, strict=True):
            shard_index = len(report.shards)
            for name, tensor in stored.items():
                shard[f"{row}.{name}"] = tensor.to(dtype) if tensor.is_floating_point() else tensor
            index_lines.append(
                json.dumps(
                    {
                        "row": row,
                        "id": example["id"],
                        "shard": shard_index,
                        "frames": int(stored[FACE_ATTENTION_MASK].shape[0]),
                        "pseudo_gloss": example["pseudo_gloss"],
                        "fingerspelled_words": list(example.get("fingerspelled_words") or ()),
                    }
                )
            )
            report.kept += 1
            if report.kept % shard_size == 0:
                flush_shard()
        pending.clear()

    for row, example in enumerate(rows):
        path = in_data_set(example["video"], data_dir)
        where = f"{split}[{row}] {example['id']} ({path})"
        if not path.exists():
            report.skip(MISSING_VIDEO, where)
            continue
        boxes = np.asarray(example["face_boxes"], dtype=np.float32) if use_boxes else None
        # The row's .pose file (None: the video's sidecar, else the extractor), found as the video is.
        pose = in_data_set(example["pose"], data_dir) if use_poses and example.get("pose") else None
        if pose is not None:
            try:
                read_row_pose(pose)
            except BadPose as bad:
                report.skip(bad.reason, f"{where}: {bad.detail}")
                continue
        try:
            inputs = processor.video_processor(
                [str(path)],
                face_boxes=None if boxes is None else [boxes],
                start=example.get("start"),
                end=example.get("end"),
                **({"keypoints": [None if pose is None else str(pose)]} if use_poses else {}),
            )
        except SignBindInputError as error:
            report.skip(UNREADABLE_VIDEO, f"{where}: {error}")
            continue
        pending.append((row, example, inputs))
        if len(pending) == batch_size:
            run_pending()
    run_pending()
    flush_shard()
    (staging / INDEX_DIR / f"{split}.jsonl").write_text("".join(line + "\n" for line in index_lines))
    return report


def _pad_clips(clips: list[Any]) -> dict[str, torch.Tensor]:
    """Stack single-clip processor outputs (each padded to its own length) into one batch padded to the longest."""
    length = max(int(clip[ATTENTION_MASK].shape[1]) for clip in clips)
    batch = {}
    for key in clips[0]:
        padded = []
        for clip in clips:
            tensor = clip[key][0]
            pad = [0, 0] * (tensor.dim() - 1) + [0, length - tensor.shape[0]]
            padded.append(F.pad(tensor, pad))
        batch[key] = torch.stack(padded)
    return batch


def _run_experts(model: Any, clips: list[Any]) -> list[dict[str, torch.Tensor]]:
    """One forward of the model in eval mode; per clip, the expert outputs on its real frames (unpadded)."""
    device = next(model.parameters()).device
    batch = {key: value.to(device) for key, value in _pad_clips(clips).items()}
    with torch.no_grad():
        output = model(**batch)
    frame_lengths = batch[ATTENTION_MASK].sum(-1).tolist()
    face_mask = batch.get(FACE_ATTENTION_MASK, batch[ATTENTION_MASK])
    upsample = model.config.lip_config.tubelet_size * model.config.lip_temporal_stride
    stored = []
    for index, frames in enumerate(frame_lengths):
        item = {
            SIGN_LOGITS: output.sign_logits[index, :frames],
            ROUTER_LOGITS: output.router_logits[index, :frames],
            FACE_ATTENTION_MASK: face_mask[index, :frames].to(torch.int8),
        }
        if output.fingerspelling_logits is not None:
            item[FINGERSPELLING_LOGITS] = output.fingerspelling_logits[index, :frames]
        if output.phoneme_logits is not None:
            # The fusion upsamples lip step s onto frames [s * upsample, (s + 1) * upsample): keep the steps that
            # cover real frames, so that re-padding in any batch gives the fusion the same lip stream.
            steps = min(-(-frames // upsample), output.phoneme_logits.shape[1])
            item[PHONEME_LOGITS] = output.phoneme_logits[index, :steps]
        stored.append({name: tensor.detach().cpu().contiguous() for name, tensor in item.items()})
    return stored


# --- reading ------------------------------------------------------------------------------------------------------


def read_manifest(cache_dir: str | os.PathLike) -> dict[str, Any]:
    path = Path(cache_dir) / MANIFEST_FILE
    if not path.is_file():
        raise FeatureCacheMismatchError(
            f"{cache_dir}: no {MANIFEST_FILE}; expected a folder written by cache_expert_outputs (signbind features)"
        )
    manifest = json.loads(path.read_text())
    if manifest.get("format") != CACHE_FORMAT or manifest.get("version") != CACHE_VERSION:
        raise FeatureCacheMismatchError(
            f"{path}: expected format {CACHE_FORMAT!r} version {CACHE_VERSION}; got {manifest.get('format')!r} "
            f"version {manifest.get('version')!r}"
        )
    return manifest


def check_cache_matches(cache_dir: str | os.PathLike, model: Any) -> dict[str, Any]:
    """The cache's manifest, after checking that ``model``'s experts are the ones that made it."""
    manifest = read_manifest(cache_dir)
    fingerprint = experts_fingerprint(model)
    if manifest["experts_fingerprint"] != fingerprint:
        raise FeatureCacheMismatchError(
            f"{cache_dir} was made by experts with fingerprint {manifest['experts_fingerprint'][:16]} (model "
            f"{manifest['model'] or 'unnamed'}), but this model's experts have fingerprint {fingerprint[:16]}: "
            "its cached outputs are not what these experts compute. Run `signbind features` with this model."
        )
    return manifest


class CachedExpertOutputs(Dataset):
    """One split of a feature cache: item ``i`` holds the cached tensors of one clip and its ``gloss_labels`` (the
    fusion's target for ``model``: see ``signbind_hf.targets.gloss_targets``).

    Args:
        cache_dir: a folder written by ``cache_expert_outputs``.
        split: the split to read.
        model: the model that will fuse them; its experts must be those that made the cache (checked).
        tokenizer: the gloss tokenizer for ``gloss_labels``; default the one saved with the cache.
    """

    def __init__(self, cache_dir: str | os.PathLike, split: str, model: Any, tokenizer: Any = None) -> None:
        self.cache_dir = Path(cache_dir)
        self.manifest = check_cache_matches(self.cache_dir, model)
        if split not in self.manifest["splits"]:
            raise SignBindInputError(
                f"split {split!r} is not cached in {cache_dir}; it has {list(self.manifest['splits'])}"
            )
        self.split = split
        self.shards = self.manifest["splits"][split]["shards"]
        lines = (self.cache_dir / INDEX_DIR / f"{split}.jsonl").read_text().splitlines()
        self.index = [json.loads(line) for line in lines if line]
        if tokenizer is None:
            from signbind_hf.processing_signbind import SignBindProcessor

            tokenizer = SignBindProcessor.from_pretrained(self.cache_dir / PROCESSOR_DIR).tokenizer
        if len(tokenizer) != model.config.gloss_vocab_size:
            raise SignBindInputError(
                f"the gloss tokenizer has {len(tokenizer)} ids but the model's gloss_vocab_size is "
                f"{model.config.gloss_vocab_size}: pass the tokenizer the model was trained with"
            )
        self.tokenizer = tokenizer
        self.letter_expert = model.config.use_fingerspelling
        self.streams = self.manifest["streams"]
        self._handles: dict[int, Any] = {}

    def __len__(self) -> int:
        return len(self.index)

    def gloss_labels(self, entry: dict[str, Any]) -> list[int]:
        """The fusion's target ids for one line of the index (``signbind_hf.targets.gloss_targets``)."""
        fused, _ = gloss_targets(entry["pseudo_gloss"], entry["fingerspelled_words"], self.letter_expert)
        return self.tokenizer(fused)["labels"]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_handles"] = {}  # memory maps are per process (DataLoader workers open their own)
        return state

    def _shard(self, number: int) -> Any:
        if number not in self._handles:
            from safetensors import safe_open

            self._handles[number] = safe_open(str(self.cache_dir / self.shards[number]), framework="pt")
        return self._handles[number]

    def __getitem__(self, item: int) -> dict[str, Any]:
        entry = self.index[item]
        shard = self._shard(entry["shard"])
        example = {name: shard.get_tensor(f"{entry['row']}.{name}").float() for name in self.streams}
        example[FACE_ATTENTION_MASK] = shard.get_tensor(f"{entry['row']}.{FACE_ATTENTION_MASK}").long()
        example[GLOSS_LABELS] = self.gloss_labels(entry)
        example["id"] = entry["id"]
        return example


class FusionFeatureCollator:
    """Pads cached examples into a batch for ``model.fuse_expert_outputs(**batch)``: logits with zeros, masks with
    0 (``attention_mask`` is rebuilt from each clip's length), ``gloss_labels`` with -100; ids are dropped."""

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        lengths = [int(example[FACE_ATTENTION_MASK].shape[0]) for example in examples]
        frames = max(lengths)
        batch = {
            ATTENTION_MASK: (torch.arange(frames)[None] < torch.tensor(lengths)[:, None]).long(),
            FACE_ATTENTION_MASK: _pad_time([example[FACE_ATTENTION_MASK] for example in examples], frames),
        }
        for name in (SIGN_LOGITS, ROUTER_LOGITS, FINGERSPELLING_LOGITS, PHONEME_LOGITS):
            if name in examples[0]:
                tensors = [example[name] for example in examples]
                batch[name] = _pad_time(tensors, max(tensor.shape[0] for tensor in tensors))
        labels = [torch.as_tensor(example[GLOSS_LABELS], dtype=torch.long) for example in examples]
        width = max(1, max(len(label) for label in labels))
        batch[GLOSS_LABELS] = torch.stack(
            [F.pad(label, (0, width - len(label)), value=IGNORE_INDEX) for label in labels]
        )
        return batch


def _pad_time(tensors: list[torch.Tensor], length: int) -> torch.Tensor:
    return torch.stack(
        [F.pad(tensor, [0, 0] * (tensor.dim() - 1) + [0, length - tensor.shape[0]]) for tensor in tensors]
    )


def load_model_and_processor(
    model_dir: str | os.PathLike,
    processor_dir: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
) -> tuple[Any, Any]:
    """The saved model of ``model_dir`` and its processor: from ``processor_dir``, else from ``model_dir`` when it
    holds one, else built for the model's config with the gloss vocabulary of ``data_dir``'s ``train`` split (which
    must give the model's ``gloss_vocab_size``; the ids are only right if the model was trained on that vocabulary)."""
    import datasets

    from signbind_hf.pipeline_signbind import load_model
    from signbind_hf.processing_signbind import SignBindProcessor

    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise SignBindInputError(f"--model {model_dir}: no config.json; expected a folder written by save_pretrained")
    model = load_model(model_dir)
    config = model.config
    if processor_dir is not None:
        processor = SignBindProcessor.from_pretrained(str(processor_dir))
        where = f"--processor {processor_dir}"
    elif (model_dir / "processor_config.json").is_file():
        processor = SignBindProcessor.from_pretrained(str(model_dir))
        where = f"the processor saved in --model {model_dir}"
    else:
        if data_dir is None:
            raise SignBindInputError(f"--model {model_dir} holds no processor: pass --processor DIR")
        rows = datasets.load_from_disk(str(data_dir))
        if "train" not in rows:
            raise SignBindInputError(
                f"--model {model_dir} holds no processor and --data {data_dir} has no train split to rebuild the gloss "
                "vocabulary from: pass --processor DIR"
            )
        processor = SignBindProcessor.from_model_config(config, glosses=rows["train"]["pseudo_gloss"])
        where = f"a processor rebuilt from the train pseudo-glosses of {data_dir}"
        logger.warning("--model %s holds no processor: using %s", model_dir, where)
    if len(processor.tokenizer) != config.gloss_vocab_size:
        raise SignBindInputError(
            f"{where} has a gloss vocabulary of {len(processor.tokenizer)} ids, but the model's gloss_vocab_size is "
            f"{config.gloss_vocab_size}: pass --processor with the processor the model was trained with"
        )
    return model, processor


__all__ = [
    "CachedExpertOutputs",
    "FeatureCacheMismatchError",
    "FusionFeatureCollator",
    "cache_dir_for",
    "cache_expert_outputs",
    "check_cache_matches",
    "expert_streams",
    "experts_fingerprint",
    "load_model_and_processor",
    "read_manifest",
]
