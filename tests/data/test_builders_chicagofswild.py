"""ChicagoFSWild builder: released CSV + JPEG frame folders, whole clips routed as fingerspelling, bad rows counted."""

import csv
from pathlib import Path

import datasets
import numpy as np
import pytest
from PIL import Image

from signbind_cli.main import main as cli_main
from signbind_hf.constants import SEGMENT_FINGERSPELLING
from signbind_hf.data.builders import PrepareReport, prepare_chicagofswild

from .builder_fixtures import read_report

COLUMNS = [
    "filename", "url", "start_time", "number_of_frames", "width", "height", "label_proc", "label_raw", "label_notes",
    "partition", "signer",
]  # fmt: skip


def _frames(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    for index in range(count):
        Image.fromarray(np.full((12, 16, 3), index * 20, dtype=np.uint8)).save(folder / f"{index + 1:04d}.jpg")


@pytest.fixture(scope="module")
def fswild_inputs(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("fswild")
    frames = root / "ChicagoFSWild-Frames"
    _frames(frames / "aslized/elsie_stecker_0001", 5)
    _frames(frames / "deafvideo_1/signer_0002", 3)
    _frames(frames / "youtube_1/clip_0003", 4)
    (frames / "youtube_1/empty_0004").mkdir(parents=True)
    rows = [
        ["aslized/elsie_stecker_0001", "https://x", "0:00:01.5", 5, 16, 12, "deaf", "DEAF", "", "train", "elsie"],
        ["deafvideo_1/signer_0002", "https://y", "0:00:02", 3, 16, 12, "jesse james", "Jesse James", "", "dev", "s2"],
        ["youtube_1/clip_0003", "https://z", "0:00:00", 4, 16, 12, "", "", "unclear", "test", "s3"],
        ["youtube_1/empty_0004", "https://z", "0:00:00", 4, 16, 12, "abc", "ABC", "", "test", "s3"],
        ["youtube_1/missing_0005", "https://z", "0:00:00", 4, 16, 12, "nyc", "NYC", "", "test", "s3"],
        ["youtube_1/clip_0003", "https://z", "0:00:00", 4, 16, 12, "abc", "ABC", "", "holdout", "s3"],
    ]
    csv_path = root / "ChicagoFSWild.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return csv_path, frames


def test_fswild_rows_labels_and_report(fswild_inputs, tmp_path):
    csv_path, frames = fswild_inputs
    prepare_chicagofswild(csv_path, frames, tmp_path / "out")
    report = PrepareReport.read(tmp_path / "out")

    assert read_report(tmp_path / "out") == report.to_dict()
    assert report.kept == 2
    assert report.reasons == {"empty_sentence": 1, "unreadable_video": 1, "missing_video": 1, "malformed_row": 1}
    loaded = datasets.load_from_disk(str(tmp_path / "out"))
    assert set(loaded) == {"train", "validation", "test"}
    assert len(loaded["test"]) == 0
    deaf = loaded["train"][0]
    assert deaf["video"] == str((frames / "aslized/elsie_stecker_0001").absolute())
    assert deaf["letters"] == "D E A F"
    assert deaf["pseudo_gloss"] == "DEAF"
    assert deaf["phonemes"] == "d eh f"
    assert deaf["segment_labels"] == [SEGMENT_FINGERSPELLING] * 5  # one per frame file
    assert deaf["signer_id"] == "elsie"
    name = loaded["validation"][0]
    assert name["letters"] == "J E S S E | J A M E S"
    assert name["fingerspelled_words"] == ["jesse", "james"]
    assert name["segment_labels"] == [SEGMENT_FINGERSPELLING] * 3
    assert (name["start"], name["end"]) == (None, None)


def test_cli_prepare_chicagofswild(fswild_inputs, tmp_path, capsys):
    csv_path, frames = fswild_inputs
    out = tmp_path / "cli"
    assert (
        cli_main(["prepare", "chicagofswild", "--csv", str(csv_path), "--frames", str(frames), "--out", str(out)]) == 0
    )
    assert "kept 2 rows, skipped 4" in capsys.readouterr().out
    assert cli_main(["prepare", "chicagofswild", "--csv", str(csv_path), "--frames", "nowhere", "--out", "x"]) == 2
