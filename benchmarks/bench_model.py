"""Speed and memory of SignBindModel's forward pass on CPU (not part of `make test`).

    python -m benchmarks.bench_model                       # paper and tiny presets, 32-frame clip, 512-frame memory
    python -m benchmarks.bench_model --presets tiny --frames 64 --memory-frames 256

1. Frames per second of the full model (both experts + fusion) against the frame backbone alone on the same clip,
   run in turns in one process (A B A B ...) so that load on the machine hits both alike; reported as a ratio.
2. Peak memory of a forward pass (inference, no grad) over a long clip, with the configured backbone chunking and
   without it (`backbone_chunk_size=None`): the growth of the resident set during the forward, sampled every 2 ms,
   each run in a fresh subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time

import torch


def build(preset: str, **overrides):
    from signbind_hf import SignBindConfig, SignBindModel

    torch.manual_seed(0)
    return SignBindModel(SignBindConfig.from_preset(preset, **overrides)).eval()


def clip(model, frames: int) -> dict:
    """A random clip at the sizes the processor feeds: 224 px frames in the paper preset (DINOv2 interpolates its
    518 px position grid), the backbone's own size in the tiny one."""
    config = model.config
    size = min(224, config.backbone_config.image_size)
    face = config.lip_config.image_size
    return {
        "pixel_values": torch.randn(1, frames, 3, size, size),
        "face_pixel_values": torch.randn(1, frames, 3, face, face),
        "attention_mask": torch.ones(1, frames, dtype=torch.long),
    }


def interleaved_best_times(functions: dict, repeats: int) -> dict[str, float]:
    """Best wall time of each function, run in turns so that a busy moment on the machine hits all of them."""
    for function in functions.values():
        function()  # warm-up: allocator, thread pool, kernels
    times = dict.fromkeys(functions, float("inf"))
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name] = min(times[name], time.perf_counter() - start)
    return times


@torch.no_grad()
def speed(preset: str, frames: int, repeats: int) -> dict:
    model = build(preset)
    batch = clip(model, frames)
    times = interleaved_best_times(
        {
            "full": lambda: model(**batch),
            "backbone": lambda: model.manual.encode_frames(batch["pixel_values"], batch["attention_mask"]),
        },
        repeats,
    )
    return {
        "frames": frames,
        "frame_size": batch["pixel_values"].shape[-1],
        "full_fps": frames / times["full"],
        "backbone_fps": frames / times["backbone"],
        "full_over_backbone_time": times["full"] / times["backbone"],
    }


def resident_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakResidentMemory:
    """Samples this process's resident set every 2 ms in a thread; `growth_mib` is what the `with` block added."""

    def __enter__(self) -> PeakResidentMemory:
        self.start = self.peak = resident_mib()
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, resident_mib())
            time.sleep(0.002)

    def __exit__(self, *exc) -> None:
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, resident_mib())

    @property
    def growth_mib(self) -> float:
        return self.peak - self.start


@torch.no_grad()
def peak_memory_child(preset: str, frames: int, chunk: str) -> dict:
    """Runs in its own process: build the model and the clip, then measure one forward."""
    model = build(preset, backbone_chunk_size=None if chunk == "none" else int(chunk))
    batch = clip(model, frames)
    with PeakResidentMemory() as memory:
        start = time.perf_counter()
        model(**batch)
        seconds = time.perf_counter() - start
    return {"peak_growth_mib": memory.growth_mib, "seconds": seconds}


def peak_memory(preset: str, frames: int, chunk: str) -> dict:
    command = [sys.executable, "-m", "benchmarks.bench_model", "--threads", str(torch.get_num_threads())]
    command += ["--child", preset, str(frames), chunk]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"memory run {preset}/{frames}/{chunk} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=["paper", "tiny"])
    parser.add_argument("--memory-presets", nargs="*", help="presets for the memory comparison (default: --presets)")
    parser.add_argument("--frames", type=int, default=32, help="clip length for the speed comparison")
    parser.add_argument("--memory-frames", type=int, default=512, help="clip length for the memory comparison")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads (default 1: on a shared 2-core machine OpenMP's spin-waiting makes 2-thread "
        "timings erratic)",
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.child:
        preset, frames, chunk = args.child
        print(json.dumps(peak_memory_child(preset, int(frames), chunk)))
        return

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, {args.threads} thread(s)")
    print(f"\nspeed (best of {args.repeats}, batch 1, no grad, full model and backbone run in turns):")
    for preset in args.presets:
        r = speed(preset, args.frames, args.repeats)
        print(
            f"  {preset:>5}: {r['frames']} frames at {r['frame_size']} px  full model {r['full_fps']:8.1f} frames/s  "
            f"backbone alone {r['backbone_fps']:8.1f} frames/s  full/backbone time {r['full_over_backbone_time']:.2f}x"
        )
    print(f"\npeak memory of one forward over a {args.memory_frames}-frame clip (fresh process each):")
    for preset in args.presets if args.memory_presets is None else args.memory_presets:
        chunk = str(build(preset).config.backbone_chunk_size)
        chunked = peak_memory(preset, args.memory_frames, chunk)
        whole = peak_memory(preset, args.memory_frames, "none")
        print(
            f"  {preset:>5}: chunks of {chunk} frames {chunked['peak_growth_mib']:8.0f} MiB "
            f"({chunked['seconds']:.1f} s)   no chunking {whole['peak_growth_mib']:8.0f} MiB ({whole['seconds']:.1f} s)"
            f"   no chunking / chunks {whole['peak_growth_mib'] / max(chunked['peak_growth_mib'], 1e-3):.1f}x"
        )


if __name__ == "__main__":
    main()
