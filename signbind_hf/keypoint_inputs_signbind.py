"""Keypoints as model inputs: a clip's hand and body points on the processor's frame grid, normalised by the shoulders.

``SignBindVideoProcessor(keypoints=True)`` returns, beside the frames, ``keypoints`` (B, T, K, 2) and
``keypoint_mask`` (B, T, K) for K = 75 points in the order of a ``.pose`` file: MediaPipe's 33 body points, then the
left hand's 21, then the right hand's 21 (``keypoint_layout_signbind``). Where they come from, in this order: the
``keypoints=`` argument (a ``Keypoints`` or a ``.pose`` path per video), the video's sidecar ``<video>.pose``
(``pose-format``'s convention; SynthSign writes its renderer's keypoints there), else the hand and body extractor run
on the frames as they decode. Points of a ``Keypoints`` at another frame rate are taken from the frame nearest in time
to each of the processor's frames (the source frame it kept, as face boxes are); processor frames past the end of the
keypoints are masked.

Normalisation, here and nowhere else (what YouTube-ASL, SHuBERT and the Kaggle fingerspelling models do): x and y
minus the midpoint of the two shoulders, divided by the distance between them, so that a signer's position in the
frame, the camera distance and the video's resolution drop out; a point one shoulder width right of the body's centre
has x = 1. A frame where the body's shoulders were not found borrows the centre and scale of the nearest frame in time
that has both (the body moves little between frames, and a hand found without its body stays usable); a clip without
shoulders in any frame is centred on the frame's centre and scaled by a third of its width (about a signer's shoulder
width in upper-body framing). Only x and y are returned: z is MediaPipe's guess of depth and is 0 in drawn data
(SynthSign), so a model trained on one source would read it differently on the other.

Masks: a point is real where its confidence is above 0 (found by the extractor, present in the file) on a real frame;
points not found, hands out of view and padding frames are 0 with mask 0, never an error.
"""

import os
import queue
import threading
from pathlib import Path
from typing import Any

import numpy as np

from .errors import SignBindInputError
from .keypoint_extraction_signbind import Keypoints, KeypointTrack
from .keypoint_layout_signbind import NUM_HAND_POINTS, NUM_POSE_POINTS, POSE_POINTS
from .keypoint_pose_files_signbind import read_pose_file, sidecar_pose_path

NUM_KEYPOINTS = NUM_POSE_POINTS + 2 * NUM_HAND_POINTS  # 75: body, left hand, right hand
KEYPOINT_CHANNELS = 2  # x, y (see the module docstring for why not z)
SHOULDERS = (POSE_POINTS.index("LEFT_SHOULDER"), POSE_POINTS.index("RIGHT_SHOULDER"))
# Without shoulders anywhere in a clip: the scale is this fraction of the frame's width.
FALLBACK_SCALE_OF_WIDTH = 1 / 3
MIN_SCALE = 1e-3  # pixels: shoulders seen exactly edge-on must not divide by zero
# Frames the decoding thread may run ahead of the keypoint thread (each a copy of a decoded frame).
MAX_PENDING_FRAMES = 8


def load_keypoints(value: Any, name: str) -> Keypoints:
    """A ``keypoints=`` argument for one video: a ``Keypoints``, or the path of a ``.pose`` file."""
    if isinstance(value, Keypoints):
        return value
    if isinstance(value, str | os.PathLike):
        if not Path(value).is_file():
            raise SignBindInputError(f"{name}: keypoints file {value} does not exist; expected a .pose file.")
        return read_pose_file(value)
    raise SignBindInputError(
        f"{name}: keypoints must be a Keypoints or the path of a .pose file (one per video); got {type(value).__name__}"
    )


def sidecar_keypoints(source: Any) -> Keypoints | None:
    """The keypoints in a video file's sidecar ``<video>.pose``, if the video is a file that has one."""
    if not isinstance(source, str | os.PathLike) or Path(source).is_dir():
        return None
    path = sidecar_pose_path(source)
    return read_pose_file(path) if path.is_file() else None


def flat_points(keypoints: Keypoints) -> tuple[np.ndarray, np.ndarray]:
    """(T, 75, 2) x, y pixels and (T, 75) confidence: body, left hand, right hand (a ``.pose`` file's order)."""
    num_frames = keypoints.num_frames
    points = np.concatenate(
        [keypoints.pose[..., :2], keypoints.hands[..., :2].reshape(num_frames, 2 * NUM_HAND_POINTS, 2)], axis=1
    )
    confidence = np.concatenate(
        [keypoints.pose_confidence, keypoints.hand_confidence.reshape(num_frames, 2 * NUM_HAND_POINTS)], axis=1
    )
    return points.astype(np.float32), confidence.astype(np.float32)


def keypoints_at(keypoints: Keypoints, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points and confidence of the keypoint frames nearest to ``times`` (T,) seconds from the video's first
    frame (frame ``i`` of the keypoints is at ``i / fps``); a time past their last frame gets confidence 0."""
    points, confidence = flat_points(keypoints)
    rows = np.floor(np.asarray(times, dtype=np.float64) * keypoints.fps + 0.5 + 1e-6).astype(np.int64)  # (T,)
    inside = (rows >= 0) & (rows < keypoints.num_frames)
    rows = np.clip(rows, 0, max(keypoints.num_frames - 1, 0))
    return points[rows], np.where(inside[:, None], confidence[rows], 0.0).astype(np.float32)


def normalize_keypoints(
    points: np.ndarray, confidence: np.ndarray, width: int, height: int
) -> tuple[np.ndarray, np.ndarray]:
    """Shoulder-normalised (T, 75, 2) float32 points and their (T, 75) bool mask (see the module docstring).

    Args:
        points: (T, 75, 2) x, y pixels of frames ``width`` x ``height``.
        confidence: (T, 75), 0 where a point was not found.
    """
    found = confidence > 0  # (T, 75)
    centre, scale = _shoulder_frames(points, found, width, height)  # (T, 2), (T,)
    normalised = (points - centre[:, None]) / scale[:, None, None]
    return np.where(found[..., None], normalised, 0.0).astype(np.float32), found


def _shoulder_frames(points: np.ndarray, found: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, the shoulders' midpoint (T, 2) and distance (T,), borrowed from the nearest frame that has both."""
    num_frames = len(points)
    left, right = points[:, SHOULDERS[0]], points[:, SHOULDERS[1]]  # (T, 2) each
    has_both = found[:, SHOULDERS[0]] & found[:, SHOULDERS[1]]
    if not has_both.any():
        centre = np.tile(np.float32([width / 2, height / 2]), (num_frames, 1))
        return centre, np.full(num_frames, max(width * FALLBACK_SCALE_OF_WIDTH, MIN_SCALE), dtype=np.float32)
    with_shoulders = np.flatnonzero(has_both)
    # The nearest frame with shoulders (the earlier one on a tie): its own index where the frame has them.
    after = np.clip(np.searchsorted(with_shoulders, np.arange(num_frames)), 0, len(with_shoulders) - 1)
    before = np.clip(after - 1, 0, len(with_shoulders) - 1)
    frames = np.arange(num_frames)
    take_before = np.abs(frames - with_shoulders[before]) <= np.abs(with_shoulders[after] - frames)
    source = np.where(take_before, with_shoulders[before], with_shoulders[after])  # (T,)
    centre = (left[source] + right[source]) / 2
    scale = np.maximum(np.hypot(*(left[source] - right[source]).T), MIN_SCALE)
    return centre.astype(np.float32), scale.astype(np.float32)


def clip_keypoint_inputs(
    given: Keypoints | None, extracted: Keypoints | None, source_times: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A clip's model inputs: (T, 75, 2) normalised points and (T, 75) bool mask on the processor's T frames.

    ``given`` (an argument or a sidecar) is resampled to ``source_times``; ``extracted`` was made from the
    processor's own frames (one row each); with neither, every point is masked.
    """
    num_frames = len(source_times)
    if given is not None:
        points, confidence = keypoints_at(given, source_times)
        return normalize_keypoints(points, confidence, given.width, given.height)
    if extracted is not None:
        points, confidence = flat_points(extracted)
        return normalize_keypoints(points, confidence, extracted.width, extracted.height)
    shape = (num_frames, NUM_KEYPOINTS)
    return np.zeros((*shape, KEYPOINT_CHANNELS), dtype=np.float32), np.zeros(shape, dtype=bool)


class KeypointTee:
    """A ``FrameSink`` that hands each kept frame to another sink (the ``ClipStream`` making the frames and face
    crops) and a copy of it to a ``KeypointTrack`` in a thread of its own, so that the keypoints are made while the
    clip decodes, on the same frames, beside the decoding and the face threads (MediaPipe's graphs, like the
    decoder's and OpenCV's native code, release the GIL).

    Use it as a context manager around the decoding (leaving it stops the thread), and ``finish()`` for the
    keypoints. At most ``max_pending`` frames wait for the track: memory stays bounded when the track is the slowest.
    """

    def __init__(self, sink: Any, track: KeypointTrack, max_pending: int = MAX_PENDING_FRAMES) -> None:
        self.sink = sink
        self.track = track
        self._pending: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=max_pending)
        self._aborted = False
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = threading.Thread(
            target=self._follow, name="signbind-keypoints", daemon=True
        )
        self._thread.start()

    def __enter__(self) -> "KeypointTee":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._aborted = True  # left without finish(): decoding failed, drop the frames still waiting
        self._stop()

    def begin(self, max_frames: int) -> None:
        self.sink.begin(max_frames)

    def add(self, row: int, image: np.ndarray) -> None:
        self.sink.add(row, image)
        self._raise_error()
        self._pending.put(image.copy())  # `image` is the decoder's, reused once add returns

    def finish(self) -> Keypoints:
        """Wait for the track to take the last frames; their keypoints (one row per frame added)."""
        self._stop()
        self._raise_error()
        return self.track.result()

    def _follow(self) -> None:
        """The keypoint thread: push each frame to the track; after an error, only drain the queue."""
        while (frame := self._pending.get()) is not None:
            if self._error is None and not self._aborted:
                try:
                    self.track.push(frame)
                except BaseException as error:  # handed to the decoding thread, which raises it
                    self._error = error

    def _stop(self) -> None:
        if self._thread is not None:
            self._pending.put(None)
            self._thread.join()
            self._thread = None

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            self._aborted = True  # nothing more is pushed
            raise error
