"""Per-frame cost of the keypoint extractor (hands + body) on camera-like, drawn and real clips, against bare PyAV decoding.

    .venv/bin/python -m benchmarks.bench_keypoints
    .venv/bin/python -m benchmarks.bench_keypoints --seconds 10 --repeats 3

Three H.264 clips, measured one after another in one run (each measurement repeated, the best wall time kept):
  - camera-like: bench_processing's swaying Grace Hopper over a moving background with sensor noise, 640x480 at 25
    fps. It has no hands, so the palm detector runs on every frame (MediaPipe detects again while fewer than two
    hands are followed): the extractor's worst case;
  - signer: SynthSign's renderer at 640x480, 25 fps, two drawn hands that the landmark models follow between
    detections;
  - real signer: the real clip of ``tests/video/data/real_signing`` (58 frames, 540x720 at 29.9 fps, one hand).
For each: bare PyAV decoding (the same decoder ``extract_keypoints`` uses, to RGB), hands only (``pose=False``), hands
+ body on every frame (``pose_every=1``) and the default (body on every other frame), as ms per frame and as a ratio to
decoding; and how many frames had each hand and a body.
"""

import argparse
import logging
import os
import platform
import tempfile
import time
from pathlib import Path

import av
import mediapipe
import numpy as np

from benchmarks.bench_processing import write_signer_clip
from signbind_hf.data.synthsign.appearance import sample_clip_appearance, sample_signer
from signbind_hf.data.synthsign.config import SynthSignConfig
from signbind_hf.data.synthsign.examples import plan_example
from signbind_hf.data.synthsign.render import render_clip
from signbind_hf.data.synthsign.video_writer import write_mp4
from signbind_hf.keypoint_extraction_signbind import KeypointConfig, KeypointExtractor, extract_keypoints

REAL_SIGNER_CLIP = (
    Path(__file__).resolve().parents[1] / "tests" / "video" / "data" / "real_signing" / "signer_selfie.mp4"
)
logger = logging.getLogger("bench_keypoints")


def write_synthsign_clip(path: Path, *, width: int, height: int, fps: int, num_frames: int) -> Path:
    """A SynthSign signer drawn at ``width`` x ``height`` (its sentence's clip, looped to ``num_frames``)."""
    plan = plan_example(0, "train", 3, SynthSignConfig())
    appearance = sample_clip_appearance(
        np.random.default_rng(0), sample_signer(np.random.default_rng(1), 1), width=width, height=height
    )
    frames = render_clip(appearance, plan.timeline)
    frames = frames[np.arange(num_frames) % len(frames)]
    write_mp4(path, frames, fps=fps)
    return path


def decode_only(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for frame in container.decode(video=0) if frame.to_ndarray(format="rgb24") is not None)


def best_of(function, repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main(args: argparse.Namespace) -> None:
    logger.info(
        "machine: %s, %s, %d CPUs, load average %s; PyAV %s, mediapipe %s, numpy %s",
        platform.platform(),
        platform.processor() or platform.machine(),
        os.cpu_count(),
        " ".join(f"{value:.2f}" for value in os.getloadavg()),
        av.__version__,
        mediapipe.__version__,
        np.__version__,
    )
    num_frames = round(args.seconds * args.fps)
    extractors = {
        "hands": KeypointExtractor(KeypointConfig(pose=False)),
        "hands+body, body every frame": KeypointExtractor(KeypointConfig(pose_every=1)),
        "hands+body (default)": KeypointExtractor(KeypointConfig()),
    }
    with tempfile.TemporaryDirectory() as folder:
        clips = {
            "camera-like": write_signer_clip(
                Path(folder) / "camera.mp4", width=640, height=480, fps=args.fps, num_frames=num_frames, noise=6.0
            ),
            "signer": write_synthsign_clip(
                Path(folder) / "signer.mp4", width=640, height=480, fps=args.fps, num_frames=num_frames
            ),
            "real signer": REAL_SIGNER_CLIP,
        }
        for name, clip in clips.items():
            decode_seconds, decoded = best_of(lambda clip=clip: decode_only(clip), args.repeats)
            logger.info("%s (%d frames): PyAV decoding %.2f ms/frame", name, decoded, 1000 * decode_seconds / decoded)
            for label, extractor in extractors.items():
                seconds, keypoints = best_of(
                    lambda c=clip, e=extractor: extract_keypoints(c, extractor=e), args.repeats
                )
                found = keypoints.hands_found
                logger.info(
                    "  %-30s %6.2f ms/frame = %5.1fx decoding (%.2fx real time at %.3g fps); left hand in %d, "
                    "right hand in %d, body in %d of %d frames",
                    label,
                    1000 * seconds / keypoints.num_frames,
                    seconds / decode_seconds,
                    (keypoints.num_frames / keypoints.fps) / seconds,
                    keypoints.fps,
                    found[:, 0].sum(),
                    found[:, 1].sum(),
                    keypoints.pose_found.sum(),
                    keypoints.num_frames,
                )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="clip length (default 4 s)")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--repeats", type=int, default=2, help="runs of each measurement; the fastest is kept")
    return parser.parse_args()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main(parse_args())
