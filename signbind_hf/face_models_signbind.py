"""Where the face models come from: the MediaPipe files packaged with signbind-hf, a saved processor's, or a user's own.

MediaPipe 1.x ships no model files, so signbind-hf carries three small Apache-2.0 files taken from the
mediapipe==0.10.21 wheel (``signbind_hf/video/assets/``, see its ``NOTICE``; ``scripts/vendor_mediapipe_models.py``
rebuilds them). A path is chosen in this order: the constructor argument (a saved processor passes the files saved
beside it, see ``SignBindVideoProcessor.save_face_models``), then the environment variable, then the packaged file.
Where this module runs as a checkpoint's remote code, without signbind-hf installed, there is no packaged file: the
checkpoint's own copy (or the environment variable) must provide the models.
"""

import os
from pathlib import Path

from .errors import SignBindInputError

# Package data of signbind_hf.video (pyproject.toml); absent from a checkpoint's remote-code copy of this module.
ASSETS_DIR = Path(__file__).parent / "video" / "assets"

# BlazeFace full range (sparse): finds faces up to ~5 m away, which is where signers filmed at conversational
# distance are; the short-range model (faces within ~2 m, selfie framing) missed them in 90-95 % of frames.
FULL_RANGE_DETECTOR_FILE = "face_detection_full_range_sparse.tflite"
SHORT_RANGE_DETECTOR_FILE = "face_detection_short_range.tflite"
# FaceMesh: 468 3-D landmarks from a 192x192 face crop; the lip points give the mouth centre.
FACE_LANDMARK_FILE = "face_landmark.tflite"
VENDORED_MODEL_FILES = (FULL_RANGE_DETECTOR_FILE, SHORT_RANGE_DETECTOR_FILE, FACE_LANDMARK_FILE)

FULL_RANGE_DETECTOR_PATH = ASSETS_DIR / FULL_RANGE_DETECTOR_FILE
SHORT_RANGE_DETECTOR_PATH = ASSETS_DIR / SHORT_RANGE_DETECTOR_FILE
FACE_LANDMARK_PATH = ASSETS_DIR / FACE_LANDMARK_FILE

# A saved processor folder holds the models it was used with under these names (any detector file is saved as
# face_detector.tflite), with the MediaPipe licence and notice when they are the packaged files.
FACE_MODELS_DIR = "face_models"
SAVED_DETECTOR_FILE = "face_detector.tflite"
SAVED_LANDMARK_FILE = FACE_LANDMARK_FILE
LICENCE_FILES = ("LICENSE.mediapipe", "NOTICE")

DETECTOR_MODEL_ENV = "SIGNBIND_FACE_DETECTOR_MODEL"
LANDMARK_MODEL_ENV = "SIGNBIND_FACE_LANDMARK_MODEL"

# A TFLite model is a FlatBuffer whose file identifier (bytes 4..8) is "TFL3".
_TFLITE_IDENTIFIER = b"TFL3"


def resolve_model_path(
    path: str | os.PathLike | None, *, argument: str, env_var: str, default: Path, what: str = "face model"
) -> Path:
    """Pick a model file (argument, then ``env_var``, then ``default``) and check that it is a TFLite model.

    Raises ``SignBindInputError`` naming the path and where it came from when the file is missing, unreadable or
    not a TFLite model, so that a wrong path fails here rather than deep inside MediaPipe or OpenCV. ``what`` names
    the kind of model in those messages (the hand and pose models of ``landmark_models_signbind.py`` use it too).
    """
    if path is not None:
        chosen, source = Path(path), f"argument {argument}"
    elif os.environ.get(env_var):
        chosen, source = Path(os.environ[env_var]), f"environment variable {env_var}"
    else:
        chosen, source = default, "the packaged default"
    chosen = chosen.expanduser()
    if not chosen.is_file():
        hint = ""
        if path is None and not os.environ.get(env_var):
            saved = (
                f"load a processor folder saved with its face models ({FACE_MODELS_DIR}/, written by "
                f"SignBindProcessor.save_pretrained) or "
                if what == "face model"
                else ""
            )
            hint = (
                f" scripts/vendor_mediapipe_models.py restores the packaged files. Where signbind-hf is not installed "
                f"there are none: {saved}set {env_var}."
            )
        raise SignBindInputError(f"{what} file {chosen} (from {source}) does not exist or is not a file.{hint}")
    try:
        with chosen.open("rb") as handle:
            header = handle.read(8)
    except OSError as error:
        raise SignBindInputError(f"{what} file {chosen} (from {source}) cannot be read: {error}.") from error
    if header[4:8] != _TFLITE_IDENTIFIER:
        raise SignBindInputError(
            f"{what} file {chosen} (from {source}) is not a TFLite model: expected the identifier "
            f"{_TFLITE_IDENTIFIER!r} at bytes 4-8, found {header[4:8]!r}. Point it to a .tflite file such as "
            f"{default.name}."
        )
    return chosen
