"""Where the hand and body models come from, and the MediaPipe Tasks bundles made of them.

signbind-hf carries four Apache-2.0 files from the mediapipe==0.10.21 wheel next to the face models
(``signbind_hf/video/assets/``, see its ``NOTICE``; ``scripts/vendor_mediapipe_models.py`` rebuilds them): BlazePalm
and the 21-point hand landmark model, BlazePose's detector and its 33-point landmark model. MediaPipe 1.x's Tasks
``HandLandmarker`` and ``PoseLandmarker`` take a ``.task`` bundle (a zip of a detector and a landmark model under fixed
names), which this module builds in memory from those files; nothing is written next to them. A path is chosen as for
the face models (``face_models_signbind.resolve_model_path``): the argument, then the environment variable, then the
packaged file.

The "full" variants: signs are read from the hands, and the hand landmark model is what the manual channel sees, so
its most accurate variant is worth its size (``hand_landmark_full`` 5.5 MB against 2.1 MB for ``lite``; the wheel
holds no lite pose landmark model). The four files are the largest part of the package wheel (they compress little).
"""

import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .face_models_signbind import ASSETS_DIR, resolve_model_path
from .tflite_metadata_signbind import with_image_normalization

# BlazePalm (full): palms from a 192x192 view of the whole frame; runs only when tracking has lost a hand.
HAND_DETECTOR_FILE = "palm_detection_full.tflite"
# 21 hand landmarks (MediaPipe hand order), handedness and presence from a 224x224 crop around the hand.
HAND_LANDMARK_FILE = "hand_landmark_full.tflite"
# BlazePose detector: the body's centre, scale and rotation from a 224x224 view of the frame (input in [-1, 1]).
POSE_DETECTOR_FILE = "pose_detection.tflite"
# BlazePose GHUM full: 33 body landmarks with visibility from a 256x256 crop around the body (input in [0, 1]).
POSE_LANDMARK_FILE = "pose_landmark_full.tflite"
VENDORED_LANDMARK_FILES = (HAND_DETECTOR_FILE, HAND_LANDMARK_FILE, POSE_DETECTOR_FILE, POSE_LANDMARK_FILE)

HAND_DETECTOR_ENV = "SIGNBIND_HAND_DETECTOR_MODEL"
HAND_LANDMARK_ENV = "SIGNBIND_HAND_LANDMARK_MODEL"
POSE_DETECTOR_ENV = "SIGNBIND_POSE_DETECTOR_MODEL"
POSE_LANDMARK_ENV = "SIGNBIND_POSE_LANDMARK_MODEL"

# The names the Tasks graphs look for inside a .task bundle (MediaPipe's hand_landmarker.task / pose_landmarker.task).
HAND_BUNDLE_NAMES = ("hand_detector.tflite", "hand_landmarks_detector.tflite")
POSE_BUNDLE_NAMES = ("pose_detector.tflite", "pose_landmarks_detector.tflite")

# Input ranges of the pose models, as MediaPipe's legacy pose graphs set them (pose_detection_cpu.pbtxt: [-1, 1];
# pose_landmark_by_roi_cpu.pbtxt: [0, 1]), written into the bundle as (mean, std) normalisation metadata.
POSE_DETECTOR_NORMALIZATION = (127.5, 127.5)
POSE_LANDMARK_NORMALIZATION = (0.0, 255.0)


@dataclass(frozen=True)
class LandmarkModelPaths:
    """The four model files one extractor uses, each checked to be a TFLite model."""

    hand_detector: Path
    hand_landmarks: Path
    pose_detector: Path
    pose_landmarks: Path

    @classmethod
    def resolve(
        cls,
        *,
        hand_detector: str | os.PathLike | None = None,
        hand_landmarks: str | os.PathLike | None = None,
        pose_detector: str | os.PathLike | None = None,
        pose_landmarks: str | os.PathLike | None = None,
    ) -> "LandmarkModelPaths":
        """Each path from its argument, else its environment variable, else the packaged file."""
        return cls(
            hand_detector=resolve_model_path(
                hand_detector,
                argument="hand_detector_model_path",
                env_var=HAND_DETECTOR_ENV,
                default=ASSETS_DIR / HAND_DETECTOR_FILE,
                what="hand detector model",
            ),
            hand_landmarks=resolve_model_path(
                hand_landmarks,
                argument="hand_landmark_model_path",
                env_var=HAND_LANDMARK_ENV,
                default=ASSETS_DIR / HAND_LANDMARK_FILE,
                what="hand landmark model",
            ),
            pose_detector=resolve_model_path(
                pose_detector,
                argument="pose_detector_model_path",
                env_var=POSE_DETECTOR_ENV,
                default=ASSETS_DIR / POSE_DETECTOR_FILE,
                what="pose detector model",
            ),
            pose_landmarks=resolve_model_path(
                pose_landmarks,
                argument="pose_landmark_model_path",
                env_var=POSE_LANDMARK_ENV,
                default=ASSETS_DIR / POSE_LANDMARK_FILE,
                what="pose landmark model",
            ),
        )

    def hand_bundle(self) -> bytes:
        """A ``hand_landmarker.task`` (zip) for the Tasks ``HandLandmarker``: the two files as they are."""
        detector_name, landmark_name = HAND_BUNDLE_NAMES
        return _zip({detector_name: self.hand_detector.read_bytes(), landmark_name: self.hand_landmarks.read_bytes()})

    def pose_bundle(self) -> bytes:
        """A ``pose_landmarker.task`` (zip) for the Tasks ``PoseLandmarker``, each model given its input range.

        The 0.10.21 pose models carry no metadata, and without ``NormalizationOptions`` the Tasks graph refuses them
        ("Input tensor has type float32: it requires specifying NormalizationOptions metadata").
        """
        detector_mean, detector_std = POSE_DETECTOR_NORMALIZATION
        landmark_mean, landmark_std = POSE_LANDMARK_NORMALIZATION
        detector = with_image_normalization(self.pose_detector.read_bytes(), mean=detector_mean, std=detector_std)
        landmarks = with_image_normalization(self.pose_landmarks.read_bytes(), mean=landmark_mean, std=landmark_std)
        detector_name, landmark_name = POSE_BUNDLE_NAMES
        return _zip({detector_name: detector, landmark_name: landmarks})


def _zip(members: dict[str, bytes]) -> bytes:
    # Stored, not deflated: MediaPipe maps the models straight out of the bundle's bytes.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()
