"""Make the reference keypoints of ``signer_selfie.mp4`` with MediaPipe's legacy Holistic and Hands solutions.

The references come from established estimators, not from signbind-hf: MediaPipe Holistic as ``pose-format``'s
``video_to_pose`` runs it (the sign-language processing community's way of making ``.pose`` files), and the legacy
MediaPipe Hands solution (palm detector + hand landmarks, as the hand part of Holistic's successor). Both only exist
in mediapipe<=0.10.21, which needs numpy<2 and so cannot share signbind-hf's environment: run this in a venv of its own.

    python3.11 -m venv /tmp/mp010
    /tmp/mp010/bin/pip install --no-deps mediapipe==0.10.21
    /tmp/mp010/bin/pip install "numpy<2" "protobuf>=4.25,<5" absl-py attrs flatbuffers opencv-python-headless \
        "matplotlib<3.10" av pose-format==0.15.0
    /tmp/mp010/bin/python tests/video/data/real_signing/make_references.py

Writes, beside this file: ``signer_selfie.holistic.pose`` (Holistic's body and hands; its 468 face points are left
out to keep the file small) and ``signer_selfie.hands.json`` (per frame, each hand the Hands solution found: its 21
x, y pixels and its handedness label and score as that solution reports them).
"""

import json
from pathlib import Path

import av
import numpy as np

HERE = Path(__file__).resolve().parent
VIDEO = HERE / "signer_selfie.mp4"
COMPONENTS = ["POSE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"]


def read_frames(path: Path) -> tuple[list[np.ndarray], float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate)
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)], fps


def holistic_reference(frames: list[np.ndarray], fps: float) -> None:
    from pose_format.utils.holistic import load_holistic

    height, width = frames[0].shape[:2]
    # pose-format's video_to_pose defaults: tracking (not static images), model_complexity 1 (the full body model).
    pose = load_holistic(frames, fps=fps, width=width, height=height)
    pose = pose.get_components(COMPONENTS)
    with open(HERE / "signer_selfie.holistic.pose", "wb") as file:
        pose.write(file)


def hands_reference(frames: list[np.ndarray]) -> None:
    import mediapipe as mp

    height, width = frames[0].shape[:2]
    rows = []
    with mp.solutions.hands.Hands(static_image_mode=False, max_num_hands=2, model_complexity=1) as hands:
        for frame in frames:
            result = hands.process(frame)
            found = []
            for landmarks, handedness in zip(
                result.multi_hand_landmarks or [], result.multi_handedness or [], strict=True
            ):
                category = handedness.classification[0]
                points = [[round(p.x * width, 2), round(p.y * height, 2)] for p in landmarks.landmark]
                found.append({"label": category.label, "score": round(category.score, 4), "points": points})
            rows.append(found)
    (HERE / "signer_selfie.hands.json").write_text(json.dumps({"width": width, "height": height, "frames": rows}))


if __name__ == "__main__":
    frames, fps = read_frames(VIDEO)
    holistic_reference(frames, fps)
    hands_reference(frames)
