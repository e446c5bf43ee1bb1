"""Staged training of SignBind-LLM's visual model with ``transformers.Trainer``: experts, then fusion.

- ``experts``: router, sign, fingerspelling and lipreading experts on their own targets (``set_stage("experts")``),
  from a fresh model (``preset`` + ``model_overrides``) or from ``--init`` (fine-tuning).
- ``fusion``: loads the experts of ``--init``, freezes them (``set_stage("fusion")``) and trains the fusion module on
  their outputs cached once (``signbind_hf.data.feature_cache``), or recomputed at each step (``fusion_inputs="live"``,
  the baseline the cache is measured against).

Either stage on a data set whose gloss vocabulary differs from ``--init``'s resizes the gloss heads, keeping the rows
of shared words (``gloss_vocabulary.resize_gloss_heads``). The run folder ``--out`` ends up holding the model and
processor (``AutoModel`` / ``AutoProcessor`` load it), ``trainer_state.json``, ``training_log.jsonl``/``.csv``,
``training_curves.png``, ``skipped_rows.json`` and ``stage_arguments.json``; Trainer's checkpoints are in
``checkpoints/`` (``--resume`` continues from the last). A checkpoint is written under a hidden name and renamed
into place when complete, so an interrupted save never looks like a checkpoint; ``--resume`` still checks the last
one (weights readable, trainer state present) and falls back to the previous one, saying which is damaged. Model
weights are read from safetensors only: ``--init`` refuses pickled ``pytorch_model.bin`` weights, which can run
code when loaded. Under ``accelerate launch`` the same code runs on every
process; the main process prepares the caches first and writes the run folder.

Example:

```python
>>> stage_args, training_args = parse_stage_arguments(
...     ["--stage", "experts", "--data", "data/synthsign", "--out", "runs/experts", "--config", "configs/experts_cpu.yaml"])
>>> train_stage(stage_args, training_args)
PosixPath('runs/experts')
```
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
import zipfile
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from transformers import AutoConfig, PreTrainedModel, Trainer, TrainerCallback, set_seed
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, IntervalStrategy, rotate_checkpoints

from signbind_hf.configuration_signbind import SignBindConfig
from signbind_hf.constants import GLOSS_LABELS
from signbind_hf.data.feature_cache import (
    FeatureCacheMismatchError,
    FusionFeatureCollator,
    cache_dir_for,
    cache_expert_outputs,
    check_cache_matches,
    expert_streams,
)
from signbind_hf.errors import SignBindInputError
from signbind_hf.modeling_signbind import SignBindModel
from signbind_hf.processing_signbind import SignBindProcessor
from signbind_hf.tokenization_signbind import SignBindCTCTokenizer
from signbind_hf.training.arguments import StageArguments, StageTrainingArguments
from signbind_hf.training.augmentation import ClipAugmentation
from signbind_hf.training.clip_cache import CachingVideoProcessor
from signbind_hf.training.clip_dataset import ClipCollator, ClipDataset, load_split
from signbind_hf.training.fusion_inputs import CachedFusionDataset, FusionOnCachedOutputs
from signbind_hf.training.gloss_vocabulary import resize_gloss_heads
from signbind_hf.training.skipped_rows import SKIPPED_ROWS_FILE, SkippedRows
from signbind_hf.training.training_log import CURVES_PNG, plot_training_curves, write_training_log
from signbind_hf.video_processing_signbind import SignBindVideoProcessor

logger = logging.getLogger(__name__)

CLIP_CACHE_DIR = "processed_clips"
STAGE_ARGUMENTS_FILE = "stage_arguments.json"
TRAINER_STATE_FILE = "trainer_state.json"
# The per-stream losses logged beside `loss` in each stage (the frozen fusion's loss in the experts stage is computed
# by forward but trains nothing: logging it would only crowd the curves).
STREAM_LOSSES = {
    "experts": ("sign_loss", "fingerspelling_loss", "lip_loss", "router_loss"),
    "fusion": ("fusion_loss",),
}
EXPERT_PREFIXES = ("manual.", "lip.")
# transformers' file names (SAFE_WEIGHTS_NAME, WEIGHTS_NAME, TRAINER_STATE_NAME), spelled out: they name the files
# users see in their folders.
SAFE_WEIGHTS = "model.safetensors"
PICKLED_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json")
# Trainer's checkpoint folders; the staging ones start with "." and never match.
CHECKPOINT_NAME = re.compile(rf"{PREFIX_CHECKPOINT_DIR}-(\d+)")


class StageTrainer(Trainer):
    """``Trainer`` that also logs the mean of each stream's loss (sign, fingerspelling, lip, router, fusion) since the
    last log, next to ``loss``: which expert learns and which stalls is the first question about a staged run."""

    def __init__(self, *args: Any, stage: str, augmentation: ClipAugmentation | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stream_losses = STREAM_LOSSES[stage]
        self.augmentation = augmentation
        self._stream_sums: dict[str, torch.Tensor] = {}
        self._stream_counts: dict[str, int] = defaultdict(int)
        self._staging_dir: Path | None = None  # set while a checkpoint is being written

    def _get_output_dir(self, trial) -> str:
        return str(self._staging_dir) if self._staging_dir is not None else super()._get_output_dir(trial)

    def _save_checkpoint(self, model, trial) -> None:
        # Trainer writes checkpoint-N in place: a run killed mid-save leaves a folder that get_last_checkpoint takes
        # for the last checkpoint. Trainer is pointed at a hidden staging folder instead (get_last_checkpoint and the
        # rotation skip names starting with "."), and the checkpoint is renamed into place once every process has
        # written its part (each writes its own RNG state).
        run_dir = Path(super()._get_output_dir(trial))
        name = f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}"
        staging = run_dir / f".{name}.partial"
        if self.args.should_save:
            for leftover in run_dir.glob(f".{PREFIX_CHECKPOINT_DIR}-*"):  # left by a run killed mid-save
                shutil.rmtree(leftover, ignore_errors=True)
        self.accelerator.wait_for_everyone()
        self._staging_dir = staging
        try:
            super()._save_checkpoint(model, trial)
        finally:
            self._staging_dir = None
        self.accelerator.wait_for_everyone()
        if self.args.should_save:
            self._publish_checkpoint(staging, run_dir / name)
        self.accelerator.wait_for_everyone()

    def _publish_checkpoint(self, staging: Path, final: Path) -> None:
        if self.state.best_model_checkpoint and Path(self.state.best_model_checkpoint).parent == staging:
            # Trainer recorded the staged path as the best checkpoint (it is this one): record where it will live.
            self.state.best_model_checkpoint = str(final)
            self.state.save_to_json(str(staging / final.name / TRAINER_STATE_FILE))
        if final.exists():  # the same step saved again: replace it whole
            retired = final.with_name(f".{final.name}.old")
            shutil.rmtree(retired, ignore_errors=True)
            final.rename(retired)
            shutil.rmtree(retired)
        os.replace(staging / final.name, final)
        staging.rmdir()
        # Trainer's rotation ran inside the staging folder; run it where the checkpoints are, by step (a renamed
        # folder's mtime says nothing about when it was written).
        rotate_checkpoints(
            output_dir=str(final.parent),
            save_total_limit=self.args.save_total_limit,
            best_model_checkpoint=self.state.best_model_checkpoint,
        )

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if model.training and self.augmentation is not None:
            inputs = self.augmentation(inputs)  # training batches only: evaluation sees the clips as they are
        loss, outputs = super().compute_loss(model, inputs, return_outputs=True, num_items_in_batch=num_items_in_batch)
        if model.training:
            for name in self.stream_losses:
                value = outputs.get(name)
                if value is not None:
                    value = value.detach().float()
                    self._stream_sums[name] = self._stream_sums.get(name, 0.0) + value
                    self._stream_counts[name] += 1
        return (loss, outputs) if return_outputs else loss

    def _load_from_checkpoint(self, resume_from_checkpoint: str, model: torch.nn.Module | None = None) -> None:
        # save_pretrained writes the DINOv2 and VideoMAE weights under their original checkpoint names (transformers 5
        # renames them on load: `attention.attention.query` -> `attention.q_proj`), but Trainer's resume reads the
        # file with a plain non-strict load_state_dict: the backbones' attention would silently keep the values of
        # the fresh model. Load through from_pretrained, which converts the names, and insist on every tensor.
        target = self.accelerator.unwrap_model(model if model is not None else self.model)
        if isinstance(target, PreTrainedModel) and not self.is_fsdp_enabled:
            saved = type(target).from_pretrained(resume_from_checkpoint, config=target.config)
            target.load_state_dict(saved.state_dict(), strict=True)
            return
        super()._load_from_checkpoint(resume_from_checkpoint, model)

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs and self._stream_sums:
            for name, total in self._stream_sums.items():
                logs[name] = round(float(total) / self._stream_counts[name], 4)
            self._stream_sums, self._stream_counts = {}, defaultdict(int)
        super().log(logs, start_time)


# --- model and processor --------------------------------------------------------------------------------------------


def _video_settings(stage_args: StageArguments, config: SignBindConfig) -> dict[str, Any]:
    settings: dict[str, Any] = {"min_frames": stage_args.min_frames, "max_frames": stage_args.max_frames}
    # Keypoints are made (read or extracted) exactly when the manual expert reads them.
    settings["keypoints"] = config.uses_keypoints
    if not config.use_lip:
        settings["face_cropper"] = None  # no lip expert: no face crops to make
    return settings


def build_fresh(
    stage_args: StageArguments, tokenizer: SignBindCTCTokenizer
) -> tuple[SignBindModel, SignBindProcessor]:
    config = SignBindConfig.from_preset(
        stage_args.preset, **{**stage_args.model_overrides, "gloss_vocab_size": len(tokenizer)}
    )
    processor = SignBindProcessor.from_model_config(
        config, gloss_tokenizer=tokenizer, **_video_settings(stage_args, config)
    )
    return SignBindModel(config), processor


def load_initial(
    stage_args: StageArguments, tokenizer: SignBindCTCTokenizer
) -> tuple[SignBindModel, SignBindProcessor]:
    """The ``--init`` model (with ``model_overrides`` applied) and processor, its gloss heads resized to ``tokenizer``."""
    init = Path(stage_args.init)
    if not (init / "config.json").is_file() or not (init / "processor_config.json").is_file():
        raise SignBindInputError(
            f"--init {init}: expected a trained model folder (config.json, model weights and processor_config.json, "
            "as signbind train writes)"
        )
    problem = weights_problem(init)
    if problem is not None:
        raise SignBindInputError(f"--init {init}: {problem}")
    try:
        config = AutoConfig.from_pretrained(str(init))
    except (OSError, ValueError) as error:  # a truncated or hand-edited config.json
        raise SignBindInputError(f"--init {init}: config.json cannot be read ({error})") from error
    if not isinstance(config, SignBindConfig):
        raise SignBindInputError(f"--init {init}: expected a SignBind model, got model_type {config.model_type!r}")
    config_values = config.to_dict()
    for name, value in stage_args.model_overrides.items():
        saved = config_values.get(name)
        # A sub-config override (the tiny YAML's `backbone_config: {hidden_size: 64}`) changes those fields of the
        # saved sub-config; replacing it whole would drop its model_type and fail deep inside transformers.
        config_values[name] = {**saved, **value} if isinstance(saved, dict) and isinstance(value, dict) else value
    for name in ("model_type", "transformers_version", "architectures", "auto_map", "dtype"):
        config_values.pop(name, None)
    config = SignBindConfig(**config_values)
    model, loading = SignBindModel.from_pretrained(
        str(init),
        config=config,
        output_loading_info=True,
        ignore_mismatched_sizes=bool(stage_args.model_overrides),
        use_safetensors=True,  # never a pickle, even beside the safetensors file
    )
    not_loaded = [*loading["missing_keys"], *(name for name, *_ in loading.get("mismatched_keys", []))]
    missing_experts = sorted(name for name in not_loaded if name.startswith(EXPERT_PREFIXES))
    if stage_args.stage == "fusion" and missing_experts:
        raise SignBindInputError(
            f"--init {init}: the experts to freeze are not all in the checkpoint ({len(missing_experts)} tensors, "
            f"first {missing_experts[0]!r}); --model_overrides may change the fusion module, not the experts"
        )
    if not_loaded:
        logger.info("--init %s: %d tensors start fresh (first: %s)", init, len(not_loaded), not_loaded[0])
    try:
        saved = SignBindProcessor.from_pretrained(str(init))
    except (OSError, ValueError) as error:  # a truncated or hand-edited processor or tokenizer file
        raise SignBindInputError(f"--init {init}: the processor files cannot be read ({error})") from error
    if saved.tokenizer.get_vocab() != tokenizer.get_vocab():
        kept = resize_gloss_heads(model, saved.tokenizer.get_vocab(), tokenizer.get_vocab())
        if stage_args.stage == "fusion" and kept < len(tokenizer):
            logger.warning(
                "--stage fusion on a new gloss vocabulary: the frozen sign head's %d new rows stay untrained; run "
                "--stage experts on this data set first (fine-tuning), then fusion from it",
                len(tokenizer) - kept,
            )
    video_settings = {**saved.video_processor.to_dict(), **_video_settings(stage_args, config)}
    video_settings.pop("video_processor_type", None)
    video_settings.pop("auto_map", None)
    processor = SignBindProcessor(
        SignBindVideoProcessor(**video_settings), tokenizer, saved.letter_tokenizer, saved.phoneme_tokenizer
    )
    model.config.name_or_path = str(init)
    return model, processor


def with_clip_cache(processor: SignBindProcessor, cache_dir: Path | None) -> SignBindProcessor:
    """A copy of ``processor`` whose video processor caches processed clips in ``cache_dir`` (None: no cache)."""
    if cache_dir is None:
        return processor
    return SignBindProcessor(
        CachingVideoProcessor.wrap(processor.video_processor, cache_dir),
        processor.tokenizer,
        processor.letter_tokenizer,
        processor.phoneme_tokenizer,
    )


def clip_cache_dir(stage_args: StageArguments) -> Path | None:
    if stage_args.clip_cache_dir == "":
        return None
    return Path(stage_args.clip_cache_dir) if stage_args.clip_cache_dir else Path(stage_args.data) / CLIP_CACHE_DIR


# --- data -----------------------------------------------------------------------------------------------------------


# Video processor settings that only shape the face crops: the lip expert's input, and nothing else.
FACE_CROP_SETTINGS = ("face_cropper", "face_crop")
# What a processor's settings say about the processor itself, not about how it processes video: saving a processor
# adds `auto_map` (the class that loads it as remote code) to its settings, so the one that wrote a cache (and saved
# itself into it) and a fresh one in another process (an ablation worker) differ in it while cutting the same frames.
PROCESSOR_METADATA = ("auto_map", "video_processor_type")


def cache_serves(manifest: dict[str, Any], config: SignBindConfig, processor: SignBindProcessor) -> bool:
    """Whether a feature cache (its ``manifest``) holds what a fusion module of ``config`` reads, as ``processor``
    would compute it: every stream the config uses, from the same frames. A fusion without the lip stream reads no
    lip outputs, so how the faces were cropped does not matter to it (the paper's w/o-lipreading ablation reuses the
    full model's cache instead of recomputing the experts)."""
    cached = dict(manifest["video_processor"])
    wanted = json.loads(json.dumps(processor.video_processor.to_dict()))
    ignored = PROCESSOR_METADATA + (FACE_CROP_SETTINGS if not config.use_lip else ())
    for name in ignored:
        cached.pop(name, None)
        wanted.pop(name, None)
    return cached == wanted and set(expert_streams(config)) <= set(manifest["streams"])


def ensure_feature_cache(
    model: SignBindModel, processor: SignBindProcessor, stage_args: StageArguments, splits: list[str], batch_size: int
) -> Path:
    """The feature cache of ``model``'s experts on ``splits``: reused when it exists and was made by the same expert
    weights (its fingerprint) with the same video settings, made (or replaced) otherwise."""
    cache_dir = Path(stage_args.feature_cache_dir) if stage_args.feature_cache_dir else None
    cache_dir = cache_dir or cache_dir_for(stage_args.data, model)
    try:
        manifest = check_cache_matches(cache_dir, model)
        if cache_serves(manifest, model.config, processor) and set(splits) <= set(manifest["splits"]):
            logger.info("fusion: reusing the expert outputs cached in %s", cache_dir)
            return cache_dir
    except FeatureCacheMismatchError:
        pass
    started = time.perf_counter()
    cache_expert_outputs(model, processor, stage_args.data, out=cache_dir, splits=splits, batch_size=batch_size)
    logger.info("fusion: cached the experts' outputs in %.1f s -> %s", time.perf_counter() - started, cache_dir)
    return cache_dir


def build_datasets(stage_args, training_args, model, processor, report):
    """(train, eval or None, collator, the module Trainer trains)."""
    splits = [stage_args.train_split] + ([stage_args.eval_split] if stage_args.eval_split else [])
    limits = {
        stage_args.train_split: stage_args.max_train_examples,
        stage_args.eval_split: stage_args.max_eval_examples,
    }
    if stage_args.stage == "fusion" and stage_args.fusion_inputs == "cached":
        with training_args.main_process_first(desc="caching expert outputs"):
            cache = ensure_feature_cache(
                model, processor, stage_args, splits, training_args.per_device_eval_batch_size
            )
        datasets = [
            CachedFusionDataset.from_cache(cache, split, model, report, processor.tokenizer, limits[split])
            for split in splits
        ]
        # The cached batches hold only the fusion's labels; Trainer reports an eval loss only when all are present.
        training_args.label_names = [GLOSS_LABELS]
        return (
            datasets[0],
            (datasets[1] if len(datasets) > 1 else None),
            FusionFeatureCollator(),
            FusionOnCachedOutputs(model),
        )
    with training_args.main_process_first(desc="checking and caching clips"):
        datasets = [
            ClipDataset.from_split(
                stage_args.data,
                split,
                processor,
                model.config,
                report,
                limits[split],
                training_args.dataloader_num_workers,
            )
            for split in splits
        ]
    collator = ClipCollator(processor, letter_expert=model.config.use_fingerspelling)
    return datasets[0], (datasets[1] if len(datasets) > 1 else None), collator, model


# --- the run --------------------------------------------------------------------------------------------------------


def weights_problem(folder: Path) -> str | None:
    """Why the model weights in ``folder`` cannot be loaded (missing, pickled, truncated), or None when they can.

    Opening a safetensors file reads its header and checks that the file covers every tensor it lists: a truncated
    copy or an interrupted write is caught here, in milliseconds, instead of as a raw error deep in from_pretrained.
    """
    from safetensors import SafetensorError, safe_open

    files = sorted(folder.glob("model*.safetensors"))
    if not files:
        pickled = [name for name in PICKLED_WEIGHTS if (folder / name).is_file()]
        if pickled:
            return (
                f"{pickled[0]} holds pickled weights, which are refused (loading a pickle can run code); "
                f"expected {SAFE_WEIGHTS} (convert with save_pretrained(safe_serialization=True))"
            )
        return f"no {SAFE_WEIGHTS}"
    for path in files:
        try:
            with safe_open(str(path), framework="pt"):
                pass
        except (SafetensorError, OSError) as error:
            return f"{path.name} is damaged ({error}; {path.stat().st_size} bytes)"
    return None


def checkpoint_problem(checkpoint: Path) -> str | None:
    """Why Trainer cannot resume from ``checkpoint``, or None. The torch files (optimizer, scheduler, RNG states)
    are zip archives: a truncated one has lost its closing directory."""
    problem = weights_problem(checkpoint)
    if problem is not None:
        return problem
    try:
        json.loads((checkpoint / TRAINER_STATE_FILE).read_text())
    except (OSError, ValueError):
        return f"{TRAINER_STATE_FILE} is missing or damaged"
    for path in sorted(checkpoint.glob("*.pt")) + sorted(checkpoint.glob("*.pth")):
        if not zipfile.is_zipfile(path):
            return f"{path.name} is damaged (not a complete torch file)"
    return None


def checkpoints_by_step(folder: Path) -> list[Path]:
    """The checkpoint folders in ``folder``, oldest step first."""
    if not folder.is_dir():
        return []
    steps = {int(m.group(1)): path for path in folder.iterdir() if (m := CHECKPOINT_NAME.fullmatch(path.name))}
    return [steps[step] for step in sorted(steps) if steps[step].is_dir()]


def resume_checkpoint(stage_args: StageArguments) -> str | None:
    """The checkpoint ``--resume`` continues from: the last one Trainer can read, each damaged later one named."""
    checkpoints = stage_args.checkpoints_dir
    found = checkpoints_by_step(checkpoints)
    if stage_args.resume:
        if not found:
            raise SignBindInputError(f"--resume: no checkpoint in {checkpoints} to continue from")
        damaged = []
        for checkpoint in reversed(found):
            problem = checkpoint_problem(checkpoint)
            if problem is None:
                logger.info("resuming from %s", checkpoint)
                return str(checkpoint)
            logger.warning("--resume: skipping the damaged checkpoint %s: %s", checkpoint, problem)
            damaged.append(f"{checkpoint.name} ({problem})")
        raise SignBindInputError(
            f"--resume: every checkpoint in {checkpoints} is damaged: {'; '.join(damaged)}; start again with another "
            "--out"
        )
    if found:
        last = found[-1]
        raise SignBindInputError(
            f"--out {stage_args.out} holds checkpoints of an earlier run ({last}): pass --resume to continue it, or "
            "use another --out"
        )
    return None


def train_stage(
    stage_args: StageArguments,
    training_args: StageTrainingArguments,
    callbacks: list[TrainerCallback] | None = None,
) -> Path:
    """Train ``stage_args.stage`` and write the run folder (see the module docstring); returns ``--out``.

    ``callbacks`` are added to the Trainer's (early stopping, a tracker of your own, ...).
    """
    out = Path(stage_args.out)
    training_args.output_dir = str(stage_args.checkpoints_dir)
    resume_from = resume_checkpoint(stage_args)
    if stage_args.torch_threads is not None:
        torch.set_num_threads(stage_args.torch_threads)
    set_seed(training_args.seed)  # the fresh model's initialisation too

    train_rows = load_split(stage_args.data, stage_args.train_split)
    tokenizer = SignBindCTCTokenizer.for_glosses(train_rows["pseudo_gloss"])
    if stage_args.init is None:
        model, processor = build_fresh(stage_args, tokenizer)
    else:
        model, processor = load_initial(stage_args, tokenizer)
    logger.info("%s stage: %s", stage_args.stage, model.parameter_breakdown())

    report = SkippedRows()
    training_processor = with_clip_cache(processor, clip_cache_dir(stage_args))
    model.eval()  # expert outputs for the feature cache are computed in eval mode
    train_dataset, eval_dataset, collator, trained_module = build_datasets(
        stage_args, training_args, model, training_processor, report
    )
    model.set_stage(stage_args.stage)
    report.log_summary()
    if eval_dataset is None and training_args.eval_strategy != IntervalStrategy.NO:
        logger.info("no eval split (--eval_split none): eval_strategy set to 'no'")
        training_args.eval_strategy = IntervalStrategy.NO

    augmentation = None
    if stage_args.augment and stage_args.stage == "experts":
        video_processor = processor.video_processor
        augmentation = ClipAugmentation(
            image_mean=video_processor.image_mean,
            image_std=video_processor.image_std,
            change_frames=model.config.uses_frames,
            change_face_crops=stage_args.augment_face_crops,
            hand_dropout_probability=stage_args.augment_hand_dropout,
            hand_point_noise=stage_args.augment_keypoint_noise,
        )
    trainer = StageTrainer(
        stage=stage_args.stage,
        augmentation=augmentation,
        model=trained_module,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        data_collator=collator,
        processing_class=processor,
        callbacks=callbacks,
    )
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=resume_from)
    logger.info("%s stage trained in %.1f s", stage_args.stage, time.perf_counter() - started)
    if trainer.is_world_process_zero():
        save_run(out, model, processor, trainer, report, stage_args, training_args)
    trainer.accelerator.wait_for_everyone()
    return out


def trained_steps(run_dir: str | os.PathLike) -> int | None:
    """The optimizer steps a finished run folder trained for (its ``trainer_state.json``); None when it has none."""
    state = Path(run_dir) / TRAINER_STATE_FILE
    return json.loads(state.read_text())["global_step"] if state.is_file() else None


def save_run(
    out: Path,
    model: SignBindModel,
    processor: SignBindProcessor,
    trainer: Trainer,
    report: SkippedRows,
    stage_args: StageArguments,
    training_args: StageTrainingArguments,
) -> None:
    """Write the run folder through a temporary sibling; config.json lands last, so a folder with one is whole."""
    out.mkdir(parents=True, exist_ok=True)
    staging = out / f".final-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        model.save_pretrained(staging)
        processor.save_pretrained(staging)
        trainer.state.save_to_json(str(staging / TRAINER_STATE_FILE))
        write_training_log(trainer.state.log_history, staging)
        plot_training_curves(trainer.state.log_history, staging / CURVES_PNG, title=f"{stage_args.stage} stage")
        report.write(staging / SKIPPED_ROWS_FILE)
        arguments = {"stage": asdict(stage_args), "training": json.loads(training_args.to_json_string())}
        (staging / STAGE_ARGUMENTS_FILE).write_text(json.dumps(arguments, indent=2, default=str) + "\n")
        entries = sorted(staging.iterdir(), key=lambda path: path.name == "config.json")
        for entry in entries:
            target = out / entry.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(entry, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("wrote %s (model, processor, training log, curves, skipped rows)", out)


__all__ = ["StageTrainer", "build_fresh", "load_initial", "train_stage", "trained_steps"]
