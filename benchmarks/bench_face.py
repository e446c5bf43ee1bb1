"""Face cropping speed on 640×480 frames: every-frame full-resolution detection against the two shortcuts.

    .venv/bin/python -m benchmarks.bench_face
    .venv/bin/python -m benchmarks.bench_face --frames 300 --repeats 5 --size 224

The clip is matplotlib's photograph of Grace Hopper shrunk onto a grey 640×480 canvas, drifting 1 px per frame (a
signer whose head barely moves, the case the every-k-th-frame shortcut is for). Side by side in one run, each with
MediaPipe's full-range detector and FaceMesh lip landmarks, mouth crops at ``--size``:
  - baseline: detection on every frame at full resolution (detect_every=1, detect_max_side=None);
  - downscaled: detection on a copy whose longer side is 320 px;
  - every k-th: detection every ``--every`` frames while the face is stable, full resolution;
  - both: the defaults' kind of setting, both shortcuts together.
Each line gives clip frames per second, detector calls, the speed-up over the baseline and how far the crop
squares moved from the baseline's (mean absolute difference of centre and side, in pixels).
"""

import argparse
import logging
import os
import platform
import time

import mediapipe
import numpy as np
from matplotlib import cbook
from PIL import Image

from signbind_hf.face_tracking_signbind import FaceCropConfig
from signbind_hf.landmark_models_signbind import MediaPipeFaceCropper

logger = logging.getLogger("bench_face")


def drifting_clip(num_frames: int, width: int, height: int) -> np.ndarray:
    """(T, height, width, 3) uint8: the photo at 3/4 of the frame height on grey, moving right by 1 px per frame."""
    photo = Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB")
    photo_height = height * 3 // 4
    photo_width = photo_height * photo.width // photo.height
    small = np.asarray(photo.resize((photo_width, photo_height), Image.BILINEAR))
    clip = np.full((num_frames, height, width, 3), 128, dtype=np.uint8)
    top = height // 10
    for index in range(num_frames):
        left = width // 6 + index % (width // 3)
        clip[index, top : top + photo_height, left : left + photo_width] = small
    return clip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs per setting")
    parser.add_argument("--size", type=int, default=96, help="crop side in pixels")
    parser.add_argument("--every", type=int, default=3, help="k of the every-k-th-frame setting")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--detect-max-side", type=int, default=320, help="longer side of the downscaled copy")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    logger.info("clip: %d frames of %dx%d, mouth crops of %d px", args.frames, args.width, args.height, args.size)
    logger.info(
        "machine: %s, %s, %d CPUs, Python %s, mediapipe %s",
        platform.platform(),
        platform.processor() or platform.machine(),
        os.cpu_count(),
        platform.python_version(),
        mediapipe.__version__,
    )
    clip = drifting_clip(args.frames, args.width, args.height)
    settings = {
        "baseline": {"detect_every": 1, "detect_max_side": None},
        f"downscaled to {args.detect_max_side}": {"detect_every": 1, "detect_max_side": args.detect_max_side},
        f"every k={args.every}": {"detect_every": args.every, "detect_max_side": None},
        "both": {"detect_every": args.every, "detect_max_side": args.detect_max_side},
    }
    croppers = {
        name: MediaPipeFaceCropper(FaceCropConfig(size=args.size, **fields)) for name, fields in settings.items()
    }
    best = dict.fromkeys(settings, float("inf"))
    results = {}
    try:
        for cropper in croppers.values():
            cropper.crop(clip[:2])  # warm-up: first-call allocations inside MediaPipe and OpenCV
        # Settings take turns within each round, so a burst of load from elsewhere hits them all alike.
        for _ in range(args.repeats):
            for name, cropper in croppers.items():
                start = time.perf_counter()
                results[name] = cropper.crop(clip)
                best[name] = min(best[name], time.perf_counter() - start)
    finally:
        for cropper in croppers.values():
            cropper.close()

    def squares(boxes: np.ndarray) -> np.ndarray:  # (T, 3) centre x, centre y, side
        return np.concatenate([(boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:3] - boxes[:, :1]], axis=1)

    baseline = next(iter(settings))
    for name, result in results.items():
        logger.info(
            "%-20s %7.1f frames/s  %4d detector calls for %d frames  speed-up %.2fx  crop moved %.2f px  faces %d/%d",
            name,
            args.frames / best[name],
            result.detector_calls,
            args.frames,
            best[baseline] / best[name],
            float(np.abs(squares(result.boxes) - squares(results[baseline].boxes)).mean()),
            int(result.face_mask.sum()),
            args.frames,
        )


if __name__ == "__main__":
    main()
