"""`signbind evaluate`: score a trained model on a split of a prepared data set.

Decodes every stream (sign expert, fingerspelling, lip, fused pseudo-gloss), translates the fused pseudo-gloss with
the model folder's LLM refiner (`refiner/`), and writes OUT/results.json and OUT/results.md: BLEU-1/4 (sacrebleu,
13a, cased, with its signature), ROUGE-L F1, pseudo-gloss WER, homonym and name accuracy, fingerspelling letter
accuracy, phoneme error rate; per stream, plus the two ablations that need no training (no_fusion, no_llm).

Example:
    signbind evaluate --model runs/quickstart/model --data runs/quickstart/data --split test --out runs/eval
"""

import argparse
import logging
from pathlib import Path

from signbind_cli.argument_types import int_at_least

logger = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "evaluate",
        help="score a trained model on a data set split (results.json + a Markdown table)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", type=Path, required=True, help="trained model folder (with refiner/ inside)")
    parser.add_argument("--data", type=Path, required=True, help="prepared data set folder (signbind prepare/synth)")
    parser.add_argument("--split", default="test", help="split to score (default: test)")
    parser.add_argument("--out", type=Path, required=True, help="folder for results.json and results.md")
    parser.add_argument("--batch-size", type=int_at_least(1), default=8, help="clips per forward (default: 8)")
    parser.add_argument(
        "--beam-width",
        type=int_at_least(1),
        default=None,
        help="CTC prefix beam search width (default: the model's ctc_beam_width, else greedy)",
    )
    parser.add_argument("--max-examples", type=int_at_least(1), default=None, help="score only the first N rows")
    parser.add_argument(
        "--backbone-frame-stride",
        type=int_at_least(1),
        default=None,
        metavar="K",
        help="score with the frame encoder on every K-th frame, its features held in between (default: the model's "
        "setting, every frame)",
    )
    parser.add_argument("--device", default=None, help="torch device (default: cpu)")
    parser.set_defaults(handler=main)
    return parser


def main(args: argparse.Namespace) -> int:
    from signbind_hf.metrics import markdown_table
    from signbind_hf.training.evaluation import RESULTS_FILE, evaluate_model

    results = evaluate_model(
        args.model,
        args.data,
        args.split,
        args.out,
        batch_size=args.batch_size,
        beam_width=args.beam_width,
        max_examples=args.max_examples,
        device=args.device,
        backbone_frame_stride=args.backbone_frame_stride,
    )
    print(markdown_table(results["streams"], row_header="stream"))
    print()
    print(markdown_table(results["ablations"], row_header="variant"))
    logger.info("wrote %s", args.out / RESULTS_FILE)
    return 0
