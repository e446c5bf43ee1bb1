"""Drawing the synthetic signer: background, torso, head with a mouthing mouth, arms and hands, one frame at a time.

OpenCV draws with anti-aliasing at 1/16-pixel precision (``shift=4``), so slow movements and sub-pixel sway change the
pixels smoothly instead of jumping a whole pixel. Frames are RGB uint8.
"""

import math

import cv2
import numpy as np

from . import space
from .appearance import ClipAppearance, Colour
from .handshapes import HANDSHAPES, Handshape
from .timeline import ClipTimeline
from .visemes import VISEME_SHAPES, VISEMES, MouthShape

_SHIFT = 4  # OpenCV fixed-point bits: coordinates are given in 1/16 pixels
_SCALE = 1 << _SHIFT
_AA = cv2.LINE_AA

# Finger directions relative to the hand's direction, index to pinky (negative is towards the thumb), in degrees.
_SPREAD_FINGERS = (-33.0, -11.0, 11.0, 33.0)
_CLOSED_FINGERS = (-20.0, -7.0, 7.0, 20.0)
_FINGER_LENGTHS = (0.95, 1.05, 1.0, 0.8)  # relative to space.FINGER_LENGTH
_MOUTH_INSIDE: Colour = (45, 12, 18)
_TEETH: Colour = (245, 245, 240)
_TONGUE: Colour = (205, 85, 95)
_EYES: Colour = (25, 20, 20)


def _point(x: float, y: float) -> tuple[int, int]:
    return (round(x * _SCALE), round(y * _SCALE))


def _circle(frame: np.ndarray, centre: tuple[float, float], radius: float, colour: Colour) -> None:
    cv2.circle(frame, _point(*centre), max(round(radius * _SCALE), 1), colour, -1, _AA, _SHIFT)


def _ellipse(
    frame: np.ndarray, centre: tuple[float, float], half_width: float, half_height: float, colour: Colour
) -> None:
    axes = (max(round(half_width * _SCALE), 1), max(round(half_height * _SCALE), 1))
    cv2.ellipse(frame, _point(*centre), axes, 0.0, 0.0, 360.0, colour, -1, _AA, _SHIFT)


def _line(frame: np.ndarray, start, end, colour: Colour, width: float) -> None:
    # Thick lines are drawn with integer widths; OpenCV rounds their ends.
    cv2.line(frame, _point(*start), _point(*end), colour, max(round(width), 1), _AA, _SHIFT)


def _polygon(frame: np.ndarray, points: list[tuple[float, float]], colour: Colour) -> None:
    cv2.fillPoly(frame, [np.array([_point(*point) for point in points], dtype=np.int32)], colour, _AA, _SHIFT)


def _darker(colour: Colour, factor: float) -> Colour:
    return tuple(int(channel * factor) for channel in colour)  # type: ignore[return-value]


def make_background(appearance: ClipAppearance) -> np.ndarray:
    """The clip's static background: a vertical colour gradient with a fixed noise texture (RGB uint8)."""
    height, width = appearance.height, appearance.width
    weight = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top = np.asarray(appearance.background_top, dtype=np.float32)
    bottom = np.asarray(appearance.background_bottom, dtype=np.float32)
    gradient = top * (1 - weight) + bottom * weight
    noise = np.random.default_rng(appearance.background_seed).normal(
        0.0, appearance.background_noise, (height, width, 1)
    )
    return np.clip(np.broadcast_to(gradient, (height, width, 3)) + noise, 0, 255).astype(np.uint8)


def draw_mouth(
    frame: np.ndarray, centre: tuple[float, float], unit: float, shape: MouthShape, lips: Colour, skin: Colour
) -> None:
    """Draw a mouth of ``shape`` centred at ``centre`` (pixels) for a head ``unit`` pixels tall."""
    neutral_width = space.MOUTH_WIDTH * unit
    half_width = 0.5 * neutral_width * shape.width
    lip = 0.06 * unit * (1.0 + 0.6 * shape.rounding)
    if shape.opening == 0.0:
        if shape.pressed:  # lips rolled in and pressed: no red shows, only a dark seam in a slight shadow
            _ellipse(frame, centre, half_width, 0.7 * lip, _darker(skin, 0.85))
            _line(
                frame,
                (centre[0] - half_width, centre[1]),
                (centre[0] + half_width, centre[1]),
                _MOUTH_INSIDE,
                0.05 * unit,
            )
        else:  # relaxed: full lips with a faint seam
            _ellipse(frame, centre, half_width, lip, lips)
            seam = (centre[0] - 0.8 * half_width, centre[1]), (centre[0] + 0.8 * half_width, centre[1])
            _line(frame, *seam, _darker(lips, 0.6), 1)
        return
    half_opening = 0.5 * shape.opening * neutral_width
    _ellipse(frame, centre, half_width, half_opening + lip, lips)
    inner_half_width = max(half_width - lip * (0.6 + shape.rounding), 0.3 * half_width)
    _ellipse(frame, centre, inner_half_width, half_opening, _MOUTH_INSIDE)
    if shape.teeth:  # the upper teeth fill the top of the opening
        teeth_centre = (centre[0], centre[1] - 0.55 * half_opening)
        _ellipse(frame, teeth_centre, 0.8 * inner_half_width, 0.45 * half_opening, _TEETH)
    if shape.tongue:  # the tongue tip between the teeth
        tongue_centre = (centre[0], centre[1] + 0.35 * half_opening)
        _ellipse(frame, tongue_centre, 0.5 * inner_half_width, 0.5 * half_opening, _TONGUE)


def _direction(angle_degrees: float, side: int) -> tuple[float, float]:
    """Image-space unit vector of a signer-frame angle on the hand's ``side`` (+1: x as in the signer frame)."""
    radians = math.radians(angle_degrees)
    return (side * math.cos(radians), math.sin(radians))


Point = tuple[float, float]


def hand_strokes(palm: Point, unit: float, handshape: Handshape, side: int) -> list[tuple[Point, Point]]:
    """(start, end) pixels of the index, middle, ring and pinky fingers and the thumb, in that order, as
    ``draw_hand`` draws them: one straight stroke each, from its base on the palm disc to its tip."""
    palm_radius = space.PALM_RADIUS * unit
    finger_length = space.FINGER_LENGTH * unit
    offsets = _SPREAD_FINGERS if handshape.spread else _CLOSED_FINGERS
    strokes = []
    for extended, offset, length in zip(handshape.fingers, offsets, _FINGER_LENGTHS, strict=True):
        dx, dy = _direction(handshape.direction + offset, side)
        base = (palm[0] + 0.7 * palm_radius * dx, palm[1] + 0.7 * palm_radius * dy)
        reach = finger_length * (length if extended else 0.3)
        strokes.append((base, (base[0] + reach * dx, base[1] + reach * dy)))
    # The thumb sticks out towards the body's midline when extended, and lies folded across the palm otherwise.
    dx, dy = _direction(handshape.direction - (75.0 if handshape.thumb else 35.0), side)
    base = (palm[0] + 0.6 * palm_radius * dx, palm[1] + 0.6 * palm_radius * dy)
    reach = finger_length * (0.75 if handshape.thumb else 0.35)
    strokes.append((base, (base[0] + reach * dx, base[1] + reach * dy)))
    return strokes


def draw_hand(frame: np.ndarray, palm: Point, unit: float, handshape: Handshape, side: int, skin: Colour) -> None:
    """Draw a hand of ``handshape`` with its palm centre at ``palm`` (pixels); ``side`` is +1 or -1 (mirroring)."""
    palm_radius = space.PALM_RADIUS * unit
    finger_width = max(0.085 * unit, 2.0)
    outline = _darker(skin, 0.65)
    strokes = hand_strokes(palm, unit, handshape, side)
    # Outlines first, then fills, so neighbouring fingers stay separate at low resolution.
    for start, end in strokes:
        _line(frame, start, end, outline, finger_width + 2)
    _circle(frame, palm, palm_radius + 1, outline)
    for start, end in strokes:
        _line(frame, start, end, skin, finger_width)
    _circle(frame, palm, palm_radius, skin)


def _elbow(shoulder: tuple[float, float], wrist: tuple[float, float], unit: float, side: int) -> tuple[float, float]:
    """Two-bone inverse kinematics: the elbow of an arm reaching from ``shoulder`` to ``wrist``, bent down and out."""
    upper, lower = space.UPPER_ARM_LENGTH * unit, space.FOREARM_LENGTH * unit
    dx, dy = wrist[0] - shoulder[0], wrist[1] - shoulder[1]
    distance = min(math.hypot(dx, dy), (upper + lower) * 0.999)
    distance = max(distance, 1e-6)
    along = (upper**2 - lower**2 + distance**2) / (2 * distance)
    across = math.sqrt(max(upper**2 - along**2, 0.0))
    ux, uy = dx / max(math.hypot(dx, dy), 1e-6), dy / max(math.hypot(dx, dy), 1e-6)
    # The two solutions lie either side of the shoulder-wrist line; take the one further out on the arm's side,
    # breaking ties downwards, as elbows hang.
    candidates = [
        (shoulder[0] + along * ux - sign * across * uy, shoulder[1] + along * uy + sign * across * ux)
        for sign in (1, -1)
    ]
    return max(candidates, key=lambda point: side * point[0] + 0.5 * point[1])


def _draw_torso(frame: np.ndarray, appearance: ClipAppearance, frame_index: int) -> None:
    """Neck, torso and shoulders (the torso runs off the bottom of the frame)."""
    look, unit = appearance.look, appearance.unit

    def at(point: tuple[float, float], hand: int = 0) -> tuple[float, float]:
        return appearance.to_pixels(point, hand=hand, frame=frame_index)

    _polygon(frame, [at((-0.14, -0.2)), at((0.14, -0.2)), at((0.14, 0.4)), at((-0.14, 0.4))], look.skin)
    shoulder = space.SHOULDER
    torso = [at((-0.2, 0.18)), at((0.2, 0.18)), at((shoulder[0], shoulder[1] - 0.02)), at((0.9, 4.0)),
             at((-0.9, 4.0)), at((-shoulder[0], shoulder[1] - 0.02))]  # fmt: skip
    _polygon(frame, torso, look.shirt)
    for hand in (0, 1):
        _circle(frame, at(shoulder, hand), 0.16 * unit, look.shirt)


def draw_head(frame: np.ndarray, appearance: ClipAppearance, frame_index: int, viseme: int) -> None:
    """The head: a skin ellipse (its bounding box is ``appearance.face_box``), hair cap, eyes, and the mouth."""
    look, unit = appearance.look, appearance.unit
    half_width, half_height = look.head_width * unit, space.HEAD_HALF_HEIGHT * unit
    head_centre = appearance.to_pixels((0.0, space.HEAD_CENTRE_Y), hand=0, frame=frame_index)
    _ellipse(frame, head_centre, half_width, half_height, look.skin)
    # The hair is the part of the head ellipse above the hair line, so it never leaves the face box.
    hair_line = -1.0 + 2.0 * look.hair_coverage  # in units of the half height, from the top (-1)
    start = math.asin(hair_line)
    cap_angles = [math.pi - start + (math.pi + 2 * start) * step / 23 for step in range(24)]
    cap = [
        (head_centre[0] + half_width * math.cos(angle), head_centre[1] + half_height * math.sin(angle))
        for angle in cap_angles
    ]
    _polygon(frame, cap, look.hair)
    for eye_x in (-space.EYE_X, space.EYE_X):
        _circle(frame, appearance.to_pixels((eye_x, space.EYE_Y), hand=0, frame=frame_index), 0.04 * unit, _EYES)
    mouth_centre = appearance.to_pixels((0.0, space.MOUTH_Y), hand=0, frame=frame_index)
    draw_mouth(frame, mouth_centre, unit, VISEME_SHAPES[VISEMES[viseme]], look.lips, look.skin)


def hand_side(appearance: ClipAppearance, hand: int) -> int:
    """Image-x direction (+1 or -1) of ``hand``'s side (0 dominant, 1 non-dominant)."""
    return appearance.side if hand == 0 else -appearance.side


def arm_joints(
    appearance: ClipAppearance, timeline: ClipTimeline, frame_index: int, hand: int
) -> tuple[Point, Point, Point]:
    """Shoulder, elbow and palm centre (pixels) of ``hand``'s arm (0 dominant, 1 non-dominant) as drawn."""
    position = tuple(timeline.hand_positions[frame_index, hand].tolist())  # Python floats: round() is fast
    palm = appearance.to_pixels(position, hand=hand, frame=frame_index)
    shoulder = appearance.to_pixels(space.SHOULDER, hand=hand, frame=frame_index)
    return shoulder, _elbow(shoulder, palm, appearance.unit, hand_side(appearance, hand)), palm


def _draw_arms(frame: np.ndarray, appearance: ClipAppearance, timeline: ClipTimeline, frame_index: int) -> None:
    """Arms and hands, the non-dominant one first so that the dominant hand is drawn over it."""
    look, unit = appearance.look, appearance.unit
    sleeve = _darker(look.shirt, 0.8)
    for hand in (1, 0):
        shoulder, elbow, palm = arm_joints(appearance, timeline, frame_index, hand)
        _line(frame, shoulder, elbow, sleeve, 0.26 * unit)
        _line(frame, elbow, palm, sleeve, 0.22 * unit)
        handshape = HANDSHAPES[int(timeline.handshapes[frame_index, hand])]
        draw_hand(frame, palm, unit, handshape, hand_side(appearance, hand), look.skin)


def render_frame(
    appearance: ClipAppearance, background: np.ndarray, timeline: ClipTimeline, frame_index: int
) -> np.ndarray:
    """Frame ``frame_index`` of a clip: (H, W, 3) uint8 RGB."""
    frame = background.copy()
    _draw_torso(frame, appearance, frame_index)
    draw_head(frame, appearance, frame_index, int(timeline.visemes[frame_index]))
    _draw_arms(frame, appearance, timeline, frame_index)
    if appearance.lighting != 1.0:
        frame = cv2.convertScaleAbs(frame, alpha=appearance.lighting)
    return frame


def render_clip(appearance: ClipAppearance, timeline: ClipTimeline) -> np.ndarray:
    """All frames of a clip: (T, H, W, 3) uint8 RGB."""
    background = make_background(appearance)
    frames = np.empty((timeline.num_frames, appearance.height, appearance.width, 3), dtype=np.uint8)
    for index in range(timeline.num_frames):
        frames[index] = render_frame(appearance, background, timeline, index)
    return frames
