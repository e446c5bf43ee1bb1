"""Frames to backbone input: resize the shortest edge, centre-crop, rescale to [0, 1], normalise; float32 (T, 3, H, W).

Two ways to resize (``resample``):

- ``"bicubic"`` (default): transformers' own DINOv2 image processor (``BitImageProcessor``, PIL backend: it needs no
  torchvision), so frames reach the backbone exactly as DINOv2's preprocessing makes them. About 5 ms per 640×480
  frame on one core: slower than decoding the video.
- ``"fast"``: OpenCV, about 15× faster. The crop is cut from the frame first, shrunk by a whole factor with
  ``INTER_AREA`` (an exact box average: antialiased, and OpenCV's fast path), then resized the remaining < 2× with
  bilinear interpolation. On a photograph it differs from the bicubic path by about 1 grey level in 255 on average
  (bicubic sharpens slightly); normalisation is one fused OpenCV pass. Train and infer with the same setting.

One deliberate difference from DINOv2's preset: it resizes the shortest edge to 256 and crops 224 (12.5 % of each
side lost); here the shortest edge is resized to ``size`` itself by default, so only the long side is cropped. A
signer's hands often reach the edges of the frame, and fingerspelling happens there.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np

from .errors import SignBindInputError

# ImageNet statistics, which DINOv2 was trained with (transformers' IMAGENET_DEFAULT_MEAN / IMAGENET_DEFAULT_STD;
# written out so that importing this module does not import transformers and torch).
DINOV2_IMAGE_MEAN = (0.485, 0.456, 0.406)
DINOV2_IMAGE_STD = (0.229, 0.224, 0.225)
DEFAULT_FRAME_SIZE = 224  # the paper preset's backbone input; the tiny preset uses 32-64

Resample = Literal["bicubic", "fast"]
RESAMPLE_MODES: tuple[str, ...] = ("bicubic", "fast")


@dataclass(frozen=True)
class FrameTransform:
    """Callable turning (T, H, W, 3) uint8 RGB frames into (T, 3, size, size) float32 normalised pixel values.

    Args:
        size: Side of the square crop fed to the backbone.
        shortest_edge: The shortest edge is resized to this before the centre crop; default ``size``.
        image_mean: Per-channel mean subtracted after rescaling to [0, 1].
        image_std: Per-channel standard deviation divided by after that.
        resample: ``"bicubic"`` (DINOv2's own preprocessing, exact) or ``"fast"`` (OpenCV area + bilinear, ~15×
            faster); see the module docstring.
    """

    size: int = DEFAULT_FRAME_SIZE
    shortest_edge: int | None = None
    image_mean: tuple[float, float, float] = field(default=DINOV2_IMAGE_MEAN)
    image_std: tuple[float, float, float] = field(default=DINOV2_IMAGE_STD)
    resample: Resample = "bicubic"

    def __post_init__(self) -> None:
        if not isinstance(self.size, int) or self.size < 1:
            raise SignBindInputError(f"size must be a positive integer number of pixels; got {self.size!r}")
        if self.shortest_edge is not None and (
            not isinstance(self.shortest_edge, int) or self.shortest_edge < self.size
        ):
            raise SignBindInputError(
                f"shortest_edge must be an integer >= size ({self.size}) so the crop fits; got {self.shortest_edge!r}"
            )
        for name, values in (("image_mean", self.image_mean), ("image_std", self.image_std)):
            if len(values) != 3:
                raise SignBindInputError(f"{name} must hold 3 values (R, G, B); got {values!r}")
        if min(self.image_std) <= 0:
            raise SignBindInputError(f"image_std must be positive; got {self.image_std!r}")
        if self.resample not in RESAMPLE_MODES:
            raise SignBindInputError(f"resample must be one of {RESAMPLE_MODES}; got {self.resample!r}")

    @cached_property
    def image_processor(self) -> Any:
        """The transformers image processor doing the work (built once, on first use)."""
        from transformers import BitImageProcessorPil

        return BitImageProcessorPil(
            do_resize=True,
            size={"shortest_edge": self.shortest_edge or self.size},
            do_center_crop=True,
            crop_size={"height": self.size, "width": self.size},
            do_rescale=True,
            do_normalize=True,
            image_mean=list(self.image_mean),
            image_std=list(self.image_std),
            do_convert_rgb=False,  # frames are RGB already (see pixels.to_rgb_uint8)
        )

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            described = (
                f"{frames.dtype} array of shape {frames.shape}"
                if isinstance(frames, np.ndarray)
                else type(frames).__name__
            )
            raise SignBindInputError(f"frames: expected a (T, H, W, 3) uint8 RGB array; got a {described}")
        if frames.shape[0] == 0:
            return np.zeros((0, 3, self.size, self.size), dtype=np.float32)
        if self.resample == "fast":
            # Resize and normalise frame by frame straight into the output: each frame is still in cache when it is
            # normalised, and no (T, size, size, 3) intermediate is allocated.
            pixel_values = np.empty((frames.shape[0], 3, self.size, self.size), dtype=np.float32)
            for index, frame in enumerate(frames):
                self.transform_into(frame, pixel_values[index])
            return pixel_values
        # Channels-last is stated, not guessed: a 3-pixel-high frame would otherwise look channels-first.
        pixel_values = self.image_processor(
            images=list(frames), return_tensors="np", input_data_format="channels_last"
        )["pixel_values"]
        return np.ascontiguousarray(pixel_values, dtype=np.float32)  # (T, 3, size, size)

    def transform_into(self, frame: np.ndarray, out: np.ndarray) -> None:
        """One (H, W, 3) uint8 RGB frame into ``out`` (3, size, size) float32: what ``self(frames)`` makes of it."""
        if self.resample == "fast":
            normalize_frame_into(self._fast_resize_crop(frame), self._coefficients, out)
        else:
            out[...] = self(frame[None])[0]

    @cached_property
    def _coefficients(self) -> tuple[tuple[float, float], ...]:
        """``normalization_coefficients`` of this transform's mean and std, worked out once, not per frame."""
        return normalization_coefficients(self.image_mean, self.image_std)

    def _fast_resize_crop(self, frame: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 -> (size, size, 3) uint8: the centre crop of the shortest-edge resize, cut first."""
        import cv2

        height, width = frame.shape[:2]
        # The crop's side in source pixels: `size` pixels of a frame whose shortest edge became `shortest_edge`.
        side = max(1, round(min(height, width) * self.size / (self.shortest_edge or self.size)))
        factor = max(1, side // self.size)
        side -= side % factor  # a whole multiple of the factor keeps INTER_AREA on its exact, fast path
        top, left = (height - side) // 2, (width - side) // 2
        crop = frame[top : top + side, left : left + side]
        if factor > 1:
            crop = cv2.resize(crop, (side // factor, side // factor), interpolation=cv2.INTER_AREA)
        if crop.shape[0] != self.size:
            crop = cv2.resize(crop, (self.size, self.size), interpolation=cv2.INTER_LINEAR)  # < 2x: no aliasing
        return crop


def normalize_frames(
    frames: np.ndarray,
    image_mean: tuple[float, float, float] = DINOV2_IMAGE_MEAN,
    image_std: tuple[float, float, float] = DINOV2_IMAGE_STD,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """(T, S, S, 3) uint8 RGB -> (T, 3, S, S) float32 ``(x / 255 - mean) / std``, written into ``out`` if given.

    Each channel is one fused multiply-add by OpenCV, ``x * (1 / (255 * std)) - mean / std``, written straight into
    its channels-first plane (``normalize_frame_into``): 0.07 ms per 224×224 frame, against 0.10 ms for a 256-entry
    float32 table look-up per channel (``cv2.LUT``, the previous way), 0.12 ms for the same multiply-add in numpy,
    0.41 ms for OpenCV's ``blobFromImages`` and 1.8 ms in torch (one core, 2026-11-26). OpenCV computes it in double
    and rounds once, so results are the formula's to float32 precision (all 256 values of a channel equal the
    float64 formula rounded to float32, for the ImageNet statistics and for 2,000 random ones).
    """
    num_frames, height, width = frames.shape[:3]
    if out is None:
        out = np.empty((num_frames, 3, height, width), dtype=np.float32)
    elif out.shape != (num_frames, 3, height, width) or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise SignBindInputError(
            f"out: expected a C-contiguous float32 array of shape {(num_frames, 3, height, width)}; got "
            f"{out.dtype} {out.shape}"
        )
    coefficients = normalization_coefficients(image_mean, image_std)
    for index in range(num_frames):
        normalize_frame_into(frames[index], coefficients, out[index])
    return out


def normalization_coefficients(
    image_mean: tuple[float, ...], image_std: tuple[float, ...]
) -> tuple[tuple[float, float], ...]:
    """Per channel, ``(scale, offset)`` with ``(v / 255 - mean) / std == v * scale + offset`` for a uint8 value v."""
    return tuple((1 / (255 * std), -mean / std) for mean, std in zip(image_mean, image_std, strict=True))


def normalize_frame_into(frame: np.ndarray, coefficients: tuple[tuple[float, float], ...], out: np.ndarray) -> None:
    """One (H, W, 3) uint8 frame -> ``out`` (3, H, W) float32 (C-contiguous), one OpenCV pass per channel (no GIL).

    ``cv2.addWeighted`` with a zero second weight is OpenCV's vectorised ``x * scale + offset`` to a float32
    destination (``convertTo``, which is the same thing, has no Python binding that writes into an array).
    """
    import cv2

    for channel, plane in enumerate(cv2.split(frame)):
        scale, offset = coefficients[channel]
        cv2.addWeighted(plane, scale, plane, 0.0, offset, dst=out[channel], dtype=cv2.CV_32F)


_opencv_threads_lock = threading.Lock()
_opencv_single_threaded_users = 0
_opencv_threads_before = 0


@contextmanager
def single_threaded_opencv() -> Iterator[None]:
    """Run OpenCV single-threaded inside the ``with`` block (nestable, thread-safe); its setting is restored after.

    Every OpenCV call the processor makes works on one small image (a 224 px resize, a 192 px FaceMesh pass): split
    across OpenCV's thread pool, the work costs more CPU than it saves wall-clock time, because the pool's workers
    spin while they wait for the next job. On two cores the FaceMesh pass takes 3.1 ms of CPU with OpenCV's default
    2 threads and 2.2 ms with 1, and the processor runs its two halves (backbone frames, face crops) in two threads
    of its own anyway (benchmarks/bench_processing.py). OpenCV's thread count is process-wide, so other threads
    using OpenCV during a processor call run single-threaded too; the count in force before the first of
    overlapping blocks comes back when the last one ends.
    """
    import cv2

    global _opencv_single_threaded_users, _opencv_threads_before
    with _opencv_threads_lock:
        if _opencv_single_threaded_users == 0:
            _opencv_threads_before = cv2.getNumThreads()
            cv2.setNumThreads(1)
        _opencv_single_threaded_users += 1
    try:
        yield
    finally:
        with _opencv_threads_lock:
            _opencv_single_threaded_users -= 1
            if _opencv_single_threaded_users == 0:
                cv2.setNumThreads(_opencv_threads_before)
