"""`signbind prepare FORMAT`: build a training data set from a sign-language corpus in its released format.

Bad rows (missing clip, end <= start, times past the video's end, empty sentence, unreadable video, media outside
the folder given for it, duplicates, bytes that are not UTF-8, a pose file that is missing, unreadable or not as long
as its video) are skipped and counted by reason in OUT/prepare_report.json and in the summary printed at the end;
they never stop the build. `datasets.load_from_disk(OUT)` reads the result.

Keypoints: How2Sign's released OpenPose keypoints (--keypoints) are converted into OUT/poses/; a folder manifest may
name a .pose file per clip (a `pose` column). Rows without keypoints get them from the processor (the video's
sidecar .pose, else its extractor).

Examples:
    signbind prepare how2sign --csv how2sign_realigned_train.csv how2sign_realigned_val.csv \\
        --videos raw_videos/ --out data/how2sign
    signbind prepare how2sign --csv how2sign_realigned_train.csv --videos train_rgb_front_clips/raw_videos \\
        --keypoints train_2D_keypoints/ --out data/how2sign
    signbind prepare chicagofswild --csv ChicagoFSWild.csv --frames ChicagoFSWild-Frames/ --out data/fswild
    signbind prepare folder --manifest my_clips.csv --language de --out data/dgs
    signbind prepare youtube-asl --videos yt/videos --captions yt/captions --out data/youtube_asl
    signbind prepare bobsl --videos bobsl/videos --subtitles bobsl/subtitles/audio-aligned \\
        --splits bobsl/splits.json --out data/bobsl
"""

import argparse
import logging
from pathlib import Path

logger = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "prepare",
        help="build a data set from How2Sign, ChicagoFSWild, YouTube-ASL, BOBSL or your own videos",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    formats = parser.add_subparsers(dest="format", required=True, metavar="FORMAT")

    how2sign = _format_parser(formats, "how2sign", "How2Sign realigned CSVs + per-sentence clips or raw videos")
    how2sign.add_argument(
        "--csv", type=Path, nargs="+", required=True, help="how2sign_realigned_{train,val,test}.csv (TAB-separated)"
    )
    how2sign.add_argument(
        "--videos", type=Path, required=True, help="folder of SENTENCE_NAME.mp4 clips or VIDEO_NAME.mp4 raw videos"
    )
    how2sign.add_argument(
        "--keypoints",
        type=Path,
        metavar="DIR",
        help="How2Sign's 2D keypoints: SENTENCE_NAME/ folders of OpenPose JSON (or their openpose_output/json/), "
        "converted into OUT/poses/ for the per-sentence clips",
    )

    fswild = _format_parser(
        formats, "chicagofswild", "ChicagoFSWild(+) CSV + frame folders (whole clips fingerspelled)"
    )
    fswild.add_argument("--csv", type=Path, required=True, help="ChicagoFSWild.csv (or ChicagoFSWild+ CSV)")
    fswild.add_argument("--frames", type=Path, required=True, help="root of the frame folders named in `filename`")

    folder = _format_parser(formats, "folder", "your own clips in any sign language: a manifest CSV or JSONL")
    folder.add_argument(
        "--manifest",
        type=Path,
        required=True,
        help="CSV or .jsonl with path, text[, start, end][, split][, signer_id][, pose (a .pose file of the clip)]",
    )
    folder.add_argument(
        "--language",
        default="en",
        help="language of `text` (ISO 639, default en); phoneme and letter targets are made for English only",
    )
    folder.add_argument(
        "--allow-absolute-paths",
        action="store_true",
        help="keep rows whose absolute `path` lies outside the manifest's folder (default: skipped as outside_root)",
    )

    youtube = _format_parser(formats, "youtube-asl", "YouTube-ASL videos + caption tracks (.vtt), one example per cue")
    youtube.add_argument("--videos", type=Path, required=True, help="folder of ID.mp4 videos")
    youtube.add_argument("--captions", type=Path, required=True, help="folder of ID.vtt or ID.en.vtt caption tracks")
    youtube.add_argument(
        "--splits", type=Path, help='JSON {"train": [ids], "val": [...], "test": [...]} (default: all train)'
    )

    bobsl = _format_parser(formats, "bobsl", "BOBSL episodes + subtitle files (.vtt) + a split file")
    bobsl.add_argument("--videos", type=Path, required=True, help="folder of EPISODE_ID.mp4 episodes")
    bobsl.add_argument("--subtitles", type=Path, required=True, help="folder of EPISODE_ID.vtt subtitle files")
    bobsl.add_argument(
        "--splits", type=Path, required=True, help='JSON {"train": [ids], "val": [ids], "public_test": [ids]}'
    )
    return parser


def _format_parser(formats: argparse._SubParsersAction, name: str, help_text: str) -> argparse.ArgumentParser:
    parser = formats.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("--out", type=Path, required=True, help="data set folder to create")
    parser.add_argument("--overwrite", action="store_true", help="replace --out once the new data set is complete")
    parser.set_defaults(handler=main)
    return parser


def _build(args: argparse.Namespace):
    from signbind_hf.data import builders

    common = {"out_dir": args.out, "overwrite": args.overwrite}
    if args.format == "how2sign":
        return builders.prepare_how2sign(args.csv, args.videos, keypoints=args.keypoints, **common)
    if args.format == "chicagofswild":
        return builders.prepare_chicagofswild(args.csv, args.frames, **common)
    if args.format == "folder":
        return builders.prepare_folder(
            args.manifest, language=args.language, allow_absolute_paths=args.allow_absolute_paths, **common
        )
    if args.format == "youtube-asl":
        return builders.prepare_youtube_asl(args.videos, args.captions, splits=args.splits, **common)
    if args.format == "bobsl":
        return builders.prepare_bobsl(args.videos, args.subtitles, args.splits, **common)
    raise ValueError(f"unknown format {args.format!r}")


def main(args: argparse.Namespace) -> int:
    try:
        _build(args)
    except (FileExistsError, FileNotFoundError) as error:  # signbind_cli.main handles SignBindInputError
        logger.error("%s", error)
        return 2
    from signbind_hf.data.builders import PrepareReport

    print(
        f"{args.format} -> {args.out}\n{PrepareReport.read(args.out).summary()}"
    )  # the command's result, on standard output
    return 0
