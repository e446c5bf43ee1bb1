"""SignBindConfig: every default of the SignBind-LLM visual model (experts + fusion), in one place.

Kept flat with relative imports only so that it can be exported as Hub remote code beside the weights.
"""

from __future__ import annotations

from typing import Any, ClassVar

from transformers import AutoConfig, Dinov2Config, PreTrainedConfig, VideoMAEConfig
from transformers.configuration_utils import SubConfigSpec

from .constants import LETTER_VOCAB_SIZE, PHONEME_VOCAB_SIZE

FUSION_TYPES = ("gated", "concat", "cross_attention", "none")
MANUAL_INPUTS = ("frames", "keypoints", "both")
LIP_SHIFT_MODES = ("learned", "none")
STAGES = ("experts", "fusion", "all")


# The paper's frame backbone is DINOv2-base; these are the sizes of `facebook/dinov2-base` (image_size 518 is the
# position-embedding grid of that checkpoint; frames of other sizes are interpolated by Dinov2 itself).
PAPER_BACKBONE = {
    "model_type": "dinov2",
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "mlp_ratio": 4,
    "patch_size": 14,
    "image_size": 518,
}
# The lipreading expert is a VideoMAE-style masked ViT over mouth crops: 224 px, 16 px patches, tubelets of 2 frames.
# `num_frames` is the window one ViT pass sees (one tubelet): temporal modelling across windows is the Conv1d's job,
# which keeps the cost linear in the clip length and lets clips of any length through. 8 layers of ViT-base width
# (56.7 M) + patch embedding (1.2 M) + temporal Conv1d (4.1 M) + head is the paper's 62.5 M lip expert.
PAPER_LIP = {
    "image_size": 224,
    "patch_size": 16,
    "tubelet_size": 2,
    "num_frames": 2,
    "hidden_size": 768,
    "num_hidden_layers": 8,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "use_mean_pooling": True,
}

# `model_type` is needed in a backbone dict: transformers resolves `backbone_config` dicts by it.
TINY_BACKBONE = {
    "model_type": "dinov2",
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "mlp_ratio": 2,
    "patch_size": 8,
    "image_size": 32,
}
TINY_LIP = {
    "image_size": 32,
    "patch_size": 8,
    "tubelet_size": 2,
    "num_frames": 2,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "use_mean_pooling": True,
}

PRESETS: dict[str, dict[str, Any]] = {
    # The paper's sizes. Parameter budget (see SignBindModel.parameter_breakdown and tests/test_configuration.py):
    #   manual 101.1 M = DINOv2-base 86.6 M + 2-layer temporal transformer at width 768 (14.2 M) + router MLP (0.3 M)
    #                    + sign head 768 x 1000 (0.8 M) + fingerspelling head (0.02 M)
    #   lip     62.5 M = see PAPER_LIP
    #   fusion  32.3 M = 4-layer transformer at width 768 (28.4 M) + gate 1536 -> 768 (1.2 M) + learned alignment
    #                    (query and key: 2 x 768 x 768 = 1.2 M) + stream projections and gloss head (1.6 M)
    # `signbind params --preset paper` counts them (benchmarks/RESULTS.md has the counts against the paper's).
    "paper": {},
    # A few hundred thousand parameters and 32 px frames: for tests.
    "tiny": {
        "backbone_config": TINY_BACKBONE,
        "lip_config": TINY_LIP,
        "manual_temporal_layers": 1,
        "router_hidden_size": 32,
        "router_window": 8,
        "lip_temporal_kernel_size": 3,
        "fusion_hidden_size": 64,
        "fusion_num_layers": 2,
        "fusion_num_heads": 4,
        "fusion_intermediate_size": 128,
        "alignment_hidden_size": 32,
        "max_lip_shift": 6,
        "gloss_vocab_size": 64,
        "backbone_chunk_size": 32,
    },
}

# The CPU preset: what `make demo` trains from scratch on 2 cores. The tiny preset's
# lip expert and fusion; a manual expert that reads hand and body keypoints (no frame backbone: a from-scratch DINOv2
# cannot see a handshape in a whole frame, while keypoints carry it), with a wider temporal encoder; and the
# from-scratch settings, each explained where its field is documented (SignBindConfig): a high initial blank logit,
# per-clip centred face crops, local motion features; the sign stream kept on fingerspelled frames; and no dropout on
# the fusion's attention weights (on a CPU it is the slow part of a fusion training step).
PRESETS["cpu"] = {
    **PRESETS["tiny"],
    "backbone_config": {**TINY_BACKBONE, "hidden_size": 128, "num_attention_heads": 4},
    "manual_inputs": "keypoints",
    "manual_temporal_layers": 2,
    "manual_temporal_kernel_size": 5,
    "router_hidden_size": 64,
    "ctc_blank_logit_init": 4.0,
    "center_frames": True,
    "sign_stream_on_fingerspelling": True,
    "fusion_attention_dropout": 0.0,
    # Its lip ViT is small enough to take a whole training batch's face crops in one pass: in the tiny preset's 32-frame
    # chunks, the per-pass overhead was a large share of an experts training step (benchmarks/RESULTS.md).
    "backbone_chunk_size": 1024,
}


class SignBindConfig(PreTrainedConfig):
    r"""
    Configuration of [`SignBindModel`]: the shared DINOv2 frame backbone, the manual experts (continuous-sign CTC head,
    fingerspelling CTC head, router), the lipreading expert, and the fusion module. `SignBindConfig()` is the paper's
    model; `SignBindConfig.from_preset("tiny")` a few-hundred-thousand-parameter twin for tests;
    `SignBindConfig.from_preset("cpu")` the keypoint-reading model the CPU quickstart trains from scratch.

    Args:
        backbone_config (`Dinov2Config` or `dict`): the frame backbone shared by the manual experts.
        backbone_name_or_path (`str`, *optional*): a DINOv2 checkpoint (Hub id or local folder) whose weights
            initialise the frame backbone when the model is built, e.g. `"facebook/dinov2-base"`.
        backbone_chunk_size (`int`, *optional*, defaults to 64): frames per backbone/lip-ViT pass, so that memory does
            not grow with the clip length; `None` processes all frames of the batch at once.
        backbone_frame_stride (`int`, defaults to 1): the manual expert's frame encoder (the DINOv2 backbone, and the
            keypoint encoder where the model reads keypoints) runs on frames 0, k, 2k, ... of each clip, and each
            embedding is held for the k - 1 frames that follow: the router, the temporal layers and the CTC heads still
            take one step per frame. The backbone is most of the paper model's compute, so stride k divides it by k;
            hands move between the frames read, so it costs accuracy (benchmarks/RESULTS.md measures how much). An
            inference-time speed option (the pipeline's `backbone_frame_stride`); 1 reads every frame.
        lip_config (`VideoMAEConfig` or `dict`): the lipreading expert's masked ViT over face crops.
        lip_mask_ratio (`float`, defaults to 0.5): share of face-crop patches hidden (tube masking) in training.
        lip_temporal_kernel_size (`int`, defaults to 7) / lip_temporal_stride (`int`, defaults to 1): the Conv1d that
            adapts the ViT's per-tubelet features over time; the lip stream has T' = T / (tubelet_size * stride) steps.
            Stride 1 keeps 12.5 lip steps per second at 25 fps: CTC needs a step per phoneme, and mouthing runs at
            about 10 phonemes a second (at stride 2, 6.25 steps/s, a 1.6 s caption of 11 phonemes cannot be emitted).
        manual_inputs (`str`, defaults to `"frames"`): what the manual expert reads: `"frames"` (whole frames through
            the DINOv2 backbone, the paper's model), `"keypoints"` (hand and body keypoints through a small
            `KeypointEncoder`; no frame backbone is built), or `"both"` (the keypoint embedding is added to the frame
            embedding). The embedding feeds the router and the temporal encoder either way. With keypoints the
            processor returns `keypoints` and `keypoint_mask` (`SignBindVideoProcessor(keypoints=True)`), and
            `backbone_config` still sets the manual expert's width and heads.
        keypoint_hidden_size (`int`, defaults to 256): hidden width of the keypoint encoder's MLP.
        manual_temporal_layers (`int`, defaults to 2): transformer layers over frame features (at backbone width)
            before the sign and fingerspelling heads, so that they see movement, not single frames.
        manual_temporal_kernel_size (`int`, defaults to 0): when > 0, a residual block of two Conv1d layers of this
            kernel over the frame features, before the temporal transformer: local motion features that a transformer
            trained from scratch is slow to find (benchmarks/RESULTS.md). 0 is the paper's model.
        router_window (`int`, defaults to 16): frames of the local average pooling in front of the router.
        router_hidden_size (`int`, defaults to 384): hidden width of the router MLP.
        router_temperature (`float`, defaults to 1.0): Gumbel-softmax temperature in training (routing is hard in eval).
        fusion_type (`str`, defaults to `"gated"`): `"gated"` (α = σ(W[H_man; H_lip] + b)), `"concat"` (two-layer MLP
            over the concatenation), `"cross_attention"` (manual queries attend over the lip stream), or `"none"` (no
            fusion module: the sign head's output is the pseudo-gloss stream).
        sign_stream_on_fingerspelling (`bool`, defaults to `False`): on the frames the router gives to
            fingerspelling, the fusion reads the sign head's stream as well as the letters (`H_fs + H_s` in place of the
            paper's `H_fs`): what the sign head makes of the hands there stays beside the letters. Off is the paper's
            model.
        lip_shift (`str` or `int`, defaults to `"learned"`): how the lip stream is aligned to the hands before fusion:
            `"learned"` (one soft shift per clip within ±`max_lip_shift` frames), `"none"`, or a fixed shift in frames
            (positive: hand frame t is fused with lip frame t + shift).
        max_lip_shift (`int`, defaults to 10): half-width in frames of the learned alignment window.
        alignment_hidden_size (`int`, defaults to 768): query/key width of the learned alignment.
        fusion_hidden_size (`int`, defaults to 768), fusion_num_layers (`int`, defaults to 4), fusion_num_heads (`int`,
            defaults to 12), fusion_intermediate_size (`int`, defaults to 3072): the fusion transformer encoder.
        dropout (`float`, defaults to 0.1): dropout of every projection and attention outside the pretrained ViTs.
        fusion_attention_dropout (`float`, *optional*): dropout of the attention weights in the fusion transformer,
            when it should differ from `dropout` (`None`: `dropout`). On a CPU, PyTorch's attention with dropout takes
            a slow path that draws one random number per pair of frames, most of a fusion training step: the cpu preset
            sets it to 0 (the manual expert's temporal transformer keeps `dropout`: without it the letters read worse,
            benchmarks/RESULTS.md).
        use_lip (`bool`, defaults to `True`): build the lipreading expert (ablation switch).
        use_fingerspelling (`bool`, defaults to `True`): build the fingerspelling head; without it the router's
            fingerspelling share is routed to the sign head (ablation switch).
        gloss_vocab_size (`int`, defaults to 1000): pseudo-gloss words, blank and `[UNK]` included.
        letter_vocab_size (`int`, defaults to 28): blank + A-Z + word boundary.
        phoneme_vocab_size (`int`, defaults to 40): blank + 39 ARPAbet phonemes.
        pad_token_id (`int`, defaults to 0): the CTC blank of every stream (the wav2vec2 convention).
        ctc_loss_reduction (`str`, defaults to `"mean"`) / ctc_zero_infinity (`bool`, defaults to `False`): passed to
            `torch.nn.functional.ctc_loss`.
        ctc_blank_logit_init (`float`, defaults to 0.0): initial bias of the blank class in every CTC head. CTC
            from scratch first spends hundreds of steps learning that most frames are blank; starting the blank logit
            higher (e.g. 4.0) skips that phase (benchmarks/RESULTS.md). 0.0 is the usual zero bias (the paper does not
            say).
        ctc_beam_width (`int`, *optional*): how the model's CTC streams are decoded when the caller does not say
            (the pipeline, `signbind translate`, `signbind evaluate`, the demo app): `None` is greedy decoding, an
            integer is prefix beam search with that many beams. A model whose heads are briefly trained reads better
            with beams (benchmarks/RESULTS.md) and says so here, as a generation config does for `generate`. An
            explicit `beam_width` argument wins.
        center_frames (`bool`, defaults to `False`): subtract each clip's mean frame (over its real frames; over the
            frames with a face for the face crops) from every frame before the frame backbone and the lip ViT, so that
            the encoders see what moves, not the scene. For encoders trained from scratch on few signers: the static
            background, clothing and skin tone otherwise dominate the pixels and the encoders collapse to a constant
            (benchmarks/RESULTS.md). Off for a pretrained DINOv2, which expects natural images.
        sign_loss_weight, fingerspelling_loss_weight, lip_loss_weight, router_loss_weight (`float`, default 1.0):
            weights of the expert losses summed in the `"experts"` stage.
        initializer_range (`float`, defaults to 0.02): std of the normal init of the non-pretrained layers.
    """

    model_type = "signbind"
    sub_configs_defaults: ClassVar[dict[str, SubConfigSpec]] = {
        "backbone_config": SubConfigSpec(config_class=Dinov2Config, init_kwargs=PAPER_BACKBONE),
        "lip_config": SubConfigSpec(config_class=VideoMAEConfig, init_kwargs=PAPER_LIP),
    }

    backbone_config: dict | PreTrainedConfig | None = None
    backbone_name_or_path: str | None = None
    backbone_chunk_size: int | None = 64
    backbone_frame_stride: int = 1
    lip_config: dict | PreTrainedConfig | None = None
    lip_mask_ratio: float = 0.5
    lip_temporal_kernel_size: int = 7
    lip_temporal_stride: int = 1
    manual_inputs: str = "frames"
    keypoint_hidden_size: int = 256
    manual_temporal_layers: int = 2
    manual_temporal_kernel_size: int = 0
    router_window: int = 16
    router_hidden_size: int = 384
    router_temperature: float = 1.0
    fusion_type: str = "gated"
    sign_stream_on_fingerspelling: bool = False
    lip_shift: str | int = "learned"
    max_lip_shift: int = 10
    alignment_hidden_size: int = 768
    fusion_hidden_size: int = 768
    fusion_num_layers: int = 4
    fusion_num_heads: int = 12
    fusion_intermediate_size: int = 3072
    dropout: float = 0.1
    fusion_attention_dropout: float | None = None
    use_lip: bool = True
    use_fingerspelling: bool = True
    gloss_vocab_size: int = 1000
    letter_vocab_size: int = LETTER_VOCAB_SIZE
    phoneme_vocab_size: int = PHONEME_VOCAB_SIZE
    pad_token_id: int = 0
    ctc_loss_reduction: str = "mean"
    ctc_zero_infinity: bool = False
    ctc_blank_logit_init: float = 0.0
    ctc_beam_width: int | None = None
    center_frames: bool = False
    sign_loss_weight: float = 1.0
    fingerspelling_loss_weight: float = 1.0
    lip_loss_weight: float = 1.0
    router_loss_weight: float = 1.0
    initializer_range: float = 0.02

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)
        self._validate_signbind_fields()

    def _validate_signbind_fields(self) -> None:
        """All checks in one place; each message names the field, the allowed values and the value received."""
        if self.fusion_type not in FUSION_TYPES:
            raise ValueError(f"fusion_type must be one of {FUSION_TYPES}, got {self.fusion_type!r}")
        if self.manual_inputs not in MANUAL_INPUTS:
            raise ValueError(f"manual_inputs must be one of {MANUAL_INPUTS}, got {self.manual_inputs!r}")
        if self.manual_inputs == "keypoints" and self.backbone_name_or_path:
            raise ValueError(
                f"backbone_name_or_path={self.backbone_name_or_path!r} needs a frame backbone, but "
                "manual_inputs='keypoints' builds none; use manual_inputs='both' or 'frames'"
            )
        if isinstance(self.lip_shift, bool) or not (
            self.lip_shift in LIP_SHIFT_MODES or isinstance(self.lip_shift, int)
        ):
            raise ValueError(
                f"lip_shift must be one of {LIP_SHIFT_MODES} or an integer number of frames, got {self.lip_shift!r}"
            )
        if isinstance(self.lip_shift, int) and abs(self.lip_shift) > 64:
            raise ValueError(f"lip_shift must be a shift of at most 64 frames, got {self.lip_shift}")
        for name in (
            "use_lip",
            "use_fingerspelling",
            "ctc_zero_infinity",
            "center_frames",
            "sign_stream_on_fingerspelling",
        ):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.ctc_beam_width is not None and (
            isinstance(self.ctc_beam_width, bool)
            or not isinstance(self.ctc_beam_width, int)
            or self.ctc_beam_width < 1
        ):
            raise ValueError(f"ctc_beam_width must be None (greedy) or an integer >= 1, got {self.ctc_beam_width!r}")
        if self.ctc_loss_reduction not in ("mean", "sum"):
            raise ValueError(f"ctc_loss_reduction must be 'mean' or 'sum', got {self.ctc_loss_reduction!r}")
        for name in ("dropout", "fusion_attention_dropout"):
            value = getattr(self, name)
            if not (value is None and name == "fusion_attention_dropout") and not (
                isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value < 1.0
            ):
                raise ValueError(f"{name} must be a probability in [0, 1), got {value!r}")
        if not 0.0 <= self.lip_mask_ratio < 1.0:
            raise ValueError(f"lip_mask_ratio must be in [0, 1), got {self.lip_mask_ratio}")
        if self.backbone_chunk_size is not None and self.backbone_chunk_size < 1:
            raise ValueError(f"backbone_chunk_size must be a positive number of frames or None, got "
                             f"{self.backbone_chunk_size}")  # fmt: skip
        positive = (
            "lip_temporal_kernel_size", "lip_temporal_stride", "router_window", "router_hidden_size",
            "alignment_hidden_size", "fusion_hidden_size", "fusion_num_layers", "fusion_num_heads",
            "fusion_intermediate_size", "gloss_vocab_size", "keypoint_hidden_size", "backbone_frame_stride",
        )  # fmt: skip
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        for name in ("manual_temporal_layers", "manual_temporal_kernel_size", "max_lip_shift"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.manual_temporal_kernel_size and self.manual_temporal_kernel_size % 2 == 0:
            raise ValueError(
                f"manual_temporal_kernel_size must be odd (centred on its frame), got {self.manual_temporal_kernel_size}"
            )
        if self.fusion_hidden_size % self.fusion_num_heads:
            raise ValueError(
                f"fusion_hidden_size ({self.fusion_hidden_size}) must be divisible by fusion_num_heads "
                f"({self.fusion_num_heads})"
            )
        if self.gloss_vocab_size < 2:
            raise ValueError(
                f"gloss_vocab_size must count the blank and at least one word, got {self.gloss_vocab_size}"
            )
        if self.letter_vocab_size != LETTER_VOCAB_SIZE or self.phoneme_vocab_size != PHONEME_VOCAB_SIZE:
            raise ValueError(
                f"letter_vocab_size and phoneme_vocab_size are fixed by their inventories ({LETTER_VOCAB_SIZE} and "
                f"{PHONEME_VOCAB_SIZE}), got {self.letter_vocab_size} and {self.phoneme_vocab_size}"
            )
        if not self.backbone_config.model_type.startswith("dinov2"):
            raise ValueError(
                f"backbone_config must be a DINOv2 config, got model_type {self.backbone_config.model_type!r}"
            )
        lip = self.lip_config
        if lip.num_frames % lip.tubelet_size:
            raise ValueError(
                f"lip_config.num_frames ({lip.num_frames}) must be a multiple of lip_config.tubelet_size "
                f"({lip.tubelet_size})"
            )

    @property
    def fusion_attention_dropout_rate(self) -> float:
        """The dropout of the fusion transformer's attention weights: `fusion_attention_dropout` or `dropout`."""
        return self.dropout if self.fusion_attention_dropout is None else self.fusion_attention_dropout

    @property
    def uses_frames(self) -> bool:
        """Whether the manual expert reads whole frames (and builds the DINOv2 backbone)."""
        return self.manual_inputs in ("frames", "both")

    @property
    def uses_keypoints(self) -> bool:
        """Whether the manual expert reads hand and body keypoints (the processor must return them)."""
        return self.manual_inputs in ("keypoints", "both")

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> SignBindConfig:
        """Build a named preset (`"paper"`, `"tiny"` or `"cpu"`) with `overrides` applied on top.

        A `backbone_config` or `lip_config` given as a dict updates the preset's (`{"hidden_size": 64}` widens the
        tiny backbone and keeps the rest of it). Overriding `backbone_name_or_path` also takes the backbone's
        architecture from that checkpoint's config (a Hub id or a local folder), so that its weights fit.
        """
        if name not in PRESETS:
            raise ValueError(f"preset must be one of {tuple(PRESETS)}, got {name!r}")
        values = {**PRESETS[name], **overrides}
        for key, spec in cls.sub_configs_defaults.items():
            if isinstance(overrides.get(key), dict):
                values[key] = {**PRESETS[name].get(key, spec.init_kwargs), **overrides[key]}
        backbone_path = values.get("backbone_name_or_path")
        if backbone_path is not None and "backbone_config" not in overrides:
            values["backbone_config"] = AutoConfig.from_pretrained(backbone_path)
        return cls(**values)


__all__ = ["SignBindConfig"]
