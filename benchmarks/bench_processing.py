"""The full SignBindProcessor (decode + sample + resize + face crop) against bare PyAV decoding of the same clip.

    .venv/bin/python -m benchmarks.bench_processing
    .venv/bin/python -m benchmarks.bench_processing --seconds 10 --repeats 5 --long-minutes 10

Speed, on one generated 640×480 H.264 clip at 30 fps (resampled to 25 fps) showing a real face (matplotlib's
photograph of Grace Hopper) that sways like a signer's head over a moving background, side by side in one run:
  - bare decode: PyAV decodes every frame (threads on, as in the processor) and does nothing else. THE BASELINE;
  - bare decode + RGB: every frame also converted to an RGB array;
  - processor, no face crops: decode, resample, backbone frames (224 px, normalised);
  - processor (paper preset): the above + MediaPipe face detection, FaceMesh lip landmarks and 224 px mouth crops;
  - processor (tiny preset): the same work with 32 px outputs, to show what writing 224 px float tensors costs.
Each is reported in source frames per second and as time relative to bare decode and to bare decode + RGB. The goal
is the paper-preset processor at no more than 3× bare decode. One more instrumented run splits the processor's time
into its stages (best of the repeats, stage by stage) and gives the share spent in face detection (detector +
landmarks).

Memory: a generated 10-minute 640×480 clip (25 fps, 15,000 frames, more than max_frames=512 so it is subsampled)
through the paper-preset processor in a fresh process: the peak growth of resident memory during the call (polled
from /proc/self/statm), against the size of the tensors returned.
"""

import argparse
import logging
import math
import multiprocessing
import os
import platform
import tempfile
import threading
import time
from pathlib import Path

import av
import numpy as np
import torch
from matplotlib import cbook
from PIL import Image

from benchmarks.bench_decoding import bare_decode, bare_decode_rgb, best_time
from signbind_hf import SignBindVideoProcessor
from signbind_hf.video import decode_video

logger = logging.getLogger("bench_processing")


def write_signer_clip(path: Path, *, width: int, height: int, fps: int, num_frames: int, preset: str = "fast") -> Path:
    """A face that sways like a signer's head (±12 px over 2.4 s, ±5 px over 1.6 s) in front of a moving background."""
    photo = Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB")
    face_height = height * 3 // 5
    face = np.asarray(photo.resize((face_height * photo.width // photo.height, face_height), Image.BILINEAR))
    y, x = np.mgrid[0:height, 0:width]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": preset, "crf": "23"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(num_frames):
            seconds = index / fps
            frame = np.empty((height, width, 3), dtype=np.uint8)
            frame[..., 0] = (x + 2 * index) % 256
            frame[..., 1] = (y + index) % 256
            frame[..., 2] = 96
            left = (width - face.shape[1]) // 2 + round(12 * math.sin(2 * math.pi * seconds / 2.4))
            top = height // 8 + round(5 * math.sin(2 * math.pi * seconds / 1.6))
            frame[top : top + face.shape[0], left : left + face.shape[1]] = face
            hand = (index * 7) % (width - 80)  # a bright "hand" crossing the lower part of the frame
            frame[height - 120 : height - 40, hand : hand + 80] = 240
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def stage_times(processor: SignBindVideoProcessor, clip_path: Path) -> dict[str, float]:
    """Seconds per stage of one paper-preset run, detector and landmark time measured inside the face cropper."""
    times = {}
    start = time.perf_counter()
    clip = decode_video(
        clip_path,
        target_fps=processor.target_fps,
        max_frames=processor.max_frames,
        max_shortest_edge=processor.max_shortest_edge,
    )
    times["decode + resample + RGB"] = time.perf_counter() - start
    start = time.perf_counter()
    processor.frame_transform(clip.frames)
    times["backbone frames (resize + normalise)"] = time.perf_counter() - start
    cropper = processor._face_cropper_for(has_boxes=False)
    detection = 0.0
    real_observe = cropper._observe

    def timed_observe(*args, **kwargs):
        nonlocal detection
        begin = time.perf_counter()
        result = real_observe(*args, **kwargs)
        detection += time.perf_counter() - begin
        return result

    cropper._observe = timed_observe
    start = time.perf_counter()
    faces = cropper.crop(clip.frames)
    crop_seconds = time.perf_counter() - start
    cropper._observe = real_observe
    times["face detection + landmarks"] = detection
    times["face crops (tracking, gaps, cutting)"] = crop_seconds - detection
    start = time.perf_counter()
    from signbind_hf.video.transforms import normalize_frames

    normalize_frames(faces.crops, tuple(processor.image_mean), tuple(processor.image_std))
    times["face normalise"] = time.perf_counter() - start
    times["detector calls"] = faces.detector_calls
    times["frames kept"] = clip.num_frames
    times["faces found"] = int(faces.face_mask.sum())
    return times


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_memory_child(path: str, queue: multiprocessing.Queue) -> None:
    processor = SignBindVideoProcessor.from_preset("paper")
    processor(np.zeros((1, 64, 64, 3), np.uint8))  # load the detector before measuring
    before = peak = _resident_bytes()
    done = threading.Event()

    def poll() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _resident_bytes())
            time.sleep(0.001)

    poller = threading.Thread(target=poll)
    poller.start()
    start = time.perf_counter()
    batch = processor(path, return_metadata=True)
    seconds = time.perf_counter() - start
    done.set()
    poller.join()
    returned = sum(value.nbytes for value in batch.values() if isinstance(value, torch.Tensor))
    metadata = batch["video_metadata"][0]
    queue.put(
        (max(peak, _resident_bytes()) - before, returned, metadata["num_frames"], metadata["num_grid_frames"], seconds)
    )
    processor.close()


def peak_memory(path: Path) -> tuple[int, int, int, int, float]:
    """(peak resident growth, bytes returned, frames kept, frames at 25 fps, seconds) in a fresh process."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_peak_memory_child, args=(str(path), queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main(args: argparse.Namespace) -> None:
    logger.info(
        "machine: %s, %s, %d CPUs, load average %s; PyAV %s, torch %s (%d threads), numpy %s",
        platform.platform(),
        platform.processor() or platform.machine(),
        os.cpu_count(),
        " ".join(f"{value:.2f}" for value in os.getloadavg()),
        av.__version__,
        torch.__version__,
        torch.get_num_threads(),
        np.__version__,
    )
    paper = SignBindVideoProcessor.from_preset("paper")
    no_faces = SignBindVideoProcessor.from_preset("paper", face_cropper=None)
    tiny = SignBindVideoProcessor.from_preset("tiny")
    with tempfile.TemporaryDirectory() as folder:
        clip = write_signer_clip(
            Path(folder) / "signer.mp4", width=640, height=480, fps=30, num_frames=args.seconds * 30
        )
        num_frames = bare_decode(clip)
        paper(clip)  # load the face detectors outside the timing
        tiny(clip)
        methods = {
            "bare decode (baseline)": lambda: bare_decode(clip),
            "bare decode + RGB": lambda: bare_decode_rgb(clip),
            "processor, no face crops": lambda: no_faces(clip),
            "processor, paper preset": lambda: paper(clip),
            "processor, tiny preset": lambda: tiny(clip),
        }
        # Round-robin, best of `repeats` each: on a shared machine the load drifts, and every method should see it.
        timings = dict.fromkeys(methods, float("inf"))
        for _ in range(args.repeats):
            for name, method in methods.items():
                timings[name] = min(timings[name], best_time(method, 1))
        logger.info(
            "speed: 640x480 H.264, %d frames at 30 fps resampled to 25 fps, 224 px frames and mouth crops, best of %d",
            num_frames,
            args.repeats,
        )
        for name, seconds in timings.items():
            logger.info(
                "  %-26s %7.3f s  %6.0f source frames/s  %5.2fx bare decode  %5.2fx bare decode + RGB",
                name,
                seconds,
                num_frames / seconds,
                seconds / timings["bare decode (baseline)"],
                seconds / timings["bare decode + RGB"],
            )
        runs = [stage_times(paper, clip) for _ in range(args.repeats)]
        counts = {name: runs[0].pop(name) for name in ("detector calls", "frames kept", "faces found")}
        stages = {name: min(run[name] for run in runs) for name in runs[0]}  # best of the runs, stage by stage
        total = sum(stages.values())
        logger.info(
            "stages of the paper-preset processor, best of %d runs (%d frames kept, face on %d, %d detector calls):",
            args.repeats,
            counts["frames kept"],
            counts["faces found"],
            counts["detector calls"],
        )
        for name, seconds in stages.items():
            logger.info("  %-40s %7.3f s  %5.1f %%", name, seconds, 100 * seconds / total)

        if args.long_minutes:
            long = write_signer_clip(
                Path(folder) / "long.mp4",
                width=640,
                height=480,
                fps=25,
                num_frames=args.long_minutes * 60 * 25,
                preset="ultrafast",
            )
            growth, returned, kept, grid, seconds = peak_memory(long)
            logger.info(
                "memory: %d-minute 640x480 clip (%d frames at 25 fps, subsampled to %d), paper preset, fresh process:",
                args.long_minutes,
                grid,
                kept,
            )
            logger.info(
                "  peak resident growth %.0f MiB; the tensors returned take %.0f MiB; %.1f s (%.0f source frames/s)",
                growth / 2**20,
                returned / 2**20,
                seconds,
                grid / seconds,
            )
    paper.close()
    tiny.close()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of the 640x480 speed clip")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per method; the best is reported")
    parser.add_argument("--long-minutes", type=int, default=10, help="length of the memory clip (0 skips it)")
    return parser.parse_args()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main(parse_args())
