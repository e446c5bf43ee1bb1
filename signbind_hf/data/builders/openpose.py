"""OpenPose JSON keypoints (How2Sign releases them so) as ``Keypoints``, MediaPipe's layout.

Input: a folder of one clip, one file per frame, ``<name>_<frame:012d>_keypoints.json``, as OpenPose's
``--write_json`` writes them: ``{"people": [{"pose_keypoints_2d": [x, y, c] * 25, "hand_left_keypoints_2d":
[x, y, c] * 21, "hand_right_keypoints_2d": [x, y, c] * 21, "face_keypoints_2d": ...}, ...]}`` with x, y in pixels of
the video (OpenPose's default ``--keypoint_scale 0``) and c the detection confidence in [0, 1], 0 for a point not found.

The mapping onto ``keypoints_signbind``:

- body: OpenPose's BODY_25 points onto MediaPipe's 33 pose points of the same name: nose, eyes, ears, shoulders,
  elbows, wrists, hips, knees, ankles, heels, and the big toes onto ``*_FOOT_INDEX``. BODY_25's neck, mid-hip and small
  toes have no MediaPipe point and are dropped; MediaPipe's inner and outer eye corners, mouth corners and the pose
  model's pinky, index and thumb points have no OpenPose point and stay unfound (confidence 0).
- hands: OpenPose's 21 hand points are MediaPipe's 21, in the same order (wrist, then thumb, index, middle, ring and
  pinky from base to tip).
- left and right: both name the person's own sides (OpenPose's ``LShoulder`` and ``hand_left`` are the person's left,
  as MediaPipe's ``LEFT_SHOULDER`` and ``LEFT_HAND_LANDMARKS``), so nothing is swapped.
- confidence: OpenPose's c; a point with c 0 (or not a finite number) gets coordinates 0, as ``Keypoints`` wants.
- people: a frame with nobody in it is all 0; with several people, the signer is taken to be the one whose body
  points span the largest box (a passer-by in the background is smaller), the first listed on a tie.
- frames: frame ``i`` is the file numbered ``i``; a number missing from the folder is a frame with nobody in it (but
  numbers reaching far past the files there are refused: the folder is not one clip's frames).

z is 0 (OpenPose's 2-D output has no depth). fps, width and height are the clip's, given by the caller: the JSON
does not carry them.
"""

import json
import os
import re
from pathlib import Path

import numpy as np

from signbind_hf.errors import SignBindInputError
from signbind_hf.keypoints_signbind import LEFT, NUM_HAND_POINTS, NUM_POSE_POINTS, POSE_POINTS, RIGHT, Keypoints

BODY_25_POINTS = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "MidHip", "RHip", "RKnee",
    "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar", "LBigToe", "LSmallToe", "LHeel", "RBigToe",
    "RSmallToe", "RHeel",
)  # fmt: skip
BODY_25_TO_MEDIAPIPE = {
    "Nose": "NOSE",
    "LEye": "LEFT_EYE",
    "REye": "RIGHT_EYE",
    "LEar": "LEFT_EAR",
    "REar": "RIGHT_EAR",
    "LShoulder": "LEFT_SHOULDER",
    "RShoulder": "RIGHT_SHOULDER",
    "LElbow": "LEFT_ELBOW",
    "RElbow": "RIGHT_ELBOW",
    "LWrist": "LEFT_WRIST",
    "RWrist": "RIGHT_WRIST",
    "LHip": "LEFT_HIP",
    "RHip": "RIGHT_HIP",
    "LKnee": "LEFT_KNEE",
    "RKnee": "RIGHT_KNEE",
    "LAnkle": "LEFT_ANKLE",
    "RAnkle": "RIGHT_ANKLE",
    "LHeel": "LEFT_HEEL",
    "RHeel": "RIGHT_HEEL",
    "LBigToe": "LEFT_FOOT_INDEX",
    "RBigToe": "RIGHT_FOOT_INDEX",
}
# (BODY_25 index, MediaPipe pose index) of each mapped point.
_BODY_PAIRS = np.array(
    [
        (BODY_25_POINTS.index(openpose), POSE_POINTS.index(mediapipe))
        for openpose, mediapipe in BODY_25_TO_MEDIAPIPE.items()
    ]
)
BODY_KEY = "pose_keypoints_2d"
HAND_KEYS = {LEFT: "hand_left_keypoints_2d", RIGHT: "hand_right_keypoints_2d"}
FRAME_FILE = re.compile(r"_(\d+)_keypoints\.json$")
# Gaps tolerated in a folder's frame numbers: they may reach twice the files there (half the frames missing), plus a
# few in a short clip.
MAX_FRAMES_PER_FILE = 2
MAX_MISSING_FRAMES = 10


def read_openpose_folder(folder: str | os.PathLike, *, fps: float, width: int, height: int) -> Keypoints:
    """The ``Keypoints`` of a clip's OpenPose JSON folder (see the module docstring).

    Raises:
        SignBindInputError: the folder holds no ``*_keypoints.json`` file, two files for one frame, or a file that
            is not OpenPose JSON; the message names the file.
    """
    folder = Path(folder)
    files = frame_files(folder)
    num_frames = max(files) + 1
    if num_frames > MAX_FRAMES_PER_FILE * len(files) + MAX_MISSING_FRAMES:
        # Arrays are made for every frame number: a stray huge number must not allocate gigabytes.
        raise SignBindInputError(
            f"{folder}: its frame numbers reach {num_frames - 1} but it holds {len(files)} frame files: expected "
            "one clip's frames numbered from 0"
        )
    pose = np.zeros((num_frames, NUM_POSE_POINTS, 3), dtype=np.float32)
    pose_confidence = np.zeros((num_frames, NUM_POSE_POINTS), dtype=np.float32)
    hands = np.zeros((num_frames, 2, NUM_HAND_POINTS, 3), dtype=np.float32)
    hand_confidence = np.zeros((num_frames, 2, NUM_HAND_POINTS), dtype=np.float32)
    for frame, path in files.items():
        person = signer_of(_read_json(path), path)
        if person is None:
            continue
        body = _points(person, BODY_KEY, len(BODY_25_POINTS), path)  # (25, 3) x, y, c
        pose[frame, _BODY_PAIRS[:, 1], :2] = body[_BODY_PAIRS[:, 0], :2]
        pose_confidence[frame, _BODY_PAIRS[:, 1]] = body[_BODY_PAIRS[:, 0], 2]
        for side, key in HAND_KEYS.items():
            hand = _points(person, key, NUM_HAND_POINTS, path)  # (21, 3)
            hands[frame, side, :, :2] = hand[:, :2]
            hand_confidence[frame, side] = hand[:, 2]
    return Keypoints(
        pose=pose,
        pose_confidence=pose_confidence,
        hands=hands,
        hand_confidence=hand_confidence,
        fps=float(fps),
        width=int(width),
        height=int(height),
    )


def frame_files(folder: Path) -> dict[int, Path]:
    """The folder's ``*_<frame>_keypoints.json`` files by frame number; other files are ignored."""
    files: dict[int, Path] = {}
    for path in folder.iterdir():
        match = FRAME_FILE.search(path.name)
        if match is None:
            continue
        frame = int(match.group(1))
        if frame in files:
            raise SignBindInputError(f"{folder}: two files for frame {frame}: {files[frame].name} and {path.name}")
        files[frame] = path
    if not files:
        raise SignBindInputError(f"{folder}: no OpenPose frame files (<name>_<frame>_keypoints.json) in it")
    return files


def signer_of(frame: object, path: Path) -> dict | None:
    """The person of an OpenPose frame taken to be the signer (see the module docstring), None when nobody is in it."""
    people = frame.get("people") if isinstance(frame, dict) else None
    if not isinstance(people, list) or not all(isinstance(person, dict) for person in people):
        raise SignBindInputError(f"{path}: expected OpenPose JSON, an object whose `people` is a list of objects")
    if not people:
        return None
    areas = [_body_box_area(_points(person, BODY_KEY, len(BODY_25_POINTS), path)) for person in people]
    return people[int(np.argmax(areas))]  # argmax: the first of equal areas


def _body_box_area(body: np.ndarray) -> float:
    found = body[body[:, 2] > 0, :2]
    if len(found) < 2:
        return 0.0
    width, height = found.max(axis=0) - found.min(axis=0)
    return float(width * height)


def _points(person: dict, key: str, count: int, path: Path) -> np.ndarray:
    """(count, 3) x, y, c of one part of a person; all 0 where OpenPose left the part empty (not detected)."""
    values = person.get(key) or []
    if not isinstance(values, list) or len(values) not in (0, 3 * count):
        found = len(values) if isinstance(values, list) else type(values).__name__
        raise SignBindInputError(f"{path}: `{key}` must hold {3 * count} numbers (x, y, c per point), got {found}")
    if not values:
        return np.zeros((count, 3), dtype=np.float32)
    if not all(isinstance(value, int | float) and not isinstance(value, bool) for value in values):
        raise SignBindInputError(f"{path}: `{key}` holds something that is not a number")
    points = np.asarray(values, dtype=np.float64).reshape(count, 3)
    found = np.isfinite(points).all(axis=1) & (points[:, 2] > 0)
    return np.where(found[:, None], points, 0.0).astype(np.float32)


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_bytes())
    except OSError as error:
        raise SignBindInputError(f"{path}: cannot be read ({error})") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SignBindInputError(f"{path}: not JSON ({error})") from error


__all__ = ["BODY_25_POINTS", "BODY_25_TO_MEDIAPIPE", "frame_files", "read_openpose_folder", "signer_of"]
