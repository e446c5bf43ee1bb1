"""The signer's body and signing space, in signer units: one source of truth for the renderer and the timeline.

Coordinates are in units of the head's height, from the neck point (the bottom of the chin), with x pointing out on
the side of the hand being placed (the dominant side for the dominant hand; the non-dominant hand is mirrored) and y
pointing down. ``geometry.SignerGeometry`` maps them onto pixels for one clip.
"""

import math
from collections.abc import Callable

# --- the body ------------------------------------------------------------------------------------------------------
HEAD_CENTRE_Y = -0.55  # the head is an ellipse one unit tall whose bottom touches the neck point
HEAD_HALF_HEIGHT = 0.5
# The mouth sits 73 % of the way down the face box, where the face cropper expects it in a BlazeFace-like box
# (``signbind_hf.face_tracking_signbind.MOUTH_CENTRE_IN_FACE_BOX``): the head's bounding box is the data set's face box.
MOUTH_Y = HEAD_CENTRE_Y - HEAD_HALF_HEIGHT + 0.73 * 2 * HEAD_HALF_HEIGHT
MOUTH_WIDTH = 0.36  # neutral mouth width
EYE_Y = HEAD_CENTRE_Y - 0.08
EYE_X = 0.15
SHOULDER = (0.75, 0.3)
UPPER_ARM_LENGTH = 0.95
FOREARM_LENGTH = 0.95
PALM_RADIUS = 0.18
FINGER_LENGTH = 0.38
HAND_REACH = PALM_RADIUS + FINGER_LENGTH + 0.05  # furthest a drawn finger gets from the palm centre (with its width)

# Hands never cover the mouth (the lipreading stream must see every viseme): a palm centre stays at least
# HAND_REACH from this box, which holds the widest and the tallest viseme with a margin.
MOUTH_CLEARANCE_BOX = (-0.3, MOUTH_Y - 0.25, 0.3, MOUTH_Y + 0.25)  # x0, y0, x1, y1

# --- where hands go ------------------------------------------------------------------------------------------------
REST_LOCATION = (0.45, 2.0)  # hands down in front of the hips
FINGERSPELLING_LOCATION = (1.0, -0.15)  # beside the face at chin height, on the dominant side
DOUBLE_LETTER_SLIDE = 0.22  # a repeated letter is made again a little further out, as signers do

LOCATIONS: dict[str, tuple[float, float]] = {
    "temple": (0.95, -0.7),
    "chest": (0.25, 0.8),
    "stomach": (0.3, 1.4),
    "opposite-shoulder": (-0.45, 0.65),
    "side": (1.1, 0.8),
    "neutral": (0.55, 1.05),
}


def _ease(progress: float) -> float:
    """Slow start and stop: hands accelerate and decelerate instead of moving at constant speed."""
    return 0.5 - 0.5 * math.cos(math.pi * progress)


def _triangle(value: float) -> float:
    """A triangle wave with period 1 between -1 and 1, 0 at 0."""
    phase = value % 1.0
    return 4 * phase - 1 if phase < 0.5 else 3 - 4 * phase


# Offsets (signer units) from a sign's location along its movement, as functions of progress in [0, 1].
MOVEMENTS: dict[str, Callable[[float], tuple[float, float]]] = {
    "tap": lambda p: (0.0, -0.14 * abs(math.sin(2 * math.pi * p))),
    "up": lambda p: (0.0, 0.3 - 0.6 * _ease(p)),
    "down": lambda p: (0.0, -0.3 + 0.6 * _ease(p)),
    "outward": lambda p: (-0.3 + 0.6 * _ease(p), 0.0),
    "inward": lambda p: (0.3 - 0.6 * _ease(p), 0.0),
    "circle": lambda p: (0.22 * math.cos(2 * math.pi * p) - 0.22, 0.22 * math.sin(2 * math.pi * p)),
    "arc": lambda p: (-0.3 * math.cos(math.pi * _ease(p)), -0.3 * math.sin(math.pi * _ease(p))),
    "zigzag": lambda p: (0.15 * _triangle(1.5 * p), -0.3 + 0.6 * p),
    "shake": lambda p: (0.13 * math.sin(2 * math.pi * 3 * p), 0.0),
}

# How the non-dominant hand takes part: not at all (it rests), mirroring the dominant hand, or mirroring it half a
# movement out of phase (alternating hands).
HAND_MODES = ("one", "two-symmetric", "two-alternating")


def hand_offset(movement: str, progress: float, *, hand: int, hand_mode: str) -> tuple[float, float]:
    """Offset of ``hand`` (0 dominant, 1 non-dominant) from the location at ``progress`` of a movement."""
    if hand == 1 and hand_mode == "two-alternating":
        progress = (progress + 0.5) % 1.0
    return MOVEMENTS[movement](progress)


def path_points(
    location: str, movement: str, *, hand: int, hand_mode: str, steps: int = 64
) -> list[tuple[float, float]]:
    """Palm centres (signer units) along a sign's whole movement, sampled at ``steps + 1`` progress values."""
    base_x, base_y = LOCATIONS[location]
    points = []
    for step in range(steps + 1):
        offset_x, offset_y = hand_offset(movement, step / steps, hand=hand, hand_mode=hand_mode)
        points.append((base_x + offset_x, base_y + offset_y))
    return points


def clears_mouth(x: float, y: float) -> bool:
    """Whether a palm centre at (x, y) keeps the whole hand off the mouth (the box is symmetric: either hand)."""
    x0, y0, x1, y1 = MOUTH_CLEARANCE_BOX
    dx = max(x0 - x, 0.0, x - x1)
    dy = max(y0 - y, 0.0, y - y1)
    return math.hypot(dx, dy) >= HAND_REACH


def sign_clears_mouth(location: str, movement: str, hand_mode: str) -> bool:
    """Whether every hand of a sign stays off the mouth for its whole movement."""
    hands = (0,) if hand_mode == "one" else (0, 1)
    return all(
        clears_mouth(x, y)
        for hand in hands
        for x, y in path_points(location, movement, hand=hand, hand_mode=hand_mode)
    )
