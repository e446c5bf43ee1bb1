"""The renderer's own keypoints: where the synthetic signer's hands and body are drawn, in MediaPipe's layout.

SynthSign ships them beside each clip as ``<clip>.pose`` (``pose-format``; the layout and component names of
``signbind_hf.keypoints_signbind``), as real data sets ship estimated poses (How2Sign's OpenPose keypoints):
a model trained on them sees the drawn geometry exactly, and the processor reads the sidecar instead of running the
hand and body extractor on cartoon hands. x/y are in the clip's pixels, z is 0 (the drawing is flat).

What is drawn, and where each MediaPipe point is put (confidence 1):

- hands (21 points each): every finger is one straight stroke from its base on the palm disc to its tip, so a
  finger's MCP is the stroke's base, its TIP the stroke's end, and PIP / DIP a third and two thirds along it (a
  folded finger is a short stroke: its four points lie along that stub). The thumb's MCP, IP and TIP are the base,
  middle and end of its stroke; its CMC, inside the palm disc, halfway between the wrist and the thumb's base. The
  WRIST is where the forearm meets the palm disc.
- body (of the 33 points): the shoulders (the shoulder circles' centres), elbows and wrists (the joints of the drawn
  arms), the pose's PINKY and INDEX (the hand's pinky and index MCP) and THUMB (the thumb's IP), the eyes (the eye
  dots' centres; EYE_INNER / EYE_OUTER their edges towards and away from the face's midline) and the mouth corners
  (the drawn mouth's ends, whose width follows the viseme).

Not drawn, so confidence 0 and coordinates 0: the nose and the ears (the head is a plain ellipse), and the hips,
knees, ankles, heels and feet (the torso runs off the bottom of the frame). Points of a drawn part keep confidence 1
even where the drawing runs off the frame's edge or one hand covers the other: they are the drawing's truth.

Left and right are the signer's own (``keypoints_signbind``): the signer faces the camera, so the signer's
left hand appears on the image's right; ``hands[:, LEFT]`` is the dominant hand of a left-handed signer.
"""

import math

import numpy as np

from signbind_hf.keypoints_signbind import LEFT, NUM_HAND_POINTS, NUM_POSE_POINTS, POSE_POINTS, RIGHT, Keypoints

from . import space
from .appearance import ClipAppearance
from .handshapes import HANDSHAPES
from .render import Point, arm_joints, hand_side, hand_strokes
from .timeline import ClipTimeline
from .visemes import VISEME_SHAPES, VISEMES

POSE_INDEX = {name: index for index, name in enumerate(POSE_POINTS)}
EYE_RADIUS = 0.04  # signer units: the drawn eye dots' radius (``render.draw_head``)
# The pose points the drawing has, per signer side; every other pose point stays at confidence 0.
_DRAWN_PARTS = ("EYE_INNER", "EYE", "EYE_OUTER", "SHOULDER", "ELBOW", "WRIST", "PINKY", "INDEX", "THUMB")
DRAWN_POSE_POINTS = (
    *(f"{side}_{part}" for side in ("LEFT", "RIGHT") for part in _DRAWN_PARTS),
    "MOUTH_LEFT",
    "MOUTH_RIGHT",
)


def _along(start: Point, end: Point, fraction: float) -> Point:
    return (start[0] + fraction * (end[0] - start[0]), start[1] + fraction * (end[1] - start[1]))


def hand_points(elbow: Point, palm: Point, strokes: list[tuple[Point, Point]], palm_radius: float) -> np.ndarray:
    """(21, 2) pixels of one drawn hand in MediaPipe's hand order, from its arm and its finger strokes."""
    dx, dy = elbow[0] - palm[0], elbow[1] - palm[1]
    length = max(math.hypot(dx, dy), 1e-6)
    wrist = (palm[0] + palm_radius * dx / length, palm[1] + palm_radius * dy / length)
    thumb_base, thumb_tip = strokes[4]
    points = [wrist, _along(wrist, thumb_base, 0.5), thumb_base, _along(thumb_base, thumb_tip, 0.5), thumb_tip]
    for base, tip in strokes[:4]:  # index, middle, ring, pinky
        points += [base, _along(base, tip, 1 / 3), _along(base, tip, 2 / 3), tip]
    return np.asarray(points, dtype=np.float32)


def _face_points(appearance: ClipAppearance, frame: int, viseme: int) -> dict[str, Point]:
    """Eyes and mouth corners (pixels) of the drawn head, by MediaPipe pose point name."""
    points = {}
    unit = appearance.unit
    for side_name, image_side in (("LEFT", 1), ("RIGHT", -1)):  # the signer's left appears on the image's right
        centre = appearance.to_pixels((0.0, space.EYE_Y), hand=0, frame=frame)
        eye_x = centre[0] + image_side * space.EYE_X * unit
        points[f"{side_name}_EYE"] = (eye_x, centre[1])
        points[f"{side_name}_EYE_INNER"] = (eye_x - image_side * EYE_RADIUS * unit, centre[1])
        points[f"{side_name}_EYE_OUTER"] = (eye_x + image_side * EYE_RADIUS * unit, centre[1])
    mouth = appearance.to_pixels((0.0, space.MOUTH_Y), hand=0, frame=frame)
    half_width = 0.5 * space.MOUTH_WIDTH * unit * VISEME_SHAPES[VISEMES[viseme]].width
    points["MOUTH_LEFT"] = (mouth[0] + half_width, mouth[1])
    points["MOUTH_RIGHT"] = (mouth[0] - half_width, mouth[1])
    return points


def frame_keypoints(appearance: ClipAppearance, timeline: ClipTimeline, frame: int) -> tuple[np.ndarray, np.ndarray]:
    """Pose (33, 2) and hands (2, 21, 2) pixels of frame ``frame`` as the renderer draws it (hands[LEFT] first)."""
    pose = np.zeros((NUM_POSE_POINTS, 2), dtype=np.float32)
    hands = np.zeros((2, NUM_HAND_POINTS, 2), dtype=np.float32)
    named = _face_points(appearance, frame, int(timeline.visemes[frame]))
    palm_radius = space.PALM_RADIUS * appearance.unit
    for hand in (0, 1):  # 0 dominant, 1 non-dominant
        shoulder, elbow, palm = arm_joints(appearance, timeline, frame, hand)
        handshape = HANDSHAPES[int(timeline.handshapes[frame, hand])]
        strokes = hand_strokes(palm, appearance.unit, handshape, hand_side(appearance, hand))
        points = hand_points(elbow, palm, strokes, palm_radius)
        # hand_side +1 is the image's right: the signer's left.
        signer_side = LEFT if hand_side(appearance, hand) == 1 else RIGHT
        hands[signer_side] = points
        side_name = "LEFT" if signer_side == LEFT else "RIGHT"
        named[f"{side_name}_SHOULDER"] = shoulder
        named[f"{side_name}_ELBOW"] = elbow
        named[f"{side_name}_WRIST"] = tuple(points[0])
        named[f"{side_name}_PINKY"] = tuple(points[17])
        named[f"{side_name}_INDEX"] = tuple(points[5])
        named[f"{side_name}_THUMB"] = tuple(points[3])
    for name, point in named.items():
        pose[POSE_INDEX[name]] = point
    return pose, hands


def clip_keypoints(appearance: ClipAppearance, timeline: ClipTimeline, fps: float) -> Keypoints:
    """The ``Keypoints`` of a whole clip as the renderer draws it (see the module docstring for what is drawn)."""
    num_frames = timeline.num_frames
    pose = np.zeros((num_frames, NUM_POSE_POINTS, 3), dtype=np.float32)
    hands = np.zeros((num_frames, 2, NUM_HAND_POINTS, 3), dtype=np.float32)
    for frame in range(num_frames):
        pose[frame, :, :2], hands[frame, :, :, :2] = frame_keypoints(appearance, timeline, frame)
    pose_confidence = np.zeros((num_frames, NUM_POSE_POINTS), dtype=np.float32)
    pose_confidence[:, [POSE_INDEX[name] for name in DRAWN_POSE_POINTS]] = 1.0
    return Keypoints(
        pose=pose,
        pose_confidence=pose_confidence,
        hands=hands,
        hand_confidence=np.ones((num_frames, 2, NUM_HAND_POINTS), dtype=np.float32),
        fps=float(fps),
        width=appearance.width,
        height=appearance.height,
    )
