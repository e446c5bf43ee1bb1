"""The SynthSign lexicon: one manual sign (handshape + location + movement + hands) per gloss.

Manual parameters are dealt out of every combination that keeps the hands off the mouth, in an order fixed by
``LEXICON_SEED``, so the lexicon is part of the benchmark's definition and does not change with the data set seed.
Glosses in a ``HOMONYM_GROUPS`` entry share one manual sign and differ only in their mouthing: only the lipreading
stream can tell them apart. Proper names are not in the lexicon: they are fingerspelled.
"""

import itertools
import random
from dataclasses import dataclass
from functools import cache

from . import space
from .handshapes import HANDSHAPES, SIGN_HANDSHAPE_IDS

LEXICON_SEED = 20251125

# Glosses the pseudo-glosser makes of the sentence templates (see ``sentences.py``; a test checks that every
# template's glosses are here). Sorted; manual parameters are dealt in this order.
GLOSSES: tuple[str, ...] = (
    "ANGRY", "APPLE", "ARTIST", "BAG", "BIRD", "BLACK", "BLUE", "BOOK", "BREAD", "BRING", "BROTHER", "CAKE", "CAN",
    "CAR", "CAT", "COFFEE", "COME", "DOCTOR", "DOG", "DRINK", "EAT", "EVERY", "FATHER", "FIND", "FISH", "FRIEND",
    "GIVE", "GREEN", "HAPPY", "HAVE", "HOME", "HORSE", "HOSPITAL", "HOW", "I", "JUICE", "KEY", "KNOW", "LIBRARY",
    "LIKE", "MEET", "MILK", "MORNING", "MOTHER", "MY", "NOT", "NOW", "NURSE", "OLD", "OUR", "PAPER", "PARK", "PHONE",
    "PLEASE", "RED", "RICE", "SAD", "SCHOOL", "SEE", "SICK", "SISTER", "SOUP", "STORE", "STUDENT", "TEA", "TEACHER",
    "TIRED", "TODAY", "TOMORROW", "TONIGHT", "VISIT", "WANT", "WATER", "WE", "WHAT", "WHEN", "WHERE", "WHITE", "WHO",
    "WHY", "WORK", "YESTERDAY", "YOU", "YOUR",
)  # fmt: skip

# Manual homonyms: each group shares one manual sign, and their mouthings differ (checked by a test). Real sign
# languages have such pairs (in BSL, "BATTERY"/"UNCLE"/... share a sign and differ in the mouthing).
HOMONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("WATER", "MILK"),
    ("TEA", "COFFEE"),
    ("BREAD", "SOUP"),
    ("CAT", "DOG"),
    ("RED", "BLUE", "GREEN"),
    ("MOTHER", "FATHER"),
    ("BROTHER", "SISTER"),
    ("SCHOOL", "LIBRARY"),
    ("BOOK", "PAPER"),
    ("TEACHER", "DOCTOR"),
)


@dataclass(frozen=True)
class ManualSign:
    """The manual part of a sign: what the hands do.

    Attributes:
        handshape: id into ``handshapes.HANDSHAPES`` (one of ``SIGN_HANDSHAPE_IDS``), held for the whole sign.
        location: key of ``space.LOCATIONS``, where the movement starts from.
        movement: key of ``space.MOVEMENTS``.
        hand_mode: one of ``space.HAND_MODES``: one hand, or both (mirrored, or alternating).
        frames: frames the movement takes at normal speed (25 fps); clips scale it by their signing speed.
    """

    handshape: int
    location: str
    movement: str
    hand_mode: str
    frames: int

    @property
    def parameters(self) -> tuple[int, str, str, str]:
        """What the viewer sees of a sign (its speed aside): two glosses with equal parameters are manual homonyms."""
        return (self.handshape, self.location, self.movement, self.hand_mode)

    def describe(self) -> str:
        return f"{HANDSHAPES[self.handshape].name} at {self.location}, {self.movement}, {self.hand_mode}"


# Frames of each movement at normal speed (25 fps): repeated movements take longer than a single stroke.
MOVEMENT_FRAMES = {
    "tap": 10,
    "up": 9,
    "down": 9,
    "outward": 9,
    "inward": 9,
    "circle": 14,
    "arc": 11,
    "zigzag": 13,
    "shake": 14,
}
if sorted(MOVEMENT_FRAMES) != sorted(space.MOVEMENTS):
    raise AssertionError("MOVEMENT_FRAMES must give a duration for exactly the movements of space.MOVEMENTS")


@cache
def available_manual_signs() -> tuple[ManualSign, ...]:
    """Every manual sign the lexicon can use, in the fixed pseudo-random order glosses are given them."""
    combinations = [
        ManualSign(handshape, location, movement, hand_mode, MOVEMENT_FRAMES[movement])
        for handshape, location, movement, hand_mode in itertools.product(
            SIGN_HANDSHAPE_IDS, space.LOCATIONS, space.MOVEMENTS, space.HAND_MODES
        )
        # Both hands at the opposite shoulder would cross through each other.
        if not (location == "opposite-shoulder" and hand_mode != "one")
        and space.sign_clears_mouth(location, movement, hand_mode)
    ]
    random.Random(LEXICON_SEED).shuffle(combinations)
    return tuple(combinations)


@cache
def lexicon() -> dict[str, ManualSign]:
    """Gloss -> manual sign for every gloss of ``GLOSSES``; homonyms share the same sign.

    Signs are dealt from each location in turn, so that every location is used about equally often (the hands
    reach fewer movements near the face, where they must keep clear of the mouth, than at the stomach).
    """
    group_of = {gloss: group for group in HOMONYM_GROUPS for gloss in group}
    unknown = sorted(set(group_of) - set(GLOSSES))
    if unknown:
        raise AssertionError(f"HOMONYM_GROUPS names glosses missing from GLOSSES: {unknown}")
    by_location = {
        location: iter([sign for sign in available_manual_signs() if sign.location == location])
        for location in space.LOCATIONS
    }
    locations = itertools.cycle(space.LOCATIONS)
    signs: dict[str, ManualSign] = {}
    for gloss in GLOSSES:
        if gloss in signs:
            continue
        sign = next(by_location[next(locations)])
        for member in group_of.get(gloss, (gloss,)):
            signs[member] = sign
    return signs


def manual_sign(gloss: str) -> ManualSign:
    """The manual sign of ``gloss``; a clear error for a gloss the lexicon lacks."""
    signs = lexicon()
    if gloss not in signs:
        raise KeyError(
            f"gloss {gloss!r} is not in the SynthSign lexicon ({len(signs)} glosses); the sentence templates and "
            "the lexicon (signbind_hf/data/synthsign/lexicon.py GLOSSES) have drifted apart from the pseudo-glosser"
        )
    return signs[gloss]
