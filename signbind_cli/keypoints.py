"""`signbind keypoints`: hand and body keypoints of videos, written as `.pose` files (pose-format).

Writes DIR/<video stem>.pose for each video: MediaPipe's 33 body points and 21 points per hand on every frame
(components POSE_LANDMARKS, LEFT_HAND_LANDMARKS, RIGHT_HAND_LANDMARKS, as MediaPipe Holistic names them), x/y in the
video's pixels, the video's fps and size in the header, confidence 0 for points not found. Each file is written under
a temporary name and renamed when complete. Bad input (a missing or unreadable video) stops with a one-line error and
exit code 2, as `signbind translate` does; files already written for earlier videos stay.

Examples:
    signbind keypoints clip.mp4 --out poses/
    signbind keypoints a.mp4 b.webm frames_folder/ --out poses/ --no-pose
"""

import argparse
import logging
from pathlib import Path

logger = logging.getLogger(__name__)

EXIT_BAD_INPUT = 2


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "keypoints",
        help="extract hand and body keypoints of videos into .pose files",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("videos", nargs="+", metavar="VIDEO", help="video files or folders of frames")
    parser.add_argument("--out", type=Path, required=True, help="folder for the .pose files (created if missing)")
    parser.add_argument(
        "--fps", type=float, default=None, help="frame rate of frame folders (default 25; video files have their own)"
    )
    parser.add_argument(
        "--no-pose",
        action="store_true",
        help="hands only: the body points stay at confidence 0 (faster: the body models do not run)",
    )
    parser.set_defaults(handler=main)
    return parser


def main(args: argparse.Namespace) -> int:
    missing = [video for video in args.videos if not Path(video).exists()]
    if missing:
        logger.error("no such file or folder: %s", ", ".join(missing))
        return EXIT_BAD_INPUT
    if args.out.exists() and not args.out.is_dir():
        logger.error("--out %s is a file; expected a folder for the .pose files", args.out)
        return EXIT_BAD_INPUT
    stems = [_stem(video) for video in args.videos]
    repeated = sorted({stem for stem in stems if stems.count(stem) > 1})
    if repeated:
        logger.error("two videos would write the same file %s: rename one", ", ".join(f"{s}.pose" for s in repeated))
        return EXIT_BAD_INPUT
    if args.fps is not None and not args.fps > 0:
        logger.error("--fps %s: expected a positive frame rate", args.fps)
        return EXIT_BAD_INPUT

    # Heavy imports only now: `signbind keypoints --help` stays instant.
    from signbind_hf.keypoint_extraction_signbind import KeypointConfig, KeypointExtractor, extract_keypoints
    from signbind_hf.keypoints_signbind import write_pose_file

    extractor = KeypointExtractor(KeypointConfig(pose=not args.no_pose))
    for video, stem in zip(args.videos, stems, strict=True):
        fps = args.fps if Path(video).is_dir() else None
        keypoints = extract_keypoints(video, fps, extractor=extractor)
        path = write_pose_file(keypoints, args.out / f"{stem}.pose")
        found = keypoints.hands_found
        logger.info(
            "%s: %d frames at %.3g fps, %dx%d; left hand in %d, right hand in %d, body in %d frames -> %s",
            video,
            keypoints.num_frames,
            keypoints.fps,
            keypoints.width,
            keypoints.height,
            found[:, 0].sum(),
            found[:, 1].sum(),
            keypoints.pose_found.sum(),
            path,
        )
    return 0


def _stem(video: str) -> str:
    path = Path(video)
    return path.name if path.is_dir() else path.stem
