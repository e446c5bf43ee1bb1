"""ClipAugmentation: one change of look per clip, the same on every frame; padding untouched; faces not shifted;
keypoints with extractor-like faults (hands missing on runs of frames, noisy hand points), the body untouched."""

import pytest
import torch

from signbind_hf.training.augmentation import ClipAugmentation, drop_hands, jitter_hands, shift_frames

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def normalised(unit: torch.Tensor) -> torch.Tensor:
    return (unit - torch.tensor(MEAN).view(1, 1, 3, 1, 1)) / torch.tensor(STD).view(1, 1, 3, 1, 1)


def batch(clips: int = 3, frames: int = 4, side: int = 16) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    still = torch.rand(clips, 1, 3, side, side).expand(clips, frames, 3, side, side).clone()  # every frame alike
    mask = torch.ones(clips, frames, dtype=torch.long)
    mask[0, -1] = 0  # a padding frame
    pixels = normalised(still) * mask[..., None, None, None]
    faces = (
        normalised(torch.rand(clips, 1, 3, 8, 8).expand(clips, frames, 3, 8, 8).clone()) * mask[..., None, None, None]
    )
    return {"pixel_values": pixels, "face_pixel_values": faces, "attention_mask": mask, "face_attention_mask": mask}


def test_identity_settings_change_nothing():
    inputs = batch()
    augment = ClipAugmentation(MEAN, STD, colour_gain=0.0, shuffle_channels=False, flip_probability=0.0, max_shift=0)
    out = augment(inputs)
    torch.testing.assert_close(out["pixel_values"], inputs["pixel_values"], atol=1e-5, rtol=0)
    torch.testing.assert_close(out["face_pixel_values"], inputs["face_pixel_values"], atol=1e-5, rtol=0)


def test_flip_mirrors_frames_and_faces():
    inputs = batch()
    augment = ClipAugmentation(MEAN, STD, colour_gain=0.0, shuffle_channels=False, flip_probability=1.0, max_shift=0)
    out = augment(inputs)
    torch.testing.assert_close(out["pixel_values"], inputs["pixel_values"].flip(-1), atol=1e-5, rtol=0)
    torch.testing.assert_close(out["face_pixel_values"], inputs["face_pixel_values"].flip(-1), atol=1e-5, rtol=0)


def test_one_change_per_clip_padding_stays_zero():
    inputs = batch()
    out = ClipAugmentation(MEAN, STD, max_shift=0.1)(inputs)
    pixels = out["pixel_values"]
    assert not torch.allclose(pixels, inputs["pixel_values"])
    for clip in range(pixels.shape[0]):
        real = int(inputs["attention_mask"][clip].sum())
        for frame in range(1, real):  # the same look on every real frame of a clip
            torch.testing.assert_close(pixels[clip, frame], pixels[clip, 0])
    assert torch.count_nonzero(pixels[0, -1]) == 0  # padding
    assert out["attention_mask"] is inputs["attention_mask"]  # other keys pass through


def test_colour_change_keeps_pixel_values_in_range():
    inputs = batch()
    out = ClipAugmentation(MEAN, STD, colour_gain=0.9)(inputs)
    unit = out["pixel_values"] * torch.tensor(STD).view(1, 1, 3, 1, 1) + torch.tensor(MEAN).view(1, 1, 3, 1, 1)
    real = inputs["attention_mask"].bool()
    assert unit[real].min() >= -1e-5
    assert unit[real].max() <= 1 + 1e-5


def test_shift_moves_content_and_repeats_edges():
    frames = torch.zeros(1, 3, 8, 8)
    frames[..., 3, 4] = 1.0
    moved = shift_frames(frames, 2, -1)
    assert moved[0, 0, 5, 3] == 1.0
    assert moved.sum() == 3.0
    edge = torch.arange(8.0).view(1, 1, 1, 8).expand(1, 3, 8, 8)
    assert shift_frames(edge, 0, 2)[0, 0, 0].tolist() == [0, 0, 0, 1, 2, 3, 4, 5]


def runs_of(values: list[bool]) -> list[int]:
    """Lengths of the runs of True in ``values``."""
    lengths, current = [], 0
    for value in [*values, False]:
        if value:
            current += 1
        elif current:
            lengths.append(current)
            current = 0
    return lengths


def test_hands_go_missing_on_runs_of_frames_and_the_body_stays():
    torch.manual_seed(0)
    mask = torch.ones(64, 200, 75, dtype=torch.long)
    dropped = drop_hands(mask, probability=1.0, max_share=0.8, run=8)
    assert dropped.dtype == mask.dtype
    assert torch.equal(dropped[:, :, :33], mask[:, :, :33])  # body points are never dropped
    left, right = dropped[:, :, 33:54], dropped[:, :, 54:]
    assert torch.equal(left, left[:, :, :1].expand_as(left))  # a hand goes missing whole
    share = 1 - torch.stack([left[:, :, 0], right[:, :, 0]]).float().mean(-1)  # (2, clips)
    assert share.max() <= 0.8 + 1e-6
    assert 0.3 < share.mean() < 0.5  # drawn from [0, 0.8]
    missing_runs = [length for clip in left[:, :, 0] for length in runs_of((clip == 0).tolist())]
    assert sum(missing_runs) / len(missing_runs) >= 4  # runs, not scattered frames
    assert torch.equal(drop_hands(mask, probability=0.0, max_share=0.8, run=8), mask)


def test_only_the_chosen_share_of_clips_loses_hands():
    torch.manual_seed(1)
    dropped = drop_hands(torch.ones(400, 50, 75, dtype=torch.bool), probability=0.25, max_share=0.8, run=8)
    touched = (~dropped).any(-1).any(-1).float().mean()
    assert 0.15 < touched < 0.3


def test_hand_noise_moves_found_hand_points_only():
    torch.manual_seed(2)
    points = torch.randn(2, 10, 75, 2)
    mask = torch.ones(2, 10, 75, dtype=torch.long)
    mask[0, :, 40] = 0
    points[0, :, 40] = 0.0
    noisy = jitter_hands(points, mask, std=0.05)
    torch.testing.assert_close(noisy[:, :, :33], points[:, :, :33])
    assert (noisy[0, :, 40] == 0).all()  # not found: stays zero
    spread = (noisy[:, :, 33:] - points[:, :, 33:]).std()
    assert 0.04 < spread < 0.06


def test_keypoints_get_the_faults_and_the_mirror_together():
    inputs = batch()
    inputs["keypoints"] = torch.randn(3, 4, 75, 2)
    inputs["keypoint_mask"] = torch.ones(3, 4, 75, dtype=torch.long)
    augment = ClipAugmentation(
        MEAN, STD, flip_probability=0.0, hand_dropout_probability=0.0, hand_point_noise=0.0, change_frames=False
    )
    out = augment(inputs)
    torch.testing.assert_close(out["keypoints"], inputs["keypoints"])
    faulty = ClipAugmentation(MEAN, STD, flip_probability=0.0, hand_dropout_probability=1.0, max_hand_dropout=1.0)
    torch.manual_seed(3)
    out = faulty(inputs)
    assert out["keypoint_mask"][:, :, 33:].sum() < inputs["keypoint_mask"][:, :, 33:].sum()
    assert (out["keypoints"][out["keypoint_mask"] == 0] == 0).all()


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="colour_gain"):
        ClipAugmentation(MEAN, STD, colour_gain=1.5)
    with pytest.raises(ValueError, match="max_shift"):
        ClipAugmentation(MEAN, STD, max_shift=0.7)
    with pytest.raises(ValueError, match="3-channel"):
        ClipAugmentation([0.5], [0.5])
    with pytest.raises(ValueError, match="hand_dropout_probability"):
        ClipAugmentation(MEAN, STD, hand_dropout_probability=1.5)
    with pytest.raises(ValueError, match="hand_dropout_run"):
        ClipAugmentation(MEAN, STD, hand_dropout_run=0)
    with pytest.raises(ValueError, match="hand_point_noise"):
        ClipAugmentation(MEAN, STD, hand_point_noise=-0.1)
