"""Prepared rows feed the processor and the model as they are: prepare -> SignBindProcessor -> SignBindModel."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from signbind_hf import SignBindConfig, SignBindModel
from signbind_hf.data.builders import (
    prepare_bobsl,
    prepare_chicagofswild,
    prepare_folder,
    prepare_how2sign,
    prepare_youtube_asl,
)
from signbind_hf.data.synthsign import generate_synthsign
from signbind_hf.processing_signbind import SignBindProcessor

from .builder_fixtures import tiny_video
from .test_builders_chicagofswild import COLUMNS as FSWILD_COLUMNS
from .test_builders_how2sign import HEADER as HOW2SIGN_HEADER


def _how2sign(root: Path):
    tiny_video(root / "videos/raw-1-rgb_front.mp4", seconds=4.0)
    table = root / "how2sign_realigned_test.csv"
    table.write_text(
        f"{HOW2SIGN_HEADER}\nV\traw-1-rgb_front\tS0\tS0-1-rgb_front\t0.2\t3.8\tI have a few different ones here.\n"
    )
    return prepare_how2sign([table], root / "videos", root / "out")["test"]


def _chicagofswild(root: Path):
    folder = root / "frames/clip_0001"
    folder.mkdir(parents=True)
    for index in range(30):
        Image.fromarray(np.full((24, 32, 3), 8 * index, dtype=np.uint8)).save(folder / f"{index:04d}.jpg")
    with (root / "fswild.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FSWILD_COLUMNS)
        writer.writerow(["clip_0001", "u", "0:00:00", 30, 32, 24, "jo ann", "Jo Ann", "", "train", "s1"])
    return prepare_chicagofswild(root / "fswild.csv", root / "frames", root / "out")["train"]


def _folder(root: Path):
    tiny_video(root / "a.mp4", seconds=3.0)
    (root / "m.jsonl").write_text(json.dumps({"path": "a.mp4", "text": "Where is the hospital?", "end": 2.5}) + "\n")
    return prepare_folder(root / "m.jsonl", root / "out")["train"]


def _subtitles(folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("WEBVTT\n\n00:00:00.200 --> 00:00:01.800\nThe weather is fine today.\n")


def _youtube_asl(root: Path):
    tiny_video(root / "videos/abc123XYZ_-.mp4", seconds=2.0)
    _subtitles(root / "captions", "abc123XYZ_-.en.vtt")
    return prepare_youtube_asl(root / "videos", root / "captions", root / "out")["train"]


def _bobsl(root: Path):
    tiny_video(root / "videos/5085344787448740525.mp4", seconds=2.0)
    _subtitles(root / "subtitles", "5085344787448740525.vtt")
    (root / "splits.json").write_text(json.dumps({"train": ["5085344787448740525"]}))
    return prepare_bobsl(root / "videos", root / "subtitles", root / "splits.json", root / "out")["train"]


def _synthsign(root: Path):
    rows = generate_synthsign(root / "out", seed=3, num_train=1, num_validation=0, num_test=0, num_workers=1)["train"]
    # SynthSign stores videos relative to its folder, so that the folder can move.
    return rows.map(lambda row: {"video": str(root / "out" / row["video"])})


@pytest.mark.parametrize(
    "prepare",
    [_how2sign, _chicagofswild, _folder, _youtube_asl, _bobsl, _synthsign],
    ids=["how2sign", "chicagofswild", "folder", "youtube-asl", "bobsl", "synthsign"],
)
def test_prepared_rows_to_model_forward(prepare, tmp_path):
    rows = prepare(tmp_path)
    assert len(rows) == 1
    processor = SignBindProcessor.from_preset("tiny", glosses=rows["pseudo_gloss"], face_cropper="opencv")
    inputs = processor(
        videos=rows["video"],
        start=rows["start"],
        end=rows["end"],
        glosses=rows["pseudo_gloss"],
        letters=rows["letters"],
        phonemes=rows["phonemes"],
    )
    config = SignBindConfig.from_preset("tiny", gloss_vocab_size=len(processor.tokenizer))
    torch.manual_seed(0)
    output = SignBindModel(config).eval()(**inputs)
    assert torch.isfinite(output.loss)
    assert inputs["gloss_labels"].shape[1] == len(rows[0]["pseudo_gloss"].split())
