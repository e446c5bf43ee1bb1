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

This module is numpy only: the detectors that locate faces (``MediaPipeFaceCropper``, ``OpenCVFaceCropper``)
live with the other landmark models in ``landmark_models_signbind``.
"""

import itertools
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .errors import SignBindInputError

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
            linear, so it is exact for a face moving steadily; 0.75 tolerates a shift of up to ~14 % of the face
            between keyframes at a fraction of the detector calls of a stricter value (benchmarks/RESULTS.md).
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


# --- geometry on (T, ...) arrays ----------------------------------------------------------------------------------


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
