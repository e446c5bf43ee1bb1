"""Mouth (or face) crops for the lipreading expert, one per frame, with a mask for frames that have no face.

``FaceCropper.crop(frames)`` turns a clip ``(T, H, W, 3)`` uint8 RGB into ``FaceCrops``:

1. locate one face per frame: a detector on a downscaled copy of keyframes every k frames, and on the frames between
   two keyframes only where the face moved or (dis)appeared; elsewhere the face is interpolated
   (``MediaPipeFaceCropper``, ``OpenCVFaceCropper``), or per-frame boxes the caller already has (``boxes=``, any
   cropper; ``BoxFaceCropper`` has no detector at all);
2. turn it into the square to crop: centred on the mouth (FaceMesh lip landmarks, else the detector's mouth
   keypoint, else a fixed point of the face box) or on the face, its side a multiple of the face size so that the
   crop scale does not follow the lips opening and closing;
3. fill gaps: linear interpolation between frames with a face for gaps of up to ``max_gap`` frames, the nearest
   square held for up to ``max_gap`` frames at the clip's ends; longer gaps get ``face_mask`` False;
4. smooth: centred moving average of the square's centre and side within each run of face frames (jitter-free);
5. crop from the full-resolution frame, zero padding where the square leaves the image, resized to ``size``.

MediaPipe and OpenCV are imported inside the classes that use them, so importing this module stays light.
"""

import contextlib
import itertools
import logging
import math
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .errors import SignBindInputError
from .face_models_signbind import (
    DETECTOR_MODEL_ENV,
    FACE_LANDMARK_PATH,
    FULL_RANGE_DETECTOR_PATH,
    LANDMARK_MODEL_ENV,
    resolve_model_path,
)

logger = logging.getLogger(__name__)

FaceRegion = Literal["mouth", "face"]

# Where the mouth centre sits in a face box, as fractions of its width and height. Measured on MediaPipe's
# BlazeFace boxes (eyebrows to chin); used for given boxes and when neither landmarks nor a mouth keypoint exist.
MOUTH_CENTRE_IN_FACE_BOX = (0.5, 0.73)


@dataclass
class FaceCropConfig:
    """How faces are found and cropped. Every default of the face pipeline lives here.

    Args:
        size: side in pixels of the square crops; the lipreading expert's input resolution (224 in the paper
            preset, 32-64 in tiny presets).
        region: "mouth" crops a square centred on the mouth (what the lipreading expert reads); "face" crops the
            whole face.
        mouth_scale: side of a mouth crop as a multiple of the face box's longer side. Tying it to the face, not to
            the lips, keeps the scale steady while the mouth opens and closes. 0.6 frames the lips, chin and cheeks.
        face_scale: side of a face crop as a multiple of the face box's longer side (margin for hair and jaw).
        max_gap: longest run of frames without a detection that is filled (interpolated inside the clip, held at
            its ends); longer runs get ``face_mask`` False. 12 frames is half a second at 25 fps.
        smoothing_window: frames in the centred moving average applied to the crop squares (odd; 1 turns it off).
        detect_max_side: the detector sees a copy of the frame whose longer side is at most this many pixels;
            crops always come from the full-resolution frame. The detectors letterbox every image to their 128 or
            192 px input anyway, so 320 loses nothing they would see. None detects on the full frame.
        detect_every: spacing of the keyframes the detector always runs on. Between two keyframes whose faces
            overlap by ``stable_iou`` the face is interpolated; elsewhere the interval is halved and the detector
            runs on its middle frame, recursively (see ``FaceTrack``). 1 runs it on every frame.
            Detection (+ lip landmarks) costs ~7 ms a frame, which is 10× decoding a 640×480 frame: at 8 (a third
            of a second at 25 fps) a still signer costs under 1 ms a frame, and head movements faster than that
            (a nod, a head shake) are refined, not skipped, as long as a keyframe sees them move.
        stable_iou: two detections this much alike (IoU) are close enough to interpolate between. Interpolation is
            linear, so it is exact for a face moving steadily. On a 640×480 clip of a face swaying ±12 px
            (benchmarks/bench_processing.py), 0.75 (a shift of up to ~14 % of the face between keyframes) put the
            crop centre 0.5 px on average (2.4 px at most, on a 56 px crop) from detecting every frame, with 37
            detector calls for 250 frames; 0.85 needed 69 calls for 0.35 px.
        min_confidence: detector score below which a detection is dropped.
        landmark_tracking: with lip landmarks (``MediaPipeFaceCropper``), how many detections in a row may be
            replaced by following the face with the FaceMesh landmarks alone, from the last face's position, as
            MediaPipe's own face-mesh graph tracks (the face box moves and scales with the landmarks). One landmark
            pass costs ~1.7 ms of CPU (in MediaPipe's runtime: ``FaceMeshLandmarker``) against ~6 ms for detector +
            landmarks, and the detector was most of the processor's work
            (benchmarks/bench_processing.py). The detector still runs on the first frame, after
            every ``landmark_tracking`` tracked frames, and wherever the landmarks lose the face or it jumps. 0 runs
            the detector every time. On the swaying clip above (250 frames, detect_every=8), 3 cut the face
            cropper's CPU time from 0.46 s to 0.23 s (10 detector calls + 26 tracked frames instead of 37 detector
            calls) with the crop centre 0.48 px on average from detecting every frame (0.42 px without tracking) and
            its side 1.1 px (0.5 px).
    """

    size: int = 224
    region: FaceRegion = "mouth"
    mouth_scale: float = 0.6
    face_scale: float = 1.2
    max_gap: int = 12
    smoothing_window: int = 5
    detect_max_side: int | None = 320
    detect_every: int = 8
    stable_iou: float = 0.75
    min_confidence: float = 0.5
    landmark_tracking: int = 3

    def __post_init__(self) -> None:
        def fail(name: str, expected: str) -> None:
            raise SignBindInputError(f"FaceCropConfig.{name} must be {expected}, got {getattr(self, name)!r}.")

        if not isinstance(self.size, int) or self.size < 8:
            fail("size", "an int >= 8 (pixels)")
        if self.region not in ("mouth", "face"):
            fail("region", "'mouth' or 'face'")
        for name in ("mouth_scale", "face_scale"):
            if not getattr(self, name) > 0:
                fail(name, "a positive number")
        if not isinstance(self.max_gap, int) or self.max_gap < 0:
            fail("max_gap", "an int >= 0 (frames)")
        if not isinstance(self.smoothing_window, int) or self.smoothing_window < 1 or self.smoothing_window % 2 == 0:
            fail("smoothing_window", "an odd int >= 1 (frames)")
        if self.detect_max_side is not None and (
            not isinstance(self.detect_max_side, int) or self.detect_max_side < 64
        ):
            fail("detect_max_side", "None or an int >= 64 (pixels)")
        if not isinstance(self.detect_every, int) or self.detect_every < 1:
            fail("detect_every", "an int >= 1 (frames)")
        if not 0.0 < self.stable_iou <= 1.0:
            fail("stable_iou", "in (0, 1]")
        if not isinstance(self.landmark_tracking, int) or self.landmark_tracking < 0:
            fail("landmark_tracking", "an int >= 0 (detections)")
        if not 0.0 <= self.min_confidence <= 1.0:
            fail("min_confidence", "in [0, 1]")


@dataclass
class FaceObservation:
    """One face seen in one frame, in full-resolution pixel coordinates."""

    face_box: np.ndarray  # (4,) x0, y0, x1, y1
    mouth_centre: np.ndarray | None = None  # (2,) x, y; None when the source gives no mouth point
    score: float = 1.0
    landmarks: np.ndarray | None = None  # (468, 2) FaceMesh points, when the landmarker ran: what tracking follows
    tracked_steps: int = 0  # 0: the detector found this face; n: followed by landmarks alone n times since


@dataclass
class FaceCrops:
    """What ``FaceCropper.crop`` returns for a clip of T frames."""

    crops: np.ndarray  # (T, size, size, 3) uint8 RGB; all zeros where face_mask is False
    face_mask: np.ndarray  # (T,) bool: True where a face was found, held or interpolated; the model ignores False
    boxes: np.ndarray  # (T, 4) float32 x0, y0, x1, y1 pixels of the square cropped (after smoothing); NaN if none
    found: np.ndarray  # (T,) bool: True where the detector (or a given box) had a face, before gap filling
    detector_calls: int = 0  # frames the detector actually ran on (the others were tracked or interpolated)
    tracked_frames: int = 0  # frames located by following the landmarks alone (``landmark_tracking``), no detector
    landmark_failures: int = 0  # detections whose mouth came from a fallback because the landmarker found none


class FaceCropper(ABC):
    """Crops the mouth (or face) of the signer from every frame of a clip; see the module docstring for the steps.

    Subclasses provide ``_observe`` (one frame in, at most one face out). ``crop(frames, boxes=...)`` skips
    detection and uses the caller's boxes instead (a user's own detector, or the synthetic data set's boxes).
    """

    # Fractions of a face box where the mouth is; a detector whose boxes frame the face differently overrides it.
    mouth_centre_in_face_box: tuple[float, float] = MOUTH_CENTRE_IN_FACE_BOX

    def __init__(self, config: FaceCropConfig | None = None) -> None:
        self.config = config if config is not None else FaceCropConfig()

    def crop(
        self, frames: np.ndarray, boxes: np.ndarray | None = None, *, normalized_boxes: bool = False
    ) -> FaceCrops:
        """Crop every frame of ``frames`` ``(T, H, W, 3)`` uint8 RGB.

        Args:
            frames: the clip at full resolution.
            boxes: optional ``(T, 4)`` face boxes x0, y0, x1, y1 to use instead of detection; a row of NaN marks a
                frame without a face. They are face boxes: mouth crops are placed inside them.
            normalized_boxes: ``boxes`` are fractions of the frame width/height instead of pixels.
        """
        frames = _check_frames(frames)
        if boxes is not None:
            boxes = _check_boxes(boxes, frames.shape, normalized_boxes)
        size = self.config.size
        crops = np.zeros((len(frames), size, size, 3), dtype=np.uint8)
        track = FaceTrack(self, frames.__getitem__, boxes=boxes)
        for _ in range(len(frames)):
            for row, square in track.push():
                crop_square(frames[row], square, size, out=crops[row])
        for row, square in track.finish():
            crop_square(frames[row], square, size, out=crops[row])
        return track.result(crops)

    def close(self) -> None:  # noqa: B027 - an optional hook: only croppers holding native resources override it
        """Release detector resources (no-op for croppers without any)."""

    def __enter__(self) -> "FaceCropper":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @abstractmethod
    def _observe(
        self, frame: np.ndarray, small_frame: np.ndarray, scale: tuple[float, float], previous: FaceObservation | None
    ) -> tuple[FaceObservation | None, bool]:
        """Find the signer's face in one frame.

        ``small_frame`` is ``frame`` downscaled for detection; multiply its x/y pixel coordinates by ``scale`` to
        get full-resolution ones. ``previous`` is the last face found, to keep following the same person. Returns
        the face (or None) and whether a landmarker failed on it.
        """

    def _square(self, observation: FaceObservation | None) -> tuple[float, float, float]:
        """The square to crop (centre x, centre y, side) for one face; NaNs when there is none."""
        if observation is None:
            return (math.nan, math.nan, math.nan)
        x0, y0, x1, y1 = observation.face_box
        face_side = max(x1 - x0, y1 - y0)
        if self.config.region == "face":
            return ((x0 + x1) / 2, (y0 + y1) / 2, self.config.face_scale * face_side)
        if observation.mouth_centre is not None:
            centre_x, centre_y = observation.mouth_centre
        else:
            fraction_x, fraction_y = self.mouth_centre_in_face_box
            centre_x, centre_y = x0 + fraction_x * (x1 - x0), y0 + fraction_y * (y1 - y0)
        return (float(centre_x), float(centre_y), self.config.mouth_scale * face_side)


class FaceTrack:
    """The crop squares of a clip whose frames arrive one at a time, each handed out once it can no longer change.

    ``FaceCropper.crop`` runs it over a whole clip; ``SignBindVideoProcessor`` runs it while the video decodes, so that
    only the last few frames are kept at full resolution instead of the whole clip. Either way a clip gets the same
    squares: the steps are those of the module docstring, done as soon as the frames they read have arrived.

    - Detection (no ``boxes``): a keyframe (every ``detect_every``-th frame, and the last) is detected when it
      arrives, then the interval back to the previous keyframe is interpolated or bisected as in ``FaceCropper``.
      Every detector call reads one frame and the face passed as ``previous`` (the interval's ends, or the last
      keyframe's face), never the order of the calls, so detecting interval by interval finds the same faces as
      detecting all keyframes first.
    - Gap filling and smoothing are local: a frame's square depends on the frames within ``max_gap + 1`` of it (the
      faces bridging its gap) and on their neighbours within ``smoothing_window // 2``. So it is final once
      ``context`` = ``max_gap + smoothing_window`` later frames have their faces, and computing it on a slice that
      starts ``2 * context`` earlier gives the whole clip's value: a gap or run cut by the slice's start is longer
      than ``max_gap`` there, so the slice treats it as the clip does.

    Args:
        cropper: supplies the detector (``_observe``), the square of a face (``_square``) and the config.
        frame_at: the full-resolution frame (H, W, 3) uint8 of a row; asked only for rows at most ``lookbehind``
            behind the newest pushed row.
        boxes: ``(T, 4)`` face boxes in pixels (NaN rows: no face) to use instead of detection.
    """

    def __init__(
        self, cropper: FaceCropper, frame_at: Callable[[int], np.ndarray], boxes: np.ndarray | None = None
    ) -> None:
        self.cropper = cropper
        self.config = config = cropper.config
        self._frame_at = frame_at
        self._boxes = boxes
        self.context = config.max_gap + config.smoothing_window
        self.lookbehind = config.detect_every + self.context
        self._observations: list[FaceObservation | None] = []
        self._squares: list[tuple[float, float, float]] = []  # (cx, cy, side) per resolved row, before gap filling
        self._final_squares: list[np.ndarray] = []  # (cx, cy, side) per finished row, NaN without a face
        self._last_keyframe: int | None = None
        self._last_face: FaceObservation | None = None  # the last keyframe face: keeps following the same person
        self._small_size: tuple[int, int] | None = None
        self._scale = (1.0, 1.0)
        self.detector_calls = self.tracked_frames = self.landmark_failures = 0

    @property
    def num_frames(self) -> int:
        """Frames pushed so far."""
        return len(self._observations)

    @property
    def num_finished(self) -> int:
        """Frames whose square was handed out: ``frame_at`` is never asked for them again."""
        return len(self._final_squares)

    def push(self) -> list[tuple[int, np.ndarray]]:
        """The next frame (row ``num_frames``) is readable with ``frame_at``: return the ``(row, square)`` pairs
        finished by it, in row order; ``square`` is (centre x, centre y, side) and only rows with a face are listed."""
        row = len(self._observations)
        self._observations.append(None)
        if self._boxes is not None:
            box = self._boxes[row]
            self._observations[row] = None if np.isnan(box[0]) else FaceObservation(face_box=box)
            self._resolve_up_to(row)
        elif row % self.config.detect_every == 0:
            self._keyframe(row)
        return self._finish_rows(final=False)

    def finish(self) -> list[tuple[int, np.ndarray]]:
        """No more frames: detect the last one (a keyframe) and return the remaining ``(row, square)`` pairs."""
        last = len(self._observations) - 1
        if self._boxes is None and last >= 0 and last != self._last_keyframe:
            self._keyframe(last)
        if self.landmark_failures:
            logger.info(
                "landmarks failed on %d detections; their mouth came from the detector", self.landmark_failures
            )
        finished = self._finish_rows(final=True)
        self._frame_at = None  # no frame is read after this; a caller holding this track must not hold its frames
        return finished

    def result(self, crops: np.ndarray) -> FaceCrops:
        """The ``FaceCrops`` of the finished clip, around ``crops`` (the caller cut them from the squares)."""
        return FaceCrops(
            crops=crops,
            face_mask=self.face_mask,
            boxes=self.crop_boxes,
            found=self.found,
            detector_calls=self.detector_calls,
            tracked_frames=self.tracked_frames,
            landmark_failures=self.landmark_failures,
        )

    @property
    def face_mask(self) -> np.ndarray:
        """(T,) bool over the finished rows: a face was found, held or interpolated."""
        return ~np.isnan(self._finished_squares()[:, 0])

    @property
    def crop_boxes(self) -> np.ndarray:
        """(T, 4) float32 x0, y0, x1, y1 of the squares cut for the finished rows; NaN rows without a face."""
        squares = self._finished_squares()
        half = squares[:, 2:3] / 2
        return np.concatenate([squares[:, :2] - half, squares[:, :2] + half], axis=1).astype(np.float32)

    @property
    def found(self) -> np.ndarray:
        """(T,) bool over the resolved rows: the detector (or a given box) had a face, before gap filling."""
        return ~np.isnan(np.array(self._squares, dtype=np.float64).reshape(-1, 3)[:, 0])

    def _finished_squares(self) -> np.ndarray:
        return np.array(self._final_squares, dtype=np.float64).reshape(-1, 3)

    # --- detection ------------------------------------------------------------------------------------------------
    def _keyframe(self, row: int) -> None:
        self._last_face = self._detect(row, self._last_face) or self._last_face
        if self._last_keyframe is not None:
            self._bisect(self._last_keyframe, row)
        self._last_keyframe = row
        self._resolve_up_to(row)

    def _bisect(self, left: int, right: int) -> None:
        """Between two detected keyframes: interpolate where both faces overlap by ``stable_iou``, else detect the
        middle frame and check both halves the same way, down to neighbouring frames."""
        observations = self._observations
        intervals = [(left, right)]
        while intervals:
            left, right = intervals.pop()
            if right - left < 2:
                continue
            before, after = observations[left], observations[right]
            if (
                before is not None
                and after is not None
                and box_iou(before.face_box, after.face_box) >= self.config.stable_iou
            ):
                for index in range(left + 1, right):
                    observations[index] = interpolate_observation(before, after, (index - left) / (right - left))
                continue
            middle = (left + right) // 2
            self._detect(middle, before or after)
            intervals += [(left, middle), (middle, right)]

    def _detect(self, row: int, previous: FaceObservation | None) -> FaceObservation | None:
        import cv2

        frame = self._frame_at(row)
        if self._small_size is None:
            height, width = frame.shape[:2]
            limit = self.config.detect_max_side
            shrink = 1.0 if limit is None else max(height, width) / limit
            if shrink > 1:
                self._small_size = (max(1, round(width / shrink)), max(1, round(height / shrink)))
                self._scale = (width / self._small_size[0], height / self._small_size[1])
            else:
                self._small_size = (width, height)
        # Bilinear, like MediaPipe's own resize to the model input: INTER_AREA costs more (3 ms on a 1080p frame)
        # than the downscale saves the detector.
        small = frame
        if self._small_size != (frame.shape[1], frame.shape[0]):
            small = cv2.resize(frame, self._small_size, interpolation=cv2.INTER_LINEAR)
        observation, landmarks_failed = self.cropper._observe(frame, small, self._scale, previous)
        if observation is not None and observation.tracked_steps > 0:
            self.tracked_frames += 1
        else:
            self.detector_calls += 1
        self.landmark_failures += int(landmarks_failed)
        self._observations[row] = observation
        return observation

    # --- squares --------------------------------------------------------------------------------------------------
    def _resolve_up_to(self, row: int) -> None:
        """Rows up to ``row`` have their final faces: turn the new ones into squares."""
        for index in range(len(self._squares), row + 1):
            self._squares.append(self.cropper._square(self._observations[index]))

    def _finish_rows(self, *, final: bool) -> list[tuple[int, np.ndarray]]:
        resolved = len(self._squares)
        first = len(self._final_squares)
        stop = resolved if final else resolved - self.context
        if stop <= first:
            return []
        start = max(0, first - 2 * self.context)
        track = np.array(self._squares[start:resolved], dtype=np.float64).reshape(-1, 3)
        track = fill_gaps(track, self.config.max_gap)
        mask = ~np.isnan(track[:, 0])
        track = smooth_runs(track, mask, self.config.smoothing_window)
        finished = track[first - start : stop - start]
        self._final_squares.extend(finished)
        return [(first + offset, square) for offset, square in enumerate(finished) if not np.isnan(square[0])]


class BoxFaceCropper(FaceCropper):
    """Crops from boxes the caller gives (a user's own detector, the synthetic data set's boxes); no detector."""

    def crop(
        self, frames: np.ndarray, boxes: np.ndarray | None = None, *, normalized_boxes: bool = False
    ) -> FaceCrops:
        if boxes is None:
            raise SignBindInputError(
                "BoxFaceCropper.crop needs boxes= (T, 4) face boxes x0, y0, x1, y1 (NaN rows for frames without a "
                "face); use MediaPipeFaceCropper to detect faces instead."
            )
        return super().crop(frames, boxes, normalized_boxes=normalized_boxes)

    def _observe(self, frame, small_frame, scale, previous):  # pragma: no cover - crop() always passes boxes
        raise AssertionError("BoxFaceCropper never detects")


class MediaPipeFaceCropper(FaceCropper):
    """MediaPipe Tasks ``FaceDetector`` (BlazeFace, full range by default) + FaceMesh lip landmarks.

    Args:
        config: cropping settings (``FaceCropConfig``).
        detector_model_path: a BlazeFace ``.tflite`` for the Tasks FaceDetector. Default: the environment variable
            ``SIGNBIND_FACE_DETECTOR_MODEL``, else the packaged full-range model (``face_models.py``).
        landmark_model_path: a FaceMesh ``face_landmark.tflite`` (468 points from a 192x192 crop). Default: the
            environment variable ``SIGNBIND_FACE_LANDMARK_MODEL``, else the packaged file.
        use_landmarks: place mouth crops with the lip landmarks. Without them (or when the landmarker finds no face
            in a detection) the detector's mouth keypoint is used, which is coarser.

    The landmarks come from the FaceMesh model run by ``FaceMeshLandmarker``, not from the Tasks
    ``FaceLandmarker``: the Tasks landmarker only takes a ``.task`` bundle, and one built from the model files
    available offline (mediapipe 0.10.21) loads but returns misplaced points (checked against the image).
    """

    def __init__(
        self,
        config: FaceCropConfig | None = None,
        *,
        detector_model_path: str | os.PathLike | None = None,
        landmark_model_path: str | os.PathLike | None = None,
        use_landmarks: bool = True,
    ) -> None:
        super().__init__(config)
        self.detector_model_path = resolve_model_path(
            detector_model_path,
            argument="detector_model_path",
            env_var=DETECTOR_MODEL_ENV,
            default=FULL_RANGE_DETECTOR_PATH,
        )
        self.use_landmarks = use_landmarks and self.config.region == "mouth"
        self.landmark_model_path = (
            resolve_model_path(
                landmark_model_path,
                argument="landmark_model_path",
                env_var=LANDMARK_MODEL_ENV,
                default=FACE_LANDMARK_PATH,
            )
            if self.use_landmarks
            else None
        )
        self._detector = None
        self._landmarker: FaceMeshLandmarker | None = None
        self._load_models()  # now, so that a wrong model file fails at construction, not on the first clip

    def _load_models(self) -> None:
        tasks = import_mediapipe_tasks()
        import mediapipe as mp

        BaseOptions, vision = tasks.BaseOptions, tasks.vision

        # The landmarker first: a wrong file fails before the detector's graph is started (a wrong detector file
        # closes the landmarker's graph below).
        if self.landmark_model_path is not None:
            self._landmarker = FaceMeshLandmarker(self.landmark_model_path)

        options = vision.FaceDetectorOptions(
            base_options=BaseOptions(model_asset_path=str(self.detector_model_path)),
            running_mode=vision.RunningMode.IMAGE,
            min_detection_confidence=self.config.min_confidence,
        )
        detector = None
        try:
            detector = vision.FaceDetector.create_from_options(options)
            # MediaPipe accepts any TFLite file at creation and fails only on the first image: run one now.
            detector.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.zeros((64, 64, 3), dtype=np.uint8)))
        except (RuntimeError, ValueError, OSError) as error:
            if detector is not None:
                _discard_failed_task(detector)
            if self._landmarker is not None:  # its graph is running already
                self._landmarker.close()
                self._landmarker = None
            raise SignBindInputError(
                f"detector_model_path {self.detector_model_path}: MediaPipe's FaceDetector cannot use this model "
                f"({error}). Expected a BlazeFace face detection .tflite such as the packaged "
                f"{FULL_RANGE_DETECTOR_PATH.name}."
            ) from error
        self._detector = detector

    def _observe(self, frame, small_frame, scale, previous):
        import mediapipe as mp

        if self._detector is None:
            self._load_models()
        if (
            self._landmarker is not None
            and previous is not None
            and previous.landmarks is not None
            and previous.tracked_steps < self.config.landmark_tracking
        ):
            tracked = self._track(frame, previous)
            if tracked is not None:
                return tracked, False
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(small_frame))
        detections = self._detector.detect(image).detections
        if not detections:
            return None, False
        small_height, small_width = small_frame.shape[:2]
        scale_x, scale_y = scale
        boxes = np.array(
            [
                [
                    d.bounding_box.origin_x * scale_x,
                    d.bounding_box.origin_y * scale_y,
                    (d.bounding_box.origin_x + d.bounding_box.width) * scale_x,
                    (d.bounding_box.origin_y + d.bounding_box.height) * scale_y,
                ]
                for d in detections
            ]
        )
        chosen = pick_face(boxes, None if previous is None else previous.face_box)
        detection = detections[chosen]
        # BlazeFace keypoints (normalized to the image): right eye, left eye, nose tip, mouth centre, right ear, left ear.
        keypoints = np.array(
            [[k.x * small_width * scale_x, k.y * small_height * scale_y] for k in detection.keypoints]
        )
        if len(keypoints) < 4:  # a user's detector without BlazeFace keypoints: the face box places the mouth
            return FaceObservation(face_box=boxes[chosen], score=float(detection.categories[0].score)), False
        mouth_centre, points = keypoints[3], None
        landmarks_failed = False
        if self._landmarker is not None:
            points = self._landmarker.landmarks(frame, boxes[chosen], right_eye=keypoints[0], left_eye=keypoints[1])
            landmarks_failed = points is None
            if points is not None:
                mouth_centre = self._landmarker.mouth_of(points)
        observation = FaceObservation(
            face_box=boxes[chosen],
            mouth_centre=mouth_centre,
            score=float(detection.categories[0].score),
            landmarks=points,
        )
        return observation, landmarks_failed

    def _track(self, frame: np.ndarray, previous: FaceObservation) -> FaceObservation | None:
        """Follow ``previous`` into ``frame`` with the landmarks alone; None when they lose the face or it jumps.

        The landmarker reads the region of the previous face box (rotated by the previous eye line). The new box is
        the previous one moved by the shift of the landmarks' centroid and scaled by the change of their spread, so
        it keeps the detector's framing (the mouth crop's size is a multiple of it).
        """
        landmarker = self._landmarker
        before = previous.landmarks
        points = landmarker.landmarks(frame, previous.face_box, *landmarker.eyes_of(before))
        if points is None:
            return None
        shift = points.mean(axis=0) - before.mean(axis=0)
        growth = _spread(points) / max(_spread(before), 1e-6)
        box = previous.face_box
        side = max(box[2] - box[0], box[3] - box[1])
        # Beyond these the region read was not where the face is: the landmarks are a guess, detect instead.
        if not 0.8 <= growth <= 1.25 or float(np.hypot(*shift)) > 0.25 * side:
            return None
        centre = (box[:2] + box[2:]) / 2 + shift
        half = (box[2:] - box[:2]) / 2 * growth
        return FaceObservation(
            face_box=np.concatenate([centre - half, centre + half]),
            mouth_centre=landmarker.mouth_of(points),
            score=previous.score,
            landmarks=points,
            tracked_steps=previous.tracked_steps + 1,
        )

    def close(self) -> None:
        # Close explicitly (or use ``with``): a detector left open until interpreter exit makes MediaPipe 1.2's
        # own __del__ print a harmless traceback, because its worker thread pool is already shut down by then.
        if self._detector is not None:
            self._detector.close()
        if self._landmarker is not None:
            self._landmarker.close()
        self._detector = None
        self._landmarker = None

    def __getstate__(self) -> dict:
        # MediaPipe and OpenCV handles cannot be pickled (datasets.map with num_proc pickles the processor); they
        # are rebuilt from the model paths on first use in the new process.
        state = self.__dict__.copy()
        state["_detector"] = None
        state["_landmarker"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


def import_mediapipe_tasks():
    """``mediapipe.tasks.python``, imported so that MediaPipe keeps none of the importing code's variables alive.

    MediaPipe's audio module, which its task package imports, keeps the error of its optional ``sounddevice`` import
    at module level (``audio_record.sd_error``: "PortAudio library not found" wherever PortAudio is missing), and with
    it the error's traceback: every frame of the stack that first imported MediaPipe, with its local variables. The
    processor builds its face cropper inside the first call, so that was the first call's input video and output
    tensors, held until the process ended (a weak reference to the outputs never died). Dropping the traceback
    releases them; the error itself stays, for MediaPipe's audio recorder to raise.
    """
    from mediapipe.tasks import python as tasks

    error = getattr(sys.modules.get("mediapipe.tasks.python.audio.core.audio_record"), "sd_error", None)
    seen = set()
    while isinstance(error, BaseException) and id(error) not in seen:  # the error and those it was raised during
        seen.add(id(error))
        error.__traceback__ = None
        error = error.__cause__ or error.__context__
    return tasks


def _discard_failed_task(task) -> None:
    """Release a MediaPipe Tasks object (a FaceDetector, an ImageEmbedder) whose graph failed.

    Its ``close()`` re-raises the graph's error before releasing the worker thread, so ``__del__`` would retry
    later and, at interpreter exit, hang or corrupt the interpreter's state. Finish the release by hand (MediaPipe
    1.2 attribute names; skipped if a later version renames them).
    """
    with contextlib.suppress(RuntimeError, ValueError):
        task.close()
    if getattr(task, "_handle", None) is None:
        return
    task._handle = None
    for resource in (getattr(task, "_dispatcher", None), getattr(task, "_lib", None)):
        if resource is not None:
            with contextlib.suppress(RuntimeError, ValueError):
                resource.close()


class FaceMeshLandmarker:
    """MediaPipe FaceMesh (``face_landmark.tflite``) run by MediaPipe's own TFLite runtime; gives the mouth centre.

    It follows MediaPipe's own face_landmark graph: the face box is enlarged 1.5x into a square, rotated so that the
    eyes are level, resized to 192x192 RGB in [0, 1]; the model returns 468 (x, y, z) points in that square and a
    face-presence logit.

    The model runs in a MediaPipe Tasks ``ImageEmbedder`` with L2 normalisation and quantisation off, which hands
    back a model's raw output tensors: MediaPipe's XNNPACK runtime takes 1.7 ms of CPU per pass where OpenCV's TFLite
    importer (used before) took 2.3 ms, and the landmark pass runs on every keyframe of every clip
    (benchmarks/bench_processing.py). The embedder feeds a float model without metadata its image in [0, 1], FaceMesh's
    input range; ``tests/video/test_face.py`` checks its points against OpenCV's DNN module running the same file.
    (The Tasks ``FaceLandmarker`` is no option: it only takes a ``.task`` bundle, and one built from the model files
    available offline, mediapipe 0.10.21's, loads but returns misplaced points.) Close it (or use ``with``) to stop
    its MediaPipe graph.
    """

    INPUT_SIDE = 192
    ROI_SCALE = 1.5
    # Outer-lip points: right corner, left corner, top of the upper lip, bottom of the lower lip.
    MOUTH_LANDMARKS = (61, 291, 0, 17)
    # Eye corners (outer, inner) of the subject's right eye (image left) and left eye.
    RIGHT_EYE_LANDMARKS = (33, 133)
    LEFT_EYE_LANDMARKS = (263, 362)
    NUM_LANDMARKS = 468

    def __init__(self, model_path: str | os.PathLike) -> None:
        tasks = import_mediapipe_tasks()
        BaseOptions, vision = tasks.BaseOptions, tasks.vision

        self.model_path = model_path
        options = vision.ImageEmbedderOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)), l2_normalize=False, quantize=False
        )
        self._embedder = None
        try:
            self._embedder = vision.ImageEmbedder.create_from_options(options)
            # MediaPipe accepts any TFLite file at creation and fails only on the first image: run one now.
            outputs = self._outputs(np.zeros((self.INPUT_SIDE, self.INPUT_SIDE, 3), dtype=np.uint8))
        except (RuntimeError, ValueError, OSError) as error:
            if self._embedder is not None:
                _discard_failed_task(self._embedder)
            self._embedder = None
            raise SignBindInputError(
                f"landmark_model_path {model_path}: MediaPipe cannot run this model as a FaceMesh landmarker "
                f"({error}). Expected MediaPipe's face_landmark.tflite."
            ) from error
        sizes = [output.size for output in outputs]
        if len(outputs) != 2 or sizes[0] != self.NUM_LANDMARKS * 3 or sizes[1] != 1:
            self.close()
            raise SignBindInputError(
                f"landmark_model_path {model_path}: expected a FaceMesh model with {self.NUM_LANDMARKS * 3} landmark "
                f"outputs (468 x, y, z) and a face-presence logit, got outputs of sizes {sizes}."
            )

    def _outputs(self, image: np.ndarray) -> list[np.ndarray]:
        """The model's output tensors for one (192, 192, 3) uint8 RGB image, largest first."""
        import mediapipe as mp

        heads = self._embedder.embed(mp.Image(image_format=mp.ImageFormat.SRGB, data=image)).embeddings
        # Two outputs whose order depends on the converter: the landmarks are the big one, the logit the scalar.
        return sorted((head.embedding for head in heads), key=np.size, reverse=True)

    def close(self) -> None:
        """Stop the MediaPipe graph running the model (it is rebuilt only by a new landmarker)."""
        if self._embedder is not None:
            self._embedder.close()
        self._embedder = None

    def __enter__(self) -> "FaceMeshLandmarker":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def landmarks(
        self, frame: np.ndarray, face_box: np.ndarray, right_eye: np.ndarray, left_eye: np.ndarray
    ) -> np.ndarray | None:
        """The 468 landmarks ``(468, 2)`` in ``frame`` pixel coordinates, or None when the model sees no face."""
        import cv2

        x0, y0, x1, y1 = face_box
        centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        half = self.ROI_SCALE * max(x1 - x0, y1 - y0) / 2
        # The subject's right eye is on the image's left: the vector right->left eye points along the face's x axis.
        angle = math.atan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0])
        axis_x = np.array([math.cos(angle), math.sin(angle)]) * half
        axis_y = np.array([-math.sin(angle), math.cos(angle)]) * half
        corners = np.float32([centre - axis_x - axis_y, centre + axis_x - axis_y, centre - axis_x + axis_y])
        side = self.INPUT_SIDE
        to_input = cv2.getAffineTransform(corners, np.float32([[0, 0], [side, 0], [0, side]]))
        roi = cv2.warpAffine(frame, to_input, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        landmarks, logit = self._outputs(roi)  # (1404,), (1,)
        if float(logit[0]) < 0.0:  # sigmoid(logit) < 0.5: no face in the region
            return None
        points = landmarks.reshape(self.NUM_LANDMARKS, 3)[:, :2]  # (468, 2) in input pixels
        to_frame = cv2.invertAffineTransform(to_input)
        return points @ to_frame[:, :2].T + to_frame[:, 2]

    def mouth_centre(
        self, frame: np.ndarray, face_box: np.ndarray, right_eye: np.ndarray, left_eye: np.ndarray
    ) -> np.ndarray | None:
        """Mean of the outer-lip landmarks ``(2,)`` in frame pixels, or None when the model sees no face."""
        points = self.landmarks(frame, face_box, right_eye, left_eye)
        return None if points is None else self.mouth_of(points)

    def mouth_of(self, points: np.ndarray) -> np.ndarray:
        """The mouth centre ``(2,)``: the mean of the outer-lip points of ``points`` (468, 2)."""
        return points[list(self.MOUTH_LANDMARKS)].mean(axis=0)

    def eyes_of(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(subject's right eye, left eye) centres from ``points`` (468, 2): what the next region is rotated by."""
        return points[list(self.RIGHT_EYE_LANDMARKS)].mean(axis=0), points[list(self.LEFT_EYE_LANDMARKS)].mean(axis=0)


class OpenCVFaceCropper(FaceCropper):
    """OpenCV Haar cascade (shipped with cv2): a weaker fallback without landmarks or mouth keypoints.

    It misses profile and tilted faces and gives boxes that jitter more than MediaPipe's; prefer
    ``MediaPipeFaceCropper``.
    """

    # Haar boxes start higher on the forehead than BlazeFace boxes, so the mouth sits lower in them.
    mouth_centre_in_face_box = (0.5, 0.75)

    def __init__(self, config: FaceCropConfig | None = None, *, cascade_path: str | os.PathLike | None = None) -> None:
        import cv2

        super().__init__(config)
        self.cascade_path = str(
            cascade_path or os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_default.xml")
        )
        self._cascade = cv2.CascadeClassifier(self.cascade_path)
        if self._cascade.empty():
            raise SignBindInputError(f"cascade_path {self.cascade_path}: OpenCV cannot load a Haar cascade from it.")

    def _observe(self, frame, small_frame, scale, previous):
        import cv2

        gray = cv2.cvtColor(small_frame, cv2.COLOR_RGB2GRAY)
        found = self._cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
        if len(found) == 0:
            return None, False
        scale_x, scale_y = scale
        boxes = np.array([[x * scale_x, y * scale_y, (x + w) * scale_x, (y + h) * scale_y] for x, y, w, h in found])
        chosen = pick_face(boxes, None if previous is None else previous.face_box)
        return FaceObservation(face_box=boxes[chosen]), False

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_cascade"]
        return state

    def __setstate__(self, state: dict) -> None:
        import cv2

        self.__dict__.update(state)
        self._cascade = cv2.CascadeClassifier(self.cascade_path)


# --- geometry on (T, ...) arrays ----------------------------------------------------------------------------------


def _spread(points: np.ndarray) -> float:
    """Root-mean-square distance of ``points`` (N, 2) from their centroid: their size, whatever their rotation."""
    return float(np.sqrt(((points - points.mean(axis=0)) ** 2).sum(axis=1).mean()))


def box_iou(box_a: np.ndarray, box_b: np.ndarray) -> float:
    """Intersection over union of two x0, y0, x1, y1 boxes."""
    width = min(box_a[2], box_b[2]) - max(box_a[0], box_b[0])
    height = min(box_a[3], box_b[3]) - max(box_a[1], box_b[1])
    intersection = max(width, 0.0) * max(height, 0.0)
    area_a = (box_a[2] - box_a[0]) * (box_a[3] - box_a[1])
    area_b = (box_b[2] - box_b[0]) * (box_b[3] - box_b[1])
    union = area_a + area_b - intersection
    return float(intersection / union) if union > 0 else 0.0


def interpolate_observation(before: FaceObservation, after: FaceObservation, weight: float) -> FaceObservation:
    """The face a fraction ``weight`` (0..1) of the way from ``before`` to ``after``.

    The box moves linearly; the mouth moves with it, at a place inside the box interpolated between the two ends (one
    end without a mouth point borrows the other's place, so the crop does not jump to the box's fixed mouth point).
    """
    box = before.face_box + weight * (after.face_box - before.face_box)
    places = [_mouth_place(end) for end in (before, after)]
    if places[0] is None and places[1] is None:
        mouth = None
    else:
        start, stop = (
            (places[0] if places[0] is not None else places[1]),
            (places[1] if places[1] is not None else places[0]),
        )
        place = start + weight * (stop - start)
        mouth = box[:2] + place * (box[2:] - box[:2])
    return FaceObservation(face_box=box, mouth_centre=mouth, score=min(before.score, after.score))


def _mouth_place(observation: FaceObservation) -> np.ndarray | None:
    """Where the mouth sits in the face box, as fractions of its width and height; None without a mouth point."""
    if observation.mouth_centre is None:
        return None
    box = observation.face_box
    return (observation.mouth_centre - box[:2]) / np.maximum(box[2:] - box[:2], 1e-6)


def pick_face(boxes: np.ndarray, previous_box: np.ndarray | None) -> int:
    """Index of the signer's face among ``boxes`` (N, 4): the one overlapping the previous face, else the largest.

    Following the previous face keeps the crop on one person when someone else walks into the frame; the largest
    face is the one nearest the camera, which in sign-language footage is the signer.
    """
    if previous_box is not None:
        overlaps = [box_iou(box, previous_box) for box in boxes]
        if max(overlaps) > 0.3:
            return int(np.argmax(overlaps))
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return int(np.argmax(areas))


def fill_gaps(track: np.ndarray, max_gap: int) -> np.ndarray:
    """Fill NaN rows of ``track`` (T, D) that lie in runs of at most ``max_gap`` frames.

    Runs between two known rows are interpolated linearly; runs at the start or end are held at the nearest known
    row. Longer runs stay NaN (no face there).
    """
    filled = track.copy()
    known = np.flatnonzero(~np.isnan(track[:, 0]))
    if known.size == 0:
        return filled
    for left, right in itertools.pairwise(known):
        gap = right - left - 1
        if 0 < gap <= max_gap:
            weights = np.arange(1, gap + 1)[:, None] / (gap + 1)  # (gap, 1)
            filled[left + 1 : right] = track[left] + weights * (track[right] - track[left])
    first, last = known[0], known[-1]
    if first <= max_gap:
        filled[:first] = track[first]
    if len(track) - 1 - last <= max_gap:
        filled[last + 1 :] = track[last]
    return filled


def smooth_runs(track: np.ndarray, mask: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average of ``track`` (T, D) over ``window`` frames, within each run of True in ``mask``.

    Near a run's ends the window shrinks symmetrically (down to the frame itself), so a face moving at constant
    speed is not pulled back towards where it was: smoothing never lags.

    Each frame's window is summed on its own, in the same order wherever the run starts (not as a difference of
    running sums), so ``FaceTrack``, which smooths a clip slice by slice, gets the same bits as the whole clip.
    """
    smoothed = track.copy()
    if window <= 1:
        return smoothed
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        run = track[start:stop]  # (L, D)
        length = len(run)
        index = np.arange(length)
        half = np.minimum(np.minimum(index, length - 1 - index), window // 2)
        total = run.copy()
        for offset in range(1, window // 2 + 1):
            rows = index[half >= offset]  # frames whose window reaches `offset` frames either side
            total[rows] += run[rows - offset] + run[rows + offset]
        smoothed[start:stop] = total / (2 * half + 1)[:, None]
    return smoothed


def crop_square(frame: np.ndarray, square: np.ndarray, size: int, out: np.ndarray | None = None) -> np.ndarray:
    """Cut the square (centre x, centre y, side) out of ``frame`` (H, W, 3), zero padded, resized to ``size``;
    written into ``out`` ((size, size, 3) uint8, C-contiguous) when given."""
    import cv2

    centre_x, centre_y, side = square
    side_px = max(2, round(side))
    x0, y0 = round(centre_x - side_px / 2), round(centre_y - side_px / 2)
    height, width = frame.shape[:2]
    if x0 >= 0 and y0 >= 0 and x0 + side_px <= width and y0 + side_px <= height:
        region = frame[y0 : y0 + side_px, x0 : x0 + side_px]  # a view: OpenCV reads it in place, no copy
    else:
        region = np.zeros((side_px, side_px, 3), dtype=np.uint8)
        src_x0, src_y0 = max(x0, 0), max(y0, 0)
        src_x1, src_y1 = min(x0 + side_px, width), min(y0 + side_px, height)
        if src_x1 > src_x0 and src_y1 > src_y0:
            region[src_y0 - y0 : src_y1 - y0, src_x0 - x0 : src_x1 - x0] = frame[src_y0:src_y1, src_x0:src_x1]
    # INTER_AREA averages when shrinking (no aliasing on a 300 px face cut to 32 px); linear when enlarging.
    interpolation = cv2.INTER_AREA if side_px > size else cv2.INTER_LINEAR
    return cv2.resize(region, (size, size), dst=out, interpolation=interpolation)


# --- input checks -------------------------------------------------------------------------------------------------


def _check_frames(frames: np.ndarray) -> np.ndarray:
    if not isinstance(frames, np.ndarray):
        raise SignBindInputError(f"frames must be a numpy array (T, H, W, 3) uint8 RGB, got {type(frames).__name__}.")
    if frames.ndim != 4 or frames.shape[-1] != 3 or 0 in frames.shape:
        raise SignBindInputError(f"frames must have shape (T, H, W, 3) with T, H, W >= 1, got {frames.shape}.")
    if frames.dtype != np.uint8:
        raise SignBindInputError(f"frames must be uint8 RGB (0-255), got dtype {frames.dtype}.")
    return frames


def _check_boxes(boxes: np.ndarray, frames_shape: tuple[int, ...], normalized: bool) -> np.ndarray:
    """Validate given face boxes and return them as float64 pixels (T, 4); NaN rows mean no face."""
    num_frames, height, width = frames_shape[:3]
    boxes = np.array(boxes, dtype=np.float64)
    if boxes.shape != (num_frames, 4):
        raise SignBindInputError(
            f"boxes must have shape (T, 4) = ({num_frames}, 4) x0, y0, x1, y1, got {boxes.shape}."
        )
    missing = np.isnan(boxes)
    partial = missing.any(axis=1) & ~missing.all(axis=1)
    if partial.any():
        raise SignBindInputError(
            f"boxes rows {np.flatnonzero(partial).tolist()} are partly NaN: a frame without a face needs all four "
            f"values NaN."
        )
    present = ~missing.all(axis=1)
    if np.isinf(boxes[present]).any():
        raise SignBindInputError("boxes contain infinite values; use NaN rows for frames without a face.")
    bad = present & ((boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1]))
    if bad.any():
        raise SignBindInputError(
            f"boxes rows {np.flatnonzero(bad)[:10].tolist()} are not x0, y0, x1, y1 with x1 > x0 and y1 > y0."
        )
    if normalized:
        boxes = boxes * np.array([width, height, width, height])
    elif present.any() and np.abs(boxes[present]).max() <= 1.0 and max(height, width) > 2:
        raise SignBindInputError(
            "boxes look normalized (every coordinate is within [0, 1]) but normalized_boxes is False; pass "
            "normalized_boxes=True, or pixel coordinates."
        )
    return boxes
