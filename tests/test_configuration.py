"""SignBindConfig: presets, overrides, validation, serialisation and the paper's parameter budget."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoConfig, Dinov2Config, VideoMAEConfig

from signbind_hf import SignBindConfig, SignBindModel, constants

# Table of the paper (millions of parameters) and the tolerance the issue allows.
PAPER_SIZES = {"manual": 101.1, "lip": 62.5, "fusion": 33.9, "total": 197.5}


def test_paper_preset_is_the_default_config():
    assert SignBindConfig.from_preset("paper").to_dict() == SignBindConfig().to_dict()
    config = SignBindConfig()
    assert isinstance(config.backbone_config, Dinov2Config)
    assert config.backbone_config.hidden_size == 768
    assert isinstance(config.lip_config, VideoMAEConfig)
    assert (config.lip_config.tubelet_size, config.lip_config.patch_size, config.lip_config.image_size) == (2, 16, 224)
    assert (config.use_lip, config.use_fingerspelling, config.fusion_type, config.lip_shift) == (
        True, True, "gated", "learned"
    )  # fmt: skip


def test_overrides_apply_on_top_of_a_preset():
    config = SignBindConfig.from_preset("tiny", fusion_type="concat", lip_shift=5, use_lip=False)
    assert (config.fusion_type, config.lip_shift, config.use_lip) == ("concat", 5, False)
    assert config.backbone_config.image_size == 32  # the rest of the tiny preset is kept


def test_sub_config_dict_overrides_update_the_presets():
    config = SignBindConfig.from_preset("tiny", backbone_config={"hidden_size": 64}, lip_config={"hidden_size": 48})
    assert (config.backbone_config.hidden_size, config.backbone_config.image_size) == (64, 32)
    assert (config.lip_config.hidden_size, config.lip_config.image_size) == (48, 32)
    paper = SignBindConfig.from_preset("paper", backbone_config={"num_hidden_layers": 2})
    assert (paper.backbone_config.num_hidden_layers, paper.backbone_config.hidden_size) == (2, 768)


def test_vocab_sizes_agree_with_the_inventories():
    config = SignBindConfig()
    assert config.letter_vocab_size == constants.LETTER_VOCAB_SIZE == 1 + len(constants.LETTERS) + 1
    assert config.phoneme_vocab_size == constants.PHONEME_VOCAB_SIZE == 1 + len(constants.PHONEMES)
    assert config.pad_token_id == constants.BLANK_ID


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("fusion_type", "attention", r"fusion_type must be one of \('gated', 'concat', 'cross_attention', 'none'\)"),
        ("lip_shift", "auto", r"lip_shift must be one of \('learned', 'none'\) or an integer number of frames"),
        ("lip_shift", True, "lip_shift must be one of"),
        ("lip_shift", 100, "lip_shift must be a shift of at most 64 frames"),
        ("use_lip", "yes", "use_lip must be True or False, got 'yes'"),
        ("use_fingerspelling", 1, "use_fingerspelling must be True or False"),
        ("lip_mask_ratio", 1.0, r"lip_mask_ratio must be in \[0, 1\)"),
        ("backbone_chunk_size", 0, "backbone_chunk_size must be a positive number of frames or None"),
        ("backbone_frame_stride", 0, "backbone_frame_stride must be a positive integer"),
        ("backbone_frame_stride", 1.5, "backbone_frame_stride must be a positive integer"),
        ("gloss_vocab_size", 1, "gloss_vocab_size must count the blank and at least one word"),
        ("letter_vocab_size", 27, "letter_vocab_size and phoneme_vocab_size are fixed"),
        ("fusion_num_heads", 5, r"fusion_hidden_size \(64\) must be divisible by fusion_num_heads \(5\)"),
        ("ctc_loss_reduction", "none", "ctc_loss_reduction must be 'mean' or 'sum'"),
        ("ctc_beam_width", 0, r"ctc_beam_width must be None \(greedy\) or an integer >= 1, got 0"),
        ("ctc_beam_width", True, "ctc_beam_width must be None"),
        ("dropout", 1.0, r"dropout must be a probability in \[0, 1\), got 1.0"),
        ("fusion_attention_dropout", -0.1, r"fusion_attention_dropout must be a probability in \[0, 1\)"),
        ("fusion_attention_dropout", "0.1", "fusion_attention_dropout must be a probability"),
    ],
)
def test_invalid_values_name_the_field_and_the_allowed_values(field, value, message):
    with pytest.raises(ValueError, match=message):
        SignBindConfig.from_preset("tiny", **{field: value})


def test_unknown_preset():
    with pytest.raises(ValueError, match=r"preset must be one of \('paper', 'tiny', 'cpu'\), got 'huge'"):
        SignBindConfig.from_preset("huge")


@pytest.mark.compat
def test_save_and_load_round_trip(tmp_path):
    config = SignBindConfig.from_preset("tiny", fusion_type="cross_attention", lip_shift=-3)
    config.save_pretrained(tmp_path)
    for loaded in (SignBindConfig.from_pretrained(tmp_path), AutoConfig.from_pretrained(tmp_path)):
        assert isinstance(loaded, SignBindConfig)
        assert {**loaded.to_dict(), "_name_or_path": ""} == config.to_dict()
        assert isinstance(loaded.backbone_config, Dinov2Config)
        assert isinstance(loaded.lip_config, VideoMAEConfig)


def test_paper_parameter_budget_on_the_meta_device():
    with torch.device("meta"):
        model = SignBindModel(SignBindConfig.from_preset("paper"))
    assert all(p.device.type == "meta" for p in model.parameters())  # counted, never allocated
    breakdown = model.parameter_breakdown()
    assert breakdown["total"] == sum(p.numel() for p in model.parameters())
    for part, millions in PAPER_SIZES.items():
        assert abs(breakdown[part] / 1e6 - millions) / millions < 0.05, (part, breakdown[part])
    # DINOv2-base alone is 86.6 M: the rest of the manual expert is temporal modelling, router and heads.
    backbone = sum(p.numel() for p in model.manual.backbone.parameters())
    assert abs(backbone / 1e6 - 86.6) < 0.1


def test_tiny_preset_is_a_few_hundred_thousand_parameters():
    with torch.device("meta"):
        total = SignBindModel(SignBindConfig.from_preset("tiny")).parameter_breakdown()["total"]
    assert 100_000 < total < 1_000_000


@pytest.mark.parametrize(("fusion_attention_dropout", "expected"), [(None, 0.1), (0.0, 0.0), (0.2, 0.2)])
def test_fusion_attention_dropout_defaults_to_dropout_and_reaches_the_fusion_only(fusion_attention_dropout, expected):
    from signbind_hf import SignBindModel

    config = SignBindConfig.from_preset(
        "tiny", fusion_attention_dropout=fusion_attention_dropout, dropout=0.1, fusion_type="cross_attention"
    )
    model = SignBindModel(config)
    assert [layer.self_attn.dropout for layer in model.fusion.encoder.layers] == [expected] * 2
    assert model.fusion.cross_attention.dropout == expected
    assert {layer.self_attn.dropout for layer in model.manual.temporal_encoder.layers} == {0.1}
    assert {layer.dropout1.p for layer in model.fusion.encoder.layers} == {0.1}  # the rest keeps `dropout`
