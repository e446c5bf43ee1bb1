"""`signbind export-openvino`: the model's frame backbone and lip ViT as OpenVINO int8 models (`--precision openvino`).

Reads each VIDEO with the model's processor, runs the model on it to record what its visual encoders receive (the
calibration set: use clips like those you will translate), converts the encoders with OpenVINO and quantizes their
weights and activations to int8 with NNCF, and writes them to MODEL/openvino/ (`signbind_hf.openvino_encoders`).
Then `signbind translate VIDEO --precision openvino` and `pipeline(..., precision="openvino")` use them. A video that
cannot be read is skipped and counted. Needs `pip install 'signbind-hf[openvino]'`.

Example:
    signbind export-openvino --model runs/quickstart/model runs/quickstart/data/videos/validation/*.mp4
"""

import argparse
import logging
from pathlib import Path

from signbind_cli.argument_types import int_at_least

logger = logging.getLogger(__name__)

DEFAULT_MAX_CLIPS = 32  # a few thousand frames: enough to measure activation ranges, a minute or two to read


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "export-openvino",
        help="export the visual encoders to OpenVINO int8, calibrated on your videos (for --precision openvino)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("videos", nargs="+", help="calibration videos (files or folders of frames)")
    parser.add_argument("--model", type=Path, required=True, help="the model folder; the export goes to its openvino/")
    parser.add_argument(
        "--max-clips",
        type=int_at_least(1),
        default=DEFAULT_MAX_CLIPS,
        help=f"read at most this many of the videos (default: {DEFAULT_MAX_CLIPS})",
    )
    parser.add_argument(
        "--no-quantize", action="store_true", help="keep the encoders in float32 (OpenVINO's kernels, no int8)"
    )
    parser.set_defaults(handler=main)
    return parser


def main(args: argparse.Namespace) -> int:
    from signbind_hf.errors import SignBindInputError
    from signbind_hf.openvino_encoders import export_openvino_encoders, require_openvino
    from signbind_hf.pipeline_signbind import check_model_folder, translation_pipeline

    require_openvino()  # before loading the model, so that a missing package is said at once
    translator = translation_pipeline(check_model_folder(args.model), refiner=False)
    skipped = []

    def batches():
        for video in args.videos[: args.max_clips]:
            try:
                features = translator.preprocess(video)
            except SignBindInputError as error:
                logger.warning("skipping calibration video %s: %s", video, error)
                skipped.append(video)
                continue
            yield {name: features[name] for name in translator.processor.model_input_names if name in features}

    folder = export_openvino_encoders(translator.model, batches(), args.model, quantize=not args.no_quantize)
    read = min(len(args.videos), args.max_clips) - len(skipped)
    logger.info("wrote %s (calibrated on %d videos; %d skipped)", folder, read, len(skipped))
    return 0
