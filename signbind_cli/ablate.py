"""`signbind ablate`: train and score the paper's ablations on the frozen experts of a trained model.

Each fusion variant (no_lip, no_fingerspelling, fusion_concat, fusion_cross_attention, lip_shift_none, lip_shift_5,
lip_shift_10) retrains the fusion module on the same frozen experts; no_fusion and no_llm are scored from the full
model's decoding. Every variant uses the full model's LLM refiner. Writes OUT/ablations.json and OUT/ablations.md
(one row per variant, with its training steps and wall time).

Example:
    signbind ablate --data runs/quickstart/data --experts runs/quickstart/experts \\
        --model runs/quickstart/model --out runs/ablations --variants full no_lip lip_shift_none --num-workers 2 \\
        --fusion-args --num_train_epochs 20 --learning_rate 3e-3
"""

import argparse
from pathlib import Path

from signbind_cli.argument_types import int_at_least

# Mirrors signbind_hf.training.ablations.ALL_VARIANTS (not imported: --help must not import torch).
VARIANTS = (
    "full", "no_lip", "no_fingerspelling", "fusion_concat", "fusion_cross_attention", "lip_shift_none",
    "lip_shift_5", "lip_shift_10", "no_fusion", "no_llm",
)  # fmt: skip


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "ablate",
        help="train and score the paper's ablations (fusion variants on frozen experts)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", type=Path, required=True, help="prepared data set folder")
    parser.add_argument(
        "--experts", type=Path, required=True, help="experts run folder (signbind train --stage experts)"
    )
    parser.add_argument(
        "--model", type=Path, required=True, help="full model folder (fusion on those experts + refiner/)"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for the variants and ablations.json/.md")
    parser.add_argument("--split", default="test", help="split to score (default: test)")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS), help="(default: all)")
    parser.add_argument(
        "--beam-width", type=int_at_least(1), default=None, help="CTC prefix beam search width (default: greedy)"
    )
    parser.add_argument(
        "--num-workers",
        type=int_at_least(1),
        default=1,
        help="processes training variants side by side, one torch thread each (default: 1)",
    )
    parser.add_argument(
        "--fusion-args",
        nargs=argparse.REMAINDER,
        default=[],
        help="signbind train options for every variant's fusion stage (last on the line), e.g. --num_train_epochs 20",
    )
    parser.set_defaults(handler=main)
    return parser


def main(args: argparse.Namespace) -> int:
    from signbind_hf.training.ablations import run_ablations

    results = run_ablations(
        args.data,
        args.out,
        experts_dir=args.experts,
        full_model_dir=args.model,
        variants=args.variants,
        split=args.split,
        fusion_training_overrides=args.fusion_args,
        beam_width=args.beam_width,
        num_workers=args.num_workers,
    )
    print(results["table"])
    return 0
