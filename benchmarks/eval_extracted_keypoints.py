"""The same model scored twice on a split: with the keypoints the data set ships (SynthSign's renderer keypoints in
each clip's sidecar ``.pose``) and with the keypoints MediaPipe's extractor finds in the videos, as on real footage.

The second run reads a copy of the split whose videos have no sidecar (the processor then runs its extractor on the
frames it keeps): nothing else changes, so the difference is what the extractor's keypoints cost the model.

    .venv/bin/python -m benchmarks.eval_extracted_keypoints --model runs/quickstart/model --data runs/quickstart/data
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

from signbind_hf.metrics import markdown_table
from signbind_hf.training.clip_dataset import load_split
from signbind_hf.training.evaluation import evaluate_model

COMPARED = ("gloss_wer", "homonym_accuracy", "letter_accuracy", "phoneme_error_rate", "bleu4")


def copy_without_sidecars(data_dir: Path, split: str, out: Path) -> Path:
    """``split`` of ``data_dir`` saved to ``out`` with its videos linked (or copied) and no ``.pose`` beside them."""
    import datasets

    rows = load_split(data_dir, split)
    for row in rows:
        source = Path(row["video"])
        target = out / source
        target.parent.mkdir(parents=True, exist_ok=True)
        source = source if source.is_absolute() else data_dir / source
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
    datasets.DatasetDict({split: rows}).save_to_disk(str(out))
    for name in ("synthsign.json",):  # homonym list of SynthSign (evaluation reads it when present)
        if (data_dir / name).is_file():
            shutil.copyfile(data_dir / name, out / name)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a trained model folder whose processor makes keypoints")
    parser.add_argument("--data", required=True, help="a prepared data set whose clips have sidecar .pose files")
    parser.add_argument("--split", default="test")
    parser.add_argument("--max-examples", type=int, default=None)
    args = parser.parse_args()
    data_dir = Path(args.data).absolute()
    with_sidecars = evaluate_model(args.model, data_dir, args.split, max_examples=args.max_examples)
    with tempfile.TemporaryDirectory() as scratch:
        bare = copy_without_sidecars(data_dir, args.split, Path(scratch) / "data")
        extracted = evaluate_model(args.model, bare, args.split, max_examples=args.max_examples)
    rows = {}
    for label, results in (("sidecar keypoints", with_sidecars), ("extracted keypoints", extracted)):
        streams = results["streams"]
        merged = {**results[args.split]}
        merged["sign_expert_wer"] = streams["sign expert"]["gloss_wer"]
        merged["letter_accuracy"] = streams["fingerspelling expert"].get("letter_accuracy")
        rows[label] = {key: merged.get(key) for key in (*COMPARED, "sign_expert_wer")}
    print(markdown_table(rows, row_header="keypoints"))
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
