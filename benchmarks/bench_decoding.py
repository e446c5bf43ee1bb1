"""Time decode + sample + resize against bare PyAV decoding, and show that memory does not grow with clip length.

    .venv/bin/python -m benchmarks.bench_decoding
    .venv/bin/python -m benchmarks.bench_decoding --seconds 20 --long-minutes 10 --repeats 3

Speed, on one generated 640×480 H.264 clip at 30 fps, side by side in one run:
  - bare decode: PyAV decodes every frame (same threading as ours) and does nothing else: the floor;
  - bare decode + RGB: every frame also converted to an RGB array, as a decode-everything-then-subsample reader does;
  - decode_video: streaming decode, resampling to 25 fps by timestamp, RGB conversion of the kept frames only;
  - decode_video + FrameTransform(224): all the way to DINOv2 pixel values (resize, centre crop, normalise).
Each is reported as source frames per second and as time relative to bare decode.

Memory, on a short and a long generated 160×120 clip (25 fps, both longer than max_frames at 25 fps): how far the
resident memory of a fresh process rises during one call (sampled from /proc/self/statm by
``bench_model.PeakResidentMemory``), for decode_video and for the naive reader that decodes every frame to RGB into a
list and then subsamples. (tracemalloc cannot see these frames: PyAV allocates them with FFmpeg's allocator.)
decode_video should stay flat while the naive reader grows with length.
"""

import argparse
import logging
import multiprocessing
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from benchmarks.bench_model import PeakResidentMemory
from signbind_hf.video_decoding_signbind import decode_video
from signbind_hf.video_frames_signbind import uniform_indices
from signbind_hf.video_transforms_signbind import FrameTransform

logger = logging.getLogger("bench_decoding")


def write_clip(path: Path, *, width: int, height: int, fps: int, num_frames: int) -> Path:
    """A clip with motion everywhere (a drifting gradient and a moving square) so the encoder does real work."""
    y, x = np.mgrid[0:height, 0:width]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": "veryfast", "crf": "23"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(num_frames):
            frame = np.empty((height, width, 3), dtype=np.uint8)
            frame[..., 0] = (x + 3 * index) % 256
            frame[..., 1] = (y + 2 * index) % 256
            frame[..., 2] = (x + y + index) % 256
            left, top = (5 * index) % (width - width // 4), (3 * index) % (height - height // 4)
            frame[top : top + height // 4, left : left + width // 4] = 255
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def bare_decode(path: Path, thread_type: str | None = "AUTO") -> int:
    """Decode every frame and nothing else; ``thread_type`` as the processor sets it (None: PyAV's default)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if thread_type is not None:
            stream.thread_type = thread_type
        return sum(1 for _ in container.decode(stream))


def bare_decode_rgb(path: Path) -> int:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return sum(frame.to_ndarray(format="rgb24").shape[0] > 0 for frame in container.decode(stream))


def naive_decode_then_subsample(path: Path, max_frames: int) -> np.ndarray:
    """Decode every frame to RGB into a list, then subsample: the memory-hungry way decode_video avoids."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    return np.stack([frames[i] for i in uniform_indices(len(frames), max_frames)])


def best_time(function: Callable[[], object], repeats: int) -> float:
    """Best wall time of `repeats` calls, in seconds (the minimum is the least noisy estimate)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def _peak_memory_child(job: str, path: str, max_frames: int, queue: multiprocessing.Queue) -> None:
    # ru_maxrss would be the peak of the whole process, imports included (torch and transformers come in with the
    # package and weigh far more than a clip): sample the resident size during the job instead.
    with PeakResidentMemory() as memory:
        if job == "decode_video":
            frames = decode_video(path, max_frames=max_frames).frames
        else:
            frames = naive_decode_then_subsample(Path(path), max_frames)
    queue.put((memory.growth_mib * 2**20, frames.nbytes, len(frames)))


def peak_memory(job: str, path: Path, max_frames: int) -> tuple[int, int, int]:
    """(peak resident growth during the job, bytes of the frames returned, frames returned) in a fresh process."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: memory freed earlier cannot be reused
    queue = context.Queue()
    process = context.Process(target=_peak_memory_child, args=(job, str(path), max_frames, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main(args: argparse.Namespace) -> None:
    logger.info(
        "machine: %s, %s, %d CPUs; PyAV %s (FFmpeg %s), numpy %s",
        platform.platform(),
        platform.processor() or platform.machine(),
        os.cpu_count(),
        av.__version__,
        ".".join(map(str, av.library_versions["libavcodec"])),
        np.__version__,
    )
    with tempfile.TemporaryDirectory() as folder:
        clip = write_clip(Path(folder) / "speed.mp4", width=640, height=480, fps=30, num_frames=args.seconds * 30)
        num_frames = bare_decode(clip)
        transform = FrameTransform(size=224)
        transform(np.zeros((1, 480, 640, 3), np.uint8))  # build the image processor outside the timing
        timings = {
            "bare decode": best_time(lambda: bare_decode(clip), args.repeats),
            "bare decode + RGB": best_time(lambda: bare_decode_rgb(clip), args.repeats),
            "decode_video": best_time(lambda: decode_video(clip), args.repeats),
            "decode_video + FrameTransform(224)": best_time(
                lambda: transform(decode_video(clip).frames), args.repeats
            ),
        }
        kept = decode_video(clip).num_frames
        logger.info(
            "speed: 640x480 H.264, %d frames at 30 fps (%d kept at 25 fps), best of %d", num_frames, kept, args.repeats
        )
        for name, seconds in timings.items():
            logger.info(
                "  %-36s %7.3f s  %7.0f source frames/s  %5.2fx bare decode",
                name,
                seconds,
                num_frames / seconds,
                seconds / timings["bare decode"],
            )

        short = write_clip(
            Path(folder) / "short.mp4", width=160, height=120, fps=25, num_frames=args.short_seconds * 25
        )
        long = write_clip(
            Path(folder) / "long.mp4", width=160, height=120, fps=25, num_frames=args.long_minutes * 60 * 25
        )
        logger.info(
            "memory: 160x120 H.264 at 25 fps, max_frames=%d; peak growth of resident memory during the call",
            args.max_frames,
        )
        for job in ("decode_video", "naive"):
            for label, path in ((f"{args.short_seconds} s", short), (f"{args.long_minutes} min", long)):
                growth, returned, count = peak_memory(job, path, args.max_frames)
                logger.info(
                    "  %-13s %-7s peak +%7.1f MiB   (the %d frames returned take %.1f MiB)",
                    job,
                    label,
                    growth / 2**20,
                    count,
                    returned / 2**20,
                )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of the 640x480 speed clip")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per method; the best is reported")
    parser.add_argument("--short-seconds", type=int, default=30, help="length of the short memory clip")
    parser.add_argument("--long-minutes", type=int, default=5, help="length of the long memory clip")
    parser.add_argument("--max-frames", type=int, default=512, help="frames kept per clip (the paper's maximum)")
    return parser.parse_args()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main(parse_args())
