"""Decoded frames to model pixel values: backbone frames (``FrameTransform``) and, while a clip decodes, backbone
frames and face crops made frame by frame (``ClipStream``).

``FrameTransform`` resizes the shortest edge, centre-crops, rescales to [0, 1] and normalises: float32 (T, 3, H, W).

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

Streaming: backbone frames and face crops are made while a clip decodes, so the clip is never held whole at full
resolution. :class:`ClipStream` is the :class:`~.video_frames_signbind.FrameSink` the video processor hands to ``decode_video``.
Each kept frame is copied into a small ring of full-resolution frames and turned into its backbone frame at once, in
the decoding thread. A second thread follows the faces with a :class:`~.face_tracking_signbind.FaceTrack`, which
finishes a frame's square a few dozen frames later; the mouth crop is then cut from the ring and normalised into its
row. Both threads spend their time in native code that releases the GIL (PyAV, OpenCV, MediaPipe), so on two cores
they run side by side, as the decoder's own threads do.

The ring holds the frames the face track may still read (``FaceTrack.lookbehind + 1``: 26 with the default settings)
plus ``RING_SLACK`` so that the decoding thread rarely waits for the face thread: 42 frames, 39 MB at 640×480, where
decoding the clip first held all its frames (230 MB for 10 s of 640×480, up to 512 frames). On a 10-minute clip the
processor's peak memory fell from 833 to 642 MiB, of which 588 MiB are the tensors it returns; its speed stayed
within the noise of the measurement (``benchmarks/bench_processing.py``).

The outputs are those of decoding the whole clip, then ``FrameTransform`` and ``FaceCropper.crop``: ``FaceTrack`` finds
the same faces and squares whichever way the frames come (``tests/video/test_streaming.py``).

The ring and the output arrays come from a :class:`BufferPool` the processor keeps, so a clip is written into the
memory of the one before once the caller has dropped that one's outputs: the page faults of fresh memory cost 10-20 %
of the processor's wall and CPU time (``benchmarks/bench_processing.py``).
"""

import platform
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np

from .errors import SignBindInputError
from .face_tracking_signbind import FaceCropper, FaceTrack, crop_square

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


# --- streaming: frames and face crops made while a clip decodes ------------------------------------------------------


# Frames the decoding thread may run ahead of the face thread beyond what the face track needs.
RING_SLACK = 16

# Whether sys.getrefcount tells exactly who holds an array (BufferPool relies on it): CPython with its GIL. Elsewhere
# (PyPy, free-threaded CPython) the pool never reuses an array.
_EXACT_REFCOUNTS = platform.python_implementation() == "CPython" and getattr(sys, "_is_gil_enabled", lambda: True)()


class BufferPool:
    """The large arrays of one clip (outputs and ring), reused by the next clip once nothing else refers to them.

    Why: a clip's outputs are big (float32 frames and crops, ~300 MB for 10 s at 224 px), and fresh memory is not
    free: the kernel zeroes every page on first write, and a virtual machine may first have to get the page back from
    its host. On the 2-core VM of ``benchmarks/bench_processing.py`` that system time was 80-180 ms a call for a 10 s
    clip (~25 ms with the memory reused), 10-20 % of the processor's wall and CPU time. A processor run over a data
    set, or behind a demo, drops each batch before it asks for the next, so the next clip can write into the same
    pages.

    An array is handed out again only when the pool holds its only reference: the tensors a caller keeps (and every
    view of them, numpy or torch) refer to it, so outputs still in use are never overwritten; the pool then makes a
    new array and keeps that one instead. So it holds at most one array per name, the last one it made: between calls,
    the processor keeps one clip's worth of output memory (the pages written) until ``clear`` or until it is collected.
    """

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()  # two threads sharing a processor must never take the same array

    def take(self, name: str, shape: tuple[int, ...], dtype: np.dtype | type = np.float32) -> np.ndarray:
        """An uninitialised array of ``shape`` and ``dtype``: the first rows of the pooled ``name`` if that is free
        and has as many rows or more (clips differ in length), else a new array, pooled in its place."""
        shape = tuple(shape)
        with self._lock:
            array = self._arrays.pop(name, None)
            # `array` (this frame's name) and getrefcount's own argument: 2 means the pool was its only holder.
            free = array is not None and _EXACT_REFCOUNTS and sys.getrefcount(array) == 2
            if not (free and array.dtype == dtype and array.shape[1:] == shape[1:] and len(array) >= shape[0]):
                array = np.empty(shape, dtype=dtype)
            self._arrays[name] = array
            return array[: shape[0]]

    def clear(self) -> None:
        """Let go of the pooled arrays (arrays still held elsewhere live on with their holders)."""
        with self._lock:
            self._arrays.clear()

    def __reduce__(self):
        return (BufferPool, ())  # a copy (pickled, deep-copied) starts empty: the arrays belong to this process


@dataclass
class StreamedFrames:
    """What a :class:`ClipStream` made of a clip of T frames."""

    pixel_values: np.ndarray  # (T, 3, S, S) float32 backbone frames
    face_pixel_values: np.ndarray | None  # (T, 3, s, s) float32 normalised face crops (black without a face)
    face_track: FaceTrack | None  # the clip's face mask, squares and detector counts; None without a cropper
    frame_size: tuple[int, int]  # (width, height) of the decoded frames the crops were cut from


@dataclass
class StreamSnapshot:
    """What a :class:`ClipStream` has made so far (copies): for a live reader that runs the model while frames arrive."""

    pixel_values: np.ndarray  # (A, 3, S, S) float32 backbone frames of the A frames added
    face_pixel_values: np.ndarray | None  # (F, 3, s, s) float32 crops of the F <= A frames whose square is final
    face_mask: np.ndarray | None  # (F,) bool: a face was found, held or interpolated on those frames


class ClipStream:
    """Takes a clip's kept frames one by one (a ``FrameSink``) and makes its model inputs as they come.

    Use it once, as a context manager around the decoding, so that the face thread stops if decoding fails::

        with ClipStream(transform, cropper, mean, std) as stream:
            clip = decode_video(path, frame_sink=stream)
            streamed = stream.finish()

    Args:
        frame_transform: makes the backbone frames.
        cropper: finds the faces (its ``config.size`` is the crop side); ``None`` makes backbone frames only.
        image_mean, image_std: normalisation of the face crops (the frames' is ``frame_transform``'s).
        buffers: where the outputs and the ring come from (a processor passes its own, to reuse them across clips);
            default a new pool, so fresh arrays.
    """

    def __init__(
        self,
        frame_transform: FrameTransform,
        cropper: FaceCropper | None,
        image_mean: tuple[float, float, float],
        image_std: tuple[float, float, float],
        buffers: BufferPool | None = None,
    ) -> None:
        self._buffers = BufferPool() if buffers is None else buffers
        self._frame_transform = frame_transform
        self._cropper = cropper
        self._face_coefficients = normalization_coefficients(image_mean, image_std)
        self._max_frames = 0
        self._frame_shape: tuple[int, ...] | None = None
        self._pixel_values: np.ndarray | None = None
        self._face_pixel_values: np.ndarray | None = None
        self._ring: np.ndarray | None = None  # the last frames, for the face thread; None without a cropper
        self._track: FaceTrack | None = None
        self._face_thread: threading.Thread | None = None
        # Shared with the face thread, under `_changed`: frames added, frames it finished, no more frames, its error.
        self._changed = threading.Condition()
        self._num_added = 0
        self._num_finished = 0
        self._closed = False
        self._aborted = False
        self._face_error: BaseException | None = None

    def __enter__(self) -> "ClipStream":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop_face_thread(abort=True)  # left without finish(): decoding failed, stop the face thread now

    # --- FrameSink ----------------------------------------------------------------------------------------------------
    def begin(self, max_frames: int) -> None:
        self._max_frames = max_frames

    def add(self, row: int, image: np.ndarray) -> None:
        if self._pixel_values is None:
            self._allocate(image.shape)
        if image.shape != self._frame_shape:
            # Decoders make every frame of a clip the size of its first; this guards the ring, not user input.
            raise ValueError(f"frame {row} is {image.shape}, the clip's first frame {self._frame_shape}")
        if self._ring is None:
            self._frame_transform.transform_into(image, self._pixel_values[row])
            self._num_added = row + 1
            return
        self._wait_for_slot(row)
        frame = self._ring[row % len(self._ring)]
        frame[...] = image  # the face thread reads it later; `image` is the decoder's
        self._frame_transform.transform_into(frame, self._pixel_values[row])
        with self._changed:
            self._num_added = row + 1
            self._changed.notify_all()

    # --- the result ---------------------------------------------------------------------------------------------------
    def finish(self) -> StreamedFrames:
        """Wait for the face thread to finish the last squares; return the clip's outputs (rows beyond the frames
        added are dropped)."""
        if self._pixel_values is None:
            raise ValueError("no frame was added to the stream")
        self._stop_face_thread()
        count = self._num_added
        faces = None
        if self._face_pixel_values is not None:
            faces = self._face_pixel_values[:count]
            # A frame without a face gets a black crop, normalised, as ``FaceCropper.crop`` gives it.
            black = np.array([offset for _, offset in self._face_coefficients], dtype=np.float32)
            faces[~self._track.face_mask] = black[:, None, None]
        height, width = self._frame_shape[:2]
        result = StreamedFrames(self._pixel_values[:count], faces, self._track, (int(width), int(height)))
        # Hand the arrays over: the full-resolution frames go now, and the outputs live only as long as the caller
        # keeps them (a stream kept alive would hold ~300 MB per 10 s clip).
        self._pixel_values = self._face_pixel_values = self._ring = self._track = None
        return result

    def snapshot(self) -> StreamSnapshot:
        """The outputs made so far, without stopping the stream: the backbone frames of every frame added and the
        face crops of the frames the face track has finished (it finishes a frame a few dozen frames after it comes,
        ``FaceTrack``). Copies, since the stream goes on writing its arrays; a frame without a face gets the black
        crop ``finish`` gives it. For ``signbind_hf.live``, which runs the model on a window that is still growing."""
        if self._pixel_values is None:
            raise ValueError("no frame was added to the stream")
        with self._changed:
            added, finished = self._num_added, self._num_finished
        pixel_values = self._pixel_values[:added].copy()
        if self._track is None:
            return StreamSnapshot(pixel_values, None, None)
        # The face thread may be extending the track's squares meanwhile; the first `finished` never change again.
        face_mask = self._track.face_mask[:finished]
        faces = self._face_pixel_values[:finished].copy()
        black = np.array([offset for _, offset in self._face_coefficients], dtype=np.float32)
        faces[~face_mask] = black[:, None, None]
        return StreamSnapshot(pixel_values, faces, face_mask)

    # --- the two threads ----------------------------------------------------------------------------------------------
    def _allocate(self, frame_shape: tuple[int, ...]) -> None:
        self._frame_shape = frame_shape
        size = self._frame_transform.size
        self._pixel_values = self._buffers.take("pixel_values", (self._max_frames, 3, size, size))
        if self._cropper is None:
            return
        self._track = FaceTrack(self._cropper, self._ring_frame)
        self._ring = self._buffers.take("ring", (self._track.lookbehind + 1 + RING_SLACK, *frame_shape), np.uint8)
        face_size = self._cropper.config.size
        self._face_pixel_values = self._buffers.take("face_pixel_values", (self._max_frames, 3, face_size, face_size))
        self._face_thread = threading.Thread(target=self._follow_faces, name="signbind-faces", daemon=True)
        self._face_thread.start()

    def _wait_for_slot(self, row: int) -> None:
        """Block until the frame ``row`` overwrites in the ring is finished (the face track never reads it again)."""
        with self._changed:
            while self._num_finished <= row - len(self._ring) and self._face_error is None:
                self._changed.wait()
            self._raise_face_error()

    def _ring_frame(self, row: int) -> np.ndarray:
        return self._ring[row % len(self._ring)]

    def _follow_faces(self) -> None:
        """The face thread: push each added frame to the track, cut and normalise the crops it finishes."""
        track = self._track
        crop = np.empty((self._cropper.config.size,) * 2 + (3,), dtype=np.uint8)
        try:
            while True:
                with self._changed:
                    while track.num_frames >= self._num_added and not self._closed and not self._aborted:
                        self._changed.wait()
                    if self._aborted:
                        return
                    if track.num_frames >= self._num_added:  # closed, and every frame pushed
                        break
                for _ in range(self._num_added - track.num_frames):  # every frame added since the last wait
                    self._cut(track.push(), crop)
                with self._changed:
                    self._num_finished = track.num_finished
                    self._changed.notify_all()
            self._cut(track.finish(), crop)
        except BaseException as error:  # handed to the decoding thread, which raises it
            with self._changed:
                self._face_error = error
                self._changed.notify_all()

    def _cut(self, squares: list[tuple[int, np.ndarray]], crop: np.ndarray) -> None:
        for row, square in squares:
            crop_square(self._ring_frame(row), square, crop.shape[0], out=crop)
            normalize_frame_into(crop, self._face_coefficients, self._face_pixel_values[row])

    def _stop_face_thread(self, *, abort: bool = False) -> None:
        """No more frames: let the face thread finish them and raise what it raised; with ``abort``, stop it at once
        and raise nothing (the caller is already leaving with an error)."""
        if self._face_thread is None:
            return
        with self._changed:
            if abort:
                self._aborted = True
            else:
                self._closed = True
            self._changed.notify_all()
        self._face_thread.join()
        self._face_thread = None
        if not abort:
            self._raise_face_error()

    def _raise_face_error(self) -> None:
        if self._face_error is not None:
            error, self._face_error = self._face_error, None
            raise error
