"""`signbind features`: cache the frozen experts' outputs next to a prepared data set, so that the fusion stage
trains without decoding video.

Runs the model's experts once on every clip and stores what the fusion module reads (sign, router, fingerspelling
and lipreading logits, and the face mask) in safetensors shards under DATA/features/<experts fingerprint>/, with a
manifest naming the model and the fingerprint of its expert weights: a cache made by other experts is refused when
loaded. Clips whose video cannot be read are skipped and counted by reason.

Example:
    signbind features --model runs/experts --data data/synthsign --splits train validation --batch-size 8
"""

import argparse
import logging
from pathlib import Path

from signbind_cli.argument_types import int_at_least

logger = logging.getLogger(__name__)

# Mirrors signbind_hf.data.feature_cache.DEFAULT_BATCH_SIZE (not imported: --help must not import torch).
DEFAULT_BATCH_SIZE = 8


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "features",
        help="cache the frozen experts' outputs next to a prepared data set (fusion trains without video)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", type=Path, required=True, help="saved SignBindModel folder (save_pretrained)")
    parser.add_argument("--data", type=Path, required=True, help="prepared data set folder (signbind prepare/synth)")
    parser.add_argument(
        "--processor",
        type=Path,
        default=None,
        help="SignBindProcessor folder, when --model holds none (default: the model's, else rebuilt from --data)",
    )
    parser.add_argument("--splits", nargs="+", default=None, help="splits to cache (default: all)")
    parser.add_argument(
        "--batch-size",
        type=int_at_least(1),
        default=DEFAULT_BATCH_SIZE,
        help=f"clips per forward (default: {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument("--float16", action="store_true", help="store the logits in float16 (half the disk)")
    parser.add_argument(
        "--out", type=Path, default=None, help="cache folder (default: DATA/features/<experts fingerprint>)"
    )
    parser.set_defaults(handler=main)
    return parser


def main(args: argparse.Namespace) -> int:
    import torch

    from signbind_hf.data.feature_cache import cache_expert_outputs, load_model_and_processor, read_manifest

    model, processor = load_model_and_processor(args.model, args.processor, args.data)
    out = cache_expert_outputs(
        model,
        processor,
        args.data,
        out=args.out,
        splits=args.splits,
        batch_size=args.batch_size,
        dtype=torch.float16 if args.float16 else torch.float32,
    )
    manifest = read_manifest(out)
    for split, report in manifest["splits"].items():
        reasons = ", ".join(f"{reason}: {count}" for reason, count in report["reasons"].items())
        logger.info(
            "%s: cached %d, skipped %d%s", split, report["kept"], report["skipped"], f" ({reasons})" if reasons else ""
        )
    logger.info("expert outputs of %s -> %s", args.model, out)
    return 0
