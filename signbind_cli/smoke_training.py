"""The heavy half of `signbind smoke` (torch, transformers, signbind_hf): synthetic clips, staged training, checks.

Imported only inside `signbind_cli.smoke.main`, so that `signbind --help` stays instant. It is a stand-in for the
training quickstart (`signbind_hf/training`), which will replace it as what `make demo` runs.

The synthetic clips are not noise: every label is painted into the pixels, so the model has something real to fit.
A clip of 16 "units" (one unit = the frames behind one step of the lip stream, tubelet_size * lip_temporal_stride):

    rest | sign A (4 units) | rest | sign B (4 units) | rest | fingerspelled word W (1 unit per letter) | rest rest

- a signed word paints a coloured block in the centre of the full frame (one colour per word), and its two phonemes
  paint the mouth region of the face crop, two units each (one colour per phoneme);
- a fingerspelled letter paints a block in the lower-left quarter (one colour per letter), so the router can tell
  signing from fingerspelling by where the hand is;
- rest frames show neither, and a closed (neutral) mouth.

Targets: gloss A B W (the fingerspelled word is a pseudo-gloss word too, as a name is in the paper's pseudo-gloss),
letters of W, phonemes of A and B, and per-frame segment classes.
"""

import colorsys
import json
import logging
import math
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import transformers
from tqdm import tqdm

from signbind_cli.params import format_breakdown
from signbind_hf import SignBindConfig, SignBindModel, SignBindOutput
from signbind_hf.constants import (
    ATTENTION_MASK,
    FACE_ATTENTION_MASK,
    FACE_PIXEL_VALUES,
    GLOSS_LABELS,
    IGNORE_INDEX,
    LETTER_LABELS,
    LETTERS,
    PHONEME_LABELS,
    PHONEMES,
    PIXEL_VALUES,
    SEGMENT_FINGERSPELLING,
    SEGMENT_LABELS,
    SEGMENT_REST,
    SEGMENT_SIGN,
)
from signbind_hf.ctc_decoding import ctc_greedy_decode

logger = logging.getLogger(__name__)

PRESET = "tiny"
NUM_CLIPS = 4
# Clip layout, in units (see the module docstring): the lip expert resolves a phoneme held for two of its steps far
# better than one held for a single step (measured, seed 0: 3 of 4 clips read exactly vs 0 of 4 at one unit per phoneme).
UNITS_PER_PHONEME = 2
UNITS_PER_LETTER = 1
REST_UNITS = 1

# Synthetic vocabulary. Gloss ids start at 2 (0 is the CTC blank, 1 is kept clear for [UNK]); each signed word has two
# ARPAbet phonemes (roughly its first two sounds) that its mouthing shows.
SIGNED_WORDS = {
    "HELLO": ("hh", "ow"),
    "BALANCE": ("b", "ae"),
    "TOE": ("t", "ow"),
    "CENTER": ("s", "eh"),
    "HAVE": ("hh", "ae"),
    "HERE": ("hh", "iy"),
    "GAIN": ("g", "ey"),
    "DIFFERENT": ("d", "ih"),
}
FINGERSPELLED_WORDS = ("CAB", "FED", "BAD", "ACE")
GLOSS_WORDS = (*SIGNED_WORDS, *FINGERSPELLED_WORDS)
FIRST_GLOSS_ID = 2


class SmokeCheckError(RuntimeError):
    """A check of the smoke run failed (the loss did not fall, the reloaded model differs, ...)."""


@dataclass
class StageResult:
    stage: str
    losses: list[float]
    seconds: float
    first_loss: float = field(init=False)
    last_loss: float = field(init=False)

    def __post_init__(self) -> None:
        # Mean of the first and last fifth of the steps: a single step's loss is noisy (dropout, lip masking).
        window = max(1, len(self.losses) // 5)
        self.first_loss = float(np.mean(self.losses[:window]))
        self.last_loss = float(np.mean(self.losses[-window:]))


def units_per_clip() -> int:
    """rest | sign A | rest | sign B | rest | fingerspelled word | rest rest"""
    signed = max(len(phonemes) for phonemes in SIGNED_WORDS.values()) * UNITS_PER_PHONEME
    spelled = max(len(word) for word in FINGERSPELLED_WORDS) * UNITS_PER_LETTER
    return 3 * REST_UNITS + 2 * signed + spelled + 2 * REST_UNITS


def gloss_id(word: str) -> int:
    return FIRST_GLOSS_ID + GLOSS_WORDS.index(word)


def letter_id(letter: str) -> int:
    return 1 + LETTERS.index(letter)  # id 0 is the blank


def phoneme_id(phoneme: str) -> int:
    return 1 + PHONEMES.index(phoneme)  # id 0 is the blank


def _palette(size: int, value: float) -> np.ndarray:
    """`size` colours of evenly spaced hues, as (size, 3) RGB in [0, 1]."""
    return np.array([colorsys.hsv_to_rgb(index / size, 0.9, value) for index in range(size)], dtype=np.float32)


def _pad(sequences: list[list[int]]) -> torch.Tensor:
    longest = max(len(sequence) for sequence in sequences)
    return torch.tensor([sequence + [IGNORE_INDEX] * (longest - len(sequence)) for sequence in sequences])


def make_synthetic_batch(config: SignBindConfig, num_clips: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
    """A batch of `num_clips` painted clips at the config's frame and face-crop sizes (see the module docstring)."""
    unit = config.lip_config.tubelet_size * config.lip_temporal_stride
    num_frames = units_per_clip() * unit
    size, face_size = config.backbone_config.image_size, config.lip_config.image_size
    if config.gloss_vocab_size < FIRST_GLOSS_ID + len(GLOSS_WORDS):
        raise ValueError(
            f"the smoke needs gloss_vocab_size >= {FIRST_GLOSS_ID + len(GLOSS_WORDS)}, got {config.gloss_vocab_size}"
        )

    sign_colours = _palette(len(SIGNED_WORDS), 0.9)
    letter_colours = _palette(len(LETTERS), 0.6)
    phoneme_colours = _palette(len(PHONEMES), 0.9)
    neutral_mouth = np.array([0.35, 0.1, 0.1], dtype=np.float32)
    centre = slice(size // 4, 3 * size // 4)
    lower, left = slice(size // 2, size), slice(0, size // 2)
    mouth_rows, mouth_cols = (
        slice(int(0.55 * face_size), int(0.85 * face_size)),
        slice(face_size // 4, 3 * face_size // 4),
    )

    frames = 0.5 + 0.03 * rng.standard_normal((num_clips, num_frames, 3, size, size), dtype=np.float32)
    faces = np.full((num_clips, num_frames, 3, face_size, face_size), 0.6, dtype=np.float32)
    faces += 0.03 * rng.standard_normal(faces.shape, dtype=np.float32)
    faces[..., mouth_rows, mouth_cols] = neutral_mouth[:, None, None]
    segments = np.full((num_clips, num_frames), SEGMENT_REST, dtype=np.int64)
    gloss_labels, letter_labels, phoneme_labels = [], [], []

    for clip in range(num_clips):
        signed = [list(SIGNED_WORDS)[index] for index in rng.choice(len(SIGNED_WORDS), size=2, replace=False)]
        spelled = FINGERSPELLED_WORDS[rng.integers(len(FINGERSPELLED_WORDS))]
        cursor = REST_UNITS * unit
        for word in signed:
            for phoneme in SIGNED_WORDS[word]:
                span = slice(cursor, cursor + UNITS_PER_PHONEME * unit)
                frames[clip, span, :, centre, centre] = sign_colours[list(SIGNED_WORDS).index(word)][:, None, None]
                faces[clip, span, :, mouth_rows, mouth_cols] = phoneme_colours[PHONEMES.index(phoneme)][:, None, None]
                segments[clip, span] = SEGMENT_SIGN
                cursor = span.stop
            cursor += REST_UNITS * unit
        for letter in spelled:
            span = slice(cursor, cursor + UNITS_PER_LETTER * unit)
            frames[clip, span, :, lower, left] = letter_colours[LETTERS.index(letter)][:, None, None]
            segments[clip, span] = SEGMENT_FINGERSPELLING
            cursor = span.stop
        gloss_labels.append([gloss_id(word) for word in signed] + [gloss_id(spelled)])
        letter_labels.append([letter_id(letter) for letter in spelled])
        phoneme_labels.append([phoneme_id(phoneme) for word in signed for phoneme in SIGNED_WORDS[word]])

    # Same normalisation as the image processors' defaults for ViTs trained from scratch: [0, 1] -> [-1, 1].
    mask = torch.ones(num_clips, num_frames, dtype=torch.long)
    return {
        PIXEL_VALUES: torch.from_numpy((frames - 0.5) / 0.5),  # (B, T, 3, H, W)
        FACE_PIXEL_VALUES: torch.from_numpy((faces - 0.5) / 0.5),  # (B, T, 3, h, w)
        ATTENTION_MASK: mask,  # (B, T)
        FACE_ATTENTION_MASK: mask.clone(),  # (B, T)
        GLOSS_LABELS: _pad(gloss_labels),  # (B, 3)
        LETTER_LABELS: _pad(letter_labels),  # (B, 3)
        PHONEME_LABELS: _pad(phoneme_labels),  # (B, 4)
        SEGMENT_LABELS: torch.from_numpy(segments),  # (B, T)
    }


def model_inputs(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The batch without its labels: what inference sees."""
    return {name: batch[name] for name in (PIXEL_VALUES, FACE_PIXEL_VALUES, ATTENTION_MASK, FACE_ATTENTION_MASK)}


def train_stage(
    model: SignBindModel, stage: str, batch: dict[str, torch.Tensor], steps: int, learning_rate: float
) -> StageResult:
    """`steps` AdamW steps of one training stage on the same batch; raises SmokeCheckError unless the loss falls."""
    model.train()  # before set_stage, which may put frozen parts back in eval mode
    model.set_stage(stage)
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    if not trainable:
        raise SmokeCheckError(f"set_stage({stage!r}) left no trainable parameter")
    # The paper's optimiser settings for experts and fusion (betas, weight decay, grad-norm clip).
    optimizer = torch.optim.AdamW(trainable, lr=learning_rate, betas=(0.9, 0.98), weight_decay=0.01)
    losses = []
    started = time.perf_counter()
    # disable=None: a bar on a terminal, none when the output goes to a log file (CI, `make demo > log`).
    progress = tqdm(range(steps), desc=f"smoke {stage}", unit="step", leave=False, disable=None)
    for _ in progress:
        output = model(**batch)
        loss = output.loss
        if loss is None or not math.isfinite(loss.item()):
            raise SmokeCheckError(f"stage {stage!r}: the loss is {loss}, expected a finite number")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, max_norm=1.0)
        optimizer.step()
        losses.append(loss.item())
        progress.set_postfix(loss=f"{losses[-1]:.3f}")
    result = StageResult(stage=stage, losses=losses, seconds=time.perf_counter() - started)
    logger.info(
        "stage %-7s %d steps in %.1f s: loss %.3f -> %.3f (mean of first / last %d steps), %d trainable parameters",
        stage,
        steps,
        result.seconds,
        result.first_loss,
        result.last_loss,
        max(1, steps // 5),
        sum(parameter.numel() for parameter in trainable),
    )
    if not result.last_loss < result.first_loss:
        raise SmokeCheckError(
            f"stage {stage!r}: the loss did not fall in {steps} steps ({result.first_loss:.4f} -> "
            f"{result.last_loss:.4f}); try more --steps or another learning rate"
        )
    return result


def _eval_output(model: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> SignBindOutput:
    model.eval()
    with torch.no_grad():
        return model(**inputs)


def _logits(model: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Every `*logits` field of the model's output on `inputs`, in eval mode and without gradients."""
    output = _eval_output(model, inputs)
    return {name: value for name, value in output.items() if name.endswith("logits") and value is not None}


def check_reload(model: SignBindModel, model_dir: Path, inputs: dict[str, torch.Tensor]) -> None:
    """Save, reload with `transformers.AutoModel`, and require bit-identical logits."""
    model.save_pretrained(model_dir)
    reloaded = transformers.AutoModel.from_pretrained(model_dir)
    if not isinstance(reloaded, SignBindModel):
        raise SmokeCheckError(
            f"AutoModel.from_pretrained({model_dir}) built {type(reloaded).__name__}, not SignBindModel"
        )
    expected, received = _logits(model, inputs), _logits(reloaded, inputs)
    if expected.keys() != received.keys():
        raise SmokeCheckError(f"reloaded model returns {sorted(received)}, expected {sorted(expected)}")
    for name, value in expected.items():
        if not torch.equal(value, received[name]):
            difference = (value - received[name]).abs().max().item()
            raise SmokeCheckError(f"reloaded model's {name} differ from the saved model's (max abs diff {difference})")
    logger.info("reloaded %s with AutoModel: identical %s", model_dir, ", ".join(sorted(expected)))


def _words(ids: list[int]) -> str:
    return " ".join(
        GLOSS_WORDS[i - FIRST_GLOSS_ID] if 0 <= i - FIRST_GLOSS_ID < len(GLOSS_WORDS) else f"<{i}>" for i in ids
    )


def _letters(ids: list[int]) -> str:
    return "".join(LETTERS[i - 1] if 0 <= i - 1 < len(LETTERS) else f"<{i}>" for i in ids)


def _phonemes(ids: list[int]) -> str:
    return " ".join(PHONEMES[i - 1] if 0 <= i - 1 < len(PHONEMES) else f"<{i}>" for i in ids)


# stream name -> (logits field, the field or input holding its step mask, label key, how to show its ids)
STREAMS = {
    "fused pseudo-gloss": ("gloss_logits", ATTENTION_MASK, GLOSS_LABELS, _words),
    "sign expert": ("sign_logits", ATTENTION_MASK, GLOSS_LABELS, _words),
    "fingerspelling expert": ("fingerspelling_logits", ATTENTION_MASK, LETTER_LABELS, _letters),
    "lipreading expert": ("phoneme_logits", "phoneme_attention_mask", PHONEME_LABELS, _phonemes),
}


def decode_streams(model: SignBindModel, batch: dict[str, torch.Tensor]) -> dict[str, dict]:
    """Greedy CTC decoding of every stream next to its targets, as readable strings, with the exact-match count."""
    inputs = model_inputs(batch)
    output = _eval_output(model, inputs)
    results = {}
    for stream, (logits_field, mask_field, label_key, show) in STREAMS.items():
        mask = output[mask_field] if mask_field in output else inputs[mask_field]
        decoded = ctc_greedy_decode(output[logits_field], mask)
        targets = [[i for i in row if i != IGNORE_INDEX] for row in batch[label_key].tolist()]
        results[stream] = {
            "targets": [show(ids) for ids in targets],
            "decoded": [show(ids) for ids in decoded],
            "exact_matches": sum(ids == target for ids, target in zip(decoded, targets, strict=True)),
        }
    return results


def run_smoke(out_dir: Path, steps: int, seed: int, learning_rates: dict[str, float]) -> dict:
    """Train, save, reload and decode the tiny model; write and return the summary (OUT/smoke.json)."""
    # One thread: tensors this small gain nothing from a second one, and two threads competing with any other busy
    # process on a 2-core machine made the run 10-20x slower (measured: 40 expert steps in 2.3 s with one thread,
    # 50 s with two, while another test suite ran).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run_smoke(out_dir, steps, seed, learning_rates)
    finally:
        torch.set_num_threads(threads)


def _run_smoke(out_dir: Path, steps: int, seed: int, learning_rates: dict[str, float]) -> dict:
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    config = SignBindConfig.from_preset(PRESET)
    model = SignBindModel(config)
    breakdown = model.parameter_breakdown()
    batch = make_synthetic_batch(config, NUM_CLIPS, np.random.default_rng(seed))
    inputs = model_inputs(batch)
    logger.info(
        "tiny preset, %s parameters; %d synthetic clips of %d frames (%d px frames, %d px face crops)",
        f"{breakdown['total']:,}",
        NUM_CLIPS,
        batch[PIXEL_VALUES].shape[1],
        config.backbone_config.image_size,
        config.lip_config.image_size,
    )

    # Staged as in the paper, never one joint loss: the experts first, then the fusion module on frozen experts.
    stages = [train_stage(model, stage, batch, steps, learning_rates[stage]) for stage in ("experts", "fusion")]

    model_dir = out_dir / "model"
    check_reload(model, model_dir, inputs)

    decoded = decode_streams(model, batch)
    fused = decoded["fused pseudo-gloss"]
    for clip, (target, hypothesis) in enumerate(zip(fused["targets"], fused["decoded"], strict=True)):
        logger.info("clip %d  target: %-22s fused pseudo-gloss: %s", clip, target, hypothesis)
    for stream, result in decoded.items():
        logger.info("%-22s %d of %d clips decoded exactly", stream, result["exact_matches"], NUM_CLIPS)
    logger.info("parameters:\n%s", format_breakdown(breakdown, PRESET))

    summary = {
        "preset": PRESET,
        "seed": seed,
        "steps_per_stage": steps,
        "learning_rates": learning_rates,
        "clips": NUM_CLIPS,
        "frames_per_clip": batch[PIXEL_VALUES].shape[1],
        "stages": {
            result.stage: {
                "first_loss": result.first_loss,
                "last_loss": result.last_loss,
                "seconds": round(result.seconds, 2),
                "losses": result.losses,
            }
            for result in stages
        },
        "reload_identical": True,  # check_reload raised otherwise
        "decoded": decoded,
        "parameters": breakdown,
        "model_dir": str(model_dir),
        "seconds": round(time.perf_counter() - started, 2),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
    }
    summary_path = out_dir / "smoke.json"
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    logger.info("smoke passed in %.1f s; summary in %s", summary["seconds"], summary_path)
    return summary
