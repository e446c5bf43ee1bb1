"""`signbind smoke`: a mini SynthSign through the real training stages, then save, reload and decode (CPU, ~1 min).

It generates a few SynthSign clips, trains the experts and then the fusion stage with the code `signbind train` runs
(`train_stage`, a fixed number of steps each), checks that each loss falls, reloads the model folder with
`AutoModel` / `AutoProcessor` and checks it holds the trained weights and gives the same logits, and decodes the
training clips with the library's CTC decoding and tokenizers. The summary is written to OUT/smoke.json, the data set
to OUT/data, the stages to OUT/experts and OUT/model (`signbind_hf.training.smoke`).

Example:
    signbind smoke --out runs/smoke --steps 30 --seed 0
"""

import argparse
import logging
from pathlib import Path

from signbind_cli.argument_types import int_at_least, positive_float

logger = logging.getLogger(__name__)

# Enough steps for each loss to fall clearly on four clips, few enough to stay about a minute on a CPU. The fusion
# transformer gets a lower rate than the experts: it fits its frozen inputs more cleanly.
DEFAULT_STEPS = 30
DEFAULT_EXPERTS_LEARNING_RATE = 3e-3
DEFAULT_FUSION_LEARNING_RATE = 1e-3


# Two steps at least: "the loss fell" compares the first steps' losses with the last ones.
STEP_COUNT = int_at_least(2)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "smoke",
        help="train both stages on a mini SynthSign, save, reload and decode (CPU, about a minute)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=Path("runs/smoke"), help="output folder (default: runs/smoke)")
    parser.add_argument(
        "--steps", type=STEP_COUNT, default=DEFAULT_STEPS, help=f"steps per stage (default: {DEFAULT_STEPS})"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the initialisation (default: 0)")
    parser.add_argument(
        "--experts-learning-rate",
        type=positive_float,
        default=DEFAULT_EXPERTS_LEARNING_RATE,
        help=f"learning rate of the experts stage (default: {DEFAULT_EXPERTS_LEARNING_RATE})",
    )
    parser.add_argument(
        "--fusion-learning-rate",
        type=positive_float,
        default=DEFAULT_FUSION_LEARNING_RATE,
        help=f"learning rate of the fusion stage (default: {DEFAULT_FUSION_LEARNING_RATE})",
    )
    parser.set_defaults(handler=main)
    return parser


def main(args: argparse.Namespace) -> int:
    from signbind_hf.training.smoke import SmokeCheckError, run_smoke

    try:
        run_smoke(
            out_dir=args.out,
            steps=args.steps,
            seed=args.seed,
            learning_rates={"experts": args.experts_learning_rate, "fusion": args.fusion_learning_rate},
        )
    except SmokeCheckError as error:
        logger.error("smoke check failed: %s", error)
        return 1
    return 0
