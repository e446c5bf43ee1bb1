"""A processed-clip cache: each clip is decoded, resampled and face-cropped once per run set, not once per epoch.

Decoding is the main CPU cost of training on video (SynthSign at 128 px: ~0.1 s a clip against a few milliseconds to
read it back). ``CachingVideoProcessor`` is a ``SignBindVideoProcessor`` that stores what it makes of each clip (frames
and face crops, face mask, metadata) in one safetensors file and reads it back on the next call with the same
source and settings. Because it *is* the video processor, everything that processes video goes through it unchanged:
the training collator (``SignBindProcessor.__call__``) and ``cache_expert_outputs`` of the fusion stage, so experts
and fusion together decode each clip once.

Why on disk, one file per clip, rather than in memory: DataLoader workers and ``accelerate`` ranks are separate
processes that a disk cache serves all at once (a memory cache would be one per process, and lost on ``--resume``);
the page cache keeps it in memory anyway when it fits; and a per-clip file is written atomically (temp sibling +
rename), so two processes racing on one clip both end with a whole file. Stored as float16: the values are
normalised uint8 pixels, whose step (1 / (255 · std) ≈ 0.017) is eight times float16's spacing at the largest
normalised value (2.6), so nothing the video held is lost; it halves the disk (SynthSign's 500 train clips at the
tiny preset's 32 px: ~0.8 GB). The first pass returns the float16-rounded values too, so every epoch sees the same.

The key is the source (absolute path, size, modification time), ``start``/``end``/``fps``, the face boxes given, the
keypoints' source (a ``.pose`` path given or the video's sidecar, by path, size and modification time; a
``Keypoints`` given, by content) and every setting of the processor: a changed video, pose file or setting misses the
cache instead of reading a stale clip. Keypoints are stored as float32 (they are few).

Example:

```python
>>> video_processor = CachingVideoProcessor.wrap(processor.video_processor, "runs/clip_cache")
>>> video_processor(["clip.mp4"])  # decoded, stored
>>> video_processor(["clip.mp4"])  # read back
```
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from signbind_hf.keypoints_signbind import Keypoints, sidecar_pose_path
from signbind_hf.video_processing_signbind import ProcessedClip, SignBindVideoProcessor

logger = logging.getLogger(__name__)

CACHE_FORMAT = "signbind-processed-clip"
CACHE_VERSION = 2  # 2: keypoints
STORED_DTYPE = np.float16


class CachingVideoProcessor(SignBindVideoProcessor):
    """``SignBindVideoProcessor`` that keeps each processed clip in ``cache_dir`` (see the module docstring).

    Its ``to_dict`` is the wrapped processor's: the cache is invisible in what it saves. ``hits`` and ``misses``
    count the clips read back and the clips processed (per process).
    """

    def __init__(self, *args: Any, cache_dir: str | os.PathLike | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if cache_dir is None:
            raise ValueError("CachingVideoProcessor needs a cache_dir")
        self.cache_dir = Path(cache_dir)
        self.settings_key = _digest(json.dumps(self.to_dict(), sort_keys=True, default=str))
        self.hits = 0
        self.misses = 0

    @classmethod
    def wrap(cls, video_processor: SignBindVideoProcessor, cache_dir: str | os.PathLike) -> CachingVideoProcessor:
        settings = video_processor.to_dict()
        settings.pop("video_processor_type", None)
        settings.pop("auto_map", None)
        return cls(**settings, cache_dir=cache_dir)

    def to_dict(self) -> dict[str, Any]:
        settings = super().to_dict()
        settings["video_processor_type"] = SignBindVideoProcessor.__name__
        return settings

    def clip_path(
        self, source: Any, boxes: Any, normalized_boxes: bool, fps: Any, start: Any, end: Any, keypoints: Any = None
    ) -> Path | None:
        """The cache file of one clip, or ``None`` for a source that has no stable identity (arrays, bytes)."""
        if not isinstance(source, str | os.PathLike):
            return None
        path = Path(source).absolute()
        try:
            stat = path.stat()
        except OSError:
            return None  # let the decoder report the missing file
        if path.is_dir():  # a frame folder: its listing and the newest frame stand for its content
            names = sorted(entry.name for entry in os.scandir(path))
            identity = [names, max((entry.stat().st_mtime_ns for entry in os.scandir(path)), default=0)]
        else:
            identity = [stat.st_size, stat.st_mtime_ns]
        box_digest = None if boxes is None else _digest(np.ascontiguousarray(boxes, dtype=np.float64).tobytes())
        keypoint_identity = self._keypoint_identity(path, keypoints) if self.keypoints else None
        key = json.dumps(
            [str(path), identity, box_digest, normalized_boxes, fps, start, end, keypoint_identity, self.settings_key]
        )
        return self.cache_dir / f"{_digest(key)[:32]}.safetensors"

    @staticmethod
    def _keypoint_identity(video: Path, keypoints: Any) -> Any:
        """What the clip's keypoints are read from: a given ``Keypoints`` by content, a ``.pose`` file (given, else
        the video's sidecar) by path, size and modification time; None where the extractor makes them."""
        if isinstance(keypoints, Keypoints):
            arrays = (keypoints.pose, keypoints.pose_confidence, keypoints.hands, keypoints.hand_confidence)
            header = np.float64([keypoints.fps, keypoints.width, keypoints.height]).tobytes()
            return _digest(b"".join(np.ascontiguousarray(array).tobytes() for array in arrays) + header)
        pose_file = Path(keypoints) if keypoints is not None else sidecar_pose_path(video)
        try:
            stat = pose_file.absolute().stat()
        except OSError:
            return None if keypoints is None else str(pose_file)  # a missing given file: the processor reports it
        return [str(pose_file.absolute()), stat.st_size, stat.st_mtime_ns]

    def _process_clip(
        self, source: Any, *, name: str, boxes: Any, normalized_boxes: bool, fps, start, end, keypoints: Any = None
    ):
        cached_path = self.clip_path(source, boxes, normalized_boxes, fps, start, end, keypoints)
        if cached_path is not None and cached_path.is_file():
            clip = _read_clip(cached_path)
            if clip is not None:
                self.hits += 1
                return clip
        clip = super()._process_clip(
            source,
            name=name,
            boxes=boxes,
            normalized_boxes=normalized_boxes,
            fps=fps,
            start=start,
            end=end,
            **({"keypoints": keypoints} if self.keypoints else {}),
        )
        self.misses += 1
        clip = _rounded(clip)
        if cached_path is not None:
            _write_clip(cached_path, clip)
        return clip


def _digest(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def _rounded(clip: ProcessedClip) -> ProcessedClip:
    """The clip as the cache stores it (float16 pixels, float32 in use), so a miss and a hit give the same values."""
    as_stored = lambda array: None if array is None else _as_float32(array.astype(STORED_DTYPE))
    return ProcessedClip(
        pixel_values=as_stored(clip.pixel_values),
        face_pixel_values=as_stored(clip.face_pixel_values),
        face_mask=clip.face_mask,
        num_frames=clip.num_frames,
        metadata=clip.metadata,
        keypoints=clip.keypoints,
        keypoint_mask=clip.keypoint_mask,
    )


def _write_clip(path: Path, clip: ProcessedClip) -> None:
    from safetensors.numpy import save_file

    tensors = {"pixel_values": clip.pixel_values.astype(STORED_DTYPE)}
    if clip.face_pixel_values is not None:
        tensors["face_pixel_values"] = clip.face_pixel_values.astype(STORED_DTYPE)
        tensors["face_mask"] = clip.face_mask.astype(np.uint8)
    if clip.keypoints is not None:
        tensors["keypoints"] = clip.keypoints.astype(np.float32)
        tensors["keypoint_mask"] = clip.keypoint_mask.astype(np.uint8)
    metadata = {
        "format": CACHE_FORMAT,
        "version": str(CACHE_VERSION),
        "num_frames": str(clip.num_frames),
        "metadata": json.dumps(clip.metadata, default=_json_default),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial")
    try:
        save_file(tensors, str(partial), metadata=metadata)
        os.replace(partial, path)
    except OSError as error:  # a full or read-only disk costs speed, not the run
        partial.unlink(missing_ok=True)
        logger.warning("processed-clip cache: could not write %s (%s); the clip will be decoded again", path, error)


def _read_clip(path: Path) -> ProcessedClip | None:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as handle:
            metadata = handle.metadata() or {}
            if metadata.get("format") != CACHE_FORMAT or metadata.get("version") != str(CACHE_VERSION):
                return None
            arrays = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118 (not a dict)
    except Exception as error:  # a truncated or foreign file: decode the clip again and overwrite it
        logger.warning("processed-clip cache: unreadable %s (%s); decoding the clip again", path, error)
        return None
    face_pixel_values = arrays.get("face_pixel_values")
    keypoints = arrays.get("keypoints")
    return ProcessedClip(
        pixel_values=_as_float32(arrays["pixel_values"]),
        face_pixel_values=None if face_pixel_values is None else _as_float32(face_pixel_values),
        face_mask=None if face_pixel_values is None else arrays["face_mask"].astype(bool),
        num_frames=int(metadata["num_frames"]),
        metadata=json.loads(metadata["metadata"]),
        keypoints=keypoints,
        keypoint_mask=None if keypoints is None else arrays["keypoint_mask"].astype(bool),
    )


def _as_float32(stored: np.ndarray) -> np.ndarray:
    """The stored float16 array as float32, the same values as ``astype``: numpy converts float16 element by element,
    torch vectorised, which matters on every training batch read (benchmarks/RESULTS.md)."""
    import torch

    return torch.from_numpy(stored).float().numpy()


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


__all__ = ["CachingVideoProcessor"]
