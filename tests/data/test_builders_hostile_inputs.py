"""Builders against hostile or unlucky corpus files (issue 19): media paths leading outside their folder, rows that
are not UTF-8, duplicates, times that are not numbers, and the messages of `signbind prepare`."""

import json
from pathlib import Path

import pytest
from PIL import Image

from signbind_cli.main import main as cli_main
from signbind_hf.data.builders import prepare_chicagofswild, prepare_folder, prepare_how2sign, prepare_youtube_asl
from signbind_hf.data.builders.subtitled import read_split_file
from signbind_hf.errors import SignBindInputError

from .builder_fixtures import read_report, tiny_video
from .test_builders_how2sign import HEADER


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A videos folder with a good raw video and a symlink pointing out of it, and a secret video beside the folder."""
    root = tmp_path_factory.mktemp("hostile")
    tiny_video(root / "videos/raw_A.mp4", seconds=3.0)
    tiny_video(root / "secret/x.mp4", seconds=1.0)
    (root / "videos/link.mp4").symlink_to(root / "secret/x.mp4")
    return root


def _how2sign_csv(path: Path, rows: list[tuple]) -> Path:
    lines = [HEADER.encode()] + [b"\t".join(v if isinstance(v, bytes) else str(v).encode() for v in r) for r in rows]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_how2sign_skips_escaping_names_duplicates_bad_times_and_latin1_rows(corpus, tmp_path):
    secret = corpus / "secret/x"
    csv = _how2sign_csv(
        tmp_path / "how2sign_realigned_train.csv",
        [
            ("A", "raw_A", "A_0", "A_0", 0.2, 1.4, "Kept."),
            ("A", "raw_A", "A_0", "A_0", 1.5, 2.5, "Same SENTENCE_NAME again."),
            ("S", "raw_A", "S_0", "../secret/x", 0.0, 1.0, "A clip beside --videos."),
            ("S", "raw_A", "S_1", str(secret), 0.0, 1.0, "An absolute clip path."),
            ("S", "../secret/x", "S_2", "S_2", 0.0, 1.0, "A raw video beside --videos."),
            ("S", "raw_A", "S_3", "link", 0.0, 1.0, "A symlink pointing out of --videos."),
            ("A", "raw_A", "A_1", "A_1", "nan", 1.0, "A NaN start."),
            ("A", "raw_A", "A_2", "A_2", -0.5, 1.0, "A negative start."),
            ("A", "raw_A", "A_3", "A_3", 0.5, 2.0, "Caf\xe9 in latin-1.".encode("latin-1")),
        ],
    )
    prepare_how2sign([csv], corpus / "videos", tmp_path / "out")

    report = read_report(tmp_path / "out")
    assert report["kept"] == 1
    assert report["reasons"] == {"bad_time": 2, "duplicate": 1, "not_utf8": 1, "outside_root": 4}
    assert report["examples"]["duplicate"] == ["A_0: id 'A_0' is already kept"]
    link = corpus / "videos/link.mp4"
    assert (
        f"link: {link} resolves to {(corpus / 'secret/x.mp4').resolve()}, outside"
        in report["examples"]["outside_root"][3]
    )
    assert report["examples"]["bad_time"][0] == "A_1: start nan s (expected a finite number of seconds >= 0)"
    assert report["examples"]["bad_time"][1].startswith("A_2: start -0.5 s")
    assert report["examples"]["not_utf8"] == [
        "how2sign_realigned_train.csv:10: byte 0xE9 is not UTF-8 (save as UTF-8)"
    ]


def test_how2sign_header_that_is_not_utf8_is_one_line_naming_the_offset(corpus, tmp_path, caplog):
    csv = tmp_path / "how2sign_realigned_train.csv"
    csv.write_bytes(HEADER.replace("SENTENCE_ID", "SENTENCE_\xcfD").encode("latin-1") + b"\n")
    with pytest.raises(SignBindInputError, match=r"--csv .*the header is not UTF-8 \(byte 0xCF at offset 29\)"):
        prepare_how2sign([csv], corpus / "videos", tmp_path / "out")
    argv = ["prepare", "how2sign", "--csv", str(csv), "--videos", str(corpus / "videos"), "--out", str(tmp_path / "o")]
    assert cli_main(argv) == 2
    assert "offset 29" in caplog.text


def test_folder_manifest_paths_stay_in_its_folder_unless_allowed(corpus, tmp_path):
    (corpus / "videos/clips").mkdir(exist_ok=True)
    manifest = corpus / "videos/clips.jsonl"
    manifest.write_text(
        "\n".join(
            json.dumps(record)
            for record in [
                {"path": "raw_A.mp4", "text": "Kept."},
                {"path": str(corpus / "videos/raw_A.mp4"), "text": "Absolute but inside: kept."},
                {"path": "../secret/x.mp4", "text": "Relative, leading out."},
                {"path": str(corpus / "secret/x.mp4"), "text": "Absolute, outside."},
                {"path": "link.mp4", "text": "A symlink pointing out."},
                {"path": "raw_A.mp4", "text": "Kept.", "split": "test"},  # the first row again, in another split
            ]
        )
        + "\n"
    )
    prepare_folder(manifest, tmp_path / "out")
    report = read_report(tmp_path / "out")
    assert (report["kept"], report["reasons"]) == (2, {"duplicate": 1, "outside_root": 3})
    assert report["examples"]["duplicate"] == ["clips-000006: same clip, times and text as clips-000001"]
    assert report["examples"]["outside_root"][0] == (
        f"clips-000003: {corpus / 'videos/../secret/x.mp4'} resolves to {(corpus / 'secret/x.mp4').resolve()}, "
        f"outside {corpus / 'videos'}"
    )

    # The user's explicit choice lets absolute paths through; relative ones and symlinks still stay inside.
    out = tmp_path / "cli"
    argv = ["prepare", "folder", "--manifest", str(manifest), "--allow-absolute-paths", "--out", str(out)]
    assert cli_main(argv) == 0
    report = read_report(out)
    assert (report["kept"], report["reasons"]) == (3, {"duplicate": 1, "outside_root": 2})


def test_folder_manifest_rows_that_are_not_utf8_are_skipped_and_counted(corpus, tmp_path):
    csv = corpus / "videos/latin1.csv"
    csv.write_bytes("path,text\nraw_A.mp4,Kept.\nraw_A.mp4,Gr\xfc\xdfe.\n".encode("latin-1"))
    prepare_folder(csv, tmp_path / "csv", language="de")
    report = read_report(tmp_path / "csv")
    assert (report["kept"], report["reasons"]) == (1, {"not_utf8": 1})
    assert report["examples"]["not_utf8"] == ["latin1.csv:3: byte 0xFC is not UTF-8 (save as UTF-8)"]

    jsonl = corpus / "videos/latin1.jsonl"
    jsonl.write_bytes(
        b'{"path": "raw_A.mp4", "text": "Kept."}\n'
        + '{"path": "raw_A.mp4", "text": "Gr\xfc\xdfe."}\n'.encode("latin-1")
    )
    prepare_folder(jsonl, tmp_path / "jsonl", language="de")
    report = read_report(tmp_path / "jsonl")
    assert (report["kept"], report["reasons"]) == (1, {"not_utf8": 1})
    assert report["examples"]["not_utf8"] == ["latin1.jsonl:2: byte 0xFC at column 34 is not UTF-8 (save as UTF-8)"]


def test_folder_manifest_nan_and_infinite_times_are_bad_times(corpus, tmp_path):
    manifest = corpus / "videos/times.csv"
    manifest.write_text("path,text,start,end\nraw_A.mp4,NaN start.,nan,1.0\nraw_A.mp4,Inf end.,0.0,inf\n")
    prepare_folder(manifest, tmp_path / "out")
    report = read_report(tmp_path / "out")
    assert (report["kept"], report["reasons"]) == (0, {"bad_time": 2})
    assert report["examples"]["bad_time"][1] == "times-000002: end inf s (expected a finite number of seconds >= 0)"


def test_chicagofswild_and_youtube_asl_media_stay_in_their_roots_and_cues_are_utf8(corpus, tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    (tmp_path / "outside").mkdir()
    Image.new("RGB", (32, 24)).save(tmp_path / "outside/0001.jpg")
    csv = tmp_path / "ChicagoFSWild.csv"
    header = "filename,url,start_time,number_of_frames,width,height,label_proc,label_raw,label_notes,partition,signer"
    csv.write_text(f"{header}\n../outside,u,0,1,32,24,abc,abc,,train,s1\n")
    prepare_chicagofswild(csv, frames, tmp_path / "fswild")
    assert read_report(tmp_path / "fswild")["reasons"] == {"outside_root": 1}

    captions = tmp_path / "captions"
    captions.mkdir()
    (captions / "link.en.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:00.500\nHello.\n")
    cues = "WEBVTT\n\n00:00.000 --> 00:00.500\nHello.\n\n00:01.000 --> 00:01.500\nCaf\xe9 in latin-1.\n"
    (captions / "raw_A.en.vtt").write_bytes(cues.encode("latin-1"))
    prepare_youtube_asl(corpus / "videos", captions, tmp_path / "yt")
    report = read_report(tmp_path / "yt")
    assert (report["kept"], report["reasons"]) == (1, {"not_utf8": 1, "outside_root": 1})
    assert report["examples"]["not_utf8"] == ["raw_A.en.vtt:6: byte 0xE9 is not UTF-8 (save as UTF-8)"]


def test_a_split_file_that_is_not_utf8_is_one_line(tmp_path):
    splits = tmp_path / "splits.json"
    splits.write_bytes('{"train": ["\xe9pisode"]}'.encode("latin-1"))
    with pytest.raises(SignBindInputError, match=r"--splits .*not UTF-8 \(byte 0xE9 at offset 12\)"):
        read_split_file(splits)


def test_cli_names_the_overwrite_flag(corpus, tmp_path, caplog):
    manifest = corpus / "videos/one.csv"
    manifest.write_text("path,text\nraw_A.mp4,Hello.\n")
    argv = ["prepare", "folder", "--manifest", str(manifest), "--out", str(tmp_path)]
    assert cli_main(argv) == 2
    assert "pass --overwrite" in caplog.text
    assert "overwrite=True" not in caplog.text


def test_nul_bytes_and_oversized_fields_are_malformed_rows(corpus, tmp_path):
    csv = _how2sign_csv(
        tmp_path / "how2sign_realigned_train.csv",
        [
            ("A", "raw_A", "A_0", "A_0", 0.2, 1.4, "Kept."),
            ("A", "raw_A", "A_1", b"A_\x001", 0.2, 1.4, "A NUL byte in the name."),
            ("A", "raw_A", "A_2", "A_2", 0.2, 1.4, "x" * 200_000),
            ("A", "raw_A", "A_3", "A_3", 1.5, 2.5, "Kept after the oversized field."),
        ],
    )
    prepare_how2sign([csv], corpus / "videos", tmp_path / "how2sign")
    report = read_report(tmp_path / "how2sign")
    assert (report["kept"], report["reasons"]) == (2, {"malformed_row": 2})
    assert report["examples"]["malformed_row"] == [
        "how2sign_realigned_train.csv:3: a NUL byte",
        "how2sign_realigned_train.csv:4: field larger than field limit (131072)",
    ]

    manifest = corpus / "videos/nul.jsonl"
    manifest.write_text('{"path": "raw_A.mp4", "text": "Kept."}\n{"path": "raw_A\\u0000.mp4", "text": "NUL."}\n')
    prepare_folder(manifest, tmp_path / "folder")
    report = read_report(tmp_path / "folder")
    assert (report["kept"], report["reasons"]) == (1, {"malformed_row": 1})


def test_a_clip_whose_metadata_is_not_utf8_keeps_its_row(tmp_path):
    # The encoder tag (©too: "Lavf...") with a byte that is not UTF-8: PyAV raised UnicodeDecodeError out of prepare
    # (found by tests/test_cli_fuzz.py); the metadata is never used, so the clip is read as any other.
    clip = tiny_video(tmp_path / "clips/a.mp4", seconds=1.0)
    data = bytearray(clip.read_bytes())
    data[data.find(b"Lavf") + 1] = 0xF6
    clip.write_bytes(data)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,text\nclips/a.mp4,Hello there.\n")
    prepare_folder(manifest, tmp_path / "out")
    assert read_report(tmp_path / "out")["kept"] == 1
