"""Live translation on CPU: agreement with the offline pipeline, real-time factor, latency, memory (not in make test).

    python -m benchmarks.bench_realtime --model runs/quickstart/model --data runs/quickstart/data
    python -m benchmarks.bench_realtime --model M --data D --agreement-clips 100 --stream-seconds 600 \
        --camera-seconds 60 --fast-path-frames 16 --paper-live-seconds 10

1. Agreement: each SynthSign test clip fed frame by frame to a ``StreamingTranslator`` (as fast as it goes, with the
   clip's sidecar keypoints, as the pipeline reads them) against the pipeline on the file: the fraction of clips whose
   pseudo-gloss and translation are the same, and compute time over video time of each.
2. Real pace: test clips joined into one stream of ``--stream-seconds`` (re-encoded, their sidecar keypoints joined
   into one ``.pose``) read by ``LiveSource`` on the wall clock, as ``signbind translate --live`` reads it: real-time
   factor (the translator's compute time over video time), sentence latency (printing time minus the sentence's end
   in the video: median and 90th percentile), frames dropped, and resident memory every 10 s (the first minute's
   against the last minute's), also after glibc's ``malloc_trim`` (memory in use, without what the allocator keeps).
3. The same at real pace with no sidecar, the hand and body keypoints extracted by MediaPipe as from a camera
   (``--camera-seconds``); the SynthSign model reads the renderer's keypoints, so its words are not scored here.
4. CPU fast paths (``--fast-path-frames``, 0 skips): the paper preset (random weights) and the ``--model``'s own
   forward pass on a random clip of that many frames in each of ``FAST_PATHS``: fp32, bf16 autocast, torch's dynamic
   int8 (the pipeline's ``precision``), OpenVINO int8 (``signbind_hf.openvino_encoders``), the frame encoder on every
   second frame (``backbone_frame_stride=2``) and OpenVINO with it, run in turns: the speed-up over fp32, the
   per-frame argmax of the fused gloss logits against fp32, the real-time factor of the forward alone (its time over
   the clip's 25 fps duration), and the fraction of the CPU's own peak it reaches (FLOPs counted by torch's
   FlopCounterMode over a plain matmul's rate in the dtype that does the work, measured in the same run).
5. The paper preset live (``--paper-live-seconds``, 0 skips): a stream of test clips through ``StreamingTranslator``
   in each fast path, as fast as it goes: compute over video time, runs of the model, frames its backbone encoded.

Prints the machine, each part as it ends, and a JSON summary (``--out`` writes it too).
"""

from __future__ import annotations

import argparse
import copy
import ctypes
import json
import os
import platform
import resource
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np


def machine() -> str:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def decoded_frames(path: Path) -> list[tuple[np.ndarray, float]]:
    import av

    with av.open(str(path)) as container:
        return [(frame.to_ndarray(format="rgb24"), float(frame.time)) for frame in container.decode(video=0)]


def agreement(translator, clips: list[Path]) -> dict:
    from signbind_hf.keypoints_signbind import sidecar_keypoints
    from signbind_hf.live import StreamingTranslator

    same_gloss = same_translation = 0
    factors, differing = [], []
    for clip in clips:
        offline = translator(str(clip))
        offline = offline if isinstance(offline, list) else [offline]
        frames = decoded_frames(clip)
        live = StreamingTranslator(translator, keypoints=sidecar_keypoints(clip))
        live.warm_up()
        sentences, tick = [], time.perf_counter()
        for image, seconds in frames:
            sentences += live.push(image, seconds)
        sentences += live.finish()
        factors.append((time.perf_counter() - tick) / (len(frames) / 25))
        glosses = [
            " ".join(part["pseudo_gloss"] for part in parts if part["pseudo_gloss"]) for parts in (offline, sentences)
        ]
        texts = [
            " ".join(part["translation"] for part in parts if part["pseudo_gloss"]) for parts in (offline, sentences)
        ]
        same_gloss += glosses[0] == glosses[1]
        same_translation += texts[0] == texts[1]
        if glosses[0] != glosses[1]:
            differing.append(
                {"clip": clip.name, "offline": glosses[0], "live": glosses[1], "sentences": len(sentences)}
            )
    return {
        "clips": len(clips),
        "same_pseudo_gloss": same_gloss / len(clips),
        "same_translation": same_translation / len(clips),
        "compute_over_video_median": statistics.median(factors),
        "differing": differing,
    }


def join_clips(clips: list[Path], seconds: float, folder: Path, *, with_keypoints: bool) -> Path:
    """The clips one after another (cycling) until ``seconds`` of video, re-encoded at 25 fps, with the sidecars
    joined into one .pose when asked; returns the video's path."""
    import av

    from signbind_hf.keypoints_signbind import Keypoints, sidecar_keypoints, write_pose_file

    path = folder / ("stream.mp4" if with_keypoints else "camera.mp4")
    parts, frames_written, index = [], 0, 0
    with av.open(str(path), "w") as output:
        stream = output.add_stream("libx264", rate=25, options={"crf": "16"})
        while frames_written < seconds * 25:
            clip = clips[index % len(clips)]
            index += 1
            images = decoded_frames(clip)
            if not frames_written:  # every SynthSign clip of a data set has one size
                stream.width, stream.height, stream.pix_fmt = images[0][0].shape[1], images[0][0].shape[0], "yuv420p"
            for image, _ in images:
                for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                    output.mux(packet)
            frames_written += len(images)
            if with_keypoints:
                keypoints = sidecar_keypoints(clip)
                rows = np.minimum(np.arange(len(images)), keypoints.num_frames - 1)  # one keypoint row per frame
                parts.append((keypoints, rows))
        for packet in stream.encode():
            output.mux(packet)
    if with_keypoints:
        first = parts[0][0]
        fields = ("pose", "pose_confidence", "hands", "hand_confidence")
        joined = {name: np.concatenate([getattr(kp, name)[rows] for kp, rows in parts]) for name in fields}
        write_pose_file(
            Keypoints(**joined, fps=25.0, width=first.width, height=first.height), path.with_suffix(".pose")
        )
    return path


def resident_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def real_pace(translator, video: Path) -> dict:
    """``signbind translate --live``'s loop on ``video``, with the latencies and memory recorded."""
    from signbind_hf.keypoints_signbind import sidecar_keypoints
    from signbind_hf.live import StreamingTranslator
    from signbind_hf.live.sources import LiveSource

    source = LiveSource(video)
    live = StreamingTranslator(translator, keypoints=sidecar_keypoints(video))
    live.warm_up()
    memory: list[tuple[float, float, float]] = []  # (seconds, resident MiB, resident MiB after malloc_trim)
    stop = threading.Event()
    libc = ctypes.CDLL("libc.so.6")  # glibc: malloc_trim tells memory in use from memory the allocator keeps

    def sample() -> None:
        while not stop.wait(10.0):
            resident = resident_mib()
            libc.malloc_trim(0)
            memory.append((time.monotonic() - started, resident, resident_mib()))

    latencies, compute, video_seconds, sentences = [], 0.0, 0.0, 0
    started, cpu = time.monotonic(), time.process_time()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with source, live:
        for frame in source:
            tick = time.perf_counter()
            done = live.push(frame.image, frame.timestamp)
            compute += time.perf_counter() - tick
            video_seconds = frame.timestamp
            for sentence in done:
                latencies.append(time.monotonic() - (source.start_time + sentence["end"]))
            sentences += len(done)
        tick = time.perf_counter()
        done = live.finish()
        compute += time.perf_counter() - tick
        latencies += [time.monotonic() - (source.start_time + sentence["end"]) for sentence in done]
        sentences += len(done)
    stop.set()
    first_minute = [sample for sample in memory if sample[0] <= 60]
    last_minute = [sample for sample in memory if sample[0] >= memory[-1][0] - 60] if memory else []
    return {
        "video_seconds": round(video_seconds, 1),
        "sentences": sentences,
        "real_time_factor": round(compute / video_seconds, 3),
        # All threads of the process (decoding, face, hand and body threads included) over video time.
        "cpu_over_video": round((time.process_time() - cpu) / video_seconds, 3),
        "model_seconds": round(live.model_seconds, 1),
        "latency_median": round(statistics.median(latencies), 3) if latencies else None,
        "latency_p90": round(float(np.percentile(latencies, 90)), 3) if latencies else None,
        "frames_dropped": source.dropped,
        "frames": source.delivered,
        "resident_mib_first_minute_max": round(max(m for _, m, _ in first_minute), 1) if first_minute else None,
        "resident_mib_last_minute_max": round(max(m for _, m, _ in last_minute), 1) if last_minute else None,
        "trimmed_mib_first_minute_max": round(max(m for _, _, m in first_minute), 1) if first_minute else None,
        "trimmed_mib_last_minute_max": round(max(m for _, _, m in last_minute), 1) if last_minute else None,
        "peak_resident_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def matmul_peaks(size: int = 2048, repeats: int = 5) -> dict[str, float]:
    """GFLOP/s of one square matmul in fp32, bf16 and int8 (``torch._int_mm``): what these cores can do at best."""
    import torch

    peaks = {}
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16), ("int8", torch.int8)):
        if dtype is torch.int8:
            a = torch.randint(-128, 127, (size, size), dtype=dtype)
            b = torch.randint(-128, 127, (size, size), dtype=dtype)
        else:
            a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
        multiply = torch._int_mm if dtype is torch.int8 else torch.mm
        multiply(a, b)
        best = min(_timed(lambda multiply=multiply, a=a, b=b: multiply(a, b)) for _ in range(repeats))
        peaks[name] = round(2 * size**3 / best / 1e9, 1)
    return peaks


def _timed(function) -> float:
    tick = time.perf_counter()
    function()
    return time.perf_counter() - tick


def random_inputs(config, frames: int, seed: int) -> dict:
    """A random clip of ``frames`` frames in the model's input layout (every frame real, a face on each)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    size, face = min(224, config.backbone_config.image_size), config.lip_config.image_size
    inputs = {
        "pixel_values": torch.randn(1, frames, 3, size, size, generator=generator),
        "attention_mask": torch.ones(1, frames, dtype=torch.long),
    }
    if config.use_lip:
        inputs["face_pixel_values"] = torch.randn(1, frames, 3, face, face, generator=generator)
        inputs["face_attention_mask"] = torch.ones(1, frames, dtype=torch.long)
    if config.uses_keypoints:
        inputs["keypoints"] = torch.randn(1, frames, 75, 2, generator=generator)
        inputs["keypoint_mask"] = torch.ones(1, frames, 75, dtype=torch.long)
    return inputs


FAST_PATHS = {  # variant: (how the encoders compute, backbone_frame_stride, the matmul peak it is measured against)
    "fp32": ("fp32", 1, "fp32"),
    "bf16": ("bf16", 1, "bf16"),
    "int8": ("int8", 1, "int8"),
    "openvino": ("openvino", 1, "int8"),
    "stride2": ("fp32", 2, "fp32"),
    "openvino_stride2": ("openvino", 2, "int8"),
}


def fast_paths(model, frames: int, peaks: dict[str, float], repeats: int = 3) -> dict:
    """``model``'s forward on a random clip of ``frames`` frames in each of ``FAST_PATHS``: fp32, bf16 autocast,
    torch's dynamic int8 (the pipeline's ``precision``), OpenVINO int8 (``signbind_hf.openvino_encoders``, calibrated
    on four other random clips) and the frame encoder on every second frame (``backbone_frame_stride``)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from signbind_hf.pipeline_signbind import quantize_encoders

    inputs = random_inputs(model.config, frames, seed=0)
    encoders = {"fp32": model, "bf16": model}
    encoders["int8"] = copy.deepcopy(model)
    quantize_encoders(encoders["int8"])  # what the pipeline's precision="int8" does
    try:
        from signbind_hf.openvino_encoders import export_openvino_encoders, load_openvino_encoders

        with tempfile.TemporaryDirectory() as folder:
            calibration = [random_inputs(model.config, frames, seed=seed) for seed in range(1, 5)]
            export_openvino_encoders(model, calibration, folder)
            encoders["openvino"] = copy.deepcopy(model)
            load_openvino_encoders(encoders["openvino"], folder)
    except ImportError as error:  # the [openvino] extra is not installed: say so in the results
        print(f"OpenVINO skipped: {error}", flush=True)
    variants = {name: spec for name, spec in FAST_PATHS.items() if spec[0] in encoders}

    def run(variant: str):
        encoding, stride, _ = variants[variant]
        chosen = encoders[encoding]
        chosen.config.backbone_frame_stride = stride  # the copies share nothing: set it on the one that runs
        try:
            with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=encoding == "bf16"):
                return chosen(**inputs).gloss_logits.float()
        finally:
            chosen.config.backbone_frame_stride = 1

    flops = {}
    for stride in sorted({spec[1] for spec in variants.values()}):
        model.config.backbone_frame_stride = stride
        with torch.inference_mode(), FlopCounterMode(display=False) as counter:
            model(**inputs)
        flops[stride] = counter.get_total_flops()
    model.config.backbone_frame_stride = 1
    reference = run("fp32").argmax(-1)
    results = {"frames": frames, "gflop_per_frame": round(flops[1] / frames / 1e9, 4)}
    times = dict.fromkeys(variants, float("inf"))
    for variant in times:
        run(variant)  # warm-up (OpenVINO compiles here)
    for _ in range(repeats):  # in turns, so that load on the machine hits every variant alike
        for variant in times:
            times[variant] = min(times[variant], _timed(lambda variant=variant: run(variant)))
    for variant, seconds in times.items():
        _, stride, peak = variants[variant]
        results[variant] = {
            "seconds": round(seconds, 3),
            "speedup_over_fp32": round(times["fp32"] / seconds, 2),
            "same_argmax_frames": float((run(variant).argmax(-1) == reference).float().mean()),
            "forward_real_time_factor": round(seconds / (frames / 25), 2),
            "fraction_of_peak": round(flops[stride] / seconds / 1e9 / peaks[peak], 3),
        }
    return results


def save_paper_model(folder: Path, gloss_tokenizer) -> Path:
    """The paper preset with random weights (DINOv2-B/14 frames, the lip ViT at 224 px) and its processor, saved."""
    import torch

    from signbind_hf import SignBindConfig, SignBindModel, SignBindProcessor

    config = SignBindConfig.from_preset("paper", gloss_vocab_size=len(gloss_tokenizer))
    torch.manual_seed(0)
    SignBindModel(config).eval().save_pretrained(folder)
    SignBindProcessor.from_model_config(config, gloss_tokenizer=gloss_tokenizer).save_pretrained(folder)
    return folder


def paper_live(folder: Path, stream: Path, clips: list[Path], variants: list[str]) -> dict:
    """The paper preset through ``StreamingTranslator`` in each of ``FAST_PATHS``, frames fed as fast as they go (it
    cannot keep a real pace on a small CPU): compute over video time, runs of the model, frames the backbone encoded.
    The OpenVINO export is calibrated on ``clips``."""
    from signbind_hf.live import StreamingTranslator
    from signbind_hf.openvino_encoders import export_openvino_encoders
    from signbind_hf.pipeline_signbind import translation_pipeline

    frames = decoded_frames(stream)
    video_seconds = len(frames) / 25
    if any(FAST_PATHS[variant][0] == "openvino" for variant in variants):
        calibrating = translation_pipeline(folder, refiner=False)
        batches = []
        for clip in clips:
            features = calibrating.preprocess(str(clip))
            names = calibrating.processor.model_input_names
            batches.append({name: features[name] for name in names if name in features})
        export_openvino_encoders(calibrating.model, batches, folder)
        del calibrating
    results = {"video_seconds": round(video_seconds, 1), "calibration_clips": len(clips)}
    for variant in variants:
        encoding, stride, _ = FAST_PATHS[variant]
        translator = translation_pipeline(folder, refiner=False, precision=encoding, backbone_frame_stride=stride)
        live = StreamingTranslator(translator)
        live.warm_up()
        encoded = [0]

        def count(module, args, kwargs, output, encoded=encoded):
            encoded[0] += len(kwargs["pixel_values"])

        if translator.model.manual.backbone is not None:
            translator.model.manual.backbone.register_forward_hook(count, with_kwargs=True)
        tick, sentences = time.perf_counter(), 0
        with live:
            for image, seconds in frames:
                sentences += len(live.push(image, seconds))
            sentences += len(live.finish())
        compute = time.perf_counter() - tick
        results[variant] = {
            "real_time_factor": round(compute / video_seconds, 2),
            "model_seconds": round(live.model_seconds, 1),
            "model_runs": live.model_runs,
            "backbone_frames_encoded": encoded[0],
            "sentences": sentences,
        }
        print(f"paper preset live, {variant}:", json.dumps(results[variant]), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True, help="a SynthSign data set (videos/test/*.mp4 + .pose)")
    parser.add_argument("--agreement-clips", type=int, default=100)
    parser.add_argument("--stream-seconds", type=float, default=600.0)
    parser.add_argument("--camera-seconds", type=float, default=60.0)
    parser.add_argument("--fast-path-frames", type=int, default=16)
    parser.add_argument(
        "--fast-path-threads", type=int, default=os.cpu_count(), help="torch threads for part 4 (the model alone)"
    )
    parser.add_argument(
        "--paper-live-seconds",
        type=float,
        default=10.0,
        help="seconds of SynthSign test clips the paper preset translates live in each fast path (0 skips)",
    )
    parser.add_argument(
        "--paper-live-variants",
        nargs="+",
        choices=list(FAST_PATHS),
        default=list(FAST_PATHS),
        help="the fast paths of part 5 (default: all)",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads (signbind translate --live's default)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    import torch

    from signbind_hf.pipeline_signbind import translation_pipeline

    torch.set_num_threads(args.threads)
    print(f"machine: {machine()}; torch threads {args.threads}", flush=True)
    translator = translation_pipeline(args.model)
    clips = sorted((args.data / "videos" / "test").glob("*.mp4"))
    summary = {"machine": machine(), "threads": args.threads}
    if args.agreement_clips:
        summary["agreement"] = agreement(translator, clips[: args.agreement_clips])
        print(
            "agreement:", json.dumps({k: v for k, v in summary["agreement"].items() if k != "differing"}), flush=True
        )
    with tempfile.TemporaryDirectory() as folder:
        if args.stream_seconds:
            stream = join_clips(clips, args.stream_seconds, Path(folder), with_keypoints=True)
            summary["real_pace_sidecar"] = real_pace(translator, stream)
            print("real pace, sidecar keypoints:", json.dumps(summary["real_pace_sidecar"]), flush=True)
        if args.camera_seconds:
            camera = join_clips(clips, args.camera_seconds, Path(folder), with_keypoints=False)
            summary["real_pace_extracted"] = real_pace(translator, camera)
            print("real pace, keypoints extracted:", json.dumps(summary["real_pace_extracted"]), flush=True)
    if args.fast_path_frames:
        from signbind_hf import SignBindConfig, SignBindModel

        torch.set_num_threads(args.fast_path_threads)
        summary["fast_path_threads"] = args.fast_path_threads
        summary["matmul_peak_gflops"] = peaks = matmul_peaks()
        print("matmul peaks (GFLOP/s):", json.dumps(peaks), flush=True)
        torch.manual_seed(0)
        paper = SignBindModel(SignBindConfig.from_preset("paper")).eval()
        summary["fast_paths_paper"] = fast_paths(paper, args.fast_path_frames, peaks)
        print("fast paths, paper preset:", json.dumps(summary["fast_paths_paper"]), flush=True)
        del paper
        summary["fast_paths_model"] = fast_paths(translator.model, args.fast_path_frames, peaks)
        print("fast paths, --model:", json.dumps(summary["fast_paths_model"]), flush=True)
    if args.paper_live_seconds:
        torch.set_num_threads(args.fast_path_threads)
        with tempfile.TemporaryDirectory() as folder:
            stream = join_clips(clips, args.paper_live_seconds, Path(folder), with_keypoints=False)
            paper_dir = save_paper_model(Path(folder) / "paper", translator.processor.tokenizer)
            # Calibrated on two clips the stream does not start with: each costs the fp32 model's time to read.
            summary["paper_live"] = paper_live(paper_dir, stream, clips[-2:], args.paper_live_variants)
    print(json.dumps(summary, indent=2))
    if args.out is not None:
        args.out.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
