"""`signbind synth`: generate SynthSign, the procedural sign-language benchmark, deterministically from a seed.

A rendered 2-D signer signs English template sentences through their pseudo-gloss: lexical signs (some told apart
only by the mouthing), fingerspelled names, mouthing lagging the hands by a per-clip offset, and rest between signs.
Writes mp4 clips, per-frame segment labels and face boxes, a data set card and a `datasets.DatasetDict` (splits
train, validation, test) that `datasets.load_from_disk(OUT)` reads. A clip costs about 70 ms of CPU (drawing and
H.264 encoding), spread over the worker processes: the default 700 clips take well under a minute on 2 free cores.

Example:
    signbind synth --out data/synthsign --seed 0 --num-train 200 --num-val 50 --num-test 50
"""

import argparse
import logging
from pathlib import Path

from signbind_cli.argument_types import int_at_least

logger = logging.getLogger(__name__)

# Mirrors signbind_hf.data.synthsign.builder's defaults (not imported: --help must not import signbind_hf); a test
# checks that the two agree.
DEFAULT_NUM_TRAIN = 500
DEFAULT_NUM_VALIDATION = 100
DEFAULT_NUM_TEST = 100


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "synth",
        help="generate SynthSign, the procedural sign-language benchmark (deterministic by seed)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, required=True, help="data set folder to create (must not exist)")
    parser.add_argument("--seed", type=int_at_least(0), default=0, help="seed of everything generated (default: 0)")
    parser.add_argument(
        "--num-train",
        type=int_at_least(0),
        default=DEFAULT_NUM_TRAIN,
        help=f"train examples (default: {DEFAULT_NUM_TRAIN})",
    )
    parser.add_argument(
        "--num-val",
        type=int_at_least(0),
        default=DEFAULT_NUM_VALIDATION,
        help=f"validation examples (default: {DEFAULT_NUM_VALIDATION})",
    )
    parser.add_argument(
        "--num-test",
        type=int_at_least(0),
        default=DEFAULT_NUM_TEST,
        help=f"test examples (default: {DEFAULT_NUM_TEST})",
    )
    parser.add_argument(
        "--workers",
        type=int_at_least(1),
        default=None,
        help="processes rendering clips (default: one per core, at most 2)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace --out if it exists (once the new one is done)"
    )
    parser.set_defaults(handler=main)
    return parser


def main(args: argparse.Namespace) -> int:
    from signbind_hf.data.synthsign import generate_synthsign

    if args.out.exists() and not args.overwrite:
        logger.error("--out %s already exists: choose a new folder, or pass --overwrite to replace it", args.out)
        return 2
    dataset = generate_synthsign(
        args.out,
        seed=args.seed,
        num_train=args.num_train,
        num_validation=args.num_val,
        num_test=args.num_test,
        num_workers=args.workers,
        overwrite=args.overwrite,
    )
    logger.info("wrote %s", ", ".join(f"{split}: {len(rows)} examples" for split, rows in dataset.items()))
    return 0
