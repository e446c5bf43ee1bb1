"""Hand and body keypoints as data: their layout, the ``Keypoints`` of a clip, ``.pose`` files, and model inputs.

Extraction from video (MediaPipe) is ``keypoint_extraction_signbind``'s job; everything here is numpy (and
``pose-format``, imported on use, for files).

Layout: MediaPipe's 33 body points and 21 points per hand, their names and the bones between them. One source of truth for the order of points in ``Keypoints`` arrays and in ``.pose`` files (the component names are
MediaPipe Holistic's, as the sign-language processing community's ``pose-format`` writes them). The names and bones
equal MediaPipe's own ``PoseLandmark`` / ``HandLandmark`` enums and connection lists (checked by
``tests/video/test_keypoints.py``); they are spelled out here so that reading the layout needs no MediaPipe.

Left and right are the body's own as it appears in the image: ``LEFT_SHOULDER`` is the signer's left shoulder, on the
image's right in a camera's (not mirrored) view; ``LEFT_HAND_LANDMARKS`` is the hand at the end of the left arm.

Pose files: ``Keypoints`` are read from and written to ``.pose`` files, the sign-language processing community's
format (``pose-format``). A file holds one person and three components named as MediaPipe Holistic names them, as ``pose-format``'s own
MediaPipe reader writes them: ``POSE_LANDMARKS`` (33 points), ``LEFT_HAND_LANDMARKS`` and ``RIGHT_HAND_LANDMARKS``
(21 each), points in MediaPipe's order (the layout above), point format ``XYZC``: x/y in the video's own
pixels, z scaled like x, and a confidence that is 0 for points not found. The header carries the video's width and
height, the body its fps. Holistic's ``FACE_LANDMARKS`` and ``POSE_WORLD_LANDMARKS`` are not written (no face mesh is
part of the extractor), so readers that select components by name find the three above.

``pose-format`` is imported on use: only writing or reading a file needs it.

Model inputs: a clip's hand and body points on the processor's frame grid, normalised by the shoulders.
``SignBindVideoProcessor(keypoints=True)`` returns, beside the frames, ``keypoints`` (B, T, K, 2) and
``keypoint_mask`` (B, T, K) for K = 75 points in the order of a ``.pose`` file: MediaPipe's 33 body points, then the
left hand's 21, then the right hand's 21 (the layout above). Where they come from, in this order: the
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

import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import SignBindInputError

logger = logging.getLogger(__name__)


# --- layout ----------------------------------------------------------------------------------------------------------


POSE_COMPONENT = "POSE_LANDMARKS"
LEFT_HAND_COMPONENT = "LEFT_HAND_LANDMARKS"
RIGHT_HAND_COMPONENT = "RIGHT_HAND_LANDMARKS"
# Index along the hands axis of Keypoints.hands: (T, 2, 21, 3) holds the left hand first.
HAND_COMPONENTS = (LEFT_HAND_COMPONENT, RIGHT_HAND_COMPONENT)
LEFT, RIGHT = 0, 1

POSE_POINTS = (
    "NOSE",
    "LEFT_EYE_INNER",
    "LEFT_EYE",
    "LEFT_EYE_OUTER",
    "RIGHT_EYE_INNER",
    "RIGHT_EYE",
    "RIGHT_EYE_OUTER",
    "LEFT_EAR",
    "RIGHT_EAR",
    "MOUTH_LEFT",
    "MOUTH_RIGHT",
    "LEFT_SHOULDER",
    "RIGHT_SHOULDER",
    "LEFT_ELBOW",
    "RIGHT_ELBOW",
    "LEFT_WRIST",
    "RIGHT_WRIST",
    "LEFT_PINKY",
    "RIGHT_PINKY",
    "LEFT_INDEX",
    "RIGHT_INDEX",
    "LEFT_THUMB",
    "RIGHT_THUMB",
    "LEFT_HIP",
    "RIGHT_HIP",
    "LEFT_KNEE",
    "RIGHT_KNEE",
    "LEFT_ANKLE",
    "RIGHT_ANKLE",
    "LEFT_HEEL",
    "RIGHT_HEEL",
    "LEFT_FOOT_INDEX",
    "RIGHT_FOOT_INDEX",
)
POSE_LIMBS = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)  # fmt: skip

HAND_POINTS = (
    "WRIST",
    "THUMB_CMC",
    "THUMB_MCP",
    "THUMB_IP",
    "THUMB_TIP",
    "INDEX_FINGER_MCP",
    "INDEX_FINGER_PIP",
    "INDEX_FINGER_DIP",
    "INDEX_FINGER_TIP",
    "MIDDLE_FINGER_MCP",
    "MIDDLE_FINGER_PIP",
    "MIDDLE_FINGER_DIP",
    "MIDDLE_FINGER_TIP",
    "RING_FINGER_MCP",
    "RING_FINGER_PIP",
    "RING_FINGER_DIP",
    "RING_FINGER_TIP",
    "PINKY_MCP",
    "PINKY_PIP",
    "PINKY_DIP",
    "PINKY_TIP",
)
HAND_LIMBS = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11),
    (11, 12), (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17), (17, 18), (18, 19), (19, 20),
)  # fmt: skip

NUM_POSE_POINTS = len(POSE_POINTS)  # 33
NUM_HAND_POINTS = len(HAND_POINTS)  # 21
# The pose wrists: which detected hand is the left one and which the right is decided by the nearest of them.
POSE_WRISTS = (POSE_POINTS.index("LEFT_WRIST"), POSE_POINTS.index("RIGHT_WRIST"))


def mirrored_point_order() -> tuple[int, ...]:
    """For each point of the 75-point layout (body, left hand, right hand), the point it becomes in a mirrored image:
    body points change side by name (``LEFT_ELBOW`` <-> ``RIGHT_ELBOW``, ``MOUTH_LEFT`` <-> ``MOUTH_RIGHT``), the two
    hands change places."""
    swapped = {"LEFT": "RIGHT", "RIGHT": "LEFT"}
    body = [POSE_POINTS.index("_".join(swapped.get(word, word) for word in name.split("_"))) for name in POSE_POINTS]
    left = range(NUM_POSE_POINTS, NUM_POSE_POINTS + NUM_HAND_POINTS)
    right = range(NUM_POSE_POINTS + NUM_HAND_POINTS, NUM_POSE_POINTS + 2 * NUM_HAND_POINTS)
    return (*body, *right, *left)


MIRRORED_POINTS = mirrored_point_order()


# --- a clip's keypoints ----------------------------------------------------------------------------------------------


@dataclass
class Keypoints:
    """Keypoints of a clip of T frames, x/y in pixels of frames ``width`` x ``height``, at ``fps`` frames a second.

    Point order and names: ``keypoints_signbind`` (MediaPipe's). Where nothing was found, points are zero and
    their confidence is 0.
    """

    pose: np.ndarray  # (T, 33, 3) float32 x, y, z
    pose_confidence: np.ndarray  # (T, 33) float32 visibility in [0, 1]
    hands: np.ndarray  # (T, 2, 21, 3) float32 x, y, z; hands[:, 0] the left hand, hands[:, 1] the right
    hand_confidence: np.ndarray  # (T, 2, 21) float32: 1 where the hand was found
    fps: float
    width: int
    height: int

    @property
    def num_frames(self) -> int:
        return len(self.pose)

    @property
    def pose_found(self) -> np.ndarray:
        """(T,) bool: a body was found in the frame."""
        return self.pose_confidence.any(axis=1)

    @property
    def hands_found(self) -> np.ndarray:
        """(T, 2) bool: the left / right hand was found in the frame."""
        return self.hand_confidence.any(axis=2)


# --- .pose files -----------------------------------------------------------------------------------------------------


POINT_FORMAT = "XYZC"
POSE_COLOURS = [(255, 0, 0)]  # pose-format's Holistic body colour


def sidecar_pose_path(video: str | os.PathLike) -> Path:
    """Where a video's keypoints live beside it: ``clip.mp4`` -> ``clip.pose`` (``pose-format``'s convention, as its
    ``video_to_pose`` writes them). SynthSign writes its clips' keypoints there; the processor reads them from there.
    """
    return Path(video).with_suffix(".pose")


def keypoints_to_pose(keypoints: Keypoints):
    """A ``pose_format.Pose`` holding ``keypoints`` (one person; data (T, 1, 75, 3), confidence (T, 1, 75))."""
    from pose_format import Pose
    from pose_format.numpy.pose_body import NumPyPoseBody
    from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions
    from pose_format.utils.openpose import hand_colors

    components = [
        PoseHeaderComponent(
            name=POSE_COMPONENT,
            points=list(POSE_POINTS),
            limbs=list(POSE_LIMBS),
            colors=POSE_COLOURS,
            point_format=POINT_FORMAT,
        ),
        *(
            PoseHeaderComponent(
                name=name,
                points=list(HAND_POINTS),
                limbs=list(HAND_LIMBS),
                colors=hand_colors,
                point_format=POINT_FORMAT,
            )
            for name in HAND_COMPONENTS
        ),
    ]
    header = PoseHeader(
        version=0.2,
        dimensions=PoseHeaderDimensions(width=keypoints.width, height=keypoints.height, depth=0),
        components=components,
    )
    num_frames = keypoints.num_frames
    data = np.concatenate(
        [keypoints.pose, keypoints.hands.reshape(num_frames, 2 * NUM_HAND_POINTS, 3)], axis=1
    )  # (T, 75, 3)
    confidence = np.concatenate(
        [keypoints.pose_confidence, keypoints.hand_confidence.reshape(num_frames, 2 * NUM_HAND_POINTS)], axis=1
    )  # (T, 75)
    # Given a plain array, pose-format masks the points whose confidence is 0: how its readers tell "not found".
    body = NumPyPoseBody(
        fps=keypoints.fps, data=data[:, None].astype(np.float32), confidence=confidence[:, None].astype(np.float32)
    )
    return Pose(header, body)


def write_pose_file(keypoints: Keypoints, path: str | os.PathLike) -> Path:
    """Write ``keypoints`` to ``path`` (a ``.pose`` file), atomically: a temporary file in the same folder renamed
    when complete, so that an interrupted run never leaves a half-written ``.pose`` behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pose = keypoints_to_pose(keypoints)
    # A new name opened exclusively, not tempfile.mkstemp: mkstemp's files are private (0600), and a data set's
    # .pose files must be as readable as its videos (the umask decides, as for any file written with open()).
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(temporary, "xb") as file:
            pose.write(file)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def read_pose_file(path: str | os.PathLike) -> Keypoints:
    """The ``Keypoints`` of a ``.pose`` file with the three components above (as ``write_pose_file`` writes them,
    or as ``pose-format``'s MediaPipe Holistic reader does: other components are ignored; the first person is read).
    """
    from pose_format import Pose

    path = Path(path)
    try:
        pose = Pose.read(path.read_bytes())
    except OSError as error:
        raise SignBindInputError(f"{path}: cannot be read ({error}).") from error
    except Exception as error:  # pose-format raises struct/Value/Index errors on a file that is not a .pose
        raise SignBindInputError(f"{path}: not a readable .pose file ({type(error).__name__}: {error}).") from error
    found = {component.name: component for component in pose.header.components}
    expected = {POSE_COMPONENT: NUM_POSE_POINTS, **dict.fromkeys(HAND_COMPONENTS, NUM_HAND_POINTS)}
    for name, count in expected.items():
        if name not in found or len(found[name].points) != count:
            have = ", ".join(f"{c.name} ({len(c.points)} points)" for c in pose.header.components)
            raise SignBindInputError(
                f"{path}: expected components {', '.join(f'{n} ({c} points)' for n, c in expected.items())}; "
                f"the file has {have}."
            )
    selected = pose.get_components(list(expected))
    data = np.ma.getdata(selected.body.data)[:, 0, :, :3].astype(np.float32)  # (T, 75, 3)
    confidence = np.asarray(selected.body.confidence)[:, 0].astype(np.float32)  # (T, 75)
    num_frames = len(data)
    hands = data[:, NUM_POSE_POINTS:].reshape(num_frames, 2, NUM_HAND_POINTS, 3)
    hand_confidence = confidence[:, NUM_POSE_POINTS:].reshape(num_frames, 2, NUM_HAND_POINTS)
    return Keypoints(
        pose=np.where(confidence[:, :NUM_POSE_POINTS, None] > 0, data[:, :NUM_POSE_POINTS], 0.0).astype(np.float32),
        pose_confidence=confidence[:, :NUM_POSE_POINTS],
        hands=np.where(hand_confidence[..., None] > 0, hands, 0.0).astype(np.float32),
        hand_confidence=hand_confidence,
        fps=float(selected.body.fps),
        width=int(pose.header.dimensions.width),
        height=int(pose.header.dimensions.height),
    )


# --- model inputs: on the processor's frames, normalised by the shoulders --------------------------------------------


NUM_KEYPOINTS = NUM_POSE_POINTS + 2 * NUM_HAND_POINTS  # 75: body, left hand, right hand
KEYPOINT_CHANNELS = 2  # x, y (see the module docstring for why not z)
SHOULDERS = (POSE_POINTS.index("LEFT_SHOULDER"), POSE_POINTS.index("RIGHT_SHOULDER"))
# Without shoulders anywhere in a clip: the scale is this fraction of the frame's width.
FALLBACK_SCALE_OF_WIDTH = 1 / 3
MIN_SCALE = 1e-3  # pixels: shoulders seen exactly edge-on must not divide by zero


def load_keypoints(value: Any, name: str) -> Keypoints:
    """A ``keypoints=`` argument for one video: a ``Keypoints``, or the path of a ``.pose`` file."""
    if isinstance(value, Keypoints):
        return check_keypoint_values(value, f"{name}: the keypoints given")
    if isinstance(value, str | os.PathLike):
        if not Path(value).is_file():
            raise SignBindInputError(f"{name}: keypoints file {value} does not exist; expected a .pose file.")
        return check_keypoint_values(read_pose_file(value), str(value))
    raise SignBindInputError(
        f"{name}: keypoints must be a Keypoints or the path of a .pose file (one per video); got {type(value).__name__}"
    )


def sidecar_keypoints(source: Any) -> Keypoints | None:
    """The keypoints in a video file's sidecar ``<video>.pose``, if the video is a file that has one."""
    if not isinstance(source, str | os.PathLike) or Path(source).is_dir():
        return None
    path = sidecar_pose_path(source)
    return check_keypoint_values(read_pose_file(path), str(path)) if path.is_file() else None


def check_keypoint_values(keypoints: Keypoints, what: str) -> Keypoints:
    """``keypoints`` when every confidence is finite and every point found (confidence above 0) has finite
    coordinates: keypoints from outside (an argument, a ``.pose`` file) are where NaN can enter the model's inputs,
    and the model does not read its inputs' values. Points not found may hold anything: they become 0, masked."""
    for part, points, confidence in (
        ("body", keypoints.pose, keypoints.pose_confidence),
        ("hand", keypoints.hands, keypoints.hand_confidence),
    ):
        if not np.isfinite(confidence).all():
            raise SignBindInputError(f"{what}: NaN or infinite {part} point confidences; expected values in [0, 1].")
        if not np.isfinite(points[confidence > 0]).all():
            raise SignBindInputError(
                f"{what}: NaN or infinite coordinates at {part} points marked found (confidence above 0)."
            )
    return keypoints


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
