"""SignBindModel: the visual half of SignBind-LLM (experts + fusion), video tensors in, CTC logits out.

    pixel_values (B, T, 3, H, W) ─► ManualExpert: DINOv2 per frame ─┐
    keypoints (B, T, 75, 2) ─► KeypointEncoder per frame ───────────┴─(config.manual_inputs: either or the sum)─► F (B, T, D)
                                      ├─ Router: local mean-pool ─► MLP ─► Gumbel-softmax over {sign, fs, rest}
                                      └─ F + PE ─► temporal transformer ─► sign head (gloss CTC), fs head (letter CTC)
    face_pixel_values (B, T, 3, h, w) ─► LipreadingExpert: masked ViT per tubelet ─► Conv1d ─► phoneme CTC (B, T', 40)
    FusionModule: project each stream to d, route the manual streams, upsample + align the lip stream, gate,
                  transformer ─► pseudo-gloss CTC (B, T, |gloss|)

The LLM refiner that turns pseudo-gloss into English is a separate causal LM (see the training package). Kept flat,
with relative imports only, so that it can be exported as Hub remote code beside the weights.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import AutoModel, PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput

from .configuration_signbind import STAGES, SignBindConfig
from .constants import IGNORE_INDEX, SEGMENT_NAMES
from .keypoints_signbind import HAND_POINTS, NUM_HAND_POINTS, NUM_POSE_POINTS

NUM_ROUTES = len(SEGMENT_NAMES)  # sign, fingerspelling, rest
# Keypoints are the processor's: 33 body points, then the left hand's 21, then the right hand's 21 (x, y each).
NUM_KEYPOINTS = NUM_POSE_POINTS + 2 * NUM_HAND_POINTS
HAND_WRIST, HAND_MIDDLE_KNUCKLE = HAND_POINTS.index("WRIST"), HAND_POINTS.index("MIDDLE_FINGER_MCP")
MIN_HAND_SIZE = 1e-3  # shoulder widths: a degenerate hand (wrist on its knuckle) must not divide by zero


@dataclass
class SignBindOutput(ModelOutput):
    r"""
    Output of [`SignBindModel`]. T is the clip length in frames, T' the lip stream's length (T / (tubelet * stride)).

    loss (`torch.FloatTensor` of shape `()`): the current stage's loss (see `SignBindModel.set_stage`): the weighted sum
        of the expert and router losses (`"experts"`), the fusion CTC (`"fusion"`), or both (`"all"`).
    sign_loss, fingerspelling_loss, lip_loss, router_loss, fusion_loss (`torch.FloatTensor` of shape `()`): each
        stream's own loss, when its labels were given.
    gloss_logits (`(B, T, gloss_vocab_size)`): fused pseudo-gloss CTC logits (the sign head's when fusion_type="none";
        None while the model trains in the `"experts"` stage, where the frozen fusion module is not run).
    sign_logits (`(B, T, gloss_vocab_size)`): continuous-sign expert CTC logits.
    fingerspelling_logits (`(B, T, letter_vocab_size)`): fingerspelling CTC logits; `None` without that expert.
    phoneme_logits (`(B, T', phoneme_vocab_size)`): lipreading CTC logits; `None` without that expert.
    phoneme_attention_mask (`(B, T')`): 1 on the lip steps that cover real frames.
    router_logits, router_probs (`(B, T, 3)`): router scores and their softmax over (sign, fingerspelling, rest).
    gate (`(B, T)`): weight the fusion gave the lip stream at each frame, mean over channels (1 − α for the gated
        fusion; 0 where no face was seen); `None` without a gate.
    lip_shift (`(B, T)`): the lip-to-hand shift applied at each frame, in frames (the learned alignment's expected
        offset, one per clip); `None` without the lip stream or fusion.
    """

    loss: torch.FloatTensor | None = None
    sign_loss: torch.FloatTensor | None = None
    fingerspelling_loss: torch.FloatTensor | None = None
    lip_loss: torch.FloatTensor | None = None
    router_loss: torch.FloatTensor | None = None
    fusion_loss: torch.FloatTensor | None = None
    gloss_logits: torch.FloatTensor | None = None
    sign_logits: torch.FloatTensor | None = None
    fingerspelling_logits: torch.FloatTensor | None = None
    phoneme_logits: torch.FloatTensor | None = None
    phoneme_attention_mask: torch.LongTensor | None = None
    router_logits: torch.FloatTensor | None = None
    router_probs: torch.FloatTensor | None = None
    gate: torch.FloatTensor | None = None
    lip_shift: torch.FloatTensor | None = None


# --- small building blocks ------------------------------------------------------------------------------------------


def sinusoidal_positions(length: int, dim: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Fixed sinusoidal positions (length, dim): parameter-free and defined for any clip length."""
    position = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    frequency = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim, device=device, dtype=torch.float32)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency[: dim // 2])
    return table.to(dtype)


def transformer_encoder(
    width: int, heads: int, ffn: int, layers: int, dropout: float, attention_dropout: float
) -> nn.TransformerEncoder:
    """Pre-norm GELU transformer encoder over (B, T, width) with a final LayerNorm."""
    layer = nn.TransformerEncoderLayer(
        width, heads, ffn, dropout, activation="gelu", batch_first=True, norm_first=True
    )
    layer.self_attn.dropout = attention_dropout  # nn.TransformerEncoderLayer takes one rate for both
    # Nested tensors would make padded outputs differ between train and eval; we mask instead.
    return nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(width), enable_nested_tensor=False)


def ctc_head(width: int, vocab_size: int) -> nn.Linear:
    """A linear CTC output layer, tagged so that `_init_weights` can start its blank logit at `ctc_blank_logit_init`."""
    head = nn.Linear(width, vocab_size)
    head.is_ctc_head = True
    return head


def run_in_chunks(encode, inputs: torch.Tensor, chunk_size: int | None) -> torch.Tensor:
    """Apply `encode` to `inputs` in slices of `chunk_size` along dim 0, so peak memory does not grow with T."""
    if chunk_size is None or inputs.shape[0] <= chunk_size:
        return encode(inputs)
    return torch.cat([encode(chunk) for chunk in inputs.split(chunk_size)])


def masked_window_mean(features: torch.Tensor, mask: torch.Tensor, window: int) -> torch.Tensor:
    """Mean of `features` (B, T, D) over a centred window of `window` frames, counting only frames where mask is 1."""
    length = features.shape[1]
    weights = mask.to(features.dtype)[:, None, :]  # (B, 1, T)
    summed = F.avg_pool1d((features * weights.transpose(1, 2)).transpose(1, 2), window, 1, window // 2)
    counted = F.avg_pool1d(weights, window, 1, window // 2)
    # The 1/window factors cancel; an even window yields T + 1 positions, hence the slice.
    return (summed / counted.clamp(min=1e-6))[..., :length].transpose(1, 2)


def shift_in_time(x: torch.Tensor, offset: int) -> torch.Tensor:
    """out[:, t] = x[:, t + offset], zero where t + offset falls outside the clip. x is (B, T, ...)."""
    if offset == 0:
        return x
    shifted = torch.zeros_like(x)
    if abs(offset) < x.shape[1]:
        if offset > 0:
            shifted[:, :-offset] = x[:, offset:]
        else:
            shifted[:, -offset:] = x[:, :offset]
    return shifted


def center_in_time(frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """`frames` (B, T, ...) minus each clip's mean over the frames where `mask` (B, T) is 1; zero elsewhere."""
    weights = mask.to(frames.dtype).view(*mask.shape, *([1] * (frames.dim() - 2)))
    mean = (frames * weights).sum(1, keepdim=True) / weights.sum(1, keepdim=True).clamp(min=1.0)
    return (frames - mean) * weights


def ctc_output_lengths(lengths: torch.Tensor, kernel_size: int, stride: int, padding: int) -> torch.Tensor:
    """Output length of a Conv1d for each input length (floor division, as torch computes it)."""
    return torch.div(lengths + 2 * padding - kernel_size, stride, rounding_mode="floor") + 1


# --- experts ------------------------------------------------------------------------------------------------------


class TemporalConvBlock(nn.Module):
    """x + Conv1d(GELU(Conv1d(x))) over time, centred kernels; padding frames neither feed nor receive features."""

    def __init__(self, width: int, kernel_size: int):
        super().__init__()
        self.conv_in = nn.Conv1d(width, width, kernel_size, padding=kernel_size // 2)
        self.conv_out = nn.Conv1d(width, width, kernel_size, padding=kernel_size // 2)

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        keep = mask.to(features.dtype)[:, None, :]  # (B, 1, T)
        hidden = self.conv_in(features.transpose(1, 2) * keep)
        hidden = self.conv_out(F.gelu(hidden) * keep) * keep
        return features + hidden.transpose(1, 2)


class KeypointEncoder(nn.Module):
    """Per-frame embedding of the hand and body keypoints: (B, T, 75, 2) and their mask -> (B, T, D).

    One MLP reads two views of the same points: where they are (the processor's shoulder-normalised coordinates:
    where the hands are relative to the body, what tells signs apart) and each hand's shape (its 21 points relative to
    its wrist, in units of the wrist-to-middle-knuckle length: the same for a handshape wherever the hand is, what
    tells fingerspelled letters apart). Points not found are zero and the mask is an input too, so that "not seen"
    is never read as "at the body's centre".
    """

    def __init__(self, config: SignBindConfig):
        super().__init__()
        features = NUM_KEYPOINTS * 3 + 2 * NUM_HAND_POINTS * 2  # x, y, found per point; x, y per hand point
        self.mlp = nn.Sequential(
            nn.Linear(features, config.keypoint_hidden_size),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.keypoint_hidden_size, config.backbone_config.hidden_size),
        )
        self.norm = nn.LayerNorm(config.backbone_config.hidden_size)

    @staticmethod
    def hand_shapes(keypoints: torch.Tensor, found: torch.Tensor) -> torch.Tensor:
        """(B, T, 2, 21, 2): each hand's points minus its wrist over its wrist-to-middle-knuckle length; zero where
        the point, the wrist or the knuckle was not found."""
        hands = keypoints[:, :, NUM_POSE_POINTS:].unflatten(2, (2, NUM_HAND_POINTS))  # (B, T, 2, 21, 2)
        seen = found[:, :, NUM_POSE_POINTS:].unflatten(2, (2, NUM_HAND_POINTS))  # (B, T, 2, 21)
        wrist = hands[..., HAND_WRIST : HAND_WRIST + 1, :]
        size = (hands[..., HAND_MIDDLE_KNUCKLE : HAND_MIDDLE_KNUCKLE + 1, :] - wrist).norm(dim=-1, keepdim=True)
        measurable = seen[..., HAND_WRIST : HAND_WRIST + 1] & seen[..., HAND_MIDDLE_KNUCKLE : HAND_MIDDLE_KNUCKLE + 1]
        shape = (hands - wrist) / size.clamp(min=MIN_HAND_SIZE)
        return shape * (seen & measurable)[..., None].to(shape.dtype)

    def forward(self, keypoints: torch.Tensor, keypoint_mask: torch.Tensor) -> torch.Tensor:
        found = keypoint_mask.bool()
        dtype = self.mlp[0].weight.dtype
        points = keypoints.to(dtype) * found[..., None].to(dtype)
        inputs = torch.cat(
            [points.flatten(2), found.to(dtype), self.hand_shapes(points, found).flatten(2)], dim=-1
        )  # (B, T, features)
        return self.norm(self.mlp(inputs))


class Router(nn.Module):
    """Decides per frame whether the hands sign, fingerspell or rest.

    Temporal average pooling over a local window of frame features, a small MLP, and a Gumbel-softmax over the three
    routes: soft and stochastic in training (differentiable), hard one-hot in eval.
    """

    def __init__(self, config: SignBindConfig):
        super().__init__()
        width = config.backbone_config.hidden_size
        self.window = config.router_window
        self.temperature = config.router_temperature
        self.mlp = nn.Sequential(
            nn.Linear(width, config.router_hidden_size),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.router_hidden_size, NUM_ROUTES),
        )

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.mlp(masked_window_mean(features, mask, self.window))  # (B, T, 3)
        if self.training:
            weights = F.gumbel_softmax(logits.float(), tau=self.temperature, hard=False)
        else:
            weights = F.one_hot(logits.argmax(-1), NUM_ROUTES).float()
        return logits, weights.to(logits.dtype)


class ManualExpert(nn.Module):
    """Shared DINOv2 frame encoder and/or keypoint encoder, with the router and the sign and fingerspelling heads."""

    def __init__(self, config: SignBindConfig):
        super().__init__()
        width = config.backbone_config.hidden_size
        self.chunk_size = config.backbone_chunk_size
        self.backbone = AutoModel.from_config(config.backbone_config) if config.uses_frames else None
        self.keypoint_encoder = KeypointEncoder(config) if config.uses_keypoints else None
        self.router = Router(config)
        self.dropout = nn.Dropout(config.dropout)
        kernel = config.manual_temporal_kernel_size
        self.temporal_conv = TemporalConvBlock(width, kernel) if kernel else None
        self.temporal_encoder = (
            transformer_encoder(
                width,
                config.backbone_config.num_attention_heads,
                width * config.backbone_config.mlp_ratio,
                config.manual_temporal_layers,
                config.dropout,
                config.dropout,
            )
            if config.manual_temporal_layers
            else None
        )
        self.sign_head = ctc_head(width, config.gloss_vocab_size)
        self.fingerspelling_head = ctc_head(width, config.letter_vocab_size) if config.use_fingerspelling else None

    def encode_frames(self, pixel_values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Per-frame DINOv2 [CLS] embeddings (B, T, D); padded frames are skipped and left at zero."""
        batch, length = mask.shape
        valid = mask.bool()
        frames = pixel_values[valid]  # (N, 3, H, W): only real frames reach the backbone
        features = run_in_chunks(
            lambda chunk: self.backbone(pixel_values=chunk).pooler_output, frames, self.chunk_size
        )
        output = features.new_zeros(batch, length, features.shape[-1])
        output[valid] = features
        return output

    def encode(self, pixel_values, keypoints, keypoint_mask, mask: torch.Tensor) -> torch.Tensor:
        """Per-frame features (B, T, D) of what the expert reads (frames, keypoints, or their sum); zero on padding."""
        features = None if self.backbone is None else self.encode_frames(pixel_values, mask)
        if self.keypoint_encoder is not None:
            points = self.keypoint_encoder(keypoints, keypoint_mask)
            points = points * mask[..., None].to(points.dtype)
            features = points if features is None else features + points.to(features.dtype)
        return features

    def encode_strided(self, pixel_values, keypoints, keypoint_mask, mask: torch.Tensor, stride: int) -> torch.Tensor:
        """`encode` on frames 0, k, 2k, ... of each clip, each result held for the k - 1 frames that follow.

        Padding sits at the end of a clip, so a held feature never covers padding that its own frame is not; the
        product with `mask` zeroes the held copies that run past a clip's last real frame.
        """
        if stride == 1:
            return self.encode(pixel_values, keypoints, keypoint_mask, mask)
        every = slice(None, None, stride)
        features = self.encode(
            None if pixel_values is None else pixel_values[:, every],
            None if keypoints is None else keypoints[:, every],
            None if keypoint_mask is None else keypoint_mask[:, every],
            mask[:, every],
        )
        held = features.repeat_interleave(stride, dim=1)[:, : mask.shape[1]]
        return held * mask[..., None].to(held.dtype)

    def forward(self, pixel_values, keypoints, keypoint_mask, mask: torch.Tensor, frame_stride: int = 1):
        features = self.encode_strided(pixel_values, keypoints, keypoint_mask, mask, frame_stride)  # (B, T, D)
        router_logits, route_weights = self.router(features, mask)  # (B, T, 3) each
        if self.temporal_conv is not None:
            features = self.temporal_conv(features, mask)
        hidden = features + sinusoidal_positions(features.shape[1], features.shape[2], features.device, features.dtype)
        hidden = self.dropout(hidden)
        if self.temporal_encoder is not None:
            hidden = self.temporal_encoder(hidden, src_key_padding_mask=~mask.bool())  # (B, T, D)
        sign_logits = self.sign_head(hidden)  # (B, T, |gloss|)
        fingerspelling_logits = self.fingerspelling_head(hidden) if self.fingerspelling_head is not None else None
        return sign_logits, fingerspelling_logits, router_logits, route_weights


class LipreadingExpert(nn.Module):
    """Masked ViT over mouth crops, one tubelet window at a time, then a strided Conv1d over time and a phoneme head.

    The ViT (VideoMAE architecture) drops the masked patches before the encoder, so masking also saves compute. Tube
    masking: within a window every tubelet hides the same patch positions, so the model cannot copy a patch from the
    neighbouring frame.
    """

    def __init__(self, config: SignBindConfig):
        super().__init__()
        vit = config.lip_config
        width = vit.hidden_size
        self.window = vit.num_frames
        self.tubelet = vit.tubelet_size
        self.patches_per_tubelet = (vit.image_size // vit.patch_size) ** 2
        self.mask_ratio = config.lip_mask_ratio
        self.chunk_windows = (
            None if config.backbone_chunk_size is None else max(1, config.backbone_chunk_size // self.window)
        )
        self.kernel_size, self.stride = config.lip_temporal_kernel_size, config.lip_temporal_stride
        self.padding = self.kernel_size // 2
        self.vit = AutoModel.from_config(vit)
        self.norm = nn.LayerNorm(width)
        self.temporal_conv = nn.Conv1d(width, width, self.kernel_size, self.stride, self.padding)
        self.dropout = nn.Dropout(config.dropout)
        self.phoneme_head = ctc_head(width, config.phoneme_vocab_size)

    def output_lengths(self, frame_lengths: torch.Tensor) -> torch.Tensor:
        tubelets = torch.div(frame_lengths + self.tubelet - 1, self.tubelet, rounding_mode="floor")
        return ctc_output_lengths(tubelets, self.kernel_size, self.stride, self.padding)

    def tube_mask(self, num_windows: int, device: torch.device) -> torch.Tensor | None:
        """(N, S) bool, True = hidden: the same random patch positions in every tubelet of a window."""
        num_masked = int(self.mask_ratio * self.patches_per_tubelet)
        if not self.training or num_masked == 0:
            return None
        order = torch.rand(num_windows, self.patches_per_tubelet, device=device).argsort(dim=-1)
        hidden = torch.zeros(num_windows, self.patches_per_tubelet, dtype=torch.bool, device=device)
        hidden.scatter_(1, order[:, :num_masked], True)
        return hidden.repeat(1, self.window // self.tubelet)

    def encode_windows(self, windows: torch.Tensor) -> torch.Tensor:
        """(N, window, 3, h, w) face crops -> (N, window / tubelet, D) mean of the visible patch tokens per tubelet."""
        hidden = self.tube_mask(windows.shape[0], windows.device)
        tokens = self.vit(pixel_values=windows, bool_masked_pos=hidden).last_hidden_state  # (N, S_visible, D)
        return tokens.view(windows.shape[0], self.window // self.tubelet, -1, tokens.shape[-1]).mean(2)

    def encode_all_windows(self, windows: torch.Tensor, window_valid: torch.Tensor) -> torch.Tensor:
        """(B, W, window, 3, h, w) -> (B, W, window / tubelet, D): the windows marked valid encoded, the others zero."""
        if not window_valid.any():  # no face anywhere (inference): nothing to encode
            return windows.new_zeros(*window_valid.shape, self.window // self.tubelet, self.norm.normalized_shape[0])
        encoded = run_in_chunks(self.encode_windows, windows[window_valid], self.chunk_windows)  # (N, W/tub, D)
        features = encoded.new_zeros(*window_valid.shape, self.window // self.tubelet, encoded.shape[-1])
        features[window_valid] = encoded
        return features

    def forward(self, face_pixel_values: torch.Tensor, mask: torch.Tensor, face_mask: torch.Tensor):
        batch, length = mask.shape
        padded_length = -(-length // self.window) * self.window
        pad = padded_length - length
        faces = F.pad(face_pixel_values, (0, 0, 0, 0, 0, 0, 0, pad))  # (B, T_pad, 3, h, w)
        frame_mask = F.pad(mask, (0, pad)).bool()
        seen = F.pad(face_mask * mask, (0, pad)).bool()

        windows = faces.view(batch, padded_length // self.window, self.window, *faces.shape[2:])
        window_valid = frame_mask.view(batch, -1, self.window).any(-1)  # (B, W)
        if not self.training:
            # A window without a face is zeroed below whatever the ViT makes of it, so inference does not encode it
            # (live, the frames whose face crops are not finished yet). Training encodes every window: the random
            # tube masks then do not depend on what the face detector found.
            window_valid &= seen.view(batch, -1, self.window).any(-1)
        tubelet_features = self.encode_all_windows(windows, window_valid)  # (B, W, W/tub, D)
        tubelet_features = self.norm(tubelet_features.flatten(1, 2))  # (B, T_pad / tubelet, D)
        # Tubelets without a face carry no lip information: zero them so that the Conv1d sees silence, not noise.
        face_seen = seen.view(batch, -1, self.tubelet).any(-1)
        tubelet_features = tubelet_features * face_seen[..., None].to(tubelet_features.dtype)

        hidden = self.temporal_conv(tubelet_features.transpose(1, 2)).transpose(1, 2)  # (B, T', D)
        phoneme_logits = self.phoneme_head(self.dropout(F.gelu(hidden)))  # (B, T', |phonemes|)
        lengths = self.output_lengths(mask.sum(-1))
        step_mask = (torch.arange(phoneme_logits.shape[1], device=mask.device)[None] < lengths[:, None]).long()
        return phoneme_logits, step_mask


# --- fusion -------------------------------------------------------------------------------------------------------


class LearnedLipAlignment(nn.Module):
    """Soft alignment of the lip stream to the hands: one learned shift per clip within ±max_shift frames.

    Every hand frame t scores the lip frames t + k (k in [-K, K]) with a single-head dot product; the clip's score of
    offset k is the mean over its frames plus a learned bias per offset, and the lip stream is the softmax-weighted
    sum of its copies shifted by each k. The expected offset Σ_k w_k k is the shift applied. The bias starts peaked at
    k = 0 (``NO_SHIFT_PRIOR``): alignment starts as "no shift" and moves as far as training finds useful.

    Why per clip and not per frame: how far the mouthing trails the hands is steady within a clip, and per-frame
    attention over the window, free to pick a different offset at every frame, blurred the phonemes and trained worse
    than no shift at all (benchmarks/RESULTS.md).
    """

    NO_SHIFT_PRIOR = 4.0  # logit of offset 0 over the others at initialisation: 82 % of the weight with K = 6

    def __init__(self, config: SignBindConfig):
        super().__init__()
        width, attention = config.fusion_hidden_size, config.alignment_hidden_size
        self.max_shift = config.max_lip_shift
        self.query = nn.Linear(width, attention)
        self.key = nn.Linear(width, attention)
        self.offset_bias = nn.Parameter(torch.zeros(2 * self.max_shift + 1))
        self.register_buffer("offsets", torch.arange(-self.max_shift, self.max_shift + 1), persistent=False)

    def windows(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, C) -> (B, T, C, 2K + 1): entry [..., k] is frame t + k - K (zero outside the clip)."""
        return F.pad(x, (0, 0, self.max_shift, self.max_shift)).unfold(1, 2 * self.max_shift + 1, 1)

    def forward(self, manual: torch.Tensor, lip: torch.Tensor, lip_mask: torch.Tensor):
        query, keys = self.query(manual), self.windows(self.key(lip))
        seen = lip_mask.to(manual.dtype)
        # Pairs (t, t + k) whose two frames both show lips: padding and faceless frames do not vote.
        pairs = self.windows(seen[..., None])[:, :, 0] * seen[..., None]  # (B, T, 2K+1)
        scores = torch.einsum("bta,btak->btk", query, keys) / math.sqrt(query.shape[-1])
        clip_scores = (scores * pairs).sum(1) / pairs.sum(1).clamp(min=1.0) + self.offset_bias  # (B, 2K+1)
        weights = clip_scores.softmax(-1)
        aligned = torch.einsum("bk,btck->btc", weights, self.windows(lip))
        shift = (weights * self.offsets.to(weights.dtype)).sum(-1)  # (B,) expected offset in frames
        return aligned, shift[:, None].expand(-1, lip.shape[1])


class FusionModule(nn.Module):
    """Binds the routed manual stream and the lip stream, then models time with a transformer and emits pseudo-gloss.

    H_man = g_sign·H_s + g_fs·H_fs + g_rest·e_null; H_lip is the upsampled, aligned lip stream; the gated variant mixes
    them with α = σ(W[H_man; H_lip] + b), per frame and channel. Experts enter as posteriors (softmax of their CTC
    logits), so each projection is a soft embedding of the tokens an expert reads: bounded, and on one scale whatever
    the experts learned.
    """

    def __init__(self, config: SignBindConfig):
        super().__init__()
        width = config.fusion_hidden_size
        self.fusion_type = config.fusion_type
        self.lip_shift = config.lip_shift
        self.upsample = config.lip_config.tubelet_size * config.lip_temporal_stride
        self.sign_projection = nn.Linear(config.gloss_vocab_size, width)
        self.sign_on_fingerspelling = config.sign_stream_on_fingerspelling
        self.fingerspelling_projection = (
            nn.Linear(config.letter_vocab_size, width) if config.use_fingerspelling else None
        )
        self.rest_embedding = nn.Parameter(torch.zeros(width))  # e_null: what "hands at rest" contributes
        self.lip_projection = None
        if config.use_lip:
            self.lip_projection = nn.Linear(config.phoneme_vocab_size, width)
            self.alignment = LearnedLipAlignment(config) if config.lip_shift == "learned" else None
            if self.fusion_type == "gated":
                self.gate = nn.Linear(2 * width, width)
            elif self.fusion_type == "concat":
                self.mix = nn.Sequential(
                    nn.Linear(2 * width, width), nn.GELU(), nn.Dropout(config.dropout), nn.Linear(width, width)
                )
            elif self.fusion_type == "cross_attention":
                self.cross_attention = nn.MultiheadAttention(
                    width, config.fusion_num_heads, dropout=config.fusion_attention_dropout_rate, batch_first=True
                )
                self.cross_norm = nn.LayerNorm(width)
        # Projected posteriors are as small as the projection's init (std 0.02 per channel) while the sinusoidal
        # positions are of order 1: without this norm the positions drown the content and fusion learns slowly.
        self.input_norm = nn.LayerNorm(width)
        self.dropout = nn.Dropout(config.dropout)
        self.encoder = transformer_encoder(
            width,
            config.fusion_num_heads,
            config.fusion_intermediate_size,
            config.fusion_num_layers,
            config.dropout,
            config.fusion_attention_dropout_rate,
        )
        self.gloss_head = ctc_head(width, config.gloss_vocab_size)

    def manual_stream(self, sign_logits, fingerspelling_logits, route_weights) -> torch.Tensor:
        dtype = self.sign_projection.weight.dtype
        sign = self.sign_projection(sign_logits.float().softmax(-1).to(dtype))  # (B, T, d)
        route = route_weights.to(dtype)
        if self.fingerspelling_projection is None:
            # Without a fingerspelling expert the sign head covers fingerspelled stretches too.
            return (route[..., :2].sum(-1, keepdim=True)) * sign + route[..., 2:] * self.rest_embedding
        fingerspelling = self.fingerspelling_projection(fingerspelling_logits.float().softmax(-1).to(dtype))
        if self.sign_on_fingerspelling:  # what the sign head read of a spelled word stays beside its letters
            fingerspelling = fingerspelling + sign
        return route[..., :1] * sign + route[..., 1:2] * fingerspelling + route[..., 2:] * self.rest_embedding

    def lip_stream(self, phoneme_logits: torch.Tensor, length: int) -> torch.Tensor:
        """Project the lip posteriors and upsample T' -> T by the lip stream's exact stride, so that frames line up.

        Each lip step is repeated over the frames it was computed from. Linear interpolation would blend the last real
        step with padding, so a clip's output would depend on how much padding its batch needed.
        """
        lip = self.lip_projection(phoneme_logits.float().softmax(-1).to(self.lip_projection.weight.dtype))
        lip = lip.repeat_interleave(self.upsample, dim=1)[:, :length]  # (B, <=T, d)
        return F.pad(lip, (0, 0, 0, length - lip.shape[1]))

    def forward(
        self,
        sign_logits: torch.Tensor,
        fingerspelling_logits: torch.Tensor | None,
        route_weights: torch.Tensor,
        mask: torch.Tensor,
        phoneme_logits: torch.Tensor | None = None,
        face_mask: torch.Tensor | None = None,
    ):
        """Returns gloss logits (B, T, |gloss|), the lip weight per frame (B, T) or None, the lip shift (B, T) or None."""
        manual = self.manual_stream(sign_logits, fingerspelling_logits, route_weights)  # (B, T, d)
        fused, lip_weight, shift = manual, None, None
        if self.lip_projection is not None:
            seen = (face_mask * mask).bool()  # (B, T) frames whose lips carry information
            lip = self.lip_stream(phoneme_logits, manual.shape[1]) * seen[..., None].to(manual.dtype)
            lip, seen, shift = self.align(manual, lip, seen, mask.bool())
            fused, lip_weight = self.mix_streams(manual, lip, seen)
        hidden = self.input_norm(fused) * mask[..., None].to(fused.dtype)
        hidden = hidden + sinusoidal_positions(hidden.shape[1], hidden.shape[2], hidden.device, hidden.dtype)
        hidden = self.encoder(self.dropout(hidden), src_key_padding_mask=~mask.bool())
        return self.gloss_head(hidden), lip_weight, shift

    def align(self, manual: torch.Tensor, lip: torch.Tensor, seen: torch.Tensor, real: torch.Tensor):
        """The lip stream moved onto the hands' time, which frames now hold lip information, and the shift."""
        batch, length = seen.shape
        if self.lip_shift == "learned":
            lip, shift = self.alignment(manual, lip, seen)
            # Padding within reach of a real lip frame stays padding (cross-attention would attend to it).
            reachable = self.alignment.windows(seen[..., None].float())[:, :, 0].any(-1) & real
            return lip, reachable, shift
        offset = 0 if self.lip_shift == "none" else int(self.lip_shift)
        shift = torch.full((batch, length), float(offset), device=lip.device, dtype=lip.dtype)
        return shift_in_time(lip, offset), shift_in_time(seen, offset), shift

    def mix_streams(self, manual: torch.Tensor, lip: torch.Tensor, seen: torch.Tensor):
        """Combine H_man and H_lip; frames with no lip information fall back to H_man alone."""
        seen_f = seen[..., None].to(manual.dtype)
        if self.fusion_type == "gated":
            alpha = torch.sigmoid(self.gate(torch.cat([manual, lip], dim=-1)))  # (B, T, d) weight of the hands
            lip_share = (1 - alpha) * seen_f
            return manual + lip_share * (lip - manual), lip_share.mean(-1)
        if self.fusion_type == "concat":
            return manual + seen_f * (self.mix(torch.cat([manual, lip], dim=-1)) - manual), None
        # cross_attention: hands ask, lips answer. A clip with no visible face at all attends to its (zero) lip
        # frames rather than to nothing, which would be NaN; its output is then discarded by `seen_f`.
        no_face = ~seen.any(-1, keepdim=True)
        attended, _ = self.cross_attention(manual, lip, lip, key_padding_mask=~(seen | no_face), need_weights=False)
        return self.cross_norm(manual + seen_f * attended), None


# --- the model ----------------------------------------------------------------------------------------------------


class SignBindPreTrainedModel(PreTrainedModel):
    config_class = SignBindConfig
    base_model_prefix = "signbind"
    main_input_name = "pixel_values"
    supports_gradient_checkpointing = True
    _supports_sdpa = True  # lets the DINOv2 and VideoMAE sub-models use scaled-dot-product attention

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, FusionModule):
            init.normal_(module.rest_embedding, mean=0.0, std=self.config.initializer_range)
        elif isinstance(module, LearnedLipAlignment):
            # init.copy_ (like init.zeros_) leaves a loaded value alone: this runs on reloaded models too.
            prior = torch.zeros_like(module.offset_bias)
            prior[module.max_shift] = module.NO_SHIFT_PRIOR
            init.copy_(module.offset_bias, prior)
        if getattr(module, "is_ctc_head", False) and not getattr(module.bias, "_is_hf_initialized", False):
            with torch.no_grad():  # after the zero bias above: only the blank class starts higher
                module.bias[self.config.pad_token_id] = self.config.ctc_blank_logit_init


class SignBindModel(SignBindPreTrainedModel):
    """SignBind-LLM's experts and fusion module. See `SignBindConfig` for every option and `SignBindOutput` for shapes.

    Training is staged (`set_stage`): the experts on their own targets, then the fusion module with the experts frozen.

    `forward` checks what is cheap to check (shapes, which inputs are given, label ids); the values of the inputs
    (finite numbers, masks of 0 and 1 with the real frames first) are checked where the data enters: the processor and
    the training collator (`check_input_values`). Reading a whole tensor would make every step on a GPU wait for it;
    set `debug_checks = True` on a model to have `forward` check them too, while debugging a data pipeline.
    """

    # Off by default: each value check reads a whole input tensor and, on a GPU, waits for it (see the docstring).
    debug_checks: bool = False

    def __init__(self, config: SignBindConfig):
        super().__init__(config)
        self.manual = ManualExpert(config)
        self.lip = LipreadingExpert(config) if config.use_lip else None
        self.fusion = FusionModule(config) if config.fusion_type != "none" else None
        self.stage = "all"
        self.post_init()
        # Building on the meta device (counting parameters, or from_pretrained filling in saved weights) must not
        # fetch the backbone: there is nothing to load into, or the checkpoint already holds the trained weights.
        if config.backbone_name_or_path and self.manual.sign_head.weight.device.type != "meta":
            self.load_backbone_weights(config.backbone_name_or_path)

    # --- set-up ---------------------------------------------------------------------------------------------------

    def load_backbone_weights(self, name_or_path: str) -> None:
        """Copy the weights of a DINOv2 checkpoint (Hub id or local folder) into the frame backbone."""
        pretrained = AutoModel.from_pretrained(name_or_path)
        expected = self.manual.backbone.state_dict()
        received = pretrained.state_dict()
        mismatched = [k for k in expected if k not in received or received[k].shape != expected[k].shape]
        if mismatched:
            raise ValueError(
                f"backbone_name_or_path={name_or_path!r} does not fit config.backbone_config: {len(mismatched)} "
                f"tensors differ (first: {mismatched[0]!r}). Build the config with "
                f"SignBindConfig.from_preset(..., backbone_name_or_path={name_or_path!r}) to take its architecture."
            )
        self.manual.backbone.load_state_dict(received, strict=True)

    def set_stage(self, stage: str) -> SignBindModel:
        """Train only one stage: `"experts"` (manual + lip experts and router), `"fusion"` (fusion.*) or `"all"`.

        Parameters outside the stage get `requires_grad=False` and stay in eval mode (no dropout, no lip masking, hard
        routing) even when a Trainer calls `model.train()`; `loss` becomes the stage's loss.
        """
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
        if stage == "fusion" and self.fusion is None:
            raise ValueError("stage='fusion' needs a fusion module, but this model has fusion_type='none'")
        self.stage = stage
        for name, module in self.named_children():
            module.requires_grad_(name not in self._frozen_module_names())
        return self.train(self.training)

    def _frozen_module_names(self) -> set[str]:
        return {"experts": {"fusion"}, "fusion": {"manual", "lip"}, "all": set()}[self.stage]

    def train(self, mode: bool = True) -> SignBindModel:
        super().train(mode)
        for name in self._frozen_module_names():
            if getattr(self, name) is not None:
                getattr(self, name).eval()
        return self

    def parameter_breakdown(self) -> dict[str, int]:
        """Parameters per part: `manual` (backbone + temporal layers + router + heads), `lip`, `fusion`, `total`."""
        counts = {"manual": 0, "lip": 0, "fusion": 0}
        for name, parameter in self.named_parameters():
            counts[name.split(".", 1)[0]] += parameter.numel()
        return {**counts, "total": sum(counts.values())}

    # --- forward --------------------------------------------------------------------------------------------------

    def forward(
        self,
        pixel_values: torch.FloatTensor | None = None,
        face_pixel_values: torch.FloatTensor | None = None,
        attention_mask: torch.LongTensor | None = None,
        face_attention_mask: torch.LongTensor | None = None,
        keypoints: torch.FloatTensor | None = None,
        keypoint_mask: torch.LongTensor | None = None,
        gloss_labels: torch.LongTensor | None = None,
        letter_labels: torch.LongTensor | None = None,
        phoneme_labels: torch.LongTensor | None = None,
        segment_labels: torch.LongTensor | None = None,
        sign_labels: torch.LongTensor | None = None,
    ) -> SignBindOutput:
        r"""
        pixel_values (`(B, T, 3, H, W)`): normalised full frames; required unless `config.manual_inputs="keypoints"`
            (then accepted and ignored).
        face_pixel_values (`(B, T, 3, h, w)`): mouth-centred face crops at `config.lip_config.image_size`; required
            when `config.use_lip` (pass `face_attention_mask` zeros for frames without a face), ignored otherwise.
        attention_mask (`(B, T)`): 1 for real frames, 0 for padding at the end; defaults to all ones.
        face_attention_mask (`(B, T)`): 1 where a face was found; defaults to `attention_mask`.
        keypoints (`(B, T, 75, 2)`): shoulder-normalised x, y of 33 body, 21 left-hand and 21 right-hand points (the
            processor's `keypoints`); required when `config.manual_inputs` is `"keypoints"` or `"both"`.
        keypoint_mask (`(B, T, 75)`): 1 where a point was found; defaults to all found.
        gloss_labels, letter_labels, phoneme_labels (`(B, L)`): CTC targets padded with -100 (ids start at 1). A
            clip whose `phoneme_labels` are all -100 has no phoneme target and is left out of the lip loss.
        segment_labels (`(B, T)`): per-frame route (0 sign, 1 fingerspelling, 2 rest), -100 where unknown.
        sign_labels (`(B, L)`): the sign expert's CTC target when it is not `gloss_labels`: the signed words only
            (fingerspelled words are the letter expert's), in the gloss vocabulary; defaults to `gloss_labels`.
        """
        attention_mask, face_attention_mask, keypoint_mask = check_inputs(
            self.config, pixel_values, face_pixel_values, attention_mask, face_attention_mask, keypoints, keypoint_mask
        )
        if self.debug_checks:
            check_input_values(
                attention_mask,
                face_attention_mask=face_attention_mask if self.config.use_lip else None,
                pixel_values=pixel_values if self.config.uses_frames else None,
                face_pixel_values=face_pixel_values if self.config.use_lip else None,
                keypoints=keypoints if self.config.uses_keypoints else None,
                keypoint_mask=keypoint_mask,
            )
        if self.config.center_frames:
            if self.config.uses_frames:
                pixel_values = center_in_time(pixel_values, attention_mask)
            if self.lip is not None:
                face_pixel_values = center_in_time(face_pixel_values, face_attention_mask * attention_mask)
        sign_logits, fingerspelling_logits, router_logits, route_weights = self.manual(
            pixel_values, keypoints, keypoint_mask, attention_mask, frame_stride=self.config.backbone_frame_stride
        )

        phoneme_logits = phoneme_mask = None
        if self.lip is not None:
            phoneme_logits, phoneme_mask = self.lip(face_pixel_values, attention_mask, face_attention_mask)

        gloss_logits, gate, lip_shift = sign_logits, None, None
        if self.fusion is not None and self.training and self.stage == "experts":
            # Training the experts: the frozen fusion module's output feeds no loss, so it is not computed (for the
            # tiny preset it is most of the model's parameters).
            gloss_logits = None
        elif self.fusion is not None:
            gloss_logits, gate, lip_shift = self.fusion(
                sign_logits, fingerspelling_logits, route_weights, attention_mask, phoneme_logits, face_attention_mask
            )

        output = SignBindOutput(
            gloss_logits=gloss_logits,
            sign_logits=sign_logits,
            fingerspelling_logits=fingerspelling_logits,
            phoneme_logits=phoneme_logits,
            phoneme_attention_mask=phoneme_mask,
            router_logits=router_logits,
            router_probs=router_logits.float().softmax(-1),
            gate=gate,
            lip_shift=lip_shift,
        )
        labels = {"gloss": gloss_labels, "letter": letter_labels, "phoneme": phoneme_labels, "segment": segment_labels}
        labels["sign"] = sign_labels
        losses = self._losses(output, labels, attention_mask, face_attention_mask * attention_mask)
        return dataclasses.replace(output, **losses)

    def fuse_expert_outputs(
        self,
        sign_logits: torch.FloatTensor,
        router_logits: torch.FloatTensor,
        attention_mask: torch.LongTensor,
        fingerspelling_logits: torch.FloatTensor | None = None,
        phoneme_logits: torch.FloatTensor | None = None,
        face_attention_mask: torch.LongTensor | None = None,
        gloss_labels: torch.LongTensor | None = None,
    ) -> SignBindOutput:
        """The fusion module alone, on expert outputs computed earlier (a feature cache), with frozen-expert routing.

        Gives what `forward` gives in the `"fusion"` stage (experts frozen, so the router is hard) without running the
        backbone and the lip ViT again: the frozen experts' outputs do not change from one epoch to the next. Takes
        the tensors a `SignBindOutput` holds (`phoneme_logits` at the lip rate T'); `loss` is the fusion CTC.
        """
        if self.fusion is None:
            raise ValueError("fuse_expert_outputs needs a fusion module, but this model has fusion_type='none'")
        if self.config.use_fingerspelling and fingerspelling_logits is None:
            raise ValueError("fingerspelling_logits is required when config.use_fingerspelling=True")
        if self.config.use_lip and phoneme_logits is None:
            raise ValueError("phoneme_logits is required when config.use_lip=True")
        attention_mask = attention_mask.long()
        face_attention_mask = attention_mask if face_attention_mask is None else face_attention_mask.long()
        route_weights = F.one_hot(router_logits.argmax(-1), NUM_ROUTES).to(sign_logits.dtype)  # the eval router
        gloss_logits, gate, lip_shift = self.fusion(
            sign_logits, fingerspelling_logits, route_weights, attention_mask, phoneme_logits, face_attention_mask
        )
        fusion_loss = None
        if gloss_labels is not None:
            frame_lengths = attention_mask.sum(-1)
            check_labels("gloss_labels", gloss_labels, self.config.gloss_vocab_size, frame_lengths, "valid frames")
            fusion_loss = ctc_loss(gloss_logits, frame_lengths, gloss_labels, self.config)
        return SignBindOutput(
            loss=fusion_loss,
            fusion_loss=fusion_loss,
            gloss_logits=gloss_logits,
            sign_logits=sign_logits,
            fingerspelling_logits=fingerspelling_logits,
            phoneme_logits=phoneme_logits,
            router_logits=router_logits,
            router_probs=router_logits.float().softmax(-1),
            gate=gate,
            lip_shift=lip_shift,
        )

    def _losses(self, output: SignBindOutput, labels: dict, attention_mask, face_seen) -> dict:
        """Each stream's loss where its labels were given, and `loss`: the sum the current stage trains on."""
        config = self.config
        frame_lengths = attention_mask.sum(-1)
        sign_loss = fingerspelling_loss = lip_loss = router_loss = fusion_loss = None
        if labels["gloss"] is not None:
            check_labels("gloss_labels", labels["gloss"], config.gloss_vocab_size, frame_lengths, "valid frames")
            if self.fusion is not None and output.gloss_logits is not None:
                fusion_loss = ctc_loss(output.gloss_logits, frame_lengths, labels["gloss"], config)
        sign_target = labels["gloss"]
        if labels["sign"] is not None:
            check_labels("sign_labels", labels["sign"], config.gloss_vocab_size, frame_lengths, "valid frames")
            sign_target = labels["sign"]
        if sign_target is not None:
            sign_loss = ctc_loss(output.sign_logits, frame_lengths, sign_target, config)
        if labels["letter"] is not None and output.fingerspelling_logits is not None:
            check_labels("letter_labels", labels["letter"], config.letter_vocab_size, frame_lengths, "valid frames")
            fingerspelling_loss = ctc_loss(output.fingerspelling_logits, frame_lengths, labels["letter"], config)
        if labels["phoneme"] is not None and output.phoneme_logits is not None:
            lip_lengths = output.phoneme_attention_mask.sum(-1)
            check_labels("phoneme_labels", labels["phoneme"], config.phoneme_vocab_size, lip_lengths, "lip steps")
            # A clip in which no face was ever seen teaches the lip expert nothing, and neither does one whose phoneme
            # labels are all padding (no phoneme target: what the signer mouthed is unknown, not "nothing"; an empty
            # target would train the lip expert to stay silent on a moving mouth): both are left out of the lip loss.
            lip_trainable = face_seen.any(-1) & (labels["phoneme"] != IGNORE_INDEX).any(-1)
            if lip_trainable.any():
                lip_loss = ctc_loss(
                    output.phoneme_logits, lip_lengths, labels["phoneme"], config, sample_mask=lip_trainable
                )
        if labels["segment"] is not None:
            router_loss = router_cross_entropy(output.router_logits, labels["segment"], attention_mask)

        weighted_experts = [
            (sign_loss, config.sign_loss_weight),
            (fingerspelling_loss, config.fingerspelling_loss_weight),
            (lip_loss, config.lip_loss_weight),
            (router_loss, config.router_loss_weight),
        ]
        expert_terms = [weight * loss for loss, weight in weighted_experts if loss is not None]
        stage_terms = {
            "experts": expert_terms,
            "fusion": [fusion_loss] if fusion_loss is not None else [],
            "all": expert_terms + ([fusion_loss] if fusion_loss is not None else []),
        }[self.stage]
        loss = torch.stack(stage_terms).sum() if stage_terms else None
        return {
            "loss": loss,
            "sign_loss": sign_loss,
            "fingerspelling_loss": fingerspelling_loss,
            "lip_loss": lip_loss,
            "router_loss": router_loss,
            "fusion_loss": fusion_loss,
        }


# --- losses -------------------------------------------------------------------------------------------------------


def ctc_loss(
    logits: torch.Tensor,
    input_lengths: torch.Tensor,
    labels: torch.Tensor,
    config: SignBindConfig,
    sample_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """CTC as in wav2vec2: float32 log-softmax, blank = pad id, -100 pads labels; `sample_mask` drops clips."""
    label_mask = labels >= 0
    target_lengths = label_mask.sum(-1)
    targets = labels.masked_select(label_mask)
    log_probs = F.log_softmax(logits, dim=-1, dtype=torch.float32).transpose(0, 1)  # (T, B, V)
    with torch.backends.cudnn.flags(enabled=False):
        per_clip = F.ctc_loss(
            log_probs,
            targets,
            input_lengths,
            target_lengths,
            blank=config.pad_token_id,
            reduction="none",
            zero_infinity=config.ctc_zero_infinity,
        )
    if config.ctc_loss_reduction == "mean":
        per_clip = per_clip / target_lengths.clamp(min=1)  # torch's "mean": per-target-token, then over clips
    if sample_mask is None:
        sample_mask = torch.ones_like(per_clip, dtype=torch.bool)
    per_clip = per_clip[sample_mask]
    return per_clip.mean() if config.ctc_loss_reduction == "mean" else per_clip.sum()


def router_cross_entropy(logits: torch.Tensor, segment_labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    if segment_labels.shape != mask.shape:
        raise ValueError(
            f"segment_labels must have shape (batch, frames) = {tuple(mask.shape)}, got {tuple(segment_labels.shape)}"
        )
    known = (segment_labels != IGNORE_INDEX) & mask.bool()
    if ((segment_labels[known] < 0) | (segment_labels[known] >= NUM_ROUTES)).any():
        raise ValueError(f"segment_labels must be 0 (sign), 1 (fingerspelling), 2 (rest) or -100, got "
                         f"{sorted(set(segment_labels[known].tolist()))}")  # fmt: skip
    if not known.any():
        return logits.sum() * 0.0  # nothing known: a zero that keeps the graph, not a NaN mean over nothing
    targets = segment_labels.masked_fill(~known, IGNORE_INDEX)
    return F.cross_entropy(logits.float().flatten(0, 1), targets.flatten(), ignore_index=IGNORE_INDEX)


# --- input checks -------------------------------------------------------------------------------------------------


def check_inputs(
    config, pixel_values, face_pixel_values, attention_mask, face_attention_mask, keypoints=None, keypoint_mask=None
):
    """Shape checks with messages that name the argument, what was expected and what was received; none reads a
    tensor's values (``check_input_values`` does).

    Returns the attention, face and keypoint masks, defaults filled in."""
    if config.uses_frames or keypoints is None:
        batch, length = check_frames(config, pixel_values)
        device = pixel_values.device
    else:
        batch, length = check_keypoint_shape(keypoints)
        device = keypoints.device
    attention_mask = check_mask("attention_mask", attention_mask, (batch, length), device)
    keypoint_mask = check_keypoints(config, keypoints, keypoint_mask, batch, length) if config.uses_keypoints else None

    if not config.use_lip:
        return attention_mask, attention_mask, keypoint_mask  # face crops are accepted and ignored
    if face_pixel_values is None:
        raise ValueError(
            "face_pixel_values is required when config.use_lip=True (shape (batch, frames, 3, h, w)); for frames "
            "without a face pass a face_attention_mask of 0"
        )
    size = config.lip_config.image_size
    expected = (batch, length, config.lip_config.num_channels, size, size)
    if tuple(face_pixel_values.shape) != expected:
        raise ValueError(
            f"face_pixel_values must have shape (batch, frames, channels, h, w) = {expected} to match the clips' "
            f"{length} frames and config.lip_config.image_size={size}, got {tuple(face_pixel_values.shape)}"
        )
    if face_attention_mask is None:
        return attention_mask, attention_mask, keypoint_mask
    face_attention_mask = check_mask("face_attention_mask", face_attention_mask, (batch, length), device)
    return attention_mask, face_attention_mask, keypoint_mask


def check_frames(config, pixel_values) -> tuple[int, int]:
    """pixel_values must be (batch, frames, channels, height, width) with at least one frame; returns (B, T)."""
    if not isinstance(pixel_values, torch.Tensor) or pixel_values.dim() != 5:
        shape = tuple(pixel_values.shape) if isinstance(pixel_values, torch.Tensor) else type(pixel_values).__name__
        hint = "" if config.uses_frames else " (or pass keypoints: this model reads keypoints only)"
        raise ValueError(f"pixel_values must have shape (batch, frames, 3, height, width), got {shape}{hint}")
    batch, length, channels = pixel_values.shape[:3]
    if channels != config.backbone_config.num_channels:
        raise ValueError(
            f"pixel_values must have {config.backbone_config.num_channels} channels in dim 2 (batch, frames, "
            f"channels, height, width), got shape {tuple(pixel_values.shape)}"
        )
    if length == 0 or batch == 0:
        raise ValueError(f"pixel_values holds no frames: shape {tuple(pixel_values.shape)}")
    return batch, length


def check_keypoint_shape(keypoints) -> tuple[int, int]:
    """keypoints must be (batch, frames, 75, 2) with at least one frame; returns (B, T)."""
    per_frame = (NUM_KEYPOINTS, 2)
    if not isinstance(keypoints, torch.Tensor) or keypoints.dim() != 4 or tuple(keypoints.shape[2:]) != per_frame:
        shape = tuple(keypoints.shape) if isinstance(keypoints, torch.Tensor) else type(keypoints).__name__
        raise ValueError(f"keypoints must have shape (batch, frames, {NUM_KEYPOINTS}, 2), got {shape}")
    if keypoints.shape[0] == 0 or keypoints.shape[1] == 0:
        raise ValueError(f"keypoints holds no frames: shape {tuple(keypoints.shape)}")
    return int(keypoints.shape[0]), int(keypoints.shape[1])


def check_keypoints(config, keypoints, keypoint_mask, batch: int, length: int) -> torch.Tensor:
    """The keypoints a keypoint-reading model needs, on the clips' frames; returns their mask (defaults: all found)."""
    if keypoints is None:
        raise ValueError(
            f"keypoints is required when config.manual_inputs={config.manual_inputs!r} (shape (batch, frames, "
            f"{NUM_KEYPOINTS}, 2)); build the processor with keypoints=True (SignBindProcessor.from_model_config does)"
        )
    if check_keypoint_shape(keypoints) != (batch, length):
        raise ValueError(
            f"keypoints must have shape (batch, frames, {NUM_KEYPOINTS}, 2) = {(batch, length, NUM_KEYPOINTS, 2)} "
            f"to match the clips, got {tuple(keypoints.shape)}"
        )
    shape = (batch, length, NUM_KEYPOINTS)
    return check_mask("keypoint_mask", keypoint_mask, shape, keypoints.device, dims="(batch, frames, points)")


def check_mask(
    name: str, mask, shape: tuple[int, ...], device: torch.device, dims: str = "(batch, frames)"
) -> torch.Tensor:
    """A mask of ``shape`` (all ones when None), as int64; ``dims`` names the axes in the error message."""
    if mask is None:
        return torch.ones(shape, dtype=torch.long, device=device)
    if tuple(mask.shape) != shape:
        raise ValueError(f"{name} must have shape {dims} = {shape}, got {tuple(mask.shape)}")
    return mask.long()


def check_input_values(
    attention_mask: torch.Tensor,
    *,
    face_attention_mask: torch.Tensor | None = None,
    pixel_values: torch.Tensor | None = None,
    face_pixel_values: torch.Tensor | None = None,
    keypoints: torch.Tensor | None = None,
    keypoint_mask: torch.Tensor | None = None,
) -> None:
    """The checks that read the values of ``forward``'s inputs: masks of 0 and 1, each clip with at least one real
    frame and its real frames first, finite frames, face crops and keypoints. Run where the data enters (the
    processor, the training collator), on the CPU, or in ``forward`` when ``SignBindModel.debug_checks``."""
    masks = {"attention_mask": attention_mask, "face_attention_mask": face_attention_mask}
    masks["keypoint_mask"] = keypoint_mask
    for name, mask in masks.items():
        if mask is not None and ((mask != 0) & (mask != 1)).any():
            raise ValueError(f"{name} must hold only 0 and 1")
    lengths = attention_mask.sum(-1)
    if (lengths == 0).any():
        raise ValueError(
            f"attention_mask marks no valid frame for clip(s) {torch.nonzero(lengths == 0).flatten().tolist()}: "
            "every clip needs at least one real frame"
        )
    length = attention_mask.shape[-1]
    if not torch.equal(
        attention_mask.long(), (torch.arange(length, device=lengths.device)[None] < lengths[:, None]).long()
    ):
        raise ValueError("attention_mask must mark the real frames first and the padding last (1...1 0...0) per clip")
    for name, values in (
        ("pixel_values", pixel_values),
        ("face_pixel_values", face_pixel_values),
        ("keypoints", keypoints),
    ):
        if values is not None and not torch.isfinite(values).all():
            raise ValueError(f"{name} contains NaN or infinite values")


def check_labels(name: str, labels: torch.Tensor, vocab_size: int, input_lengths: torch.Tensor, unit: str) -> None:
    """CTC labels must be ids in [1, vocab) padded with -100, and each clip long enough to emit them."""
    if labels.dim() != 2 or labels.shape[0] != input_lengths.shape[0]:
        raise ValueError(
            f"{name} must have shape (batch, max_labels) with batch={input_lengths.shape[0]}, got {tuple(labels.shape)}"
        )
    real = labels[labels != IGNORE_INDEX]
    if ((real < 1) | (real >= vocab_size)).any():
        raise ValueError(
            f"{name} must hold ids in [1, {vocab_size - 1}] (0 is the CTC blank) or -100 padding, got values "
            f"{sorted(set(real[(real < 1) | (real >= vocab_size)].tolist()))[:5]}"
        )
    if (labels < 0).any() and ((labels >= 0).int().diff(dim=-1) > 0).any():
        raise ValueError(f"{name} must be padded with -100 at the end only")
    # CTC needs one step per label plus a blank between each pair of equal neighbours.
    repeats = ((labels[:, 1:] == labels[:, :-1]) & (labels[:, 1:] >= 0)).sum(-1)
    needed = (labels >= 0).sum(-1) + repeats
    too_short = torch.nonzero(needed > input_lengths).flatten().tolist()
    if too_short:
        i = too_short[0]
        raise ValueError(
            f"{name}: clip {i} is too short for its labels: {int((labels[i] >= 0).sum())} labels need at least "
            f"{int(needed[i])} {unit}, the clip has {int(input_lengths[i])}"
        )


__all__ = ["SignBindModel", "SignBindOutput", "SignBindPreTrainedModel", "check_input_values"]
