"""Backbone frames and face crops made while a clip decodes, so the clip is never held whole at full resolution.

:class:`ClipStream` is the :class:`~.video_sampling_signbind.FrameSink` the video processor hands to ``decode_video``.
Each kept frame is copied into a small ring of full-resolution frames and turned into its backbone frame at once, in
the decoding thread. A second thread follows the faces with a :class:`~.face_cropping_signbind.FaceTrack`, which
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
from dataclasses import dataclass

import numpy as np

from .face_cropping_signbind import FaceCropper, FaceTrack, crop_square
from .video_transforms_signbind import FrameTransform, normalization_coefficients, normalize_frame_into

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
