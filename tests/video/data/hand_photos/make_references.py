"""Make the reference hands of the photos in this folder with MediaPipe's legacy Holistic and Hands solutions.

The same two established estimators as ``../real_signing/make_references.py`` (whose docstring says how to make the
mediapipe 0.10.21 venv they need), on still images: Holistic with ``static_image_mode=True`` (model complexity 1) for
each hand on its side of the body, and the Hands solution with ``static_image_mode=True`` (2 hands, model complexity
1) for the handedness labels it gives.

    /tmp/mp010/bin/python tests/video/data/hand_photos/make_references.py

Writes ``references.json`` beside this file: per photo, its width and height, Holistic's ``"LEFT"`` and ``"RIGHT"``
hands (21 x, y pixels each, or null) and the Hands solution's hands (label, score, 21 x, y pixels).
"""

import json
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent


def pixels(landmarks, width: int, height: int) -> list[list[float]] | None:
    if landmarks is None:
        return None
    return [[round(p.x * width, 2), round(p.y * height, 2)] for p in landmarks.landmark]


def references(image: np.ndarray) -> dict:
    import mediapipe as mp

    height, width = image.shape[:2]
    with mp.solutions.holistic.Holistic(static_image_mode=True, model_complexity=1) as holistic:
        body = holistic.process(image)
    with mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=2, model_complexity=1) as hands:
        found = hands.process(image)
    legacy_hands = [
        {
            "label": h.classification[0].label,
            "score": round(h.classification[0].score, 4),
            "points": pixels(p, width, height),
        }
        for p, h in zip(found.multi_hand_landmarks or [], found.multi_handedness or [], strict=True)
    ]
    return {
        "width": width,
        "height": height,
        "holistic": {
            "LEFT": pixels(body.left_hand_landmarks, width, height),
            "RIGHT": pixels(body.right_hand_landmarks, width, height),
        },
        "hands": legacy_hands,
    }


if __name__ == "__main__":
    photos = sorted(HERE.glob("*.jpg"))
    table = {path.name: references(np.asarray(Image.open(path).convert("RGB"))) for path in photos}
    (HERE / "references.json").write_text(json.dumps(table, indent=1))
