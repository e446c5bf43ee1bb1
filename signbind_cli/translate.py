"""`signbind translate`: sign-language videos in, English out (the `sign-language-translation` pipeline).

Prints, for each video, the translation with the pseudo-gloss, fingerspelling, phonemes and the router's segments;
`--json` prints the pipeline's result as JSON on standard output instead (logs go to standard error): for one video
the pipeline's dict (a list of dicts for a long video), for several the list of their results in argument order.
`--output FILE` writes that JSON to FILE (atomically) as well. A long video is read in windows (a progress bar on
standard error when it is a terminal) and gives one result per sentence.

A video that cannot be translated (not a video, no person found) gets one line on standard error and, in the JSON,
an entry `{"video": PATH, "error": REASON}` in its place; the others are still translated and written. A missing
path, a bad model folder or a bad option stops the command before any video is read.

Exit status: 0 every video translated; 2 nothing translated (a bad argument, model or video; nothing is written);
3 some videos translated and some not (the JSON holds every result and an error entry for each failure).

`--live` reads one video as a camera delivers it (at its own pace) or a camera device (`/dev/video0`), and prints
each sentence as the signer pauses (`signbind_cli/translate_live.py` says more).

Examples:
    signbind translate clip.mp4 --model runs/quickstart/model
    signbind translate clip.mp4 --live --json --model runs/quickstart/model
    signbind translate a.mp4 b.webm frames_folder/ --model runs/quickstart/model --json > results.json
    signbind translate lecture.mp4 --beam-width 8 --output lecture.json
"""

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from signbind_cli.argument_types import int_at_least

if TYPE_CHECKING:  # torch is imported inside the handler only: `--help` stays instant
    import torch

logger = logging.getLogger(__name__)

DEFAULT_MODEL = Path("runs/quickstart/model")
EXIT_BAD_INPUT = 2
EXIT_SOME_FAILED = 3  # distinct from 2, so that a script can tell "some results" from "no results"


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "translate",
        help="translate sign-language videos to English with a trained model",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("videos", nargs="+", metavar="VIDEO", help="video files or folders of frames")
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help=f"model folder (save_pretrained, with its processor); default: {DEFAULT_MODEL} when it exists",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON on standard output")
    parser.add_argument("--output", type=Path, default=None, help="also write the JSON results to this file")
    parser.add_argument(
        "--live",
        action="store_true",
        help="read the video at its own pace (or a camera device, /dev/video0) and print each sentence as it ends",
    )
    parser.add_argument(
        "--threads",
        type=int_at_least(1),
        default=None,
        help="torch threads for the model (default: 1 with --live, where the model shares the cores with the video "
        "and keypoint threads and waiting OpenMP threads slow it down many times; torch's default otherwise)",
    )
    parser.add_argument(
        "--precision",
        choices=("fp32", "bf16", "int8", "openvino"),
        default="fp32",
        help="how the visual model computes: fp32 (as trained, default), bf16 (autocast), int8 (dynamic "
        "quantization of its Linear layers, CPU only) or openvino (the int8 OpenVINO encoders written by `signbind "
        "export-openvino`, CPU only); faster, with slightly different logits",
    )
    parser.add_argument(
        "--backbone-frame-stride",
        type=int_at_least(1),
        default=None,
        metavar="K",
        help="run the frame encoder on every K-th frame and hold its features in between: about K times less "
        "backbone compute, at some cost in accuracy (default: the model's setting, every frame)",
    )
    parser.add_argument("--device", default="cpu", help="where the model runs: cpu (default), cuda, cuda:1, mps")
    parser.add_argument(
        "--beam-width",
        type=int_at_least(1),
        default=None,
        help="CTC prefix beam search with this many beams (default: the model's ctc_beam_width, else greedy)",
    )
    parser.set_defaults(handler=main)
    return parser


def main(args: argparse.Namespace) -> int:
    model_dir = args.model if args.model is not None else DEFAULT_MODEL
    if args.model is None and not DEFAULT_MODEL.exists():
        logger.error(
            "no model: %s does not exist. Train the quickstart model with `make demo`, or pass --model DIR (a folder "
            "written by save_pretrained with its processor)",
            DEFAULT_MODEL,
        )
        return EXIT_BAD_INPUT
    if any(video == "" for video in args.videos):  # Path("") is ".": it would read the current folder as frames
        logger.error("a video argument is an empty string; expected a video file or a folder of frames")
        return EXIT_BAD_INPUT
    missing = [video for video in args.videos if not Path(video).exists()]
    if missing:
        logger.error("no such file or folder: %s", ", ".join(missing))
        return EXIT_BAD_INPUT
    if args.live and len(args.videos) != 1:
        logger.error("--live reads one video or camera; got %d (%s)", len(args.videos), ", ".join(args.videos))
        return EXIT_BAD_INPUT
    if args.live and args.output is not None:
        logger.error("--output is not available with --live (sentences are printed as they come); use --json > FILE")
        return EXIT_BAD_INPUT
    if args.output is not None and args.output.is_dir():
        logger.error("--output %s is a folder; expected a file path for the JSON results", args.output)
        return EXIT_BAD_INPUT

    # Heavy imports only now: `signbind translate --help` stays instant.
    from signbind_hf.pipeline_signbind import check_model_folder, translation_pipeline

    # --model is a local folder: check it here so that a typo is not taken for a Hub repository id. A bad folder (or
    # damaged or pickled weights: SignBindModelError) is a SignBindInputError, which signbind_cli.main reports.
    translator = translation_pipeline(
        check_model_folder(model_dir),
        device=_available_device(args.device),
        precision=args.precision,
        backbone_frame_stride=args.backbone_frame_stride,
    )

    if args.threads is not None or args.live:
        import torch

        torch.set_num_threads(args.threads or 1)
    if args.live:
        from signbind_cli.translate_live import translate_live

        return translate_live(translator, args.videos[0], beam_width=args.beam_width, as_json=args.json)
    results = []
    for video in args.videos:
        results.append(_translate(translator, video, beam_width=args.beam_width))
        if "error" in results[-1]:  # one line, and the next video: a bad file must not cost the good ones
            logger.error("%s", results[-1]["error"])
        elif not args.json:
            print(_human_readable(video, results[-1], has_refiner=translator.refiner is not None), flush=True)
    failed = [result for result in results if "error" in result]
    if len(failed) == len(results):
        return EXIT_BAD_INPUT
    # One video: the pipeline's result itself; several: the list of them in argument order (as pipeline([...])).
    document = _to_json(results[0] if len(results) == 1 else results)
    if args.json:
        print(document, flush=True)
    if args.output is not None:
        _write_atomically(args.output, document + "\n")
        logger.info("wrote %s", args.output)
    if failed:
        logger.warning(
            "%d of %d videos could not be translated (error entries in the results); exit status %d",
            len(failed),
            len(results),
            EXIT_SOME_FAILED,
        )
        return EXIT_SOME_FAILED
    return 0


def _available_device(name: str) -> "torch.device":
    """``--device`` as a torch device, refused with a one-line message when it is malformed or absent here."""
    import torch

    from signbind_hf.errors import SignBindInputError

    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise SignBindInputError(
            f"--device {name!r}: not a device name ({error}); expected cpu, cuda, cuda:1, mps"
        ) from None
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}
    if not available.get(device.type, True):
        raise SignBindInputError(f"--device {name}: no {device.type.upper()} device on this machine; use --device cpu")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise SignBindInputError(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return device


def _translate(translator: Any, video: str, *, beam_width: int | None) -> Any:
    """The pipeline's result for one video (its error entry when it cannot be translated), with a progress bar over
    its windows when it is long."""
    from tqdm.auto import tqdm

    duration = _duration(Path(video))
    window_seconds = translator.processor.video_processor.max_frames / translator.processor.video_processor.target_fps
    long_video = duration is None or duration > window_seconds
    with tqdm(
        total=None if duration is None else round(duration, 2),
        unit="s",
        desc=Path(video).name,
        file=sys.stderr,
        # Only on a terminal, and only when the video needs more than one window.
        disable=not (long_video and sys.stderr.isatty()),
        bar_format="{l_bar}{bar}| {n:.1f}/{total_fmt} s [{elapsed}<{remaining}]",
    ) as bar:

        def advance(seconds_read: float) -> None:
            bar.update(seconds_read - bar.n)

        return translator(video, beam_width=beam_width, progress=advance, errors="return")


def _duration(path: Path) -> float | None:
    """Seconds a video file's container reports (None for frame folders, or when it does not say)."""
    if path.is_dir():
        return None
    import av

    try:
        with av.open(str(path), metadata_errors="replace") as container:
            if container.duration:
                return container.duration / 1_000_000
    except av.FFmpegError:
        return None  # not readable as a video: the pipeline names the file and the reason
    return None


def _human_readable(video: str, result: dict | list[dict], *, has_refiner: bool) -> str:
    parts = result if isinstance(result, list) else [result]
    lines = [f"{video}:"]
    for part in parts:
        prefix = f"  [{part['start']:.2f}-{part['end']:.2f} s] " if len(parts) > 1 else "  "
        lines.append(f"{prefix}{part['translation'] or '(nothing recognised)'}")
        # "refined": false also when nothing was recognised (the refiner had no pseudo-gloss to translate).
        if not has_refiner:
            lines.append("      (no LLM refiner in the model folder: the translation is the pseudo-gloss)")
        lines.append(f"      pseudo-gloss:   {part['pseudo_gloss']}")
        lines.append(f"      fingerspelling: {part['fingerspelling'] or '-'}")
        lines.append(f"      phonemes:       {part['phonemes'] or '-'}")
        segments = ", ".join(f"{s['label']} {s['start']:.2f}-{s['end']:.2f}" for s in part["segments"])
        lines.append(f"      segments:       {segments}")
    return "\n".join(lines)


def _to_json(results: Any) -> str:
    import json

    return json.dumps(results, indent=2, ensure_ascii=False)


def _write_atomically(path: Path, text: str) -> None:
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
