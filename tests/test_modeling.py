"""SignBindModel: every fusion variant and ablation switch, staged training, masking, bad input."""

from __future__ import annotations

import pytest
import torch

from signbind_hf import SignBindModel, SignBindOutput
from signbind_hf.ctc_decoding import decode_streams
from signbind_hf.modeling_signbind import LipreadingExpert, check_input_values

from .conftest import make_batch, tiny_config

VARIANTS = {
    "gated-learned": {},
    "concat": {"fusion_type": "concat"},
    "cross_attention": {"fusion_type": "cross_attention"},
    "no-fusion": {"fusion_type": "none"},
    "no-lip": {"use_lip": False},
    "no-lip-cross": {"use_lip": False, "fusion_type": "cross_attention"},
    "no-fingerspelling": {"use_fingerspelling": False},
    "shift-none": {"lip_shift": "none"},
    "shift-fixed": {"lip_shift": 3},
    "shift-negative": {"lip_shift": -2},
    "minimal": {"use_lip": False, "use_fingerspelling": False, "fusion_type": "none"},
    "from-scratch": {"center_frames": True, "manual_temporal_kernel_size": 3},
    "sign-on-fingerspelling": {"sign_stream_on_fingerspelling": True},
    "keypoints": {"manual_inputs": "keypoints"},
    "frames-and-keypoints": {"manual_inputs": "both"},
    "keypoints-from-scratch": {"manual_inputs": "keypoints", "center_frames": True, "manual_temporal_kernel_size": 3},
}
# DINOv2's mask token only serves masked-image pre-training, which this model does not do.
UNUSED_PARAMETERS = {"manual.backbone.embeddings.mask_token"}


def build(**overrides) -> SignBindModel:
    torch.manual_seed(0)
    return SignBindModel(tiny_config(**overrides))


@pytest.mark.parametrize("variant", VARIANTS)
def test_forward_shapes_and_finite_losses(variant):
    model = build(**VARIANTS[variant])
    config = model.config
    batch = make_batch(config)
    output = model(**batch)
    assert isinstance(output, SignBindOutput)
    B, T = batch["attention_mask"].shape
    assert output.gloss_logits.shape == (B, T, config.gloss_vocab_size)
    assert output.sign_logits.shape == (B, T, config.gloss_vocab_size)
    assert output.router_probs.shape == (B, T, 3)
    assert torch.allclose(output.router_probs.sum(-1), torch.ones(B, T))
    if config.use_fingerspelling:
        assert output.fingerspelling_logits.shape == (B, T, config.letter_vocab_size)
    else:
        assert output.fingerspelling_logits is None
        assert output.fingerspelling_loss is None
    if config.use_lip:
        # tubelets of 2 frames, Conv1d stride 1: the lip stream runs at half the frame rate
        assert output.phoneme_logits.shape == (B, T // 2, config.phoneme_vocab_size)
        assert output.phoneme_attention_mask.sum(-1).tolist() == [12, 9]
        assert torch.isfinite(output.lip_loss)
    else:
        assert output.phoneme_logits is None
        assert output.lip_loss is None
    if config.fusion_type == "none":
        assert output.fusion_loss is None
        assert torch.equal(output.gloss_logits, output.sign_logits)
    else:
        assert torch.isfinite(output.fusion_loss)
    has_gate = config.use_lip and config.fusion_type == "gated"
    assert (output.gate is not None) == has_gate
    if has_gate:
        assert output.gate.shape == (B, T)
        assert ((output.gate >= 0) & (output.gate <= 1)).all()
    for name in ("loss", "sign_loss", "router_loss"):
        assert torch.isfinite(getattr(output, name)), name


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("stage", ["experts", "fusion", "all"])
def test_gradients_reach_exactly_the_stage_parameters(variant, stage):
    model = build(**VARIANTS[variant])
    if stage == "fusion" and model.fusion is None:
        with pytest.raises(ValueError, match="fusion_type='none'"):
            model.set_stage(stage)
        return
    model.set_stage(stage).train()
    model(**make_batch(model.config)).loss.backward()
    trainable_parts = {"experts": {"manual", "lip"}, "fusion": {"fusion"}, "all": {"manual", "lip", "fusion"}}[stage]
    for name, parameter in model.named_parameters():
        in_stage = name.split(".")[0] in trainable_parts
        assert parameter.requires_grad == in_stage, name
        if in_stage and name not in UNUSED_PARAMETERS:
            assert parameter.grad is not None, f"no gradient for {name}"
            assert torch.isfinite(parameter.grad).all(), name
        if not in_stage:
            assert parameter.grad is None, f"frozen {name} got a gradient"


@pytest.mark.parametrize("stage", ["experts", "fusion"])
def test_optimizer_step_changes_only_the_stage(stage):
    model = build().set_stage(stage)
    model.train()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model(**make_batch(model.config)).loss.backward()
    optimizer.step()
    changed = {name for name, p in model.named_parameters() if not torch.equal(before[name], p)}
    assert changed, "nothing was trained"
    prefixes = ("manual.", "lip.") if stage == "experts" else ("fusion.",)
    assert all(name.startswith(prefixes) for name in changed), sorted(changed)[:5]
    # Everything that received a gradient moved (an untrained hard router may route no frame to a projection,
    # leaving its zero-initialised bias with a zero gradient: that one rightly stays put).
    with_gradient = {n for n, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert with_gradient <= changed


def test_frozen_parts_stay_in_eval_mode_when_a_trainer_calls_train():
    model = build().set_stage("fusion")
    model.train()  # what Trainer does before every step
    assert model.fusion.training
    assert not model.manual.training
    assert not model.lip.training
    assert not model.lip.vit.training
    model.set_stage("experts").train()
    assert model.manual.training
    assert model.lip.training
    assert not model.fusion.training


def test_stage_loss_is_the_stage_sum():
    model = build().eval()
    batch = make_batch(model.config)
    output = model.set_stage("experts")(**batch)
    experts = output.sign_loss + output.fingerspelling_loss + output.lip_loss + output.router_loss
    assert torch.allclose(output.loss, experts)
    assert torch.allclose(model.set_stage("fusion")(**batch).loss, output.fusion_loss)
    assert torch.allclose(model.set_stage("all")(**batch).loss, experts + output.fusion_loss)
    with pytest.raises(ValueError, match="stage must be one of"):
        model.set_stage("llm")


def test_ctc_loss_matches_torch_reference():
    model = build(fusion_type="none", use_lip=False).eval()
    batch = make_batch(model.config, labels=False)
    labels = torch.tensor([[1, 2, 3, 4], [5, 5, 6, -100]])
    output = model(**batch, gloss_labels=labels)
    log_probs = output.sign_logits.log_softmax(-1).transpose(0, 1)
    reference = torch.nn.functional.ctc_loss(
        log_probs, torch.tensor([1, 2, 3, 4, 5, 5, 6]), batch["attention_mask"].sum(-1), torch.tensor([4, 3])
    )
    assert torch.allclose(output.sign_loss, reference, atol=1e-5)


def test_sign_labels_replace_the_gloss_labels_for_the_sign_expert_only():
    model = build(use_lip=False).eval()
    batch = make_batch(model.config)
    signs = batch["gloss_labels"].clone()
    signs[:, 1:] = -100  # fewer words: the fingerspelled ones are the letter expert's
    output = model.set_stage("all")(**batch, sign_labels=signs)
    alone = model(**{**batch, "gloss_labels": signs})
    together = model(**batch)
    assert torch.allclose(output.sign_loss, alone.sign_loss)
    assert not torch.allclose(output.sign_loss, together.sign_loss)
    assert torch.allclose(output.fusion_loss, together.fusion_loss)  # the fusion still learns every word
    with pytest.raises(ValueError, match=r"sign_labels must hold ids"):
        model(**batch, sign_labels=torch.zeros_like(signs))


def test_no_loss_without_labels():
    model = build().eval()
    output = model(**make_batch(model.config, labels=False))
    assert output.loss is None
    assert output.sign_loss is None


@pytest.mark.parametrize(
    "variant", ["gated-learned", "cross_attention", "shift-fixed", "no-fingerspelling", "from-scratch"]
)
def test_padding_does_not_change_a_clips_outputs(variant):
    """A clip's logits must not depend on how much padding its batch needed (masks, chunks, lip windows, upsampling)."""
    model = build(**VARIANTS[variant]).eval()
    batch = make_batch(model.config, batch=1, frames=18, labels=False)
    padded = {key: torch.cat([value, torch.zeros_like(value)[:, :9]], dim=1) for key, value in batch.items()}
    with torch.no_grad():
        alone, in_padding = model(**batch), model(**padded)
    for name in ("gloss_logits", "sign_logits", "fingerspelling_logits", "router_logits", "gate", "lip_shift"):
        if getattr(alone, name) is not None:
            torch.testing.assert_close(getattr(in_padding, name)[:, :18], getattr(alone, name), msg=name)
    if alone.phoneme_logits is not None:
        steps = int(alone.phoneme_attention_mask.sum())
        torch.testing.assert_close(in_padding.phoneme_logits[:, :steps], alone.phoneme_logits[:, :steps])


def test_chunking_gives_the_same_output_as_one_pass():
    chunked = build(backbone_chunk_size=4).eval()
    whole = build(backbone_chunk_size=None).eval()
    batch = make_batch(chunked.config, labels=False)
    with torch.no_grad():
        torch.testing.assert_close(chunked(**batch).gloss_logits, whole(**batch).gloss_logits)


def held_every(values: torch.Tensor, stride: int) -> torch.Tensor:
    """(B, T, ...) with frame t replaced by frame t - t % stride: what a sample-and-hold of every k-th frame gives."""
    keyframes = torch.arange(values.shape[1]) // stride * stride
    return values[:, keyframes]


@pytest.mark.parametrize("manual_inputs", ["frames", "keypoints", "both"])
@pytest.mark.parametrize("stride", [2, 3, 4])
def test_frame_stride_holds_every_kth_frames_features(manual_inputs, stride):
    # The manual encoder reads each frame on its own, so reading every k-th frame and holding its features must give
    # exactly what the model gives at stride 1 on inputs where every frame is replaced by the last k-th frame.
    model = build(manual_inputs=manual_inputs).eval()
    batch = make_batch(model.config, labels=False)  # the second clip: 18 real frames of 24, not a multiple of 4
    held = dict(batch)
    for name in ("pixel_values", "keypoints", "keypoint_mask"):
        if name in batch:
            held[name] = held_every(batch[name], stride)
    with torch.no_grad():
        reference = model(**held)
        model.config.backbone_frame_stride = stride
        strided = model(**batch)
    for name in ("gloss_logits", "sign_logits", "fingerspelling_logits", "router_logits"):
        torch.testing.assert_close(getattr(strided, name), getattr(reference, name), msg=name)


def test_frame_stride_runs_the_backbone_on_every_kth_real_frame_only():
    model = build(backbone_frame_stride=3).eval()
    batch = make_batch(model.config, labels=False)  # 24 and 18 real frames
    frames_seen = []
    model.manual.backbone.register_forward_hook(lambda module, args, kwargs, output: frames_seen.append(
        kwargs["pixel_values"].shape[0]), with_kwargs=True)  # fmt: skip
    with torch.no_grad():
        output = model(**batch)
    assert sum(frames_seen) == 24 // 3 + 18 // 3
    assert output.gloss_logits.shape[1] == 24


def test_router_is_hard_in_eval_and_soft_in_training():
    model = build()
    batch = make_batch(model.config, labels=False)
    model.eval()
    with torch.no_grad():
        _, weights = model.manual.router(torch.randn(2, 24, 32), batch["attention_mask"])
    assert set(weights.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(weights.sum(-1), torch.ones(2, 24))
    model.train()
    _, weights = model.manual.router(torch.randn(2, 24, 32), batch["attention_mask"])
    assert not set(weights.unique().tolist()) <= {0.0, 1.0}
    assert torch.allclose(weights.sum(-1), torch.ones(2, 24))


def test_router_loss_ignores_unknown_and_padded_frames():
    model = build().eval()
    batch = make_batch(model.config)
    batch["segment_labels"][:] = -100
    batch["segment_labels"][0, :5] = 2
    output = model(**batch)
    expected = torch.nn.functional.cross_entropy(output.router_logits[0, :5], torch.full((5,), 2))
    assert torch.allclose(output.router_loss, expected, atol=1e-6)
    batch["segment_labels"][:] = -100
    assert model(**batch).router_loss.item() == 0.0


def test_tube_mask_hides_the_same_patches_in_every_tubelet_of_a_window():
    config = tiny_config(lip_config={**tiny_config().lip_config.to_dict(), "num_frames": 6})
    expert = LipreadingExpert(config).train()
    mask = expert.tube_mask(5, torch.device("cpu"))
    per_tubelet = mask.view(5, 3, expert.patches_per_tubelet)
    assert torch.equal(per_tubelet, per_tubelet[:, :1].expand_as(per_tubelet))
    assert (per_tubelet[:, 0].sum(-1) == expert.patches_per_tubelet // 2).all()
    assert expert.eval().tube_mask(5, torch.device("cpu")) is None


def test_lip_masking_only_in_training():
    model = build()
    batch = make_batch(model.config, labels=False)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(**batch).phoneme_logits, model(**batch).phoneme_logits)
    model.train()
    torch.manual_seed(1)
    first = model(**batch).phoneme_logits
    torch.manual_seed(2)
    assert not torch.allclose(first, model(**batch).phoneme_logits)


def test_frames_without_a_face_get_no_lip_weight():
    model = build(lip_shift="none").eval()
    batch = make_batch(model.config, labels=False)
    batch["face_attention_mask"][0, 4:12] = 0
    with torch.no_grad():
        output = model(**batch)
    assert (output.gate[0, 4:12] == 0).all()
    assert (output.gate[0, :4] > 0).all()
    # The learned alignment may borrow lips from up to max_lip_shift (6) frames away, no further.
    model = build().eval()
    batch["face_attention_mask"][0, 4:20] = 0
    with torch.no_grad():
        output = model(**batch)
    assert (output.gate[0, 10:14] == 0).all()
    assert (output.gate[0, :4] > 0).all()
    batch["face_attention_mask"][:] = 0  # no face anywhere: still finite, lips ignored
    with torch.no_grad():
        output = model(**batch)
    assert torch.isfinite(output.gloss_logits).all()
    assert (output.gate == 0).all()


def test_clip_without_any_face_is_left_out_of_the_lip_loss():
    model = build().eval()
    batch = make_batch(model.config)
    batch["face_attention_mask"][1] = 0
    with_face_only = model(**{k: v[:1] for k, v in batch.items()}).lip_loss
    torch.testing.assert_close(model(**batch).lip_loss, with_face_only)
    cross = build(fusion_type="cross_attention").eval()
    batch["face_attention_mask"][:] = 0
    output = cross(**batch)
    assert output.lip_loss is None
    assert torch.isfinite(output.loss)


@pytest.mark.parametrize("shift", [3, -2, "none"])
def test_fixed_lip_shift_is_reported(shift):
    model = build(lip_shift=shift).eval()
    with torch.no_grad():
        output = model(**make_batch(model.config, labels=False))
    assert (output.lip_shift == (0 if shift == "none" else shift)).all()


def test_learned_lip_shift_stays_in_its_window():
    model = build().eval()
    with torch.no_grad():
        output = model(**make_batch(model.config, labels=False))
    assert output.lip_shift.abs().max() <= model.config.max_lip_shift
    assert not torch.equal(output.lip_shift, torch.zeros_like(output.lip_shift))


def test_learned_alignment_finds_how_far_the_lips_trail_the_hands():
    """With query = key = identity, the clip's score of offset k is the mean similarity of hand frame t and lip frame
    t + k: for lips that trail the hands by 3 frames it peaks at k = 3, and the aligned stream is the hands' again."""
    from signbind_hf.modeling_signbind import LearnedLipAlignment

    config = tiny_config(alignment_hidden_size=64, max_lip_shift=6)
    alignment = LearnedLipAlignment(config)
    with torch.no_grad():
        for projection in (alignment.query, alignment.key):
            projection.weight.copy_(torch.eye(64))
            projection.bias.zero_()
    torch.manual_seed(0)
    hands = 3 * torch.randn(2, 40, 64)
    lips = torch.zeros_like(hands)
    lips[:, 3:] = hands[:, :-3]  # lip frame t + 3 mouths what hand frame t signs
    aligned, shift = alignment(hands, lips, torch.ones(2, 40, dtype=torch.bool))
    assert shift.shape == (2, 40)
    torch.testing.assert_close(shift, torch.full_like(shift, 3.0), atol=1e-3, rtol=0)  # one shift per clip
    torch.testing.assert_close(aligned[:, :37], hands[:, :37], atol=1e-2, rtol=0)
    # Untrained, it starts as "no shift": the offset prior holds most of the weight at k = 0.
    fresh = build().eval()
    weights = fresh.fusion.alignment.offset_bias.softmax(-1)
    assert weights[fresh.config.max_lip_shift] > 0.8


def test_model_without_lip_accepts_and_ignores_face_crops():
    model = build(use_lip=False).eval()
    batch = make_batch(model.config, labels=False)
    with torch.no_grad():
        with_faces = model(**batch).gloss_logits
        faces = {k: v for k, v in batch.items() if not k.startswith("face_")}
        torch.testing.assert_close(model(**faces).gloss_logits, with_faces)
        batch["face_pixel_values"] = torch.randn(2, 24, 3, 7, 7)  # even the wrong size: it is not used
        torch.testing.assert_close(model(**batch).gloss_logits, with_faces)


@pytest.mark.slow
def test_tiny_model_learns_to_transcribe_a_batch():
    """Real CTC end to end: experts then fusion, trained on two clips, then greedy-decoded back to their labels."""
    model = build(dropout=0.0, lip_mask_ratio=0.0)
    batch = make_batch(model.config)
    batch["segment_labels"][:] = 0  # all signing: a router trained on random routes would hide the sign stream
    for stage, steps, learning_rate in (("experts", 150, 3e-3), ("fusion", 300, 3e-3)):
        model.set_stage(stage).train()
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=learning_rate)
        for _ in range(steps):
            optimizer.zero_grad()
            model(**batch).loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        output = model(**batch)
    decoded = decode_streams(output, batch["attention_mask"])
    assert decoded["gloss"] == [[1, 2, 3, 4], [5, 5, 6]]
    assert decoded["fingerspelling"] == [[3, 27, 4], [8, 9, 10, 11]]
    assert decoded["phoneme"] == [[1, 2], [3]]
    beam = decode_streams(output, batch["attention_mask"], beam_width=4)
    assert beam["gloss"] == decoded["gloss"]


# --- bad input -------------------------------------------------------------------------------------------------


def bad_input_cases():
    def frames_rank(b):
        b["pixel_values"] = b["pixel_values"][0]

    def channels(b):
        b["pixel_values"] = b["pixel_values"][:, :, :1]

    def face_batch(b):
        b["face_pixel_values"] = b["face_pixel_values"][:1]

    def face_size(b):
        b["face_pixel_values"] = b["face_pixel_values"][..., :16, :16]

    def missing_faces(b):
        del b["face_pixel_values"]

    def mask_shape(b):
        b["attention_mask"] = b["attention_mask"][:, :5]

    def short_clip(b):
        b["gloss_labels"] = torch.randint(1, 60, (2, 30))

    def short_lip(b):
        b["phoneme_labels"] = torch.tensor([[*range(1, 14)], [1] + [-100] * 12])

    def blank_label(b):
        b["gloss_labels"][0, 0] = 0

    def label_range(b):
        b["letter_labels"][0, 0] = 28

    def label_batch(b):
        b["gloss_labels"] = b["gloss_labels"][:1]

    def segment_values(b):
        b["segment_labels"][0, 0] = 3

    return {
        "frames_rank": (frames_rank, r"pixel_values must have shape \(batch, frames, 3, height, width\), got \(24, 3"),
        "channels": (channels, "pixel_values must have 3 channels"),
        "face_batch": (face_batch, r"face_pixel_values must have shape .* = \(2, 24, 3, 32, 32\).*got \(1, 24"),
        "face_size": (face_size, r"face_pixel_values .*image_size=32, got \(2, 24, 3, 16, 16\)"),
        "missing_faces": (missing_faces, "face_pixel_values is required when config.use_lip=True"),
        "mask_shape": (mask_shape, r"attention_mask must have shape \(batch, frames\) = \(2, 24\), got \(2, 5\)"),
        "short_clip": (
            short_clip,
            "gloss_labels: clip 0 is too short for its labels: 30 labels need at least .* the clip has 24",
        ),
        "short_lip": (short_lip, "phoneme_labels: clip 0 is too short .* lip steps, the clip has 12"),
        "blank_label": (blank_label, r"gloss_labels must hold ids in \[1, 63\] \(0 is the CTC blank\)"),
        "label_range": (label_range, r"letter_labels must hold ids in \[1, 27\].*\[28\]"),
        "label_batch": (label_batch, r"gloss_labels must have shape \(batch, max_labels\) with batch=2, got \(1, 4\)"),
        "segment_values": (segment_values, "segment_labels must be 0 .* got .*3"),
    }


@pytest.mark.parametrize("case", list(bad_input_cases()))
def test_bad_input_raises_a_clear_value_error(case):
    corrupt, message = bad_input_cases()[case]
    model = build().eval()
    batch = make_batch(model.config)
    corrupt(batch)
    with pytest.raises(ValueError, match=message):
        model(**batch)


def bad_value_cases():
    """Inputs whose shapes are right and whose values are not: forward leaves them to check_input_values."""

    def zero_mask(b):
        b["attention_mask"][1] = 0

    def left_padding(b):
        b["attention_mask"][0, 0] = 0

    def mask_values(b):
        b["face_attention_mask"][0, 0] = 2

    def nan_frames(b):
        b["pixel_values"][0, 0, 0, 0, 0] = float("nan")

    def infinite_faces(b):
        b["face_pixel_values"][1, 3, 0, 0, 0] = float("inf")

    return {
        "zero_mask": (zero_mask, r"attention_mask marks no valid frame for clip\(s\) \[1\]"),
        "left_padding": (left_padding, "attention_mask must mark the real frames first"),
        "mask_values": (mask_values, "face_attention_mask must hold only 0 and 1"),
        "nan_frames": (nan_frames, "pixel_values contains NaN"),
        "infinite_faces": (infinite_faces, "face_pixel_values contains NaN or infinite"),
    }


@pytest.mark.parametrize("case", list(bad_value_cases()))
def test_bad_input_values_are_caught_by_the_value_checks_and_by_forward_only_when_debugging(case):
    corrupt, message = bad_value_cases()[case]
    model = build().eval()
    batch = make_batch(model.config, labels=False)
    corrupt(batch)
    with pytest.raises(ValueError, match=message):
        check_input_values(
            batch["attention_mask"],
            face_attention_mask=batch["face_attention_mask"],
            pixel_values=batch["pixel_values"],
            face_pixel_values=batch["face_pixel_values"],
        )
    model.debug_checks = True
    with torch.no_grad(), pytest.raises(ValueError, match=message):
        model(**batch)


def test_forward_reads_no_input_values_by_default():
    # What a value check would catch passes through (and shows in the outputs): forward never waits for the values.
    model = build().eval()
    batch = make_batch(model.config, labels=False)
    batch["pixel_values"][0] = float("nan")
    with torch.no_grad():
        output = model(**batch)
    assert output.sign_logits[0].isnan().all()
    assert not output.sign_logits[1].isnan().any()


@pytest.mark.parametrize("variant", ["gated-learned", "no-lip", "no-fingerspelling", "concat"])
def test_fusion_on_cached_expert_outputs_equals_the_fusion_stage(variant):
    model = build(**VARIANTS[variant]).set_stage("fusion").eval()
    batch = make_batch(model.config)
    with torch.no_grad():
        full = model(**batch)
        cached = model.fuse_expert_outputs(
            sign_logits=full.sign_logits,
            router_logits=full.router_logits,
            attention_mask=batch["attention_mask"],
            fingerspelling_logits=full.fingerspelling_logits,
            phoneme_logits=full.phoneme_logits,
            face_attention_mask=batch["face_attention_mask"],
            gloss_labels=batch["gloss_labels"],
        )
    torch.testing.assert_close(cached.gloss_logits, full.gloss_logits)
    torch.testing.assert_close(cached.loss, full.loss)
    with pytest.raises(ValueError, match="fusion_type='none'"):
        build(fusion_type="none").fuse_expert_outputs(full.sign_logits, full.router_logits, batch["attention_mask"])


def test_ctc_blank_logit_init_raises_only_the_blank_bias_of_every_ctc_head(tmp_path):
    model = SignBindModel(tiny_config(ctc_blank_logit_init=4.0))
    heads = ("manual.sign_head", "manual.fingerspelling_head", "lip.phoneme_head", "fusion.gloss_head")
    for name in heads:
        bias = model.get_submodule(name).bias
        assert bias[0].item() == 4.0, name
        assert torch.count_nonzero(bias[1:]) == 0, name
    assert SignBindModel(tiny_config()).manual.sign_head.bias[0].item() == 0.0
    # Loading a checkpoint keeps its trained bias: the init applies to fresh weights only.
    with torch.no_grad():
        model.manual.sign_head.bias[0] = 7.0
    model.save_pretrained(tmp_path)
    assert SignBindModel.from_pretrained(tmp_path).manual.sign_head.bias[0].item() == 7.0


def test_center_frames_ignores_the_static_scene():
    """With center_frames, adding one image to every frame of a clip (a new background) changes nothing; without, it
    does; padding frames do not enter a clip's mean."""
    batch = make_batch(tiny_config(), labels=False)
    scene = torch.randn(1, 1, *batch["pixel_values"].shape[2:])
    face_scene = torch.randn(1, 1, *batch["face_pixel_values"].shape[2:])
    moved = dict(batch)
    moved["pixel_values"] = batch["pixel_values"] + scene
    moved["face_pixel_values"] = batch["face_pixel_values"] + face_scene
    padded = dict(batch)
    padded["pixel_values"] = batch["pixel_values"].clone()
    padded["pixel_values"][1, -1] = 100.0  # a padding frame of clip 1

    centred = build(center_frames=True).eval()
    plain = build().eval()
    with torch.no_grad():
        reference = centred(**batch)
        for inputs in (moved, padded):
            output = centred(**inputs)
            torch.testing.assert_close(output.sign_logits, reference.sign_logits, atol=1e-4, rtol=1e-4)
            torch.testing.assert_close(output.phoneme_logits, reference.phoneme_logits, atol=1e-4, rtol=1e-4)
        assert not torch.allclose(plain(**moved).sign_logits, plain(**batch).sign_logits, atol=1e-3)


def test_center_frames_must_be_a_bool():
    with pytest.raises(ValueError, match="center_frames must be True or False"):
        tiny_config(center_frames="yes")


def test_manual_temporal_kernel_size_must_be_odd_and_not_negative():
    with pytest.raises(ValueError, match="manual_temporal_kernel_size must be odd"):
        tiny_config(manual_temporal_kernel_size=4)
    with pytest.raises(ValueError, match="manual_temporal_kernel_size must be >= 0"):
        tiny_config(manual_temporal_kernel_size=-1)
