"""From a sequence of signs and fingerspelled words to what the signer does in every frame.

The hands rest at the start, between units and at the end. A unit (one sign, or one fingerspelled word) is: the
hands travel out of the rest pose, perform the sign or hold each letter, and travel back. Every frame of a unit, its
transitions included, is labelled with the unit's segment class; only frames where both hands are exactly in the
rest pose are labelled rest.

The mouth mouths each unit's phonemes over the unit's frames, shifted later by the clip's lip offset (mouthing and
manual signing are not synchronous in real signing; the fusion module must learn to re-align them).
"""

import math
from dataclasses import dataclass, field

import numpy as np

from signbind_hf.constants import SEGMENT_FINGERSPELLING, SEGMENT_REST, SEGMENT_SIGN

from . import space
from .handshapes import LETTER_HANDSHAPE_IDS, REST_HANDSHAPE_ID
from .lexicon import ManualSign
from .visemes import NEUTRAL_VISEME, VISEMES

NEUTRAL_VISEME_ID = VISEMES.index(NEUTRAL_VISEME)


@dataclass(frozen=True)
class SignUnit:
    """One lexical sign: its gloss, manual sign and the viseme ids of its phonemes."""

    gloss: str
    sign: ManualSign
    visemes: tuple[int, ...]


@dataclass(frozen=True)
class FingerspellingUnit:
    """One fingerspelled word: its gloss token, its letters (A-Z) and the viseme ids of its phonemes."""

    gloss: str
    letters: str
    visemes: tuple[int, ...]


Unit = SignUnit | FingerspellingUnit


@dataclass(frozen=True)
class TimingStyle:
    """How one clip is signed: its speed and pauses, drawn once per clip (see ``sample_timing_style``).

    Attributes:
        speed: multiplies sign movement durations (< 1 signs faster).
        letter_frames: frames each fingerspelled letter is held.
        transition_frames: frames the hands take to travel between rest and a sign.
        rest_range: (low, high) frames of rest between two units, inclusive.
        start_rest: frames of rest before the first unit.
        end_rest: frames of rest after the last unit (always more than the lip offset, so the mouthing ends).
    """

    speed: float
    letter_frames: int
    transition_frames: int
    rest_range: tuple[int, int]
    start_rest: int
    end_rest: int


def sample_timing_style(rng: np.random.Generator, *, lip_offset: int) -> TimingStyle:
    return TimingStyle(
        speed=float(rng.uniform(0.8, 1.25)),
        letter_frames=int(rng.integers(3, 7)),
        transition_frames=int(rng.integers(3, 6)),
        rest_range=(2, int(rng.integers(3, 7))),
        start_rest=int(rng.integers(4, 11)),
        end_rest=lip_offset + int(rng.integers(3, 9)),
    )


@dataclass
class ClipTimeline:
    """Per-frame state of the signer for one clip of ``num_frames`` frames.

    Attributes:
        hand_positions: (T, 2, 2) float32 palm centres in signer units (see ``space``), hand 0 dominant, hand 1
            non-dominant, each on its own side.
        handshapes: (T, 2) int16 ids into ``handshapes.HANDSHAPES``.
        visemes: (T,) int8 ids into ``visemes.VISEMES`` of the mouth.
        segments: (T,) int8 SEGMENT_* class of the hands.
        unit_spans: [start, end) frames of each unit's hands, transitions included, in gloss order.
        lip_offset: frames the mouthing lags the hands.
    """

    hand_positions: np.ndarray
    handshapes: np.ndarray
    visemes: np.ndarray
    segments: np.ndarray
    unit_spans: list[tuple[int, int]] = field(default_factory=list)
    lip_offset: int = 0

    @property
    def num_frames(self) -> int:
        return int(self.segments.shape[0])


class _Builder:
    """Appends frames of hand state; the mouth track is written separately once the length is known."""

    def __init__(self) -> None:
        self.positions: list[tuple[tuple[float, float], tuple[float, float]]] = []
        self.shapes: list[tuple[int, int]] = []
        self.segments: list[int] = []

    def __len__(self) -> int:
        return len(self.segments)

    def add(self, positions, shapes, segment: int) -> None:
        self.positions.append(positions)
        self.shapes.append(shapes)
        self.segments.append(segment)

    def rest(self, frames: int) -> None:
        for _ in range(frames):
            self.add((space.REST_LOCATION, space.REST_LOCATION), (REST_HANDSHAPE_ID, REST_HANDSHAPE_ID), SEGMENT_REST)

    def travel(self, start, end, shapes, segment: int, frames: int) -> None:
        """Move both hands from ``start`` to ``end`` (pairs of points) without ever reaching either exactly."""
        for step in range(frames):
            progress = 0.5 - 0.5 * math.cos(math.pi * (step + 1) / (frames + 1))
            positions = tuple(_lerp(start[hand], end[hand], progress) for hand in range(2))
            self.add(positions, shapes, segment)


def _lerp(a: tuple[float, float], b: tuple[float, float], weight: float) -> tuple[float, float]:
    return (a[0] + (b[0] - a[0]) * weight, a[1] + (b[1] - a[1]) * weight)


def _sign_frames(builder: _Builder, unit: SignUnit, style: TimingStyle, rng: np.random.Generator) -> None:
    sign = unit.sign
    # Variable speed: the clip's pace, jittered per sign; never fewer frames than phonemes to mouth.
    core = max(round(sign.frames * style.speed * rng.uniform(0.9, 1.1)), len(unit.visemes), 4)
    base = space.LOCATIONS[sign.location]
    two_handed = sign.hand_mode != "one"

    def positions_at(progress: float) -> tuple[tuple[float, float], tuple[float, float]]:
        hands = []
        for hand in range(2):
            if hand == 1 and not two_handed:
                hands.append(space.REST_LOCATION)
                continue
            offset = space.hand_offset(sign.movement, progress, hand=hand, hand_mode=sign.hand_mode)
            hands.append((base[0] + offset[0], base[1] + offset[1]))
        return tuple(hands)  # type: ignore[return-value]

    shapes = (sign.handshape, sign.handshape if two_handed else REST_HANDSHAPE_ID)
    rest = (space.REST_LOCATION, space.REST_LOCATION)
    builder.travel(rest, positions_at(0.0), shapes, SEGMENT_SIGN, style.transition_frames)
    for step in range(core):
        builder.add(positions_at(step / (core - 1)), shapes, SEGMENT_SIGN)
    builder.travel(positions_at(1.0), rest, shapes, SEGMENT_SIGN, style.transition_frames)


def _fingerspelling_frames(
    builder: _Builder, unit: FingerspellingUnit, style: TimingStyle, rng: np.random.Generator
) -> None:
    rest = (space.REST_LOCATION, space.REST_LOCATION)
    places, shapes = [], []
    slide = 0.0
    for index, letter in enumerate(unit.letters):
        # A doubled letter (the M M of SIMMS) is made again a little further out, so that the two are countable.
        doubled = index > 0 and unit.letters[index - 1] == letter
        slide = (space.DOUBLE_LETTER_SLIDE - slide) if doubled else 0.0
        places.append((space.FINGERSPELLING_LOCATION[0] + slide, space.FINGERSPELLING_LOCATION[1]))
        shapes.append((LETTER_HANDSHAPE_IDS[letter], REST_HANDSHAPE_ID))
    fingerspelling = SEGMENT_FINGERSPELLING
    builder.travel(rest, (places[0], space.REST_LOCATION), shapes[0], fingerspelling, style.transition_frames)
    # Enough frames for the mouthing too: a short name with many phonemes gets longer letter holds.
    hold = max(style.letter_frames, math.ceil(len(unit.visemes) / len(unit.letters)))
    for place, shape in zip(places, shapes, strict=True):
        for _ in range(hold + int(rng.integers(0, 2))):
            builder.add((place, space.REST_LOCATION), shape, fingerspelling)
    builder.travel((places[-1], space.REST_LOCATION), rest, shapes[-1], fingerspelling, style.transition_frames)


def build_timeline(
    units: list[Unit], style: TimingStyle, rng: np.random.Generator, *, lip_offset: int
) -> ClipTimeline:
    """Lay ``units`` out in time (rest, unit, rest, unit, ..., rest) and mouth them ``lip_offset`` frames late."""
    if not units:
        raise ValueError("a clip needs at least one sign or fingerspelled word")
    if lip_offset < 0 or style.end_rest <= lip_offset:
        raise ValueError(f"lip_offset must be in [0, end_rest={style.end_rest}), got {lip_offset}")
    builder = _Builder()
    builder.rest(style.start_rest)
    spans = []
    for index, unit in enumerate(units):
        if index:
            builder.rest(int(rng.integers(style.rest_range[0], style.rest_range[1] + 1)))
        start = len(builder)
        if isinstance(unit, SignUnit):
            _sign_frames(builder, unit, style, rng)
        else:
            _fingerspelling_frames(builder, unit, style, rng)
        spans.append((start, len(builder)))
    builder.rest(style.end_rest)

    num_frames = len(builder)
    visemes = np.full(num_frames, NEUTRAL_VISEME_ID, dtype=np.int8)
    for unit, (start, end) in zip(units, spans, strict=True):
        # Phoneme i of k takes frames [i * n / k, (i + 1) * n / k) of the unit's n frames: each at least one.
        length = end - start
        for step in range(length):
            visemes[start + step + lip_offset] = unit.visemes[step * len(unit.visemes) // length]
    return ClipTimeline(
        hand_positions=np.asarray(builder.positions, dtype=np.float32),
        handshapes=np.asarray(builder.shapes, dtype=np.int16),
        visemes=visemes,
        segments=np.asarray(builder.segments, dtype=np.int8),
        unit_spans=spans,
        lip_offset=lip_offset,
    )
