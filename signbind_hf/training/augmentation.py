"""Training-time clip augmentation: change how a clip looks, never what is signed.

A data set with a few dozen signers lets a model from scratch tell clips apart by the signer's colours instead of by
the hands: on SynthSign (24 training signers) the tiny experts fit the training split while the validation split,
signed by people never seen in training, stays near chance. Each clip gets one random change of look, the same on
every frame, so that movement is untouched:

- colour: the RGB channels in a random order, each with its own gain (skin, clothing and background colours become
  uninformative; shapes and movement stay);
- mirror: a horizontal flip, which turns a right-handed signer into a left-handed one (signers of either hand are
  in every sign language corpus, and one-handed signs and fingerspelling are made with the dominant hand);
- shift: the full frame moved by a few pixels (signers are not framed alike).

Face crops get the clip's colour change and flip; they are not shifted (the crop is centred on the mouth by
detection). Keypoints get the flip: x negated (they are centred on the shoulders) and left and right exchanged (the
left hand's points become the right hand's, ``LEFT_ELBOW`` becomes ``RIGHT_ELBOW``), as a mirrored video would give;
colour and shift do not change them (they are shoulder-normalised).

Keypoints a data set ships (SynthSign's renderer writes the true ones) are cleaner than what a pose estimator finds
in a video: a hand landmarker loses hands for stretches of frames (fast movement, blur, a hand turned edge-on) and
places the points it finds with some error. For a model trained on shipped keypoints that will read extracted ones,
some clips can get extractor-like faults (off by default; ``--augment_hand_dropout``, ``--augment_keypoint_noise``):
each hand missing on runs of frames (a random share of the clip), and every hand point found moved by a little noise.
They make the model read extracted keypoints better and the shipped ones worse (benchmarks/RESULTS.md).

The batch holds normalised pixels: they are taken back to [0, 1] with the processor's mean and std, changed, and
normalised again. Padding frames stay zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from signbind_hf.constants import (
    ATTENTION_MASK,
    FACE_ATTENTION_MASK,
    FACE_PIXEL_VALUES,
    KEYPOINT_MASK,
    KEYPOINTS,
    PIXEL_VALUES,
)
from signbind_hf.keypoints_signbind import MIRRORED_POINTS, NUM_HAND_POINTS, NUM_POSE_POINTS


@dataclass
class ClipAugmentation:
    """Random per-clip colour, mirror and shift changes of a training batch (see the module docstring).

    Args:
        image_mean, image_std: the processor's normalisation (``SignBindVideoProcessor.image_mean`` / ``image_std``).
        colour_gain: each channel's gain is drawn from [1 - colour_gain, 1 + colour_gain]; 0 with
            ``shuffle_channels=False`` turns colour changes off.
        shuffle_channels: put the RGB channels of each clip in a random order.
        flip_probability: chance that a clip is mirrored.
        max_shift: largest shift of the full frames, as a fraction of their side (replicating the edge pixels).
        change_frames: change ``pixel_values``; off for a model that does not read frames (its manual expert reads
            keypoints only), which would spend time changing pixels nothing reads.
        change_face_crops: change ``face_pixel_values`` (colour and mirror).
        hand_dropout_probability: chance that a clip's hands go missing on runs of frames, as a hand landmarker
            loses them; 0 turns it off.
        max_hand_dropout: the largest share of a clip's frames on which a hand goes missing (drawn per clip and hand
            from [0, max_hand_dropout]).
        hand_dropout_run: typical length of a run of missing frames (frames).
        hand_point_noise: standard deviation of the noise added to every hand point found, in shoulder widths (the
            unit of normalised keypoints); 0 turns it off.
    """

    image_mean: Sequence[float]
    image_std: Sequence[float]
    colour_gain: float = 0.4
    shuffle_channels: bool = True
    flip_probability: float = 0.5
    max_shift: float = 0.06
    change_frames: bool = True
    change_face_crops: bool = True
    hand_dropout_probability: float = 0.0
    max_hand_dropout: float = 0.5
    hand_dropout_run: int = 8
    hand_point_noise: float = 0.0

    def __post_init__(self) -> None:
        if len(self.image_mean) != 3 or len(self.image_std) != 3:
            raise ValueError("ClipAugmentation needs a 3-channel image_mean and image_std")
        if not 0.0 <= self.colour_gain < 1.0:
            raise ValueError(f"colour_gain must be in [0, 1), got {self.colour_gain}")
        if not 0.0 <= self.flip_probability <= 1.0:
            raise ValueError(f"flip_probability must be in [0, 1], got {self.flip_probability}")
        if not 0.0 <= self.max_shift < 0.5:
            raise ValueError(f"max_shift must be in [0, 0.5), got {self.max_shift}")
        for name in ("hand_dropout_probability", "max_hand_dropout"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.hand_dropout_run < 1:
            raise ValueError(f"hand_dropout_run must be a positive number of frames, got {self.hand_dropout_run}")
        if self.hand_point_noise < 0.0:
            raise ValueError(f"hand_point_noise must be >= 0, got {self.hand_point_noise}")

    def __call__(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """A new batch dict with ``pixel_values`` (and ``face_pixel_values``, ``keypoints``) changed; other keys are
        shared."""
        frames = batch[PIXEL_VALUES]
        clips = frames.shape[0]
        generator_device = frames.device
        order = (
            torch.stack([torch.randperm(3, device=generator_device) for _ in range(clips)])
            if self.shuffle_channels
            else torch.arange(3, device=generator_device).expand(clips, 3)
        )
        gain = 1.0 + (torch.rand(clips, 3, device=generator_device) * 2.0 - 1.0) * self.colour_gain
        flip = torch.rand(clips, device=generator_device) < self.flip_probability
        side = frames.shape[-1]
        most = round(self.max_shift * side)
        shifts = torch.randint(-most, most + 1, (clips, 2)).tolist()

        changed = dict(batch)
        mask = batch[ATTENTION_MASK]
        if self.change_frames:
            changed[PIXEL_VALUES] = self._apply(frames, mask, order, gain, flip, shifts)
        if self.change_face_crops and batch.get(FACE_PIXEL_VALUES) is not None:
            face_mask = batch.get(FACE_ATTENTION_MASK, mask) * mask
            changed[FACE_PIXEL_VALUES] = self._apply(batch[FACE_PIXEL_VALUES], face_mask, order, gain, flip, None)
        if batch.get(KEYPOINTS) is not None:
            keypoints, keypoint_mask = mirror_keypoints(batch[KEYPOINTS], batch[KEYPOINT_MASK], flip)
            keypoint_mask = drop_hands(
                keypoint_mask, self.hand_dropout_probability, self.max_hand_dropout, self.hand_dropout_run
            )
            changed[KEYPOINTS] = jitter_hands(keypoints, keypoint_mask, self.hand_point_noise)
            changed[KEYPOINT_MASK] = keypoint_mask
        return changed

    def _apply(self, pixels, mask, order, gain, flip, shifts) -> torch.Tensor:
        """(B, T, 3, H, W) normalised pixels -> the same with each clip's colour, flip and shift applied."""
        mean = torch.tensor(self.image_mean, dtype=pixels.dtype, device=pixels.device).view(1, 1, 3, 1, 1)
        std = torch.tensor(self.image_std, dtype=pixels.dtype, device=pixels.device).view(1, 1, 3, 1, 1)
        unit = pixels * std + mean  # back to [0, 1]
        index = order.view(-1, 1, 3, 1, 1).expand_as(unit)
        unit = torch.gather(unit, 2, index) * gain.to(unit.dtype).view(-1, 1, 3, 1, 1)
        unit = torch.where(flip.view(-1, 1, 1, 1, 1), unit.flip(-1), unit)
        if shifts is not None:
            unit = torch.stack([shift_frames(clip, dy, dx) for clip, (dy, dx) in zip(unit, shifts, strict=True)])
        normalised = (unit.clamp(0.0, 1.0) - mean) / std
        return normalised * mask.to(normalised.dtype).view(*mask.shape, 1, 1, 1)


def mirror_keypoints(
    keypoints: torch.Tensor, keypoint_mask: torch.Tensor, flip: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T, 75, 2) shoulder-normalised points and their (B, T, 75) mask, the clips where ``flip`` (B,) is True
    mirrored: x negated and left and right exchanged."""
    order = torch.tensor(MIRRORED_POINTS, device=keypoints.device)
    mirrored = keypoints[:, :, order] * torch.tensor([-1.0, 1.0], dtype=keypoints.dtype, device=keypoints.device)
    where = flip.view(-1, 1, 1)
    return (
        torch.where(where[..., None], mirrored, keypoints),
        torch.where(where, keypoint_mask[:, :, order], keypoint_mask),
    )


def drop_hands(keypoint_mask: torch.Tensor, probability: float, max_share: float, run: int) -> torch.Tensor:
    """(B, T, 75) keypoint mask with, in each clip chosen with ``probability``, each hand missing on runs of frames.

    A hand's share of missing frames is drawn from [0, ``max_share``]; its runs come from smoothing per-frame noise
    over ``run`` frames and taking the frames where it is lowest, so they last about ``run`` frames, as a
    landmarker's misses do.
    """
    clips, frames = keypoint_mask.shape[:2]
    if probability == 0.0 or max_share == 0.0 or frames == 0:
        return keypoint_mask
    device = keypoint_mask.device
    noise = torch.rand(clips * 2, 1, frames, device=device)
    kernel = min(run, frames) | 1  # odd: the smoothed noise keeps the clip's length
    smooth = F.avg_pool1d(noise, kernel, stride=1, padding=kernel // 2, count_include_pad=False).view(clips, 2, frames)
    share = torch.rand(clips, 2, 1, device=device) * max_share
    # The hand is missing where its smoothed noise is below the value that `share` of its frames are below.
    rank = (share * frames).long().clamp(max=frames - 1)
    threshold = smooth.sort(dim=-1).values.gather(-1, rank)  # (B, 2, 1)
    chosen = torch.rand(clips, 1, 1, device=device) < probability
    missing = (smooth < threshold) & chosen  # (B, 2, T)
    hands = missing.repeat_interleave(NUM_HAND_POINTS, dim=1).transpose(1, 2)  # (B, T, 42)
    kept = keypoint_mask.clone()
    kept[:, :, NUM_POSE_POINTS:] *= (~hands).to(kept.dtype)
    return kept


def jitter_hands(keypoints: torch.Tensor, keypoint_mask: torch.Tensor, std: float) -> torch.Tensor:
    """(B, T, 75, 2) keypoints with Gaussian noise of ``std`` on every hand point found; points not found stay 0."""
    if std == 0.0:
        return keypoints * keypoint_mask[..., None].to(keypoints.dtype)
    noise = torch.randn_like(keypoints) * std
    noise[:, :, :NUM_POSE_POINTS] = 0.0
    return (keypoints + noise) * keypoint_mask[..., None].to(keypoints.dtype)


def shift_frames(frames: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """(T, 3, H, W) moved by (dy, dx) pixels, edge pixels repeated into the gap."""
    if dy == 0 and dx == 0:
        return frames
    pad = max(abs(dy), abs(dx))
    padded = F.pad(frames, (pad, pad, pad, pad), mode="replicate")
    height, width = frames.shape[-2:]
    top, left = pad - dy, pad - dx
    return padded[..., top : top + height, left : left + width]


__all__ = ["ClipAugmentation", "drop_hands", "jitter_hands", "mirror_keypoints", "shift_frames"]
