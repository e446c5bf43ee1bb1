"""Fusion-stage training on cached expert outputs against recomputing the frozen experts from video each step.

    .venv/bin/python -m benchmarks.bench_feature_cache
    .venv/bin/python -m benchmarks.bench_feature_cache --examples 16 --batch-size 4 --repeats 3

On the same few SynthSign clips (tiny preset by default, face boxes from the data set, so no face detector runs), one pass of
fusion-stage training steps (forward, CTC loss, backward, AdamW step), side by side in one run:
  - from video: decode + SignBindProcessor + the model's full forward with frozen experts (what training does
    without a cache). THE BASELINE;
  - from the cache: read the cached tensors (safetensors, memory-mapped) + FusionFeatureCollator +
    ``model.fuse_expert_outputs``.
The one-time cost of writing the cache (``cache_expert_outputs``) is reported too, as the number of passes after
which the cache has paid for itself. Times are the best of ``--repeats`` passes.

Measured 2026-11-25 on the 2-core x86_64 CPU machine (torch 2.13.0+cpu), side by side in one run each:
  - tiny preset, 8 clips (971 frames), batches of 4, 1 thread: 0.375 s from video, 0.063 s from the cache: 5.9x;
  - paper preset (random weights), 2 clips (257 frames), batches of 1, 2 threads (``--preset paper --examples 2
    --batch-size 1 --repeats 1 --threads 2``): 104.5 s from video, 0.63 s from the cache: 167x.
With paper-size experts, the DINOv2 and lip-ViT forward passes are nearly all of a step; the fusion module is small.
"""

import argparse
import logging
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from signbind_hf import SignBindConfig, SignBindModel, SignBindProcessor
from signbind_hf.data.feature_cache import CachedExpertOutputs, FusionFeatureCollator, cache_expert_outputs
from signbind_hf.data.synthsign import generate_synthsign

logger = logging.getLogger("bench_feature_cache")


def fusion_model(config: SignBindConfig, state: dict) -> tuple[SignBindModel, torch.optim.Optimizer]:
    model = SignBindModel(config)
    model.load_state_dict(state)
    model.set_stage("fusion").train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    return model, optimizer


def step(model: SignBindModel, optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()


def pass_from_video(model, optimizer, processor, root: Path, rows, batch_size: int) -> float:
    started = time.perf_counter()
    for first in range(0, len(rows), batch_size):
        batch = rows[first : first + batch_size]
        inputs = processor(
            videos=[str(root / video) for video in batch["video"]],
            face_boxes=[np.asarray(boxes, dtype=np.float32) for boxes in batch["face_boxes"]],
            glosses=batch["pseudo_gloss"],
        )
        step(model, optimizer, model(**inputs).loss)
    return time.perf_counter() - started


def pass_from_cache(model, optimizer, cached: CachedExpertOutputs, batch_size: int) -> float:
    collate = FusionFeatureCollator()
    started = time.perf_counter()
    for first in range(0, len(cached), batch_size):
        batch = collate([cached[index] for index in range(first, min(first + batch_size, len(cached)))])
        step(model, optimizer, model.fuse_expert_outputs(**batch).loss)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=8, help="SynthSign train clips (default 8)")
    parser.add_argument("--batch-size", type=int, default=4, help="clips per step (default 4)")
    parser.add_argument("--repeats", type=int, default=3, help="passes of each; the best is reported (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument(
        "--preset",
        choices=("tiny", "paper"),
        default="tiny",
        help="model size (paper: randomly initialised, slow on CPU)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "synthsign"
        dataset = generate_synthsign(root, seed=0, num_train=args.examples, num_validation=0, num_test=0)
        rows = dataset["train"]
        processor = SignBindProcessor.from_preset(args.preset, glosses=rows["pseudo_gloss"], face_cropper="boxes")
        config = SignBindConfig.from_preset(args.preset, gloss_vocab_size=len(processor.tokenizer))
        torch.manual_seed(0)
        state = SignBindModel(config).state_dict()

        started = time.perf_counter()
        cache = cache_expert_outputs(fusion_model(config, state)[0], processor, root, batch_size=args.batch_size)
        cache_seconds = time.perf_counter() - started

        video_model, video_optimizer = fusion_model(config, state)
        cache_model, cache_optimizer = fusion_model(config, state)
        cached = CachedExpertOutputs(cache, "train", cache_model)
        video_times, cache_times = [], []
        for _ in range(args.repeats):  # interleaved, so that a busy moment of the machine hits both
            video_times.append(pass_from_video(video_model, video_optimizer, processor, root, rows, args.batch_size))
            cache_times.append(pass_from_cache(cache_model, cache_optimizer, cached, args.batch_size))
        frames = sum(rows["num_frames"])
        cache_bytes = sum(path.stat().st_size for path in cache.rglob("*.safetensors"))

    video, cached_pass = min(video_times), min(cache_times)
    print(f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{args.threads} thread(s)")  # fmt: skip
    print(f"SynthSign, {args.preset} preset: {len(rows)} clips, {frames} frames, batches of {args.batch_size}")
    print(f"one pass of fusion training steps, from video (decode + processor + experts): {video:8.3f} s")
    print(f"one pass of fusion training steps, from the cache:                            {cached_pass:8.3f} s")
    print(f"speed-up: {video / cached_pass:.1f}x")
    print(
        f"writing the cache once: {cache_seconds:.3f} s ({cache_bytes / len(rows) / 1024:.1f} KiB per clip): paid "
        f"back after {cache_seconds / max(video - cached_pass, 1e-9):.1f} passes"
    )


if __name__ == "__main__":
    main()
