"""The manual expert's inputs (config.manual_inputs): frames, keypoints, or both; the keypoint encoder; save/load."""

from __future__ import annotations

import pytest
import torch

from signbind_hf import SignBindConfig, SignBindModel
from signbind_hf.modeling_signbind import NUM_KEYPOINTS, KeypointEncoder, check_input_values
from signbind_hf.training.augmentation import mirror_keypoints
from signbind_hf.video_processing_signbind import SignBindVideoProcessor

from .conftest import make_batch, tiny_config

MANUAL_INPUTS = ("frames", "keypoints", "both")
LEFT_HAND = slice(33, 54)
RIGHT_HAND = slice(54, 75)


def build(manual_inputs: str, **overrides) -> SignBindModel:
    torch.manual_seed(0)
    return SignBindModel(tiny_config(manual_inputs=manual_inputs, **overrides)).eval()


def test_keypoints_only_builds_no_frame_backbone_and_needs_no_frames():
    model = build("keypoints")
    assert model.manual.backbone is None
    assert not any(name.startswith("manual.backbone.") for name, _ in model.named_parameters())
    batch = make_batch(model.config, labels=False)
    with torch.no_grad():
        with_frames = model(**batch).gloss_logits
        batch["pixel_values"] = torch.randn_like(batch["pixel_values"])
        other_frames = model(**batch).gloss_logits
        del batch["pixel_values"]
        no_frames = model(**batch).gloss_logits
    assert torch.equal(with_frames, other_frames)
    assert torch.equal(with_frames, no_frames)


@pytest.mark.parametrize("manual_inputs", MANUAL_INPUTS)
def test_the_expert_reads_exactly_its_inputs(manual_inputs):
    model = build(manual_inputs)
    batch = make_batch(model.config, labels=False)
    batch.setdefault("keypoints", torch.randn(2, 24, NUM_KEYPOINTS, 2))
    with torch.no_grad():
        reference = model(**batch).sign_logits
        moved_frames = model(**{**batch, "pixel_values": batch["pixel_values"] + 1.0}).sign_logits
        moved_points = model(**{**batch, "keypoints": batch["keypoints"] + 0.5}).sign_logits
    assert (not torch.allclose(reference, moved_frames)) == (manual_inputs != "keypoints")
    assert (not torch.allclose(reference, moved_points)) == (manual_inputs != "frames")


def test_points_not_found_are_ignored_whatever_their_value():
    model = build("keypoints")
    batch = make_batch(model.config, labels=False)
    hidden = batch["keypoint_mask"] == 0
    assert hidden.any()
    garbage = batch["keypoints"].masked_fill(hidden[..., None], 123.0)
    with torch.no_grad():
        assert torch.equal(model(**batch).sign_logits, model(**{**batch, "keypoints": garbage}).sign_logits)


def test_hand_shapes_do_not_depend_on_where_the_hand_is_or_its_size():
    generator = torch.Generator().manual_seed(0)
    points = torch.randn(1, 3, NUM_KEYPOINTS, 2, generator=generator)
    found = torch.ones(1, 3, NUM_KEYPOINTS, dtype=torch.bool)
    moved = points.clone()
    moved[:, :, LEFT_HAND] = points[:, :, LEFT_HAND] * 2.5 + torch.tensor([0.7, -0.3])
    shapes, moved_shapes = KeypointEncoder.hand_shapes(points, found), KeypointEncoder.hand_shapes(moved, found)
    assert shapes.shape == (1, 3, 2, 21, 2)
    assert torch.allclose(shapes, moved_shapes, atol=1e-5)
    assert torch.equal(shapes[..., 0, :], torch.zeros(1, 3, 2, 2))  # the wrist is the origin
    # Without its wrist a hand has no shape: zero, not a division by a missing point.
    found[:, :, 33] = False
    assert torch.equal(KeypointEncoder.hand_shapes(points, found)[:, :, 0], torch.zeros(1, 3, 21, 2))


@pytest.mark.parametrize("manual_inputs", MANUAL_INPUTS)
def test_every_manual_input_round_trips_through_save_and_load(manual_inputs, tmp_path):
    model = build(manual_inputs)
    model.save_pretrained(tmp_path)
    loaded = SignBindModel.from_pretrained(tmp_path).eval()
    assert loaded.config.manual_inputs == manual_inputs
    batch = make_batch(model.config, labels=False)
    with torch.no_grad():
        assert torch.equal(model(**batch).gloss_logits, loaded(**batch).gloss_logits)
    breakdown = loaded.parameter_breakdown()
    assert breakdown["total"] == sum(p.numel() for p in loaded.parameters())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda batch: batch.pop("keypoints"), "keypoints is required when config.manual_inputs='keypoints'"),
        (lambda batch: batch.update(keypoints=torch.zeros(2, 24, 33, 2)), r"keypoints must have shape"),
        (
            lambda batch: batch.update(keypoints=torch.zeros(2, 20, 75, 2)),
            r"attention_mask must have shape .* \(2, 20\)",
        ),
        (lambda batch: batch.update(keypoint_mask=torch.ones(2, 24, 21)), r"keypoint_mask must have shape"),
    ],
)
def test_bad_keypoints_raise_a_clear_value_error(change, message):
    model = build("keypoints")
    batch = make_batch(model.config, labels=False)
    change(batch)
    with pytest.raises(ValueError, match=message):
        model(**batch)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda batch: batch["keypoints"].__setitem__((0, 0, 0, 0), float("nan")),
            "keypoints contains NaN or infinite",
        ),
        (lambda batch: batch.update(keypoint_mask=torch.full((2, 24, 75), 2)), "keypoint_mask must hold only 0 and 1"),
    ],
)
def test_bad_keypoint_values_raise_where_values_are_checked(change, message):
    model = build("keypoints")
    batch = make_batch(model.config, labels=False)
    change(batch)
    with pytest.raises(ValueError, match=message):
        check_input_values(batch["attention_mask"], keypoints=batch["keypoints"], keypoint_mask=batch["keypoint_mask"])
    model.debug_checks = True
    with pytest.raises(ValueError, match=message):
        model(**batch)


def test_config_checks_manual_inputs():
    with pytest.raises(ValueError, match="manual_inputs must be one of"):
        SignBindConfig.from_preset("tiny", manual_inputs="hands")
    with pytest.raises(ValueError, match="builds none"):
        SignBindConfig(manual_inputs="keypoints", backbone_name_or_path="facebook/dinov2-base")
    config = SignBindConfig.from_preset("tiny")
    assert config.manual_inputs == "frames"
    assert config.uses_frames
    assert not config.uses_keypoints


@pytest.mark.parametrize("manual_inputs", MANUAL_INPUTS)
def test_the_processor_for_a_config_makes_keypoints_exactly_when_the_model_reads_them(manual_inputs):
    processor = SignBindVideoProcessor.from_model_config(tiny_config(manual_inputs=manual_inputs))
    assert processor.keypoints == (manual_inputs != "frames")


def test_mirroring_exchanges_the_sides_and_negates_x():
    generator = torch.Generator().manual_seed(0)
    points = torch.randn(2, 4, NUM_KEYPOINTS, 2, generator=generator)
    mask = torch.ones(2, 4, NUM_KEYPOINTS, dtype=torch.long)
    mask[:, :, LEFT_HAND] = 0  # only the right hand was seen
    flip = torch.tensor([True, False])
    mirrored, mirrored_mask = mirror_keypoints(points, mask, flip)
    assert torch.equal(mirrored[1], points[1])
    assert torch.equal(mirrored_mask[1], mask[1])
    assert torch.equal(mirrored[0, :, LEFT_HAND, 0], -points[0, :, RIGHT_HAND, 0])
    assert torch.equal(mirrored[0, :, LEFT_HAND, 1], points[0, :, RIGHT_HAND, 1])
    assert mirrored_mask[0, :, LEFT_HAND].all()
    assert not mirrored_mask[0, :, RIGHT_HAND].any()
    left_shoulder, right_shoulder = 11, 12
    assert torch.equal(mirrored[0, :, left_shoulder, 0], -points[0, :, right_shoulder, 0])
    twice, twice_mask = mirror_keypoints(mirrored, mirrored_mask, flip)
    assert torch.equal(twice, points)
    assert torch.equal(twice_mask, mask)


def test_the_sign_stream_on_fingerspelled_frames_reaches_the_fusion_only_when_asked():
    """With sign_stream_on_fingerspelling, the sign head's posteriors change the fused output on frames routed to
    fingerspelling; without it (the paper's routing) they do not."""
    torch.manual_seed(0)
    for keep, should_change in ((False, False), (True, True)):
        model = build("keypoints", sign_stream_on_fingerspelling=keep)
        fusion = model.fusion
        batch, frames, width = 1, 6, model.config.gloss_vocab_size
        route = torch.zeros(batch, frames, 3)
        route[..., 1] = 1.0  # every frame fingerspelled
        letters = torch.randn(batch, frames, model.config.letter_vocab_size)
        with torch.no_grad():
            first = fusion.manual_stream(torch.randn(batch, frames, width), letters, route)
            second = fusion.manual_stream(torch.randn(batch, frames, width), letters, route)
        assert (not torch.allclose(first, second)) == should_change
