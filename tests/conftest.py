"""Tiny model fixtures shared by the test suite: every model here builds in milliseconds on a CPU."""

from __future__ import annotations

import pytest
import torch

from signbind_hf import SignBindConfig

# Tiny models gain nothing from intra-op threads, and OpenMP workers spin-wait: on a 2-core machine with anything else
# running (a browser, a second process), two threads made a tiny forward pass 100x slower (1.5 s against 0.008 s).
torch.set_num_threads(1)


def tiny_config(**overrides) -> SignBindConfig:
    return SignBindConfig.from_preset("tiny", **overrides)


def make_batch(config: SignBindConfig, batch: int = 2, frames: int = 24, seed: int = 0, labels: bool = True) -> dict:
    """A random batch in the exact layout SignBindModel.forward takes; the second clip is padded by a quarter."""
    generator = torch.Generator().manual_seed(seed)
    size, face_size = config.backbone_config.image_size, config.lip_config.image_size
    attention_mask = torch.ones(batch, frames, dtype=torch.long)
    attention_mask[1:, frames - frames // 4 :] = 0
    inputs = {
        "pixel_values": torch.randn(batch, frames, 3, size, size, generator=generator),
        "face_pixel_values": torch.randn(batch, frames, 3, face_size, face_size, generator=generator),
        "attention_mask": attention_mask,
        "face_attention_mask": attention_mask.clone(),
    }
    if config.uses_keypoints:  # 75 points a frame; the left hand (points 33-53) out of view in the first clip's start
        inputs["keypoints"] = torch.randn(batch, frames, 75, 2, generator=generator)
        keypoint_mask = attention_mask[..., None].expand(batch, frames, 75).clone()
        keypoint_mask[0, : frames // 3, 33:54] = 0
        inputs["keypoints"] = inputs["keypoints"] * keypoint_mask[..., None]
        inputs["keypoint_mask"] = keypoint_mask
    if labels:
        inputs["gloss_labels"] = torch.tensor([[1, 2, 3, 4]] + [[5, 5, 6, -100]] * (batch - 1))
        inputs["letter_labels"] = torch.tensor([[3, 27, 4, -100]] + [[8, 9, 10, 11]] * (batch - 1))
        inputs["phoneme_labels"] = torch.tensor([[1, 2]] + [[3, -100]] * (batch - 1))
        inputs["segment_labels"] = torch.randint(0, 3, (batch, frames), generator=generator)
    return inputs


@pytest.fixture
def config() -> SignBindConfig:
    return tiny_config()
