"""Can a from-scratch frame backbone read SynthSign's fingerspelled letters, and from which input?

    .venv/bin/python -m benchmarks.probe_letter_reading --input frame --size 32
    .venv/bin/python -m benchmarks.probe_letter_reading --input centered-frame --size 64 --patch 16
    .venv/bin/python -m benchmarks.probe_letter_reading --input hand-crop --size 32
    .venv/bin/python -m benchmarks.probe_letter_reading --task clip-ctc --input hand-crop --epochs 14

Why: the quickstart's fingerspelling expert reaches 4.4 % letter accuracy on the test split (issue 6's target is 80 %).
``--task frame`` (the default) takes CTC, the router and the temporal model out of the question and asks the simplest
thing: classify the letter held in ONE frame. Frames are SynthSign's own, drawn by its renderer (the exact pixels the
data set encodes, before H.264) at its 128-px frame size, for the frames where the dominant hand holds a letter
(every other such frame, 500 training clips / 100 test clips of seed 0, so the test frames show signers never seen
in training). Each is shrunk (OpenCV INTER_AREA) to ``--size`` pixels and read by the tiny preset's backbone made
wider as the quickstart makes it (DINOv2, 2 layers, hidden 64, patch ``--patch``, from scratch) with a linear head
on the pooled output; AdamW 3e-3, batch 64, cosine schedule, ``--epochs`` epochs, one thread. Inputs:

- ``frame``: the whole frame, normalised with DINOv2's mean and std (what the paper's backbone reads);
- ``centered-frame``: the whole frame minus the clip's mean frame (the quickstart's ``center_frames``);
- ``hand-crop``: a square of side 2 x ``space.HAND_REACH`` signer units around the dominant palm, cut at 128 px.

Measured (2026-11-26, 2-core VM, 15 epochs, 5,120 training / 905 test frames, 26 letters; test accuracy at the last
epoch, chance 3.8 %, the commonest letter 13.6 %):

| input          | size | patch | test acc. | train acc. |
|----------------|-----:|------:|----------:|-----------:|
| frame          |   32 |     8 |       9.4 |       23.7 |
| frame          |   64 |     8 |       9.8 |       28.6 |
| frame          |  128 |    16 |      11.0 |       28.8 |
| centered-frame |   32 |     8 |      22.2 |       78.3 |
| centered-frame |   64 |     8 |       9.6 |       55.4 |
| centered-frame |   64 |    16 |      16.5 |       94.2 |
| hand-crop      |   32 |     8 |  **85.5** |       99.2 |
| hand-crop      |   16 |     8 |  **83.1** |       99.5 |

A hand 19 px long in a 128-px frame, seen whole by a backbone trained from scratch on 24 signers, is not read at any
size tried (it learns the training signers instead); the same backbone reads the letter from a 32-px hand crop in 20 s
of training (16 px: 9 s). The paper's backbone is a pre-trained DINOv2 at 224 px, which cannot be downloaded here.

``--task clip-ctc`` then asks whether the quickstart's manual expert learns the letters from whole clips when it is
given that hand crop: the package's ``ManualExpert`` (the tiny preset with the from-scratch changes of ``FRAMES_FROM_SCRATCH``:
frame backbone, router, temporal convolution and transformer, sign and fingerspelling CTC heads) trained on the sign,
fingerspelling and router losses as the experts stage trains it (AdamW 3e-3, betas 0.9/0.98, batch 8 clips, 50 warm-up
steps, cosine), on every frame of 500 training clips, scored on 100 test clips with greedy CTC decoding: pseudo-gloss
WER of the sign head, ``letter_accuracy`` of the fingerspelling head on the clips that fingerspell. Inputs: ``frame``
(the whole 32-px frames, centred in time, as the quickstart reads them) or ``hand-crop`` (the 32-px hand crop in
place of the frame). ``--letters-on fingerspelling`` puts the letters' CTC, in training and scoring, over the frames
labelled fingerspelling only (as ChicagoFSWild's clips are); ``--letters-only`` trains on the letters' loss alone.
Measured (2026-11-26, ``--task clip-ctc --epochs 14`` with the input and options below, one thread, ~20 s an epoch):

| input     | options                                        | sign WER | letter acc. | letters' CTC loss, epoch 14 |
|-----------|------------------------------------------------|---------:|------------:|----------------------------:|
| frame     | (the quickstart's)                             |     93.2 |        11.6 |                        2.93 |
| hand-crop |                                                |     93.6 |        11.6 |                        3.00 |
| hand-crop | ``--blank-logit-init 0``                       |     95.7 |         0.0 |                        3.08 |
| hand-crop | ``--learning-rate 1e-2``                       |     94.9 |        16.7 |                        3.07 |
| frame     | ``--letters-on fingerspelling``                |     96.4 |         0.0 |                        3.00 |
| hand-crop | ``--letters-on fingerspelling``                |     98.5 |         0.0 |                        2.79 |
| hand-crop | ``--letters-only``                             |        – |         6.9 |                        3.12 |
| hand-crop | ``--letters-only --letters-on fingerspelling`` |        – |         0.0 |                        3.19 |
| frame     | ``--epochs 42`` (3x; loss at epoch 42)         |     77.9 |        14.5 |                        1.84 |
| hand-crop | ``--epochs 42`` (3x; loss at epoch 42)         |     88.1 |        12.4 |                        2.44 |

The hand crop that makes one frame's letter readable at 85 % does not make the CTC head learn letters in the
quickstart's ~900 steps: the loss per letter stays near ln 26 = 3.3 in every setting, alone or beside the other losses,
over whole clips or only their fingerspelled stretches, while per-frame cross-entropy on the same crops passes 80 %
test accuracy within 500 steps of 64 frames. Three times the epochs lowers the training loss (the whole frames' most:
they let the expert memorise the training clips) but not the test letters. What holds the letters back is CTC finding
its alignment from scratch on 500 clips, not what the backbone can see.
"""

import argparse
import math
import time

import cv2
import numpy as np
import torch
from torch import nn
from transformers import Dinov2Config, Dinov2Model

from signbind_hf import SignBindConfig, SignBindModel, SignBindProcessor
from signbind_hf.constants import LETTERS, SEGMENT_FINGERSPELLING
from signbind_hf.ctc_decoding import ctc_greedy_decode
from signbind_hf.data.synthsign import space
from signbind_hf.data.synthsign.config import SynthSignConfig
from signbind_hf.data.synthsign.examples import plan_example
from signbind_hf.data.synthsign.handshapes import LETTER_HANDSHAPE_IDS
from signbind_hf.data.synthsign.render import make_background, render_frame
from signbind_hf.metrics.recognition import letter_accuracy, word_error_rate
from signbind_hf.modeling_signbind import center_in_time, ctc_loss, router_cross_entropy
from signbind_hf.video_transforms_signbind import DINOV2_IMAGE_MEAN, DINOV2_IMAGE_STD

DINOV2_MEAN = np.array(DINOV2_IMAGE_MEAN, dtype=np.float32) * 255  # on 0-255 pixels
DINOV2_STD = np.array(DINOV2_IMAGE_STD, dtype=np.float32) * 255
LETTER_OF_HANDSHAPE = {handshape_id: index for index, handshape_id in enumerate(LETTER_HANDSHAPE_IDS.values())}

# The frames-reading tiny model trained from scratch (the quickstart's model before the keypoint-reading "cpu" preset).
FRAMES_FROM_SCRATCH = {
    "ctc_blank_logit_init": 4.0,
    "center_frames": True,
    "backbone_config": {"hidden_size": 64},
    "router_hidden_size": 64,
    "manual_temporal_kernel_size": 5,
}


def hand_square(frame: np.ndarray, plan, index: int) -> np.ndarray:
    """The square around the dominant palm that any finger of it stays inside, padded with edge pixels."""
    appearance, timeline = plan.appearance, plan.timeline
    centre_x, centre_y = appearance.to_pixels(tuple(timeline.hand_positions[index, 0].tolist()), hand=0, frame=index)
    radius = space.HAND_REACH * appearance.unit
    margin = math.ceil(radius) + 1
    padded = np.pad(frame, ((margin, margin), (margin, margin), (0, 0)), mode="edge")
    left, top, side = round(centre_x - radius) + margin, round(centre_y - radius) + margin, round(2 * radius)
    return padded[top : top + side, left : left + side]


def letter_frames(
    split: str, num_clips: int, *, kind: str, size: int, every: int = 2
) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 3, size, size) float inputs and (N,) letter indices of the letter-holding frames of ``num_clips`` clips."""
    config = SynthSignConfig()
    inputs, letters = [], []
    for clip_index in range(num_clips):
        plan = plan_example(0, split, clip_index, config)
        timeline = plan.timeline
        holding = [
            index
            for index in range(timeline.num_frames)
            if timeline.segments[index] == SEGMENT_FINGERSPELLING
            and int(timeline.handshapes[index, 0]) in LETTER_OF_HANDSHAPE
        ]
        if not holding:
            continue
        background = make_background(plan.appearance)

        def shrunk(image: np.ndarray) -> np.ndarray:
            return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)

        if kind == "centered-frame":
            clip = np.stack(
                [shrunk(render_frame(plan.appearance, background, timeline, i)) for i in range(timeline.num_frames)]
            )
            clip_mean = clip.mean(axis=0)
        for index in holding[::every]:
            if kind == "centered-frame":
                image = (clip[index] - clip_mean) / DINOV2_STD
            else:
                frame = render_frame(plan.appearance, background, timeline, index)
                image = shrunk(hand_square(frame, plan, index) if kind == "hand-crop" else frame)
                image = (image - DINOV2_MEAN) / DINOV2_STD
            inputs.append(image)
            letters.append(LETTER_OF_HANDSHAPE[int(timeline.handshapes[index, 0])])
    return torch.from_numpy(np.stack(inputs)).permute(0, 3, 1, 2).contiguous(), torch.tensor(letters)


class LetterReader(nn.Module):
    """The quickstart's frame backbone (tiny preset, hidden 64) and a linear layer over its pooled output."""

    def __init__(self, size: int, patch: int) -> None:
        super().__init__()
        config = Dinov2Config(
            hidden_size=64, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=2, patch_size=patch, image_size=size
        )
        self.backbone = Dinov2Model(config)
        self.head = nn.Linear(config.hidden_size, len(LETTERS))

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(pixel_values=pixel_values).pooler_output)


def warmup_cosine(optimizer: torch.optim.Optimizer, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """50 steps of linear warm-up, then a cosine decay to zero at ``total_steps`` (the quickstart's schedule)."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: min(1.0, (step + 1) / 50) * 0.5 * (1 + math.cos(math.pi * min(1.0, step / total_steps))),
    )


@torch.no_grad()
def accuracy(model: LetterReader, inputs: torch.Tensor, letters: torch.Tensor) -> float:
    model.eval()
    right = sum(
        (model(inputs[i : i + 256]).argmax(-1) == letters[i : i + 256]).sum().item()
        for i in range(0, len(inputs), 256)
    )
    model.train()
    return 100 * right / len(inputs)


def train_frame_classifier(args: argparse.Namespace) -> None:
    """The per-frame letter classifier (see the module docstring)."""
    started = time.perf_counter()
    train_inputs, train_letters = letter_frames("train", args.train_clips, kind=args.input, size=args.size)
    test_inputs, test_letters = letter_frames("test", args.test_clips, kind=args.input, size=args.size)
    commonest = 100 * torch.bincount(test_letters).max().item() / len(test_letters)
    print(
        f"{args.input} {args.size} px, patch {args.patch}: {len(train_inputs)} training / {len(test_inputs)} test "
        f"frames (commonest test letter {commonest:.1f} %), rendered in {time.perf_counter() - started:.0f} s"
    )
    model = LetterReader(args.size, args.patch)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    batch_size = 64
    total_steps = args.epochs * math.ceil(len(train_inputs) / batch_size)
    schedule = warmup_cosine(optimizer, total_steps)
    started = time.perf_counter()
    for epoch in range(args.epochs):
        for batch in torch.randperm(len(train_inputs)).split(batch_size):
            loss = nn.functional.cross_entropy(model(train_inputs[batch]), train_letters[batch])
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
        print(
            f"epoch {epoch + 1}: loss {loss.item():.3f}, train accuracy "
            f"{accuracy(model, train_inputs[:2000], train_letters[:2000]):.1f} %, test accuracy "
            f"{accuracy(model, test_inputs, test_letters):.1f} % ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )


def clip_inputs(split: str, num_clips: int, *, kind: str, size: int) -> list[dict]:
    """Every frame of ``num_clips`` clips as ``kind`` inputs (T, 3, size, size), with the clip's CTC targets."""
    config = SynthSignConfig()
    clips = []
    for clip_index in range(num_clips):
        plan = plan_example(0, split, clip_index, config)
        background = make_background(plan.appearance)
        images = []
        for index in range(plan.timeline.num_frames):
            frame = render_frame(plan.appearance, background, plan.timeline, index)
            image = hand_square(frame, plan, index) if kind == "hand-crop" else frame
            images.append(cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA))
        pixels = (np.stack(images).astype(np.float32) - DINOV2_MEAN) / DINOV2_STD
        clips.append(
            {
                "pixels": torch.from_numpy(pixels).permute(0, 3, 1, 2).contiguous(),
                "segments": torch.tensor(plan.row["segment_labels"]),
                "gloss": plan.row["pseudo_gloss"],
                "letters": plan.row["letters"],
            }
        )
    return clips


class ClipBatches:
    """Pads clips into the manual expert's inputs and targets (the frames centred in time, as the quickstart does)."""

    def __init__(self, processor, *, center: bool) -> None:
        self.processor, self.center = processor, center

    @staticmethod
    def labels(tokenizer, texts: list[str]) -> torch.Tensor:
        return tokenizer(texts, return_tensors="pt")["labels"]

    def __call__(self, clips: list[dict]) -> dict:
        length = max(len(clip["pixels"]) for clip in clips)
        pixels = torch.zeros(len(clips), length, *clips[0]["pixels"].shape[1:])
        mask = torch.zeros(len(clips), length, dtype=torch.long)
        segments = torch.full((len(clips), length), -100)
        for row, clip in enumerate(clips):
            num_frames = len(clip["pixels"])
            pixels[row, :num_frames], mask[row, :num_frames] = clip["pixels"], 1
            segments[row, :num_frames] = clip["segments"]
        return {
            "pixels": center_in_time(pixels, mask) if self.center else pixels,
            "mask": mask,
            "segments": segments,
            # The CTC tokenizers pad labels with -100 (a clip that spells nothing has none).
            "gloss": self.labels(self.processor.tokenizer, [clip["gloss"] for clip in clips]),
            "letters": self.labels(self.processor.letter_tokenizer, [clip["letters"] for clip in clips]),
        }


def fingerspelled_frames(logits: torch.Tensor, segments: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each clip's frames labelled fingerspelling, in order, packed to the left: (B, T', V) and their (B,) counts."""
    spelled = segments == SEGMENT_FINGERSPELLING
    lengths = spelled.sum(-1)
    packed = logits.new_zeros(logits.shape[0], max(1, int(lengths.max())), logits.shape[-1])
    for row in range(logits.shape[0]):
        packed[row, : lengths[row]] = logits[row, spelled[row]]
    return packed, lengths.clamp(min=1)


def manual_expert_losses(expert, config, batch: dict, letters_on: str = "clip") -> tuple:
    sign_logits, letter_logits, router_logits, _ = expert(batch["pixels"], batch["mask"])
    lengths = batch["mask"].sum(-1)
    letter_lengths = lengths
    if letters_on == "fingerspelling":  # the letters' CTC sees only the stretches the labels say are fingerspelled
        letter_logits, letter_lengths = fingerspelled_frames(letter_logits, batch["segments"])
    spells = (batch["letters"] >= 0).any(-1)
    sign_loss = ctc_loss(sign_logits, lengths, batch["gloss"], config)
    letter_loss = (
        ctc_loss(letter_logits, letter_lengths, batch["letters"], config, spells) if spells.any() else 0 * sign_loss
    )
    router_loss = router_cross_entropy(router_logits, batch["segments"], batch["mask"])
    return sign_loss, letter_loss, router_loss, (sign_logits, letter_logits, lengths, letter_lengths)


@torch.no_grad()
def score_clips(expert, config, processor, batches: ClipBatches, clips: list[dict], letters_on: str) -> str:
    expert.eval()
    glosses, letters = [], []
    for start in range(0, len(clips), 16):
        *_, (sign_logits, letter_logits, lengths, letter_lengths) = manual_expert_losses(
            expert, config, batches(clips[start : start + 16]), letters_on
        )
        glosses += processor.tokenizer.batch_decode(ctc_greedy_decode(sign_logits, lengths), ctc=False)
        letters += processor.letter_tokenizer.batch_decode(ctc_greedy_decode(letter_logits, letter_lengths), ctc=False)
    expert.train()
    spelled = [
        (predicted, clip["letters"]) for predicted, clip in zip(letters, clips, strict=True) if clip["letters"].strip()
    ]
    return (
        f"sign WER {word_error_rate(glosses, [clip['gloss'] for clip in clips]):.1f} %, letter accuracy "
        f"{letter_accuracy([p for p, _ in spelled], [r for _, r in spelled]):.1f} % ({len(spelled)} clips spell)"
    )


def train_clip_ctc(args: argparse.Namespace) -> None:
    """The quickstart's manual expert on whole clips (see the module docstring)."""
    started = time.perf_counter()
    kind = "hand-crop" if args.input == "hand-crop" else "frame"
    train_clips = clip_inputs("train", args.train_clips, kind=kind, size=args.size)
    test_clips = clip_inputs("test", args.test_clips, kind=kind, size=args.size)
    print(
        f"{kind} clips, {args.size} px: {len(train_clips)} training / {len(test_clips)} test, rendered in "
        f"{time.perf_counter() - started:.0f} s"
    )
    processor = SignBindProcessor.from_preset("tiny", glosses=[clip["gloss"] for clip in train_clips])
    overrides = {**FRAMES_FROM_SCRATCH, "ctc_blank_logit_init": args.blank_logit_init}
    config = SignBindConfig.from_preset("tiny", **overrides, gloss_vocab_size=len(processor.tokenizer))
    expert = SignBindModel(config).manual
    batches = ClipBatches(processor, center=kind == "frame")
    optimizer = torch.optim.AdamW(expert.parameters(), lr=args.learning_rate, betas=(0.9, 0.98), weight_decay=0.01)
    batch_size = 8
    total_steps = args.epochs * math.ceil(len(train_clips) / batch_size)
    schedule = warmup_cosine(optimizer, total_steps)
    started = time.perf_counter()
    for epoch in range(args.epochs):
        sums = torch.zeros(3)
        order = torch.randperm(len(train_clips)).tolist()
        for start in range(0, len(order), batch_size):
            *losses, _ = manual_expert_losses(
                expert, config, batches([train_clips[i] for i in order[start : start + batch_size]]), args.letters_on
            )
            (losses[1] if args.letters_only else sum(losses)).backward()
            nn.utils.clip_grad_norm_(expert.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            sums += torch.tensor([loss.item() for loss in losses])
        means = sums / math.ceil(len(order) / batch_size)
        scores = (
            score_clips(expert, config, processor, batches, test_clips, args.letters_on)
            if (epoch + 1) % 7 == 0 or epoch + 1 == args.epochs
            else ""
        )
        print(
            f"epoch {epoch + 1}: CTC loss sign {means[0]:.2f}, fingerspelling {means[1]:.2f}, router {means[2]:.2f} "
            f"{scores} ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=("frame", "clip-ctc"), default="frame", help="see the module docstring")
    parser.add_argument(
        "--input",
        choices=("frame", "centered-frame", "hand-crop"),
        default="frame",
        help="what the backbone reads (clip-ctc: frame means the quickstart's centred frames)",
    )
    parser.add_argument("--size", type=int, default=32, help="input size in pixels (default: 32, the tiny preset's)")
    parser.add_argument("--patch", type=int, default=8, help="ViT patch size (default: 8)")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--learning-rate", type=float, default=3e-3, help="clip-ctc: AdamW learning rate")
    parser.add_argument(
        "--blank-logit-init",
        type=float,
        default=FRAMES_FROM_SCRATCH["ctc_blank_logit_init"],
        help="clip-ctc: initial blank logit of the CTC heads (default: the quickstart's)",
    )
    parser.add_argument(
        "--letters-on",
        choices=("clip", "fingerspelling"),
        default="clip",
        help="clip-ctc: the letters' CTC (training and scoring) over the whole clip, as the quickstart, or over the "
        "frames labelled fingerspelling only",
    )
    parser.add_argument("--letters-only", action="store_true", help="clip-ctc: train on the fingerspelling loss alone")
    parser.add_argument("--train-clips", type=int, default=500)
    parser.add_argument("--test-clips", type=int, default=100)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    train_clip_ctc(arguments) if arguments.task == "clip-ctc" else train_frame_classifier(arguments)
