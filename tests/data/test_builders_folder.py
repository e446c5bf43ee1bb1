"""Folder builder: a manifest of your own clips; English gets every target, other languages only what is sound."""

import json
from pathlib import Path

import datasets
import pytest

from signbind_cli.main import main as cli_main
from signbind_hf.data.builders import STREAMS_FILE, PrepareReport, prepare_folder
from signbind_hf.data.builders.folder import upper_case_words
from signbind_hf.errors import SignBindInputError

from .builder_fixtures import corrupt_video, read_report, tiny_video


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("folder")
    tiny_video(root / "clips/a.mp4", seconds=2.0)
    tiny_video(root / "clips/b.mp4", seconds=1.0)
    corrupt_video(root / "clips/bad.mp4")
    return root


def _jsonl(path: Path, records: list) -> Path:
    path.write_text("\n".join(record if isinstance(record, str) else json.dumps(record) for record in records) + "\n")
    return path


def test_other_language_disables_english_streams(clips, tmp_path):
    manifest = _jsonl(
        clips / "dgs.jsonl",
        [
            {"path": "clips/a.mp4", "text": "Ich komme morgen nach Köln.", "start": 0.1, "end": 1.5, "signer_id": 4},
            {"path": "clips/b.mp4", "text": "Привет, мир!", "split": "val"},
            {"path": "clips/a.mp4", "text": "Zu lang.", "start": 1.0, "end": 9.0},
            {"path": "clips/bad.mp4", "text": "Kaputt."},
            {"path": "clips/gone.mp4", "text": "Fehlt."},
            {"path": "clips/a.mp4", "text": "Falscher Split.", "split": "holdout"},
            "{not json",
        ],
    )
    dataset = prepare_folder(manifest, tmp_path / "out", language="de")

    saved = read_report(tmp_path / "out")
    unreadable = saved["examples"].pop("unreadable_video")
    assert len(unreadable) == 1
    assert unreadable[0].startswith(f"dgs-000004: {clips / 'clips/bad.mp4'}: cannot be opened as a video")
    assert saved == {
        "kept": 2,
        "skipped": 5,
        "reasons": {"malformed_row": 2, "missing_video": 1, "past_video_end": 1, "unreadable_video": 1},
        "incomplete": {},
        "splits": {"train": 1, "validation": 1},
        "examples": {
            "malformed_row": [
                "dgs.jsonl:6: split 'holdout' is not one of ['dev', 'test', 'train', 'val', 'validation']",
                "dgs.jsonl:7: not JSON (Expecting property name enclosed in double quotes)",
            ],
            "missing_video": [f"dgs-000005: {clips / 'clips/gone.mp4'}"],
            "past_video_end": ["dgs-000003: end 9.0 s, video 2.000 s"],
        },
    }
    streams = json.loads((tmp_path / "out" / STREAMS_FILE).read_text())
    assert streams == {"pseudo_gloss": True, "phonemes": False, "letters": False, "segment_labels": False}
    german = dataset["train"][0]
    assert german["pseudo_gloss"] == "ICH KOMME MORGEN NACH KÖLN"
    assert (german["phonemes"], german["letters"], german["fingerspelled_words"]) == ("", "", [])
    assert german["signer_id"] == "4"
    assert german["video"] == str((clips / "clips/a.mp4").absolute())
    assert dataset["validation"][0]["pseudo_gloss"] == "ПРИВЕТ МИР"


def test_english_csv_manifest_gets_all_streams(clips, tmp_path):
    manifest = clips / "asl.csv"
    manifest.write_text(
        "path,text,start,end,split\nclips/a.mp4,Where did you meet Laurene?,0.0,1.0,test\nclips/b.mp4,Привет.,,,\n"
    )
    dataset = prepare_folder(manifest, tmp_path / "out")
    report = PrepareReport.read(tmp_path / "out")
    # Words with no English pronunciation: the row is kept, its phoneme target left empty and counted.
    assert report.incomplete == {"no_phonemes": 1}
    assert dataset["train"][0]["phonemes"] == ""
    row = dataset["test"][0]
    assert row["phonemes"]
    assert row["letters"] == "L A U R E N E"
    assert json.loads((tmp_path / "out" / STREAMS_FILE).read_text())["phonemes"] is True


def test_bad_language_and_cli(clips, tmp_path, capsys):
    manifest = clips / "one.csv"
    manifest.write_text("path,text\nclips/b.mp4,Bonjour.\n")
    with pytest.raises(SignBindInputError, match="--language 'French'"):
        prepare_folder(manifest, tmp_path / "x", language="French")
    out = tmp_path / "cli"
    assert cli_main(["prepare", "folder", "--manifest", str(manifest), "--language", "fr", "--out", str(out)]) == 0
    assert "kept 1 rows, skipped 0" in capsys.readouterr().out
    assert datasets.load_from_disk(str(out))["train"][0]["pseudo_gloss"] == "BONJOUR"


def test_upper_case_words_keeps_any_script():
    assert upper_case_words("l'été, c'est   génial!") == "L'ÉTÉ C'EST GÉNIAL"
    assert upper_case_words("手话 很好") == "手话 很好"
