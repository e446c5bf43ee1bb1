"""What a synthetic signer looks like: a fixed look per signer identity, and per-clip framing, lighting and background.

Signer identities are split-disjoint (see ``SynthSignConfig.signers``), so the validation and test splits measure
generalisation to unseen signers, as signer-independent splits of real corpora do. Every clip still gets its own
position, scale, background, noise, lighting and body sway.
"""

import math
from dataclasses import dataclass

import numpy as np

from . import space

Colour = tuple[int, int, int]

# Skin tones from light to dark; each signer gets one, jittered.
_SKIN_TONES: tuple[Colour, ...] = (
    (255, 224, 196), (241, 194, 160), (224, 172, 134), (198, 134, 95), (160, 102, 68), (121, 78, 52), (88, 57, 40),
)  # fmt: skip
_HAIR_COLOURS: tuple[Colour, ...] = ((30, 25, 20), (70, 45, 25), (120, 80, 40), (200, 170, 110), (150, 150, 150))


@dataclass(frozen=True)
class SignerLook:
    """The fixed appearance of one signer identity."""

    signer_id: int
    skin: Colour
    hair: Colour
    shirt: Colour
    lips: Colour
    left_handed: bool
    head_width: float  # half-width of the head ellipse, signer units
    hair_coverage: float  # how far down the head the hair reaches, as a fraction of the head height


@dataclass(frozen=True)
class ClipAppearance:
    """Everything about how one clip is drawn that is not the signing itself."""

    look: SignerLook
    width: int
    height: int
    neck_x: float  # pixel position of the neck point
    neck_y: float
    unit: float  # pixels per signer unit (the head's height)
    background_top: Colour
    background_bottom: Colour
    background_noise: float  # standard deviation (grey levels) of the static noise texture of the background
    background_seed: int
    lighting: float  # gain applied to the whole frame
    sway_amplitude: float  # pixels of slow side-to-side body sway
    sway_period: float  # frames
    sway_phase: float  # radians

    @property
    def side(self) -> int:
        """Image-x direction of the dominant side: the signer faces the camera, so a right hand appears on the left."""
        return 1 if self.look.left_handed else -1

    def sway(self, frame: int) -> float:
        """Horizontal body offset in pixels at ``frame``."""
        return self.sway_amplitude * math.sin(2 * math.pi * frame / self.sway_period + self.sway_phase)

    def to_pixels(self, point: tuple[float, float], *, hand: int, frame: int) -> tuple[float, float]:
        """Pixel position of a point given in signer units on the side of ``hand`` (0 dominant, 1 non-dominant)."""
        side = self.side if hand == 0 else -self.side
        return (
            self.neck_x + self.sway(frame) + side * point[0] * self.unit,
            self.neck_y + point[1] * self.unit,
        )

    def face_box(self, frame: int) -> tuple[float, float, float, float]:
        """x0, y0, x1, y1 pixels of the head's bounding box at ``frame``: the clip's face box."""
        centre_x = self.neck_x + self.sway(frame)
        centre_y = self.neck_y + space.HEAD_CENTRE_Y * self.unit
        half_width, half_height = self.look.head_width * self.unit, space.HEAD_HALF_HEIGHT * self.unit
        return (centre_x - half_width, centre_y - half_height, centre_x + half_width, centre_y + half_height)


def _jitter(rng: np.random.Generator, colour: Colour, amount: int) -> Colour:
    return tuple(int(np.clip(channel + rng.integers(-amount, amount + 1), 0, 255)) for channel in colour)  # type: ignore[return-value]


def _luma(colour: Colour) -> float:
    return 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]


def lip_colour(skin: Colour) -> Colour:
    """Lips redder than the skin and about 40 grey levels away from it in brightness, on every skin tone.

    Video keeps brightness at full resolution and colour at a quarter (H.264's 4:2:0), so the mouth's shapes must
    show in brightness: lips are darker than light skin and lighter than dark skin.
    """
    if _luma(skin) > 130:
        lips = (skin[0] * 0.9 + 30, skin[1] * 0.5, skin[2] * 0.55)
    else:
        lips = (skin[0] * 1.5 + 40, skin[1] * 1.1 + 20, skin[2] * 1.1 + 25)
    return tuple(int(min(channel, 255)) for channel in lips)  # type: ignore[return-value]


def sample_signer(rng: np.random.Generator, signer_id: int) -> SignerLook:
    """Draw the look of one signer from ``rng`` (seeded by the data set seed and the signer id)."""
    skin = _jitter(rng, _SKIN_TONES[rng.integers(len(_SKIN_TONES))], 12)
    shirt = tuple(int(value) for value in rng.integers(20, 236, size=3))
    return SignerLook(
        signer_id=signer_id,
        skin=skin,
        hair=_jitter(rng, _HAIR_COLOURS[rng.integers(len(_HAIR_COLOURS))], 10),
        shirt=shirt,  # type: ignore[arg-type]
        lips=lip_colour(skin),
        left_handed=bool(rng.random() < 0.15),  # about one signer in seven signs left-handed
        head_width=float(rng.uniform(0.36, 0.43)),
        hair_coverage=float(rng.uniform(0.18, 0.3)),
    )


def sample_clip_appearance(rng: np.random.Generator, look: SignerLook, *, width: int, height: int) -> ClipAppearance:
    """Frame one clip of ``look``: scale, position, background, noise, lighting and sway, all drawn from ``rng``."""
    # The head is about a fifth of the frame height, leaving room above for signs at the temple and below for the
    # resting hands (2.5 units under the neck).
    unit = float(height * rng.uniform(0.18, 0.21))
    neck_y = float(height * rng.uniform(0.39, 0.45))
    neck_x = float(width * (0.5 + rng.uniform(-0.05, 0.05)))
    top = tuple(int(value) for value in rng.integers(0, 256, size=3))
    bottom = tuple(int(np.clip(value + rng.integers(-60, 61), 0, 255)) for value in top)
    return ClipAppearance(
        look=look,
        width=width,
        height=height,
        neck_x=neck_x,
        neck_y=neck_y,
        unit=unit,
        background_top=top,  # type: ignore[arg-type]
        background_bottom=bottom,  # type: ignore[arg-type]
        background_noise=float(rng.uniform(2.0, 14.0)),
        background_seed=int(rng.integers(2**31)),
        lighting=float(rng.uniform(0.85, 1.15)),
        sway_amplitude=float(rng.uniform(0.0, 1.5)),
        sway_period=float(rng.uniform(40.0, 120.0)),
        sway_phase=float(rng.uniform(0.0, 2 * math.pi)),
    )
