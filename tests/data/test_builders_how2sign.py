"""How2Sign builder: released CSV format, per-sentence clips and raw videos, every kind of bad row counted."""

from pathlib import Path

import datasets
import pytest

from signbind_cli.main import main as cli_main
from signbind_hf.data.builders import PrepareReport, example_features, prepare_how2sign
from signbind_hf.data.builders.how2sign import split_of
from signbind_hf.errors import SignBindInputError

from .builder_fixtures import corrupt_video, read_report, tiny_video

HEADER = "VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE"


def _csv(path: Path, rows: list[tuple]) -> Path:
    lines = [HEADER] + ["\t".join(str(value) for value in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def how2sign_inputs(tmp_path_factory) -> tuple[list[Path], Path]:
    root = tmp_path_factory.mktemp("how2sign")
    videos = root / "videos"
    tiny_video(videos / "raw_A-1-rgb_front.mp4", seconds=3.0)  # raw video, cut by timestamps
    tiny_video(videos / "clip_B_1-rgb_front.mp4", seconds=1.0)  # a per-sentence clip
    corrupt_video(videos / "raw_C-1-rgb_front.mp4")
    train = _csv(
        root / "how2sign_realigned_train.csv",
        [
            ("A", "raw_A-1-rgb_front", "A_0", "A_0-1-rgb_front", 0.2, 1.4, "I have a few different ones here."),
            ("A", "raw_A-1-rgb_front", "A_1", "A_1-1-rgb_front", 1.5, 2.9, 'She said "hello" to Laurene Simms.'),
            ("A", "raw_A-1-rgb_front", "A_2", "A_2-1-rgb_front", 2.0, 7.5, "Past the end of the video."),
            ("A", "raw_A-1-rgb_front", "A_3", "A_3-1-rgb_front", 2.0, 2.0, "End equals start."),
            ("A", "raw_A-1-rgb_front", "A_4", "A_4-1-rgb_front", 0.5, 1.0, ""),
            ("M", "raw_missing-1-rgb_front", "M_0", "M_0-1-rgb_front", 0.0, 1.0, "No video for this one."),
            ("C", "raw_C-1-rgb_front", "C_0", "C_0-1-rgb_front", 0.0, 1.0, "The video is corrupt."),
            ("A", "raw_A-1-rgb_front", "A_5", "A_5-1-rgb_front", "abc", 1.0, "Unparseable start."),
        ],
    )
    val = _csv(root / "how2sign_realigned_val.csv", [("B", "raw_B", "B_1", "clip_B_1-rgb_front", 50.0, 52.0, "Hi.")])
    return [train, val], videos


def test_how2sign_rows_splits_and_report(how2sign_inputs, tmp_path):
    csvs, videos = how2sign_inputs
    dataset = prepare_how2sign(csvs, videos, tmp_path / "out")
    assert isinstance(dataset, datasets.DatasetDict)
    report = PrepareReport.read(tmp_path / "out")

    assert read_report(tmp_path / "out") == report.to_dict()
    assert report.to_dict()["kept"] == 3
    assert report.skipped == 6
    assert report.reasons == {
        "past_video_end": 1,
        "end_not_after_start": 1,
        "empty_sentence": 1,
        "missing_video": 1,
        "unreadable_video": 1,
        "malformed_row": 1,
    }
    loaded = datasets.load_from_disk(str(tmp_path / "out"))
    assert set(loaded) == {"train", "validation"}
    assert loaded["train"].features == example_features()
    first, second = loaded["train"]
    assert first["video"] == str((videos / "raw_A-1-rgb_front.mp4").absolute())
    assert (first["start"], first["end"]) == pytest.approx((0.2, 1.4))
    assert first["pseudo_gloss"]
    assert first["pseudo_gloss"] == first["pseudo_gloss"].upper()
    assert first["phonemes"]
    assert first["letters"] == ""
    assert first["segment_labels"] == []
    assert second["sentence"] == 'She said "hello" to Laurene Simms.'  # bare quotes survive the TAB format
    assert second["letters"] == "L A U R E N E | S I M M S"
    assert second["fingerspelled_words"] == ["Laurene", "Simms"]
    # A per-sentence clip is used whole: its CSV timestamps refer to the raw video.
    clip = loaded["validation"][0]
    assert clip["video"].endswith("clip_B_1-rgb_front.mp4")
    assert clip["start"] is None
    assert clip["end"] is None
    assert {row["source"] for row in loaded["train"]} == {"how2sign"}
    assert clip["split"] == "validation"


def test_split_from_released_file_names():
    assert split_of(Path("how2sign_realigned_val.csv")) == "validation"
    assert split_of(Path("how2sign_realigned_test.csv")) == "test"
    with pytest.raises(SignBindInputError, match="cannot tell the split"):
        split_of(Path("sentences.csv"))


def test_missing_column_names_file(tmp_path):
    bad = tmp_path / "how2sign_realigned_train.csv"
    bad.write_text("VIDEO_ID\tSENTENCE\nA\thello\n")
    (tmp_path / "videos").mkdir()
    with pytest.raises(SignBindInputError, match=r"--csv .*missing \['VIDEO_NAME'"):
        prepare_how2sign([bad], tmp_path / "videos", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli_prepare_how2sign(how2sign_inputs, tmp_path, capsys):
    csvs, videos = how2sign_inputs
    out = tmp_path / "cli"
    assert cli_main(["prepare", "how2sign", "--csv", *map(str, csvs), "--videos", str(videos), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "kept 3 rows, skipped 6" in printed
    assert "skipped (past_video_end): 1" in printed
    assert read_report(out)["kept"] == 3
    # An existing --out is refused with a one-line error, not a stack trace.
    assert cli_main(["prepare", "how2sign", "--csv", str(csvs[0]), "--videos", str(videos), "--out", str(out)]) == 2
    assert not any(path.name.startswith(f".{out.name}.partial") for path in tmp_path.iterdir())


def test_output_is_atomic(how2sign_inputs, tmp_path, monkeypatch):
    csvs, videos = how2sign_inputs
    out = tmp_path / "out"
    prepare_how2sign(csvs[1:], videos, out)  # validation only
    assert set(datasets.load_from_disk(str(out))) == {"validation"}

    def fail(dataset, path):
        raise OSError("disk full")

    monkeypatch.setattr("signbind_hf.data.builders.core.save_quietly", fail)
    with pytest.raises(OSError, match="disk full"):
        prepare_how2sign(csvs, videos, out, overwrite=True)
    # The failed build left nothing behind, and the previous data set is intact.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]
    assert set(datasets.load_from_disk(str(out))) == {"validation"}
    monkeypatch.undo()
    prepare_how2sign(csvs, videos, out, overwrite=True)
    assert set(datasets.load_from_disk(str(out))) == {"train", "validation"}
