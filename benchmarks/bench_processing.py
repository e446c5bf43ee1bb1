"""The full SignBindProcessor (decode + sample + resize + face crop) against bare PyAV decoding of the same clip.

    .venv/bin/python -m benchmarks.bench_processing
    .venv/bin/python -m benchmarks.bench_processing --seconds 10 --repeats 7 --long-minutes 10
    .venv/bin/python -m benchmarks.bench_processing --baseline-rev 0382146 --long-minutes 0   # before/after
    .venv/bin/python -m benchmarks.bench_processing --noise 0 4 8 16 --long-minutes 0          # more clips
    .venv/bin/python -m benchmarks.bench_processing --keypoints-only                          # keypoints in real time

Speed, on generated 640×480 H.264 clips at 30 fps (resampled to 25 fps) showing a real face (matplotlib's photograph
of Grace Hopper) that sways like a signer's head over a moving background; one clip per ``--noise`` value:
  - ``0``: the clean synthetic picture. It compresses to 0.32 Mbit/s at crf 23, far less than camera footage (YouTube
    recommends 2.5 Mbit/s for 480p uploads), so it is cheap to decode and the processor's fixed work per frame weighs
    most against it: the hardest case for the goal;
  - ``8``: the same picture with a camera's sensor noise (Gaussian, 8 grey levels, new in every frame): 1.37 Mbit/s,
    still below YouTube's 480p figure, and 2.2x the decoding time of the clean clip.
Side by side, in turns, on each clip:
  - bare decode: PyAV decodes every frame (threads on, as in the processor) and does nothing else. THE BASELINE;
  - bare decode, PyAV default: the same with PyAV's own threading (slice threads only), for reference;
  - bare decode + RGB: every frame also converted to an RGB array;
  - processor, no face crops: decode, resample, backbone frames (224 px, normalised);
  - processor (paper preset): the above + MediaPipe face detection, FaceMesh lip landmarks and 224 px mouth crops;
  - processor (tiny preset): the same work with 32 px outputs, to show what writing 224 px float tensors costs.
Each is reported in source frames per second and as time relative to bare decode (each run divided by the bare
decode run of the same round; the median and, in brackets, the best of the runs), three ways: wall-clock time; the
CPU time of the whole process (all threads, user + system); and its user part alone. On a machine shared with other
work the wall-clock ratio swings with the load; CPU time is the steadier measure of the work done (it does not
credit the processor for running two threads at once). Its system part is mostly the kernel handing out fresh
memory for the output tensors (~300 MB of float32 for the 10 s clip, which bare decode never allocates): on a virtual
machine that returns freed memory to its host, that part jumps from run to run (0.03 s to 0.7 s a call on the 2-core
VM below), and the user-time ratio is the steadiest. The goal is the paper-preset processor at no more than 3× bare
decode.

Measured on the 2-core AMD EPYC VM (2026-11-26, after the processor began reusing the memory of its last clip's
outputs, ``BufferPool`` in ``video_transforms_signbind.py``; two runs of ``--seconds 10 --repeats 7 --long-minutes 10
--baseline-rev c5382c2 --baseline-rounds 3``, the second with ``--noise 0 4 8``), paper preset against bare decode,
median of the runs, run 1 / run 2:

    clip                                   wall           CPU            user CPU
    clean, 0.32 Mbit/s, main run           2.96x / 3.00x  3.12x / 3.16x  3.24x / 3.15x
      child processes, c5382c2             3.64x / 3.25x  3.74x / 3.42x  3.18x / 3.28x
      child processes, reusing memory      2.95x / 2.94x  3.12x / 3.10x  3.16x / 3.21x
    noise 4, 0.38 Mbit/s, main run                2.70x          2.93x          2.87x
      child processes, c5382c2                    3.26x          3.55x          3.05x
      child processes, reusing memory             2.73x          2.98x          3.03x
    camera noise, 1.37 Mbit/s, main run    1.91x / 1.90x  2.01x / 2.02x  2.03x / 2.09x
      child processes, c5382c2             2.06x / 2.37x  2.18x / 2.43x  2.08x / 2.09x
      child processes, reusing memory      1.87x / 1.88x  2.00x / 2.01x  2.05x / 2.03x

Reusing the memory took 10-20 % off the wall and CPU time and left user CPU where it was: the system time of the
kernel zeroing ~300 MB of fresh pages a call (and the VM fetching them from its host) fell from 80-180 ms to ~25 ms
(``perf``: ``clear_page_erms`` was 9.6 % of the processor's samples). So the goal is met on the camera-like clip in every
measure (1.9-2.1x), and on the clean clip in wall time at the median (2.94-3.00x) but not in CPU time (3.1-3.2x). On
the clean clip the work left is: decoding 1.0x (the baseline itself), RGB conversion and resampling 0.2x, copying the
frames into the ring 0.15x, backbone frames 0.35x, MediaPipe's detector and FaceMesh 0.7x, cutting and normalising the
mouth crops 0.4x, the two threads' hand-offs and Python the rest (``perf`` and per-thread CPU time, 2026-11-26). Before
that, streaming (2026-11-26, against 0382146) left the speed within the noise and cut the peak memory of a 10-minute clip
from 833 to 642 MiB. PyAV's own threading decodes faster than frame threading on these 2 cores (0.82-0.87x the wall
time, 0.87-0.94x the CPU time); the processor keeps frame threads, which scale with more cores. Tried with the pool and
not kept (clean clip, ratios to bare decode, 10 rounds): a smaller ring (RING_SLACK 16 / 4 / 0: CPU 3.13x / 3.18x /
3.23x, wall 2.92x / 3.19x / 3.54x: the decoding thread waits for the face thread); keeping the converted frames instead
of copying them into the ring (the same CPU, 17x the page faults: every frame is a fresh FFmpeg buffer); longer landmark
tracking (``landmark_tracking`` 5 instead of 3: 6 detector calls instead of 10, the face cropper's CPU 0.168 -> 0.152 s,
but the crop side 1.18 instead of 1.06 px from detecting every frame; a default is not worth 3 % of a synthetic clip).

Earlier changes, measured the same way before streaming (paper preset, clean clip: user CPU 3.0-3.3x, CPU 3.4-3.8x,
wall 3.6-3.9x at the median): FaceMesh runs in MediaPipe's own runtime instead of OpenCV's DNN module
(1.7 instead of 2.3 ms of CPU a pass, the same points within 1e-4 px; -5.6 % user CPU for the processor); the
normalisation of frames and face crops is one OpenCV multiply-add per channel instead of a 256-entry table look-up
(0.07 instead of 0.10 ms per 224 px frame, the same values to float32 precision); face squares inside the frame are
resized in place. Tried and not kept: swscale resizing to the backbone size while converting (0.28 s user CPU for the
clip against 0.19 s for full-size RGB: slower than OpenCV's resize, and the face crops need the full frames anyway);
making the backbone frames inside the decode loop while each frame is in cache (-2 % user CPU, slower in wall time: the
backbone no longer overlaps the face cropper in a second thread); normalising each face crop as it is cut (-1 % CPU;
peak memory 831 -> 1054 MiB, because the frames and both float32 outputs are alive at once); keeping one frame buffer
of the decoded clip across calls (system time 0.235 -> 0.198 s median, the CPU ratio's median unchanged; it would hold up to 630 MB per
processor between calls); OpenCV DNN settings (Winograd or layer fusion off: within noise); a smaller detector input
(the detector's 4.2 ms a call is the model: 4.2-4.5 ms for 192-640 px images); preallocated buffers for the backbone
resize (-2 % of that stage). Waking the face thread for every 8 frames instead of
every frame made no measurable difference (0.49-0.50 s user CPU a call either way), so it wakes for each. Ways on that
were measured but not taken: MediaPipe's short-range face detector costs 1.7 ms a call against 4.35 ms for the full-range one the
processor uses (signers far from the camera, as in BOBSL's inset interpreter, need the full range); the landmark
passes (~2 ms each, 36 for the clip) are the largest part of the face work.

One more instrumented run, on the first clip, splits the processor's work into its stages, run one after another on
a decoded clip (the processor itself makes them frame by frame in two threads while decoding), in CPU time, with
OpenCV single-threaded as in the processor (``single_threaded_opencv``). Measured above: decode + resample + RGB 43 %,
backbone frames 18 %, face detection + landmarks 26 % (10 detector calls and 26 landmark-tracked frames for 250
frames), face crops 7 %, face normalise 6 %.

Keypoints in real time (issue 18): on a 10 s camera-like clip (the sensor-noise clip above, 8 grey levels, 640×480 at 30
fps), the processor with ``keypoints=True`` at the paper preset's defaults (25 fps, frames, face crops, hand and body
keypoints made while the clip decodes) against bare decode and the same processor without keypoints, in turns: its
wall seconds, whether they fit in the clip's length, and the two ratios. ``--keypoints-only`` runs this case alone.

``--baseline-rev REV`` also times the processor of an earlier commit (``git archive REV signbind_hf`` into a temporary
folder, run in child processes alternating with the current tree's), so before/after ratios come from one run.

Memory: a generated 10-minute 640×480 clip (25 fps, 15,000 frames, more than max_frames=512 so it is subsampled)
through the paper-preset processor in a fresh process: the peak growth of resident memory during the call
(``bench_model.PeakResidentMemory``), against the size of the tensors returned. Measured above: 643 and 644 MiB for 588
MiB of tensors returned (the frames are not held: 833 MiB before streaming); 4.8-4.9 s for the 10 minutes.
"""

import argparse
import json
import logging
import math
import multiprocessing
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import torch
from matplotlib import cbook
from PIL import Image

from benchmarks.bench_decoding import bare_decode, bare_decode_rgb
from benchmarks.bench_model import PeakResidentMemory
from signbind_hf import SignBindVideoProcessor
from signbind_hf.video_decoding_signbind import decode_video

logger = logging.getLogger("bench_processing")


def write_signer_clip(
    path: Path, *, width: int, height: int, fps: int, num_frames: int, preset: str = "fast", noise: float = 0.0
) -> Path:
    """A face that sways like a signer's head (±12 px over 2.4 s, ±5 px over 1.6 s) in front of a moving background;
    ``noise`` > 0 adds a camera's sensor noise (Gaussian, that many grey levels, new in every frame)."""
    rng = np.random.default_rng(0)
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
            if noise:
                grain = rng.standard_normal(frame.shape, dtype=np.float32) * noise
                frame = np.clip(frame + grain, 0, 255).astype(np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


Timing = tuple[float, float, float]  # (wall seconds, CPU seconds of the process, user-mode CPU seconds)


def timed(function) -> Timing:
    """(wall, CPU, user CPU) seconds of one call, all threads of this process. CPU = user + system: the system part
    is mostly the kernel handing out fresh memory (the clip and the output tensors, ~0.5 GB per 10 s clip)."""
    wall, cpu, user = time.perf_counter(), time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_utime
    function()
    return (
        time.perf_counter() - wall,
        time.process_time() - cpu,
        resource.getrusage(resource.RUSAGE_SELF).ru_utime - user,
    )


def interleaved_times(methods: dict, repeats: int) -> dict[str, list[Timing]]:
    """Every timing of each method, run round-robin: on a shared machine the load drifts, and every method should
    see it."""
    times: dict[str, list[Timing]] = {name: [] for name in methods}
    for _ in range(repeats):
        for name, method in methods.items():
            times[name].append(timed(method))
    return times


def ratio_summary(times: list[Timing], baseline: list[Timing]) -> dict[str, tuple[float, float]]:
    """Per measure (wall, CPU, user), the (median, best) ratio of ``times`` to the baseline run beside each one.

    Each run is divided by the baseline run of the same round, so a load spike that hits both cancels out; the median
    is the typical ratio, the best the one least disturbed by other work on the machine.
    """
    summary = {}
    for position, measure in enumerate(("wall", "CPU", "user")):
        ratios = [run[position] / base[position] for run, base in zip(times, baseline, strict=True)]
        summary[measure] = (statistics.median(ratios), min(ratios))
    return summary


def stage_times(processor: SignBindVideoProcessor, clip_path: Path) -> dict[str, float]:
    """CPU seconds per stage of one paper-preset run, one stage after another; detector and landmark time measured
    inside the face cropper."""
    from signbind_hf.video_transforms_signbind import normalize_frames

    times = {}
    cpu = time.process_time()
    clip = decode_video(
        clip_path,
        target_fps=processor.target_fps,
        max_frames=processor.max_frames,
        max_shortest_edge=processor.max_shortest_edge,
    )
    times["decode + resample + RGB"] = time.process_time() - cpu
    cpu = time.process_time()
    processor.frame_transform(clip.frames)
    times["backbone frames (resize + normalise)"] = time.process_time() - cpu
    cropper = processor.get_face_cropper(has_boxes=False)
    detection = 0.0
    real_observe = cropper._observe

    def timed_observe(*args, **kwargs):
        nonlocal detection
        begin = time.process_time()
        result = real_observe(*args, **kwargs)
        detection += time.process_time() - begin
        return result

    cropper._observe = timed_observe
    cpu = time.process_time()
    faces = cropper.crop(clip.frames)
    crop_seconds = time.process_time() - cpu
    cropper._observe = real_observe
    times["face detection + landmarks"] = detection
    times["face crops (tracking, gaps, cutting)"] = crop_seconds - detection
    cpu = time.process_time()
    normalize_frames(faces.crops, tuple(processor.image_mean), tuple(processor.image_std))
    times["face normalise"] = time.process_time() - cpu
    times["detector calls"] = faces.detector_calls
    times["frames kept"] = clip.num_frames
    times["faces found"] = int(faces.face_mask.sum())
    return times


def _peak_memory_child(path: str, queue: multiprocessing.Queue) -> None:
    processor = SignBindVideoProcessor.from_preset("paper")
    processor(np.zeros((1, 64, 64, 3), np.uint8))  # load the detector before measuring
    with PeakResidentMemory() as memory:
        start = time.perf_counter()
        batch = processor(path, return_metadata=True)
        seconds = time.perf_counter() - start
    returned = sum(value.nbytes for value in batch.values() if isinstance(value, torch.Tensor))
    metadata = batch["video_metadata"][0]
    queue.put((memory.growth_mib, returned, metadata["num_frames"], metadata["num_grid_frames"], seconds))
    processor.close()


def peak_memory(path: Path) -> tuple[float, int, int, int, float]:
    """(peak resident growth in MiB, bytes returned, frames kept, frames at 25 fps, seconds) in a fresh process."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_peak_memory_child, args=(str(path), queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def _speed_child(clip: str, repeats: int) -> None:
    """Child process of --baseline-rev: the signbind_hf on PYTHONPATH (one tree or the other) against bare decode."""
    import signbind_hf

    paper = SignBindVideoProcessor.from_preset("paper")
    paper(clip)  # load the face detector outside the timing
    times = interleaved_times({"bare": lambda: bare_decode(Path(clip)), "paper": lambda: paper(clip)}, repeats)
    paper.close()
    print(json.dumps({"package": signbind_hf.__file__, **times}))


def compare_with_revision(revision: str, clip: Path, rounds: int, repeats: int) -> dict[str, dict]:
    """Every (wall, CPU, user) timing of bare decode and the paper-preset processor for ``revision``'s signbind_hf and
    this tree's, each in child processes run in turns (``rounds`` each)."""
    repository = Path(__file__).resolve().parents[1]
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(
            ["git", "-C", str(repository), "archive", revision, "signbind_hf"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        trees = {f"before ({revision})": folder, "after (this tree)": str(repository)}
        for _ in range(rounds):
            for label, tree in trees.items():
                environment = {**os.environ, "PYTHONPATH": os.pathsep.join([tree, str(repository)])}
                command = [sys.executable, "-m", "benchmarks.bench_processing", "--speed-child", str(clip)]
                completed = subprocess.run(
                    [*command, "--repeats", str(repeats)],
                    cwd=tree,  # `python -m` puts the working folder first on sys.path: the tree's signbind_hf wins
                    env=environment,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if completed.returncode:
                    raise RuntimeError(f"{label} failed:\n{completed.stderr[-3000:]}")
                measured = json.loads(completed.stdout.strip().splitlines()[-1])
                if not measured["package"].startswith(tree):
                    raise RuntimeError(f"{label}: imported {measured['package']}, expected the tree in {tree}")
                runs = results.setdefault(label, {"bare": [], "paper": []})
                for name in ("bare", "paper"):
                    runs[name] += [tuple(run) for run in measured[name]]
    return results


def log_ratios(name: str, runs: list[Timing], baseline: list[Timing], num_frames: int) -> None:
    summary = ratio_summary(runs, baseline)
    wall = statistics.median(run[0] for run in runs)
    logger.info(
        "  %-28s %5.0f source frames/s   wall %5.2fx (%4.2fx)   CPU %5.2fx (%4.2fx)   user CPU %5.2fx (%4.2fx)",
        name,
        num_frames / wall,
        *summary["wall"],
        *summary["CPU"],
        *summary["user"],
    )


def keypoint_speed(clip: Path, seconds: float, repeats: int) -> None:
    """The processor with keypoints against bare decode and the processor without them, in turns on ``clip``."""
    without = SignBindVideoProcessor.from_preset("paper")
    with_keypoints = SignBindVideoProcessor.from_preset("paper", keypoints=True)
    num_frames = bare_decode(clip)
    without(clip)  # load the face and keypoint models outside the timing
    batch = with_keypoints(clip, return_metadata=True)
    metadata = batch["video_metadata"][0]
    timings = interleaved_times(
        {
            "bare decode (baseline)": lambda: bare_decode(clip),
            "processor, no keypoints": lambda: without(clip),
            "processor, keypoints": lambda: with_keypoints(clip),
        },
        repeats,
    )
    logger.info(
        "keypoints: %.0f s 640x480 H.264 camera-like clip (%.2f Mbit/s, %d frames at 30 fps, %d kept at 25 fps), "
        "paper preset (frames + face crops) with and without keypoints, %d runs each, median (best):",
        seconds,
        clip.stat().st_size * 8 / seconds / 1e6,
        num_frames,
        metadata["num_frames"],
        repeats,
    )
    walls = {name: [run[0] for run in runs] for name, runs in timings.items()}
    for name, runs in timings.items():
        # CPU seconds (all threads) tell how much of the 2 cores a run needs, whatever else shares them.
        logger.info(
            "  %-26s wall %6.2f s (%.2f s)   CPU %6.2f s",
            name,
            statistics.median(run[0] for run in runs),
            min(run[0] for run in runs),
            statistics.median(run[1] for run in runs),
        )
    keypoint_runs = walls["processor, keypoints"]
    for name in ("bare decode (baseline)", "processor, no keypoints"):
        ratios = [run / base for run, base in zip(keypoint_runs, walls[name], strict=True)]
        logger.info(
            "  keypoints / %-24s %6.1fx (%.1fx)",
            name.removesuffix(" (baseline)"),
            statistics.median(ratios),
            min(ratios),
        )
    logger.info(
        "  real time: %s (median %.2f s for %.0f s of video; hands found on %s frames (left, right), body on %d); "
        "load average now %s",
        "yes" if statistics.median(keypoint_runs) <= seconds else "NO",
        statistics.median(keypoint_runs),
        seconds,
        metadata["keypoint_hand_frames"],
        int(batch["keypoint_mask"][0, :, :33].any(dim=1).sum()),
        " ".join(f"{value:.2f}" for value in os.getloadavg()),
    )
    without.close()
    with_keypoints.close()


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
    if args.keypoints_only:
        with tempfile.TemporaryDirectory() as folder:
            clip = write_signer_clip(
                Path(folder) / "camera.mp4", width=640, height=480, fps=30, num_frames=args.seconds * 30, noise=8.0
            )
            keypoint_speed(clip, args.seconds, args.repeats)
        return
    paper = SignBindVideoProcessor.from_preset("paper")
    no_faces = SignBindVideoProcessor.from_preset("paper", face_cropper=None)
    tiny = SignBindVideoProcessor.from_preset("tiny")
    with tempfile.TemporaryDirectory() as folder:
        clips = {
            noise: write_signer_clip(
                Path(folder) / f"signer_noise{noise:g}.mp4",
                width=640,
                height=480,
                fps=30,
                num_frames=args.seconds * 30,
                noise=noise,
            )
            for noise in args.noise
        }
        for noise, clip in clips.items():
            num_frames = bare_decode(clip)
            paper(clip)  # load the face detectors outside the timing
            tiny(clip)
            methods = {
                "bare decode (baseline)": lambda clip=clip: bare_decode(clip),
                "bare decode, PyAV default": lambda clip=clip: bare_decode(clip, thread_type=None),
                "bare decode + RGB": lambda clip=clip: bare_decode_rgb(clip),
                "processor, no face crops": lambda clip=clip: no_faces(clip),
                "processor, paper preset": lambda clip=clip: paper(clip),
                "processor, tiny preset": lambda clip=clip: tiny(clip),
            }
            timings = interleaved_times(methods, args.repeats)
            logger.info(
                "speed: 640x480 H.264 (%s, %.2f Mbit/s), %d frames at 30 fps resampled to 25 fps, 224 px frames and "
                "mouth crops, %d runs each; time relative to bare decode, median (best) of the runs:",
                f"sensor noise {noise:g} grey levels" if noise else "no noise",
                clip.stat().st_size * 8 / args.seconds / 1e6,
                num_frames,
                args.repeats,
            )
            baseline = timings["bare decode (baseline)"]
            for name, runs in timings.items():
                log_ratios(name, runs, baseline, num_frames)
            if args.baseline_rev:
                compared = compare_with_revision(
                    args.baseline_rev, clip, rounds=args.baseline_rounds, repeats=args.repeats
                )
                logger.info(
                    "before/after, paper preset, child processes in turns (%d rounds of %d runs), median (best):",
                    args.baseline_rounds,
                    args.repeats,
                )
                for label, runs in compared.items():
                    log_ratios(label, runs["paper"], runs["bare"], num_frames)
        camera = clips.get(8.0) or write_signer_clip(
            Path(folder) / "camera.mp4", width=640, height=480, fps=30, num_frames=args.seconds * 30, noise=8.0
        )
        keypoint_speed(camera, args.seconds, args.repeats)
        clip = clips[args.noise[0]]
        # As the processor runs them. Imported here: --baseline-rev runs this module with older trees, which lack it.
        from signbind_hf.video_transforms_signbind import single_threaded_opencv

        with single_threaded_opencv():
            runs = [stage_times(paper, clip) for _ in range(args.repeats)]
        counts = {name: runs[0].pop(name) for name in ("detector calls", "frames kept", "faces found")}
        stages = {name: min(run[name] for run in runs) for name in runs[0]}  # best of the runs, stage by stage
        total = sum(stages.values())
        logger.info(
            "stages of the paper-preset processor in CPU time, best of %d runs (%d frames kept, face on %d, %d "
            "detector calls):",
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
                growth,
                returned / 2**20,
                seconds,
                grid / seconds,
            )
    paper.close()
    no_faces.close()
    tiny.close()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of the 640x480 speed clips")
    parser.add_argument(
        "--noise",
        type=float,
        nargs="+",
        default=[0.0, 8.0],
        help="one speed clip per value: sensor noise in grey levels (0: the clean synthetic clip); the stages are "
        "measured on the first",
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per method (median and best reported)")
    parser.add_argument("--long-minutes", type=int, default=10, help="length of the memory clip (0 skips it)")
    parser.add_argument("--baseline-rev", help="also time the processor of this git revision (before/after)")
    parser.add_argument("--baseline-rounds", type=int, default=3, help="child processes per tree for --baseline-rev")
    parser.add_argument(
        "--keypoints-only",
        action="store_true",
        help="only time the processor with keypoints on the camera-like clip (against bare decode and without them)",
    )
    parser.add_argument("--speed-child", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    arguments = parse_args()
    if arguments.speed_child:
        _speed_child(arguments.speed_child, arguments.repeats)
    else:
        main(arguments)
