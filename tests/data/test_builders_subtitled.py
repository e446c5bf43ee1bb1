"""YouTube-ASL and BOBSL builders: videos + WebVTT tracks, one example per cue; the WebVTT reader on its own."""

import json
from pathlib import Path

import datasets
import pytest

from signbind_cli.main import main as cli_main
from signbind_hf.data.builders import PrepareReport, prepare_bobsl, prepare_youtube_asl
from signbind_hf.data.builders.webvtt import BadCue, Cue, read_cues
from signbind_hf.errors import SignBindInputError

from .builder_fixtures import corrupt_video, read_report, tiny_video

YOUTUBE_VTT = """WEBVTT
Kind: captions
Language: en

NOTE written by a test

1
00:00:00.200 --> 00:00:01.100 align:start position:0%
So to gain that balance
on your <c.colorE5E5E5>toe</c>, Laurene &amp; I train.

00:01.200 --> 00:01.900
We meet at the gym.

00:00:01.500 --> 00:00:01.500
Zero length.

00:00:02.500 --> 00:00:04.000
After the end of the video.

00:00:00.500 --> 00:00:00.900

00:00:0x --> 00:00:01.000
Broken timing.
"""


def _captions(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def youtube_inputs(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("youtube")
    tiny_video(root / "videos/abc123XYZ_-.mp4", seconds=2.0)
    corrupt_video(root / "videos/corrupt0001.mp4")
    captions = _captions(root / "captions", "abc123XYZ_-.en.vtt", YOUTUBE_VTT)
    _captions(captions, "corrupt0001.en.vtt", "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello.\n")
    _captions(captions, "nofile00001.vtt", "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello.\n")
    return root / "videos", captions


def test_read_cues_parses_youtube_captions(tmp_path):
    cues = read_cues(_captions(tmp_path, "a.vtt", YOUTUBE_VTT) / "a.vtt")
    assert cues[0] == Cue(0.2, 1.1, "So to gain that balance on your toe, Laurene & I train.", 8)
    assert cues[1] == Cue(1.2, 1.9, "We meet at the gym.", 12)
    assert cues[4].text == ""
    assert isinstance(cues[5], BadCue)
    assert len(cues) == 6
    (tmp_path / "b.vtt").write_text("1\n00:00:00.000 --> 00:00:01.000\nno header\n")
    with pytest.raises(SignBindInputError, match=r"b\.vtt: not a WebVTT file"):
        read_cues(tmp_path / "b.vtt")


def test_youtube_asl_one_example_per_cue(youtube_inputs, tmp_path):
    videos, captions = youtube_inputs
    dataset = prepare_youtube_asl(videos, captions, tmp_path / "out")
    report = PrepareReport.read(tmp_path / "out")
    assert read_report(tmp_path / "out")["reasons"] == {
        "empty_sentence": 1,
        "end_not_after_start": 1,
        "malformed_row": 1,
        "missing_video": 1,
        "past_video_end": 1,
        "unreadable_video": 1,
    }
    assert report.kept == 2
    assert list(dataset) == ["train"]
    first, second = dataset["train"]
    assert first["id"] == "abc123XYZ_--00000"
    assert (first["start"], first["end"]) == pytest.approx((0.2, 1.1))
    assert first["letters"] == "L A U R E N E"
    assert second["sentence"] == "We meet at the gym."
    assert second["source"] == "youtube-asl"


def test_bobsl_split_file(tmp_path):
    videos, subtitles = tmp_path / "videos", tmp_path / "subtitles"
    for episode in ("5085344787448740525", "6000000000000000001", "7000000000000000002"):
        tiny_video(videos / f"{episode}.mp4", seconds=2.0)
        _captions(subtitles, f"{episode}.vtt", "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nThe weather is fine.\n")
    splits = tmp_path / "splits.json"
    listing = {"train": ["5085344787448740525", "9999999999999999999"], "public_test": ["6000000000000000001"]}
    splits.write_text(json.dumps(listing))
    dataset = prepare_bobsl(videos, subtitles, splits, tmp_path / "out")
    report = PrepareReport.read(tmp_path / "out")
    assert set(dataset) == {"train", "test"}
    assert report.reasons == {"not_in_split_file": 1, "missing_subtitles": 1}
    assert report.examples["missing_subtitles"] == [f"9999999999999999999: no 9999999999999999999.vtt in {subtitles}"]
    assert dataset["test"][0]["video"].endswith("6000000000000000001.mp4")

    splits.write_text(json.dumps({"train": ["1"], "holdout": ["2"]}))
    with pytest.raises(SignBindInputError, match=r"--splits .*unknown split names \['holdout'\]"):
        prepare_bobsl(videos, subtitles, splits, tmp_path / "out2")
    splits.write_text(json.dumps({"train": ["1"], "val": ["1"]}))
    with pytest.raises(SignBindInputError, match="listed in two splits"):
        prepare_bobsl(videos, subtitles, splits, tmp_path / "out2")


def test_cli_youtube_asl_and_bobsl(youtube_inputs, tmp_path, capsys):
    videos, captions = youtube_inputs
    splits = tmp_path / "splits.json"
    splits.write_text(json.dumps({"val": ["abc123XYZ_-"]}))
    out = tmp_path / "yt"
    command = ["prepare", "youtube-asl", "--videos", str(videos), "--captions", str(captions), "--out", str(out)]
    assert cli_main([*command, "--splits", str(splits)]) == 0
    assert "validation: 2" in capsys.readouterr().out
    assert set(datasets.load_from_disk(str(out))) == {"validation"}
    bobsl = ["prepare", "bobsl", "--videos", str(videos), "--subtitles", str(captions), "--out", str(tmp_path / "b")]
    assert cli_main([*bobsl, "--splits", str(tmp_path / "none.json")]) == 2
