"""What the synthetic mouth looks like for each ARPAbet phoneme: a small viseme set, as in lipreading research.

Several phonemes share a mouth shape (``p``, ``b`` and ``m`` all close the lips), so the lipreading stream of SynthSign
is ambiguous in the same way real lipreading is: it sees visemes, and the phoneme targets must be resolved by context.
The grouping follows the usual consonant/vowel viseme classes (bilabial, labiodental, dental, alveolar,
post-alveolar, velar/glottal, rhotic; open, spread and rounded vowels).
"""

from dataclasses import dataclass

from signbind_hf.constants import PHONEMES


@dataclass(frozen=True)
class MouthShape:
    """Geometry of one viseme, relative to the mouth's neutral width (see ``render.draw_mouth``).

    Attributes:
        opening: vertical gap between the lips as a fraction of the neutral mouth width (0 = lips touching).
        width: horizontal extent of the lips as a multiple of the neutral width (spread > 1, rounded < 1).
        rounding: 0 for a flat, spread mouth, 1 for lips pushed into a round "o" (thicker, rounder lips).
        teeth: upper teeth show in the opening.
        tongue: the tongue tip shows between the teeth.
        pressed: lips pressed together and rolled in: the red of the lips disappears into a dark seam.
    """

    opening: float
    width: float
    rounding: float = 0.0
    teeth: bool = False
    tongue: bool = False
    pressed: bool = False


# The mouth between words and while the hands rest. Index 0 of VISEMES.
NEUTRAL_VISEME = "neutral"

VISEME_SHAPES: dict[str, MouthShape] = {
    NEUTRAL_VISEME: MouthShape(opening=0.0, width=1.0),
    "bilabial": MouthShape(opening=0.0, width=0.85, pressed=True),
    "labiodental": MouthShape(opening=0.1, width=0.9, teeth=True),
    "dental": MouthShape(opening=0.2, width=1.0, teeth=True, tongue=True),
    "alveolar": MouthShape(opening=0.16, width=1.2, teeth=True),
    "postalveolar": MouthShape(opening=0.3, width=0.9, rounding=0.4, teeth=True),
    "velar": MouthShape(opening=0.3, width=1.0),
    "rhotic": MouthShape(opening=0.14, width=0.7, rounding=0.8),
    "open": MouthShape(opening=0.6, width=1.1),
    "spread": MouthShape(opening=0.24, width=1.3),
    "rounded": MouthShape(opening=0.45, width=0.6, rounding=1.0),
}
VISEMES: tuple[str, ...] = tuple(VISEME_SHAPES)

_VISEME_PHONEMES = {
    "bilabial": "p b m",
    "labiodental": "f v",
    "dental": "th dh",
    "alveolar": "t d n l s z",
    "postalveolar": "sh ch jh zh",
    "velar": "k g ng hh y",
    "rhotic": "r er",
    "open": "aa ae ah ay aw",
    "spread": "eh ey ih iy",
    "rounded": "ow uw uh ao oy w",
}
PHONEME_TO_VISEME: dict[str, str] = {
    phoneme: viseme for viseme, phonemes in _VISEME_PHONEMES.items() for phoneme in phonemes.split()
}
if sorted(PHONEME_TO_VISEME) != sorted(PHONEMES):  # one source of truth: the phoneme inventory of constants.py
    raise AssertionError("PHONEME_TO_VISEME must map exactly the ARPAbet phonemes of signbind_hf.constants.PHONEMES")


def viseme_ids(phonemes: str | list[str], *, context: str = "phonemes") -> list[int]:
    """Indices into ``VISEMES`` of space-separated lower-case ARPAbet ``phonemes`` (stress digits not allowed)."""
    tokens = phonemes.split() if isinstance(phonemes, str) else phonemes
    unknown = [token for token in tokens if token not in PHONEME_TO_VISEME]
    if unknown:
        raise ValueError(
            f"{context}: expected lower-case ARPAbet phonemes without stress digits "
            f"({', '.join(PHONEMES[:5])}, ...), got unknown {unknown} in {phonemes!r}"
        )
    return [VISEMES.index(PHONEME_TO_VISEME[token]) for token in tokens]
