"""Use an installed signbind-hf wheel the way a new user would, from a folder that is not the repository.

Catches what the source tree hides: package data missing from the wheel (the MediaPipe face models, the card
templates), imports that only resolve from a checkout, a console script that does not start. `make wheel-check` builds
the wheel, installs it with the `video` and `app` extras at the locked versions into an empty venv, and runs this with
that venv's Python in an empty temporary folder:

    cd "$(mktemp -d)" && build/venv-wheel/bin/python /path/to/repo/scripts/check_wheel.py

It runs `signbind --help`, `signbind synth` on a three-clip data set, `signbind keypoints` on one of its clips (the
packaged hand and body models), `signbind translate --json` on the same clip with a tiny model saved here (MediaPipe
face crops included), and the `sign-language-translation` pipeline on that clip, which must agree with the command. Exit 0 when all of that works; otherwise the failing step and its output.
"""

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

RESULT_KEYS = {"translation", "pseudo_gloss", "fingerspelling", "phonemes", "segments", "gate", "num_frames"}


def run(*command: str | Path) -> str:
    words = [str(word) for word in command]
    print("$", " ".join(words), flush=True)
    completed = subprocess.run(words, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(
            f"check_wheel: `{' '.join(words)}` failed with exit code {completed.returncode}\n"
            f"--- stdout\n{completed.stdout}\n--- stderr\n{completed.stderr}"
        )
    return completed.stdout


def check_imported_from_site_packages() -> None:
    import signbind_cli
    import signbind_hf

    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    for module in (signbind_hf, signbind_cli):
        location = Path(module.__file__).resolve()
        if site_packages not in location.parents:
            raise SystemExit(f"check_wheel: {module.__name__} was imported from {location}, not from {site_packages}")
    print(f"signbind-hf {signbind_hf.__version__} imported from {site_packages}")


def save_tiny_model(folder: Path) -> Path:
    import torch

    from signbind_hf import SignBindConfig, SignBindModel, SignBindProcessor

    processor = SignBindProcessor.from_preset("tiny", glosses=["HAVE DIFFERENT HERE", "GAIN BALANCE"])
    torch.manual_seed(0)
    model = SignBindModel(SignBindConfig.from_preset("tiny", gloss_vocab_size=len(processor.tokenizer))).eval()
    model.save_pretrained(folder)
    processor.save_pretrained(folder)  # copies the face models from the installed package's data
    return folder


def main() -> None:
    work = Path.cwd()
    check_imported_from_site_packages()
    signbind = Path(sys.executable).with_name("signbind")
    if "usage: signbind" not in run(signbind, "--help"):
        raise SystemExit("check_wheel: `signbind --help` printed no usage line")

    data = work / "synthsign"
    run(signbind, "synth", "--out", data, "--num-train", "1", "--num-val", "1", "--num-test", "1", "--workers", "1")
    clip = data / "videos" / "test" / "test-000000.mp4"
    if not clip.is_file():
        raise SystemExit(f"check_wheel: `signbind synth` wrote no {clip}")

    run(signbind, "keypoints", clip, "--out", work / "keypoints")  # the packaged hand and body models
    if not (work / "keypoints" / f"{clip.stem}.pose").is_file():
        raise SystemExit(f"check_wheel: `signbind keypoints` wrote no {clip.stem}.pose")

    model_dir = save_tiny_model(work / "model")
    from_cli = json.loads(run(signbind, "translate", clip, "--model", model_dir, "--json"))
    missing = RESULT_KEYS - set(from_cli)
    if missing:
        raise SystemExit(f"check_wheel: `signbind translate --json` result lacks {sorted(missing)}")
    if from_cli["face_frames"] == 0:
        raise SystemExit("check_wheel: the MediaPipe face cropper found no face in a SynthSign clip")

    from transformers import pipeline

    import signbind_hf  # noqa: F401  (registers the task)

    translator = pipeline("sign-language-translation", model=str(model_dir))
    from_pipeline = translator(str(clip))
    if from_pipeline["pseudo_gloss"] != from_cli["pseudo_gloss"]:
        raise SystemExit(
            f"check_wheel: the pipeline read {from_pipeline['pseudo_gloss']!r}, the command {from_cli['pseudo_gloss']!r}"
        )
    print(f"check_wheel: ok ({from_cli['num_frames']} frames, {from_cli['face_frames']} with a face)")


if __name__ == "__main__":
    main()
