"""MediaPipe's keypoint extractor against SynthSign's renderer, which knows where every point is.

    .venv/bin/python -m benchmarks.extractor_vs_renderer --data runs/quickstart/data --clips 6

For the first ``--clips`` clips of a split, the extractor runs on the video (as on real footage) and is compared
with the clip's sidecar ``.pose`` (the renderer's keypoints), both normalised by the shoulders as the model sees them:
  - body found: share of frames with both shoulders; shoulder error: |x, y| difference of the left shoulder;
  - wrist error: distance between the two wrists' positions, on frames where both have them;
  - hand recall: of the frames where the renderer drew a hand, the share where the extractor found it (per side);
    false hands: of the frames without that hand, the share where the extractor reported one;
  - hand point error: mean distance of the 21 points where both have the hand; relative to the wrist: the same
    after moving each hand's wrist to the origin (the handshape, whatever the hand's position);
  - swapped sides: where both hands are drawn, the share of found hands closer to the other hand's truth.
Distances are in shoulder widths, the unit of the model's keypoint inputs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from signbind_hf.keypoint_extraction_signbind import KeypointExtractor, extract_keypoints
from signbind_hf.keypoints_signbind import (
    NUM_HAND_POINTS,
    NUM_POSE_POINTS,
    POSE_POINTS,
    flat_points,
    normalize_keypoints,
    read_pose_file,
    sidecar_pose_path,
)
from signbind_hf.training.clip_dataset import load_split

LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_WRIST, RIGHT_WRIST = (
    POSE_POINTS.index(name) for name in ("LEFT_SHOULDER", "RIGHT_SHOULDER", "LEFT_WRIST", "RIGHT_WRIST")
)


def normalised(keypoints, frames: int) -> tuple[np.ndarray, np.ndarray]:
    points, confidence = flat_points(keypoints)
    return normalize_keypoints(points[:frames], confidence[:frames], keypoints.width, keypoints.height)


def hand_slice(side: int) -> slice:
    start = NUM_POSE_POINTS + side * NUM_HAND_POINTS
    return slice(start, start + NUM_HAND_POINTS)


def compare_clip(video: Path, extractor: KeypointExtractor) -> dict[str, list[float]]:
    truth = read_pose_file(sidecar_pose_path(video))
    found = extract_keypoints(video, extractor=extractor)
    frames = min(truth.num_frames, found.num_frames)
    true_points, true_mask = normalised(truth, frames)
    found_points, found_mask = normalised(found, frames)
    scores: dict[str, list[float]] = {name: [] for name in COLUMNS}
    scores["body found"].append(found_mask[:, [LEFT_SHOULDER, RIGHT_SHOULDER]].all(1).mean())
    both = true_mask[:, LEFT_SHOULDER] & found_mask[:, LEFT_SHOULDER]
    if both.any():
        scores["shoulder error"].append(
            np.abs(true_points[both, LEFT_SHOULDER] - found_points[both, LEFT_SHOULDER]).mean()
        )
    for wrist in (LEFT_WRIST, RIGHT_WRIST):
        both = true_mask[:, wrist] & found_mask[:, wrist]
        if both.any():
            scores["wrist error"].append(
                np.linalg.norm(true_points[both, wrist] - found_points[both, wrist], axis=-1).mean()
            )
    true_hands, found_hands = truth.hands_found[:frames], found.hands_found[:frames]
    scores["hand recall"].append((true_hands & found_hands).sum() / max(true_hands.sum(), 1))
    scores["false hands"].append((~true_hands & found_hands).sum() / max((~true_hands).sum(), 1))
    for side in (0, 1):
        own, other = hand_slice(side), hand_slice(1 - side)
        both = true_hands[:, side] & found_hands[:, side]
        if not both.any():
            continue
        scores["hand point error"].append(
            np.linalg.norm(true_points[both, own] - found_points[both, own], axis=-1).mean()
        )
        true_shape = true_points[both, own] - true_points[both, own][:, :1]
        found_shape = found_points[both, own] - found_points[both, own][:, :1]
        scores["hand point error, relative to the wrist"].append(
            np.linalg.norm(true_shape - found_shape, axis=-1).mean()
        )
        two_hands = both & true_hands[:, 1 - side]
        if two_hands.any():
            to_own = np.linalg.norm(true_points[two_hands, own] - found_points[two_hands, own], axis=-1).mean(-1)
            to_other = np.linalg.norm(true_points[two_hands, other] - found_points[two_hands, own], axis=-1).mean(-1)
            scores["swapped sides"].append((to_other < to_own).mean())
    return scores


COLUMNS = (
    "body found", "shoulder error", "wrist error", "hand recall", "false hands", "hand point error",
    "hand point error, relative to the wrist", "swapped sides",
)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", required=True, help="a SynthSign data set folder (its clips have sidecar .pose files)"
    )
    parser.add_argument("--split", default="test")
    parser.add_argument("--clips", type=int, default=6)
    args = parser.parse_args()
    data_dir = Path(args.data).absolute()
    rows = load_split(data_dir, args.split)
    extractor = KeypointExtractor()
    totals: dict[str, list[float]] = {name: [] for name in COLUMNS}
    for row in rows.select(range(min(args.clips, len(rows)))):
        for name, values in compare_clip(data_dir / row["video"], extractor).items():
            totals[name].extend(values)
    print(f"{args.clips} clips of {data_dir} ({args.split}); distances in shoulder widths")
    for name in COLUMNS:
        print(f"| {name} | {np.mean(totals[name]):.3f} |" if totals[name] else f"| {name} | n/a |")


if __name__ == "__main__":
    main()
