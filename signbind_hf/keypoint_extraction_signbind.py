"""Hand and body keypoints from any video: two hands x 21 points and MediaPipe's 33 body points per frame.

``extract_keypoints(video)`` reads a video file, its bytes, a frame folder, an image list or a (T, H, W, 3) array and
returns ``Keypoints`` at the video's own frame rate, x/y in its own pixels. ``KeypointExtractor`` keeps the models
loaded across clips; ``KeypointExtractor.track(...)`` takes the frames of one clip one at a time (as they decode).

How, per frame (MediaPipe Tasks, VIDEO mode, imported on use):

- hands: ``HandLandmarker`` runs BlazePalm to find palms and the 21-point landmark model on a crop around each; on
  the next frames it follows each hand by its landmarks (a crop from the last frame's points) and runs the palm
  detector again only when fewer than two hands are followed or one is lost, as MediaPipe's own hand graph does
  (``KeypointConfig.hand_search_every`` can make it look less often while no hand is followed);
- body: ``PoseLandmarker`` (BlazePose detector + GHUM full landmarks, tracked the same way), for the shoulders,
  elbows, wrists and face points; its models need input-range metadata the vendored files lack
  (``landmark_models_signbind.py`` adds it in memory). It runs in a thread of its own beside the hands, on every
  ``KeypointConfig.pose_every``-th frame (every other by default), the frames between interpolated;
- left or right: a detected hand belongs to the body wrist (pose point 15 or 16) nearest to its own wrist point;
  without a body, MediaPipe's handedness classifier decides (mediapipe 1.x labels the hand as it appears in the
  image, not assuming a mirrored selfie view as the legacy Solutions API did: that API's class 0, "Left", is
  reported as "Right" here, since MediaPipe's commit ed0c8d8; tests/video/test_keypoints_real_footage.py checks both
  ways against real footage). Sides are as they appear: in a mirrored (selfie) video the signer's right hand is
  ``LEFT_HAND_LANDMARKS``, as the pose's ``LEFT_WRIST`` is; flip such frames first to get the signer's own sides.

Confidence: the pose's per-point visibility (0..1); for hand points 1 where the hand was found (MediaPipe's hand
graph keeps a hand only while its presence score passes ``min_hand_presence_confidence``, and reports no per-point
score), as ``pose-format``'s MediaPipe Holistic reader does; 0 and zero coordinates where nothing was found.
z is MediaPipe's relative depth scaled like x (pixels): the body's depth around the hips, each hand's around its wrist.

``KeypointFollower`` feeds a ``KeypointTrack`` from a thread of its own, beside the caller's work: ``KeypointTee`` does
it while the processor decodes a clip, ``signbind_hf.live`` for a camera stream.
"""

import logging
import math
import os
import queue
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import SignBindInputError
from .keypoints_signbind import (
    LEFT,
    NUM_HAND_POINTS,
    NUM_POSE_POINTS,
    POSE_WRISTS,
    RIGHT,
    Keypoints,
)
from .landmark_models_signbind import LandmarkModelPaths, import_mediapipe_tasks
from .video_decoding_signbind import VideoSource, decode_video
from .video_frames_signbind import DEFAULT_TARGET_FPS, CannotStream

logger = logging.getLogger(__name__)


# The smallest confidence a found point gets, so that 0 always means "not found" (pose-format masks those points).
FOUND_MIN_CONFIDENCE = 1e-6


@dataclass
class KeypointConfig:
    """How hands and body are found. Every default of the extractor lives here.

    Args:
        num_hands: most hands followed per frame; 2 (a signer's two hands).
        min_hand_detection_confidence: BlazePalm score a palm needs to start a hand (MediaPipe's default 0.5).
        min_hand_presence_confidence: hand-presence score the landmark model must give for a hand to be kept, on
            detected and tracked frames alike (MediaPipe's default 0.5).
        min_hand_tracking_confidence: below this, a followed hand is detected again instead (default 0.5).
        hand_search_every: while no hand is followed (none on the last frame the hand models saw), run the hand
            models on every ``hand_search_every``-th frame only, so that stretches without hands (resting, out of
            view) cost less: the palm detector, the dearest part of the hand models, runs on every frame they see
            without two followed hands. 1 by default (look on every frame): on real signing, hands leave and come
            back within a few frames, and every other frame missed the first frame of each return
            (benchmarks/RESULTS.md).
        pose: also extract the 33 body points (their wrists also decide left and right). False leaves the pose
            arrays at zero and uses the handedness classifier alone; faster, since the body models do not run.
        pose_every: run the body models on every ``pose_every``-th frame (the first of the clip included) and fill
            the frames between by linear interpolation of the two bodies found around them (the last body found is
            held after it). 2 by default: the trunk and the arms move little in 40 ms at 25 fps, the hands (the fast
            part of a sign) come from the hand models on every frame, and the body models cost as much as the hands
            (benchmarks/RESULTS.md). 1 runs them on every frame.
        min_pose_detection_confidence, min_pose_presence_confidence, min_pose_tracking_confidence: the same three
            thresholds for the body (MediaPipe's defaults, 0.5).
    """

    num_hands: int = 2
    min_hand_detection_confidence: float = 0.5
    min_hand_presence_confidence: float = 0.5
    min_hand_tracking_confidence: float = 0.5
    hand_search_every: int = 1
    pose: bool = True
    pose_every: int = 2
    min_pose_detection_confidence: float = 0.5
    min_pose_presence_confidence: float = 0.5
    min_pose_tracking_confidence: float = 0.5

    def __post_init__(self) -> None:
        if not isinstance(self.num_hands, int) or not 0 <= self.num_hands <= 2:
            raise SignBindInputError(f"KeypointConfig.num_hands must be 0, 1 or 2, got {self.num_hands!r}.")
        for name in ("hand_search_every", "pose_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise SignBindInputError(f"KeypointConfig.{name} must be an integer >= 1, got {value!r}.")
        for name in (
            "min_hand_detection_confidence",
            "min_hand_presence_confidence",
            "min_hand_tracking_confidence",
            "min_pose_detection_confidence",
            "min_pose_presence_confidence",
            "min_pose_tracking_confidence",
        ):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise SignBindInputError(f"KeypointConfig.{name} must be in [0, 1], got {value!r}.")


@dataclass
class _HandsFound:
    """One frame's hands as the hand landmarker found them, before they are given a side (``result`` does that, once
    the body of every frame is known)."""

    points: list[np.ndarray]  # (21, 3) x, y, z pixels per hand
    classified: list[tuple[str, float]]  # per hand: the handedness classifier's (label, score)


@dataclass
class _Body:
    """One frame's body: (33, 3) x, y, z pixels and (33,) visibility, zeros where no body was found."""

    points: np.ndarray
    confidence: np.ndarray


# Bodies that may wait for the body thread before ``push`` waits for the oldest (each holds a copy of its frame).
MAX_PENDING_BODIES = 4


class KeypointExtractor:
    """Loads the hand and body models once; each clip is followed by its own ``KeypointTrack`` (``track``).

    Args:
        config: thresholds (``KeypointConfig``).
        hand_detector_model_path, hand_landmark_model_path, pose_detector_model_path, pose_landmark_model_path:
            model files; default: the environment variables of ``landmark_models_signbind.py``, else the packaged
            files. A wrong file fails here, not on the first frame.

    Picklable (``datasets.map`` with ``num_proc``): the MediaPipe graphs are per clip and never part of its state.
    """

    def __init__(
        self,
        config: KeypointConfig | None = None,
        *,
        hand_detector_model_path: str | os.PathLike | None = None,
        hand_landmark_model_path: str | os.PathLike | None = None,
        pose_detector_model_path: str | os.PathLike | None = None,
        pose_landmark_model_path: str | os.PathLike | None = None,
    ) -> None:
        self.config = config if config is not None else KeypointConfig()
        self.model_paths = LandmarkModelPaths.resolve(
            hand_detector=hand_detector_model_path,
            hand_landmarks=hand_landmark_model_path,
            pose_detector=pose_detector_model_path,
            pose_landmarks=pose_landmark_model_path,
        )
        self._hand_bundle = self.model_paths.hand_bundle()
        self._pose_bundle = self.model_paths.pose_bundle() if self.config.pose else None
        with self.track(fps=DEFAULT_TARGET_FPS) as track:  # run the graphs once: a wrong model fails now
            track.push(np.zeros((64, 64, 3), dtype=np.uint8))

    def track(self, fps: float) -> "KeypointTrack":
        """A fresh ``KeypointTrack`` for one clip of ``fps`` frames a second (close it, or use ``with``)."""
        return KeypointTrack(self, fps)

    def extract(self, frames: Iterable[np.ndarray], fps: float) -> Keypoints:
        """Keypoints of ``frames`` ((H, W, 3) uint8 RGB each, in order, all of one size) at ``fps``."""
        with self.track(fps) as track:
            for frame in frames:
                track.push(frame)
            return track.result()

    def _create_landmarkers(self):
        """(HandLandmarker, PoseLandmarker or None) in VIDEO mode: new ones per clip, so no tracking state leaks."""
        tasks = import_mediapipe_tasks()
        vision, config = tasks.vision, self.config
        created = []
        try:
            hand_options = vision.HandLandmarkerOptions(
                base_options=tasks.BaseOptions(model_asset_buffer=self._hand_bundle),
                running_mode=vision.RunningMode.VIDEO,
                num_hands=max(config.num_hands, 1),
                min_hand_detection_confidence=config.min_hand_detection_confidence,
                min_hand_presence_confidence=config.min_hand_presence_confidence,
                min_tracking_confidence=config.min_hand_tracking_confidence,
            )
            created.append(_create(vision.HandLandmarker, hand_options, self.model_paths.hand_landmarks, "hand"))
            if self._pose_bundle is None:
                return created[0], None
            pose_options = vision.PoseLandmarkerOptions(
                base_options=tasks.BaseOptions(model_asset_buffer=self._pose_bundle),
                running_mode=vision.RunningMode.VIDEO,
                num_poses=1,
                min_pose_detection_confidence=config.min_pose_detection_confidence,
                min_pose_presence_confidence=config.min_pose_presence_confidence,
                min_tracking_confidence=config.min_pose_tracking_confidence,
            )
            created.append(_create(vision.PoseLandmarker, pose_options, self.model_paths.pose_landmarks, "pose"))
            return created[0], created[1]
        except BaseException:
            for landmarker in created:
                landmarker.close()
            raise


class KeypointTrack:
    """The keypoints of one clip whose frames arrive one at a time (``push``); ``result()`` once they are all in.

    Holds MediaPipe graphs in VIDEO mode (landmark tracking between frames): close it, or use ``with``. The body
    models run in a thread of their own beside the hand models (a MediaPipe graph call releases the GIL), on every
    ``config.pose_every``-th frame.
    """

    def __init__(self, extractor: KeypointExtractor, fps: float) -> None:
        if not (isinstance(fps, int | float) and math.isfinite(fps) and fps > 0):
            raise SignBindInputError(f"fps must be a positive number of frames per second, got {fps!r}.")
        self.fps = float(fps)
        self.config = extractor.config
        self._hands, self._pose = extractor._create_landmarkers()
        self._body_thread = None
        if self._pose is not None:
            self._body_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="signbind-body")
        self._bodies: dict[int, Future[_Body]] = {}  # frame row -> its body, for the frames the body models see
        self._pending_bodies: deque[Future[_Body]] = deque()
        # The hands of rows _first_row onwards: the rows before were handed out by take_finished and forgotten.
        self._hands_found: deque[_HandsFound] = deque()
        self._first_row = 0
        self._last_hands: _HandsFound | None = None  # the newest row's hands (whether a hand is being followed)
        self._last_hand_search = -sys.maxsize  # the last frame the hand models saw
        self._size: tuple[int, int] | None = None  # (width, height)
        self._last_timestamp_ms = -1

    @property
    def num_frames(self) -> int:
        """Frames pushed so far (those already taken by ``take_finished`` included)."""
        return self._first_row + len(self._hands_found)

    def push(self, frame: np.ndarray) -> None:
        """Find the hands and the body in the next frame, (H, W, 3) uint8 RGB, the size of the clip's first."""
        import mediapipe as mp

        if self._hands is None:
            raise RuntimeError("this KeypointTrack is closed")
        row = self.num_frames
        frame = _check_frame(frame, self._size, row)
        height, width = frame.shape[:2]
        self._size = (width, height)
        # VIDEO mode wants strictly increasing integer milliseconds; above 1000 fps rounding would repeat one.
        timestamp_ms = max(round(row * 1000 / self.fps), self._last_timestamp_ms + 1)
        self._last_timestamp_ms = timestamp_ms
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=frame)  # MediaPipe's own copy of the pixels

        if self._pose is not None and row % self.config.pose_every == 0:
            # An image of its own: two graphs given one mp.Image at once run one after the other, not side by side.
            body_image = mp.Image(image_format=mp.ImageFormat.SRGB, data=frame)
            body = self._body_thread.submit(self._detect_body, body_image, timestamp_ms)
            self._bodies[row] = body
            self._pending_bodies.append(body)
            while len(self._pending_bodies) > MAX_PENDING_BODIES:  # memory stays bounded if the body thread lags
                self._pending_bodies.popleft().result()
        if self._looks_for_hands(row):
            self._last_hand_search = row
            self._last_hands = self._detect_hands(image, timestamp_ms)
        else:
            self._last_hands = _HandsFound([], [])
        self._hands_found.append(self._last_hands)

    def result(self) -> Keypoints:
        """The ``Keypoints`` of the frames pushed so far (at least one)."""
        if self._size is None:
            raise SignBindInputError("no frame was given: keypoints need at least one frame.")
        if self._first_row:
            raise RuntimeError(
                f"result() needs every frame, but take_finished() already handed out the first {self._first_row}; "
                "call take_finished(final=True) for the rest"
            )
        return self._keypoints(self.num_frames)

    def take_finished(self, *, final: bool = False) -> Keypoints | None:
        """The keypoints of the frames pushed since the last call that can no longer change; the track then forgets
        them, so that memory stays bounded on an endless stream (a live camera). None when no frame is finished yet.

        A frame is finished once the body models have run on it or on a later frame (the frames between two bodies
        are interpolated from both; a hand takes its side from the body of its frame). With ``final`` (no more frames
        will come), every frame pushed is, after waiting for the body thread; the frames after the last body then
        hold it, as in ``result``. The rows handed out, one call after another, are those ``result`` would give.
        """
        if final:
            stop = self.num_frames
        elif self._pose is None:
            stop = self.num_frames  # without body models a frame is finished when pushed
        else:
            stop = self._first_row
            for row in sorted(self._bodies):  # the body thread finds them in row order
                if not self._bodies[row].done():
                    break
                stop = max(stop, row + 1)
        if stop <= self._first_row:
            return None
        keypoints = self._keypoints(stop)
        for _ in range(stop - self._first_row):
            self._hands_found.popleft()
        self._first_row = stop
        # Keep the newest body at or before the frames handed out: the next frames are interpolated from it.
        measured = [row for row in self._bodies if row < stop]
        for row in measured[:-1] if measured else []:
            del self._bodies[row]
        return keypoints

    def _keypoints(self, stop: int) -> Keypoints:
        """The ``Keypoints`` of rows ``_first_row`` .. ``stop - 1`` (all pushed; their bodies known or awaited)."""
        first = self._first_row
        # Rows from the body the first row is interpolated from (the newest body at or before it).
        base = max((row for row in self._bodies if row <= first), default=first)
        pose, pose_confidence = self._body_rows(base, stop)  # (stop - base, 33, 3), (stop - base, 33)
        pose, pose_confidence = pose[first - base :], pose_confidence[first - base :]
        num_rows = stop - first
        hands = np.zeros((num_rows, 2, NUM_HAND_POINTS, 3), dtype=np.float32)
        hand_confidence = np.zeros((num_rows, 2, NUM_HAND_POINTS), dtype=np.float32)
        for row in range(num_rows):
            found = self._hands_found[row]
            body_wrists = pose[row, list(POSE_WRISTS), :2] if pose_confidence[row].any() else None
            sides = assign_sides(found.points, found.classified, body_wrists)
            for side, points in zip(sides, found.points, strict=True):
                if side is not None:
                    hands[row, side] = points
                    hand_confidence[row, side] = 1.0
        return Keypoints(
            pose=pose,
            pose_confidence=pose_confidence,
            hands=hands,
            hand_confidence=hand_confidence,
            fps=self.fps,
            width=self._size[0],
            height=self._size[1],
        )

    def close(self) -> None:
        """Stop the MediaPipe graphs (a closed track keeps its frames' keypoints for ``result``)."""
        if self._body_thread is not None:
            self._body_thread.shutdown(wait=True)  # the bodies already asked for are found first
            self._body_thread = None
        for landmarker in (self._hands, self._pose):
            if landmarker is not None:
                landmarker.close()
        self._hands = self._pose = None

    def __enter__(self) -> "KeypointTrack":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _looks_for_hands(self, row: int) -> bool:
        """Whether the hand models see frame ``row``: always while they follow a hand, else every
        ``hand_search_every``-th frame."""
        if not self.config.num_hands:
            return False
        following = self._last_hands is not None and bool(self._last_hands.points)
        return following or row - self._last_hand_search >= self.config.hand_search_every

    def _detect_hands(self, image, timestamp_ms: int) -> _HandsFound:
        found = self._hands.detect_for_video(image, timestamp_ms)
        width, height = self._size
        points = [
            np.array([(p.x * width, p.y * height, p.z * width) for p in hand], dtype=np.float32)
            for hand in found.hand_landmarks
        ]
        classified = [(categories[0].category_name, categories[0].score) for categories in found.handedness]
        return _HandsFound(points, classified)

    def _detect_body(self, image, timestamp_ms: int) -> _Body:
        """Runs in the body thread."""
        width, height = self._size
        points = np.zeros((NUM_POSE_POINTS, 3), dtype=np.float32)
        confidence = np.zeros(NUM_POSE_POINTS, dtype=np.float32)
        bodies = self._pose.detect_for_video(image, timestamp_ms).pose_landmarks
        if bodies:
            points[:] = [(point.x * width, point.y * height, point.z * width) for point in bodies[0]]
            # At least a hair above 0 (a visibility sigmoid can round to 0.0): confidence 0 means "not found".
            confidence[:] = [max(point.visibility or 0.0, FOUND_MIN_CONFIDENCE) for point in bodies[0]]
        return _Body(points, confidence)

    def _body_rows(self, first: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """(stop - first, 33, 3) body points and (stop - first, 33) confidence of rows ``first`` .. ``stop - 1``:
        found where the body models ran, filled in between (``fill_between_bodies``); zeros without body models.
        ``first`` is a row the body models ran on (or no body is known before ``stop``)."""
        pose = np.zeros((stop - first, NUM_POSE_POINTS, 3), dtype=np.float32)
        confidence = np.zeros((stop - first, NUM_POSE_POINTS), dtype=np.float32)
        rows = np.array(sorted(row for row in self._bodies if first <= row < stop), dtype=np.int64)
        if not len(rows):
            return pose, confidence
        for row in rows:
            body = self._bodies[row].result()
            pose[row - first], confidence[row - first] = body.points, body.confidence
        fill_between_bodies(pose, confidence, rows - first)
        return pose, confidence


def fill_between_bodies(pose: np.ndarray, confidence: np.ndarray, measured: np.ndarray) -> None:
    """Fill, in place, the frames the body models skipped from the frames they ran on.

    Args:
        pose: (T, 33, 3) points, set on the ``measured`` rows.
        confidence: (T, 33), set on the ``measured`` rows (a row of zeros: no body found there).
        measured: the rows the body models ran on, increasing, starting at 0.

    A skipped frame between two measured frames that both found a body gets the linear interpolation of the two,
    points and confidence alike (the body moves little between them); otherwise it holds the frame before (a body
    appearing or leaving is seen at most ``pose_every - 1`` frames late), as do the frames after the last measured.
    """
    rows = np.arange(len(pose))
    position = np.searchsorted(measured, rows, side="right") - 1  # (T,): the measured frame at or before each row
    before = measured[position]
    after = measured[np.minimum(position + 1, len(measured) - 1)]
    found = confidence.any(axis=1)  # (T,)
    between = (before != rows) & (after > rows) & found[before] & found[after]
    weight = np.where(between, (rows - before) / np.maximum(after - before, 1), 0.0).astype(np.float32)  # (T,)
    skipped = before != rows
    pose[skipped] = ((1 - weight[:, None, None]) * pose[before] + weight[:, None, None] * pose[after])[skipped]
    confidence[skipped] = ((1 - weight[:, None]) * confidence[before] + weight[:, None] * confidence[after])[skipped]


def assign_sides(
    hands: list[np.ndarray], classified: list[tuple[str, float]], body_wrists: np.ndarray | None
) -> list[int | None]:
    """Which side (``LEFT``, ``RIGHT``, or None: dropped) each detected hand is.

    Args:
        hands: each hand's (21, 3) points; point 0 is its wrist.
        classified: each hand's (label "Left"/"Right", score) from MediaPipe's handedness classifier.
        body_wrists: (2, 2) x, y of the body's left and right wrist, or None without a body.

    With a body, the hands go to the wrists so that their wrists are nearest in total (the arm a hand is at the end
    of decides, as in MediaPipe Holistic, which crops hands from the pose wrists); the classifier can flip on a hand
    seen edge-on or from the back. Without one, each hand takes its classifier's side, and of two hands claiming one
    side the less sure takes the other.
    """
    if not hands:
        return []
    if body_wrists is not None:
        distances = np.array(
            [[float(np.hypot(*(hand[0, :2] - wrist))) for wrist in body_wrists] for hand in hands]
        )  # (N, 2)
        if len(hands) == 1:
            return [int(np.argmin(distances[0]))]
        straight = distances[0, LEFT] + distances[1, RIGHT]
        crossed = distances[0, RIGHT] + distances[1, LEFT]
        return [LEFT, RIGHT] if straight <= crossed else [RIGHT, LEFT]
    sides = [LEFT if label.lower() == "left" else RIGHT for label, _ in classified]
    if len(hands) == 2 and sides[0] == sides[1]:
        less_sure = int(classified[1][1] < classified[0][1])
        sides[less_sure] = 1 - sides[less_sure]
    return sides


def extract_keypoints(
    video: VideoSource,
    fps: float | None = None,
    *,
    config: KeypointConfig | None = None,
    extractor: KeypointExtractor | None = None,
) -> Keypoints:
    """Hand and body keypoints of every frame of ``video``, at its own frame rate, in its own pixels.

    Args:
        video: a video file path (any container FFmpeg reads), its bytes, a folder of frame images, a list of PIL
            images or (H, W, 3) arrays, or a (T, H, W, 3) array (see ``decode_video``).
        fps: frame rate of frame folders, image lists and arrays (they have none of their own); default 25. Not
            allowed for video files, which carry their own.
        config: thresholds, when no ``extractor`` is given.
        extractor: a ``KeypointExtractor`` to reuse (its models stay loaded across calls).

    Raises:
        SignBindInputError: the video is missing, empty, corrupt or has no frame (the message names it), or an
            argument is invalid.
    """
    if extractor is None:
        extractor = KeypointExtractor(config)
    elif config is not None:
        raise SignBindInputError("pass config= or extractor=, not both: an extractor has its own config.")
    is_file = isinstance(video, str | os.PathLike | bytes | bytearray | memoryview) and not (
        isinstance(video, str | os.PathLike) and os.path.isdir(video)
    )
    if is_file and fps is not None:
        raise SignBindInputError("fps= is for frame folders, image lists and arrays; a video file has its own.")
    rate = _native_fps(video) if is_file else (DEFAULT_TARGET_FPS if fps is None else fps)
    with extractor.track(rate) as track:
        sink = _TrackSink(track)
        options = {"target_fps": rate, "max_frames": sys.maxsize, "max_shortest_edge": None, "fps": fps}
        try:
            decode_video(video, frame_sink=sink, **options)
        except CannotStream:  # no duration up front (live WebM, raw H.264): decode whole, then extract
            track.close()
            clip = decode_video(video, **options)
            return extractor.extract(clip.frames, rate)
        return track.result()


class _TrackSink:
    """A ``FrameSink`` that hands each decoded frame straight to a ``KeypointTrack``: no clip is held whole."""

    def __init__(self, track: KeypointTrack) -> None:
        self.track = track

    def begin(self, max_frames: int) -> None:
        pass

    def add(self, row: int, image: np.ndarray) -> None:
        self.track.push(image)


def _native_fps(video: "str | os.PathLike | bytes | bytearray | memoryview") -> float:
    """The container's frame rate (average, else guessed); 25 when it reports none. Errors: ``decode_video``'s."""
    import io

    import av

    source = io.BytesIO(bytes(video)) if isinstance(video, bytes | bytearray | memoryview) else str(video)
    try:
        with av.open(source, metadata_errors="replace") as container:
            for stream in container.streams.video:
                rate = stream.average_rate or stream.guessed_rate
                if rate:
                    return float(rate)
    except (av.FFmpegError, OSError):
        pass  # decode_video names the file and the reason
    return DEFAULT_TARGET_FPS


def _check_frame(frame: np.ndarray, size: tuple[int, int] | None, row: int) -> np.ndarray:
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        description = f"{frame.dtype} array of shape {frame.shape}" if isinstance(frame, np.ndarray) else type(frame)
        raise SignBindInputError(f"frame {row}: expected an (H, W, 3) uint8 RGB array, got {description}.")
    if size is not None and (frame.shape[1], frame.shape[0]) != size:
        raise SignBindInputError(
            f"frame {row}: size {frame.shape[1]}x{frame.shape[0]} differs from the clip's {size[0]}x{size[1]}."
        )
    return np.ascontiguousarray(frame)


def _create(landmarker_class, options, model_path, what: str):
    """Create a Tasks landmarker, turning MediaPipe's error on an unusable model into one naming the file."""
    try:
        return landmarker_class.create_from_options(options)
    except (RuntimeError, ValueError, OSError) as error:
        raise SignBindInputError(
            f"{model_path}: MediaPipe cannot build its {what} landmarker from this model ({' '.join(str(error).split())})."
            f" Expected MediaPipe's {what} models (scripts/vendor_mediapipe_models.py restores the packaged ones)."
        ) from error


# --- following frames from a thread of their own ---------------------------------------------------------------------


# Frames that may wait for the keypoint thread before ``add`` waits (each a decoded frame): memory stays bounded when
# the keypoints are the slowest part.
MAX_PENDING_FRAMES = 8


class KeypointFollower:
    """Pushes frames to one ``KeypointTrack`` in a thread of its own, so that the keypoints are found beside the
    caller's work: MediaPipe's graphs, like the decoder's and OpenCV's native code, release the GIL, so on two cores
    the keypoints of the next frames are found while the caller decodes, crops faces or runs the model.

    ``on_rows``, if given, gets each batch of rows the track has finished (``KeypointTrack.take_finished``), in order,
    from the thread (a live stream's consumer); without it the caller reads ``track.result()`` after ``stop()``. An
    error in the thread is raised in the caller's by the next ``add`` or ``stop``; from then on the thread only drains
    its queue, so that ``add`` never blocks on a dead thread.
    """

    def __init__(
        self,
        track: KeypointTrack,
        on_rows: Callable[[Keypoints], None] | None = None,
        *,
        max_pending: int = MAX_PENDING_FRAMES,
        name: str = "signbind-keypoints",
    ) -> None:
        self.track = track
        self._on_rows = on_rows
        self._pending: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=max_pending)
        self._aborted = False
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = threading.Thread(target=self._follow, name=name, daemon=True)
        self._thread.start()

    def add(self, image: np.ndarray) -> None:
        """The next frame; the thread reads it later, so the caller must not write to it afterwards."""
        self._raise_error()
        self._pending.put(image)

    def stop(self) -> None:
        """Wait for the thread to push every frame added; raises the thread's error, if any."""
        self._join()
        self._raise_error()

    def finish(self) -> None:
        """No more frames: ``stop``, hand every row left to ``on_rows``, then close the track."""
        self.stop()
        rest = self.track.take_finished(final=True)
        if rest is not None and self._on_rows is not None:
            self._on_rows(rest)
        self.track.close()

    def abort(self) -> None:
        """Stop at once: the frames still waiting are dropped (decoding failed, or the stream is abandoned)."""
        self._aborted = True
        self._join()

    def close(self) -> None:
        """``abort`` and close the track."""
        self.abort()
        self.track.close()

    def _follow(self) -> None:
        while (frame := self._pending.get()) is not None:
            if self._error is not None or self._aborted:
                continue  # only drain the queue
            try:
                self.track.push(frame)
                if self._on_rows is not None and (finished := self.track.take_finished()) is not None:
                    self._on_rows(finished)
            except BaseException as error:  # raised in the caller's thread by the next add() or stop()
                self._error = error

    def _join(self) -> None:
        if self._thread is not None:
            self._pending.put(None)
            self._thread.join()
            self._thread = None

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            self._aborted = True  # nothing more is pushed
            raise error


class KeypointTee:
    """A ``FrameSink`` that hands each kept frame to another sink (the ``ClipStream`` making the frames and face
    crops) and a copy of it to a ``KeypointFollower``, so that the keypoints are made while the clip decodes, on the
    same frames, beside the decoding and the face threads.

    Use it as a context manager around the decoding (leaving it stops the thread), and ``finish()`` for the
    keypoints. At most ``max_pending`` frames wait for the track.
    """

    def __init__(self, sink: Any, track: KeypointTrack, max_pending: int = MAX_PENDING_FRAMES) -> None:
        self.sink = sink
        self.track = track
        self._follower = KeypointFollower(track, max_pending=max_pending)

    def __enter__(self) -> "KeypointTee":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._follower.abort()  # a no-op after finish(); without it decoding failed: drop the frames still waiting

    def begin(self, max_frames: int) -> None:
        self.sink.begin(max_frames)

    def add(self, row: int, image: np.ndarray) -> None:
        self.sink.add(row, image)
        self._follower.add(image.copy())  # `image` is the decoder's, reused once add returns

    def finish(self) -> Keypoints:
        """Wait for the track to take the last frames; their keypoints (one row per frame added)."""
        self._follower.stop()
        return self.track.result()
