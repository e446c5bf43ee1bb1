"""Speed and memory of SignBindModel's forward pass on CPU (not part of `make test`).

    python -m benchmarks.bench_model                       # paper and tiny presets, 32-frame clip, 512-frame memory
    python -m benchmarks.bench_model --presets tiny --frames 64 --memory-frames 256

1. Frames per second of the full model (both experts + fusion) against the frame backbone alone on the same clip,
   measured side by side in one process, reported as a ratio.
2. Peak memory of a forward pass (inference, no grad) over a long clip, with the configured backbone chunking and
   without it (`backbone_chunk_size=None`). Each run happens in a fresh subprocess, so the peak resident set size of
   that process is the peak of that run alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

import torch


def build(preset: str, **overrides):
    from signbind_hf import SignBindConfig, SignBindModel

    torch.manual_seed(0)
    return SignBindModel(SignBindConfig.from_preset(preset, **overrides)).eval()


def clip(model, frames: int) -> dict:
    config = model.config
    size = 224 if config.backbone_config.image_size > 224 else config.backbone_config.image_size
    face = config.lip_config.image_size
    return {
        "pixel_values": torch.randn(1, frames, 3, size, size),
        "face_pixel_values": torch.randn(1, frames, 3, face, face),
        "attention_mask": torch.ones(1, frames, dtype=torch.long),
    }


def best_time(function, repeats: int) -> float:
    function()  # warm-up: allocator, thread pool, kernels
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


@torch.no_grad()
def speed(preset: str, frames: int, repeats: int) -> dict:
    model = build(preset)
    batch = clip(model, frames)
    full = best_time(lambda: model(**batch), repeats)
    backbone = best_time(lambda: model.manual.encode_frames(batch["pixel_values"], batch["attention_mask"]), repeats)
    return {
        "preset": preset,
        "frames": frames,
        "frame_size": batch["pixel_values"].shape[-1],
        "full_fps": frames / full,
        "backbone_fps": frames / backbone,
        "full_over_backbone_time": full / backbone,
    }


@torch.no_grad()
def peak_memory_child(preset: str, frames: str, chunk: str) -> dict:
    """Runs in its own process: build, measure the resident set, run one forward, report the peak growth."""
    chunk_size = None if chunk == "none" else int(chunk)
    frames = int(frames)
    model = build(preset, backbone_chunk_size=chunk_size)
    batch = clip(model, frames)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    model(**batch)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "preset": preset,
        "frames": frames,
        "chunk": chunk,
        "peak_growth_mib": (peak - before) / 1024,
        "s": seconds,
    }


def peak_memory(preset: str, frames: int, chunk: str) -> dict:
    command = [sys.executable, "-m", "benchmarks.bench_model", "--child", preset, str(frames), chunk]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"memory run {preset}/{frames}/{chunk} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=["paper", "tiny"])
    parser.add_argument("--frames", type=int, default=32, help="clip length for the speed comparison")
    parser.add_argument("--memory-frames", type=int, default=512, help="clip length for the memory comparison")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(peak_memory_child(*args.child)))
        return

    print(f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} CPUs, torch "
          f"{torch.__version__}, {torch.get_num_threads()} threads")  # fmt: skip
    print("\nspeed (best of repeats, batch 1, no grad):")
    for preset in args.presets:
        r = speed(preset, args.frames, args.repeats)
        print(
            f"  {preset:>5}: {r['frames']} frames at {r['frame_size']} px  full model {r['full_fps']:8.1f} frames/s  "
            f"backbone alone {r['backbone_fps']:8.1f} frames/s  full/backbone time {r['full_over_backbone_time']:.2f}x"
        )
    print(f"\npeak memory of one forward over a {args.memory_frames}-frame clip (fresh process each):")
    for preset in args.presets:
        chunk = str(build(preset).config.backbone_chunk_size)
        chunked = peak_memory(preset, args.memory_frames, chunk)
        whole = peak_memory(preset, args.memory_frames, "none")
        print(
            f"  {preset:>5}: chunk {chunk:>3} frames {chunked['peak_growth_mib']:8.0f} MiB ({chunked['s']:.1f} s)   "
            f"no chunking {whole['peak_growth_mib']:8.0f} MiB ({whole['s']:.1f} s)   "
            f"ratio {whole['peak_growth_mib'] / max(chunked['peak_growth_mib'], 1):.1f}x"
        )


if __name__ == "__main__":
    main()
