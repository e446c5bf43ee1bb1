"""The arguments of a staged training run: what to train on (``StageArguments``) and how (``StageTrainingArguments``).

``StageTrainingArguments`` is transformers' ``TrainingArguments`` with the paper's defaults for the experts and the
fusion stage (the paper's training setup): AdamW β=(0.9, 0.98), cosine schedule, 1,000 warm-up steps, weight decay 0.01 (Trainer
leaves biases and every ``nn.LayerNorm`` out of it: ``Trainer.get_decay_parameter_names``), grad-norm clip 1.0, batch 8.
Every value is overridable from a YAML file and the command line, the command line winning:

```python
>>> stage_args, training_args = parse_stage_arguments(
...     ["--config", "configs/experts_cpu.yaml", "--data", "data/synthsign", "--out", "runs/experts",
...      "--learning_rate", "3e-3"])
```
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import TrainingArguments
from transformers.trainer_utils import IntervalStrategy, SaveStrategy, SchedulerType

from signbind_hf.constants import LABEL_NAMES
from signbind_hf.errors import SignBindInputError

logger = logging.getLogger(__name__)

TRAINABLE_STAGES = ("experts", "fusion")
PRESET_NAMES = ("tiny", "cpu", "paper")
FUSION_INPUTS = ("cached", "live")
CHECKPOINTS_DIR = "checkpoints"


@dataclass
class StageArguments:
    """What a stage trains on and where it writes. Field names are the command-line flags (``--data``, ``--out``)."""

    stage: str = field(metadata={"help": f"the stage to train: one of {TRAINABLE_STAGES}"})
    data: str = field(metadata={"help": "prepared data set folder (signbind synth / signbind prepare)"})
    out: str = field(
        metadata={"help": "run folder: the trained model + processor, logs, plot; Trainer checkpoints in checkpoints/"}
    )
    init: str | None = field(
        default=None,
        metadata={
            "help": "trained model folder to start from (required for --stage fusion: the experts to freeze); a "
            "different gloss vocabulary resizes the gloss heads, keeping the rows of shared words"
        },
    )
    resume: bool = field(default=False, metadata={"help": "continue from the last checkpoint in OUT/checkpoints"})
    preset: str = field(default="tiny", metadata={"help": f"model preset for a fresh model: one of {PRESET_NAMES}"})
    model_overrides: str | None = field(
        default=None,
        metadata={
            "help": 'SignBindConfig fields to override, as JSON (\'{"fusion_type": "concat"}\'; a mapping in '
            "YAML). With --init they apply on top of the checkpoint's config (e.g. another fusion type)"
        },
    )
    train_split: str = field(
        default="train", metadata={"help": "split to train on (also builds the gloss vocabulary)"}
    )
    eval_split: str | None = field(
        default="validation", metadata={"help": "split for the eval loss; 'none' to evaluate nothing"}
    )
    max_train_examples: int | None = field(
        default=None, metadata={"help": "use only the first N rows of the train split (quick runs)"}
    )
    max_eval_examples: int | None = field(default=None, metadata={"help": "use only the first N rows of eval_split"})
    min_frames: int = field(default=16, metadata={"help": "clips are padded to at least this many frames"})
    max_frames: int = field(default=512, metadata={"help": "longer clips are subsampled uniformly to this many"})
    clip_cache_dir: str | None = field(
        default=None,
        metadata={
            "help": "processed-clip cache (float16 safetensors, one file per clip); default DATA/processed_clips. "
            "'none' decodes every clip every epoch"
        },
    )
    torch_threads: int | None = field(
        default=None,
        metadata={
            "help": "torch intra-op threads (default: torch's, one per core). Tiny models gain little from more "
            "than 1, and on a busy machine extra threads spin-wait (benchmarks/RESULTS.md)"
        },
    )
    fusion_inputs: str = field(
        default="cached",
        metadata={
            "help": f"fusion stage inputs: one of {FUSION_INPUTS}: the frozen experts' outputs computed once and "
            "cached (signbind_hf.data.feature_cache), or the experts recomputed live at every step"
        },
    )
    feature_cache_dir: str | None = field(
        default=None, metadata={"help": "where the fusion stage caches expert outputs; default DATA/features/<fp>"}
    )
    augment: bool = field(
        default=False,
        metadata={
            "help": "experts stage: give each training clip a random colour change, mirror and shift "
            "(signbind_hf.training.augmentation), so that few signers' looks are not learnt in place of their hands"
        },
    )
    augment_face_crops: bool = field(
        default=True,
        metadata={
            "help": "with --augment: also recolour and mirror the face crops the lip expert reads (false: the lip "
            "expert sees its crops unchanged while frames and keypoints are augmented)"
        },
    )
    augment_hand_dropout: float = field(
        default=0.0,
        metadata={
            "help": "with --augment: the share of training clips whose hands go missing on runs of frames, as a hand "
            "landmarker loses them (for keypoints a data set ships, when the model will read extracted ones)"
        },
    )
    augment_keypoint_noise: float = field(
        default=0.0,
        metadata={"help": "with --augment: noise on every hand point found, in shoulder widths (e.g. 0.01)"},
    )

    def __post_init__(self) -> None:
        if self.stage not in TRAINABLE_STAGES:
            raise SignBindInputError(f"--stage must be one of {TRAINABLE_STAGES}; got {self.stage!r}")
        if self.preset not in PRESET_NAMES:
            raise SignBindInputError(f"--preset must be one of {PRESET_NAMES}; got {self.preset!r}")
        if self.fusion_inputs not in FUSION_INPUTS:
            raise SignBindInputError(f"--fusion_inputs must be one of {FUSION_INPUTS}; got {self.fusion_inputs!r}")
        if self.augment and self.stage != "experts":
            raise SignBindInputError(
                f"--augment applies to the experts stage only (the {self.stage} stage trains on frozen experts' "
                "outputs or on text); drop it"
            )
        if not 0.0 <= self.augment_hand_dropout <= 1.0:
            raise SignBindInputError(f"--augment_hand_dropout must be in [0, 1]; got {self.augment_hand_dropout}")
        if self.augment_keypoint_noise < 0.0:
            raise SignBindInputError(f"--augment_keypoint_noise must be >= 0; got {self.augment_keypoint_noise}")
        if self.stage == "fusion" and self.init is None:
            raise SignBindInputError(
                "--stage fusion needs --init: the folder of a trained experts run (signbind train --stage experts)"
            )
        if not isinstance(self.min_frames, int) or self.min_frames < 1 or self.max_frames < self.min_frames:
            raise SignBindInputError(
                f"--min_frames must be >= 1 and --max_frames >= --min_frames; got {self.min_frames} and "
                f"{self.max_frames}"
            )
        if self.torch_threads is not None and self.torch_threads < 1:
            raise SignBindInputError(f"--torch_threads must be a positive number of threads; got {self.torch_threads}")
        for name in ("max_train_examples", "max_eval_examples"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise SignBindInputError(f"--{name} must be a positive number of rows; got {value}")
        if isinstance(self.eval_split, str) and self.eval_split.lower() == "none":
            self.eval_split = None
        if isinstance(self.clip_cache_dir, str) and self.clip_cache_dir.lower() == "none":
            self.clip_cache_dir = ""  # "" = off; None = the default folder
        self.model_overrides = parse_model_overrides(self.model_overrides)

    @property
    def checkpoints_dir(self) -> Path:
        return Path(self.out) / CHECKPOINTS_DIR


def parse_model_overrides(value: Any) -> dict[str, Any]:
    """``--model_overrides``: a JSON object on the command line, a mapping in YAML, or nothing."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise SignBindInputError(
                f'--model_overrides must be a JSON object such as \'{{"fusion_type": "concat"}}\'; got {value!r} '
                f"({error})"
            ) from error
    if not isinstance(value, dict):
        raise SignBindInputError(f"--model_overrides must be a mapping of SignBindConfig fields; got {value!r}")
    return dict(value)


@dataclass
class StageTrainingArguments(TrainingArguments):
    """``TrainingArguments`` with the paper's experts/fusion defaults (see the module docstring).

    The learning rate is not in the paper's table (its cells were lost); 1e-4 is a common AdamW value for a ViT of
    this size and the tiny YAML presets raise it. ``output_dir`` is set from ``--out`` (``OUT/checkpoints``); ``report_to`` stays ``"none"``.
    """

    learning_rate: float = field(default=1e-4, metadata={"help": "AdamW peak learning rate"})
    adam_beta1: float = field(default=0.9, metadata={"help": "AdamW β1 (paper: 0.9)"})
    adam_beta2: float = field(default=0.98, metadata={"help": "AdamW β2 (paper: 0.98)"})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay, not on biases or norms"})
    max_grad_norm: float = field(default=1.0, metadata={"help": "gradient-norm clip (paper: 1.0)"})
    lr_scheduler_type: SchedulerType | str = field(
        default="cosine", metadata={"help": "learning-rate schedule (paper: cosine)"}
    )
    warmup_steps: float = field(default=1000, metadata={"help": "warm-up steps (paper: 1,000)"})
    per_device_train_batch_size: int = field(default=8, metadata={"help": "clips per batch (paper: 8)"})
    per_device_eval_batch_size: int = field(default=8, metadata={"help": "clips per eval batch"})
    num_train_epochs: float = field(default=30.0, metadata={"help": "epochs (paper: 30 sign/fingerspelling)"})
    eval_strategy: IntervalStrategy | str = field(default="epoch", metadata={"help": "when to compute the eval loss"})
    save_strategy: SaveStrategy | str = field(
        default="epoch", metadata={"help": "when to write a checkpoint (for --resume)"}
    )
    save_total_limit: int | None = field(default=2, metadata={"help": "checkpoints kept in OUT/checkpoints"})
    logging_steps: float = field(default=10, metadata={"help": "log the training losses every N steps"})
    # The model's forward takes named batch keys that are not `*label*`-free columns of a data set: keep them all,
    # and name the label keys so that evaluation reports a loss (shared/ENVIRONMENT.md).
    remove_unused_columns: bool = field(default=False, metadata={"help": "keep every batch key (must stay False)"})
    label_names: list[str] | None = field(default_factory=lambda: list(LABEL_NAMES), metadata={"help": "label keys"})
    dataloader_num_workers: int = field(default=0, metadata={"help": "DataLoader worker processes"})
    # Evaluation is the eval loss: gathering every batch's logits (of varying lengths) would cost memory for nothing.
    prediction_loss_only: bool = field(default=True, metadata={"help": "evaluate the loss only"})

    def __post_init__(self) -> None:
        # No GPU: train on the CPU explicitly rather than let a library guess (and warn) on every call.
        if not torch.cuda.is_available() and not torch.backends.mps.is_available():
            self.use_cpu = True
        super().__post_init__()


def parse_stage_arguments(argv: Sequence[str] | None = None) -> tuple[StageArguments, StageTrainingArguments]:
    """Parse ``--config x.yaml`` (optional) and the command line into the two dataclasses; the command line wins.

    The YAML holds flat keys of either dataclass (``learning_rate: 3e-3``, ``preset: tiny``) and may hold
    ``model_overrides`` as a mapping.
    """
    from trl import TrlParser

    parser = TrlParser((StageArguments, StageTrainingArguments), prog="signbind train")
    argv = list(argv) if argv is not None else None
    if argv is not None and "--config" in argv:
        config_path = Path(argv[argv.index("--config") + 1]) if argv.index("--config") + 1 < len(argv) else None
        if config_path is None or not config_path.is_file():
            raise SignBindInputError(f"--config: expected a YAML file; got {config_path}")
    try:
        stage_args, training_args = parser.parse_args_and_config(argv)
    except ValueError as error:
        if "Unknown arguments from config file" in str(error):
            raise SignBindInputError(f"--config: {error}") from error
        raise
    training_args.output_dir = str(stage_args.checkpoints_dir)
    return stage_args, training_args


__all__ = [
    "CHECKPOINTS_DIR",
    "FUSION_INPUTS",
    "PRESET_NAMES",
    "TRAINABLE_STAGES",
    "StageArguments",
    "StageTrainingArguments",
    "parse_model_overrides",
    "parse_stage_arguments",
]
