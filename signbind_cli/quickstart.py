"""`signbind quickstart`: the whole method on a CPU, end to end (what `make demo` runs).

Generates SynthSign (700 clips), trains the experts, then the fusion module on their cached outputs, then the LLM
refiner (a small Llama built and pre-trained locally, LoRA SFT with TRL), evaluates on the test split, runs the main
ablations (no_lip, no_fingerspelling, no_fusion, no_llm, lip_shift_none), prints the tables, and leaves
OUT/model/ (AutoModel, AutoProcessor and pipeline("sign-language-translation") load it) and OUT/results.json.

Example:
    signbind quickstart --out runs/quickstart
"""

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "quickstart",
        help="SynthSign -> experts -> fusion -> LLM refiner -> evaluation -> ablations, on a CPU",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--out", type=Path, default=Path("runs/quickstart"), help="run folder (default: runs/quickstart)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the data set and of every stage (default: 0)")
    parser.set_defaults(handler=main)
    return parser


def main(args: argparse.Namespace) -> int:
    import torch

    from signbind_hf.training.quickstart import QuickstartSettings, run_quickstart, summary

    # Small models on a 2-core machine: one intra-op thread per process (OpenMP workers spin-wait and fight the
    # data loader; see tests/conftest.py).
    torch.set_num_threads(1)
    results = run_quickstart(args.out, QuickstartSettings(seed=args.seed))
    print(summary(results))
    return 0
