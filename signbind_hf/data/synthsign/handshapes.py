"""The hand configurations the synthetic signer can make: a rest shape, a 26-letter manual alphabet and sign shapes.

A handshape is which fingers are extended, whether they are spread, and where they point. Directions are in the
signer's own frame, mirrored for the non-dominant hand and for left-handed signers (see ``geometry``): 0 degrees
points away from the body on the hand's own side, 180 across the body, -90 up and 90 down (image y grows downwards).

The manual alphabet borrows the finger patterns of ASL letters where a 2-D drawing can show them (B, D, I, L, V, W,
Y, ...); letters ASL tells apart by depth or motion (C/O, M/N/S/T, J/Z) get a direction or a finger pattern of their
own instead, so that all 26 stay distinct and static, as the data set promises.
"""

from dataclasses import dataclass

from signbind_hf.constants import LETTERS

UP, DOWN, ACROSS, OUT = -90.0, 90.0, 180.0, 0.0


@dataclass(frozen=True)
class Handshape:
    """Attributes:
    name: a readable name ("letter-A", "sign-flat-up", "rest").
    thumb: the thumb is extended (otherwise folded onto the palm: a short stub).
    fingers: index, middle, ring, pinky extended.
    spread: extended fingers fan out instead of lying together.
    direction: where the fingers point, in degrees of the signer's frame (see the module docstring).
    """

    name: str
    thumb: bool
    fingers: tuple[bool, bool, bool, bool]
    spread: bool
    direction: float

    @property
    def geometry(self) -> tuple:
        """What the drawing depends on: two handshapes with the same geometry look the same."""
        return (self.thumb, self.fingers, self.spread, self.direction)


def _shape(name: str, pattern: str, direction: float, *, spread: bool = False) -> Handshape:
    """``pattern`` lists thumb, index, middle, ring, pinky as 1 (extended) or 0 (folded): "01111" is a flat hand."""
    bits = tuple(character == "1" for character in pattern)
    return Handshape(name=name, thumb=bits[0], fingers=bits[1:], spread=spread, direction=direction)  # type: ignore[arg-type]


# Hands hang relaxed and point down while resting, so a resting hand looks unlike any letter or sign.
REST_HANDSHAPE = _shape("rest", "11111", DOWN)

# (pattern, direction, spread) of each letter, in alphabetical order.
_ALPHABET = {
    "A": ("10000", UP, False),
    "B": ("01111", UP, False),
    "C": ("11111", ACROSS, False),
    "D": ("01000", UP, False),
    "E": ("00000", UP, False),
    "F": ("10111", UP, True),
    "G": ("11000", ACROSS, False),
    "H": ("01100", ACROSS, False),
    "I": ("00001", UP, False),
    "J": ("00001", ACROSS, False),
    "K": ("11100", UP, True),
    "L": ("11000", UP, False),
    "M": ("00000", DOWN, False),
    "N": ("01100", DOWN, False),
    "O": ("11111", UP, False),
    "P": ("11100", DOWN, True),
    "Q": ("11000", DOWN, False),
    "R": ("00110", UP, False),
    "S": ("00000", ACROSS, False),
    "T": ("10000", ACROSS, False),
    "U": ("01100", UP, False),
    "V": ("01100", UP, True),
    "W": ("01110", UP, True),
    "X": ("01000", DOWN, False),
    "Y": ("10001", UP, True),
    "Z": ("01000", ACROSS, False),
}
LETTER_HANDSHAPES: dict[str, Handshape] = {
    letter: _shape(f"letter-{letter}", pattern, direction, spread=spread)
    for letter, (pattern, direction, spread) in _ALPHABET.items()
}

# Shapes used by lexical signs: common sign handshapes, each pointing up or across the body.
SIGN_HANDSHAPES: tuple[Handshape, ...] = tuple(
    _shape(f"sign-{name}-{'up' if direction == UP else 'across'}", pattern, direction, spread=spread)
    for name, pattern, spread in (
        ("flat", "01111", False),
        ("five", "11111", True),
        ("fist", "00000", False),
        ("index", "01000", False),
        ("vee", "01100", True),
        ("y", "10001", True),
        ("ell", "11000", False),
        ("horns", "01001", True),
    )
    for direction in (UP, ACROSS)
)

# Every handshape has an integer id (the timeline stores ids): 0 rest, 1-26 the letters A-Z, then the sign shapes.
HANDSHAPES: tuple[Handshape, ...] = (
    REST_HANDSHAPE,
    *(LETTER_HANDSHAPES[letter] for letter in LETTERS),
    *SIGN_HANDSHAPES,
)
REST_HANDSHAPE_ID = 0
LETTER_HANDSHAPE_IDS: dict[str, int] = {letter: 1 + index for index, letter in enumerate(LETTERS)}
SIGN_HANDSHAPE_IDS: tuple[int, ...] = tuple(range(1 + len(LETTERS), len(HANDSHAPES)))

if sorted(_ALPHABET) != sorted(LETTERS):  # one source of truth for the alphabet: signbind_hf.constants.LETTERS
    raise AssertionError("the manual alphabet must cover exactly signbind_hf.constants.LETTERS")
if len({LETTER_HANDSHAPES[letter].geometry for letter in LETTERS} | {REST_HANDSHAPE.geometry}) != len(LETTERS) + 1:
    raise AssertionError("the 26 letter handshapes and the rest handshape must all look different")
