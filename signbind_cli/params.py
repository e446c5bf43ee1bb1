"""`signbind params`: the parameter budget of the visual model per part, counted on the meta device.

Building on the meta device allocates no memory and loads no weights, so even the paper's ~200 M-parameter model is
counted in about a second.

Example:
    signbind params --preset paper
"""

import argparse

# Restated from `signbind_hf.configuration_signbind.PRESETS` because importing that module imports transformers;
# tests/test_cli.py checks that both agree.
PRESETS = ("paper", "cpu", "tiny")
# The SignBind-LLM paper's sizes in millions (DINOv2 backbone + sign/fingerspelling heads, lip ViT, fusion transformer).
PAPER_MILLIONS = {"manual": 101.1, "lip": 62.5, "fusion": 33.9, "total": 197.5}
PARTS = ("manual", "lip", "fusion", "total")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "params",
        help="print the parameter breakdown (manual / lip / fusion / total) of a preset",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--preset", choices=PRESETS, default="paper", help="model preset (default: paper)")
    parser.set_defaults(handler=main)
    return parser


def format_breakdown(breakdown: dict[str, int], preset: str) -> str:
    """A plain-text table of `SignBindModel.parameter_breakdown()`, with the paper's sizes beside the paper preset."""
    missing = [part for part in PARTS if part not in breakdown]
    if missing:
        raise ValueError(f"parameter breakdown must have the parts {PARTS}, missing {missing} in {breakdown}")
    with_paper = preset == "paper"
    header = f"{'part':<8}{'millions':>10}{'exact':>15}" + (f"{'paper (M)':>11}" if with_paper else "")
    lines = [f"SignBind parameters, preset {preset!r}", header, "-" * len(header)]
    for part in PARTS:
        count = breakdown[part]
        line = f"{part:<8}{count / 1e6:>10.2f}{count:>15,}"
        if with_paper:
            line += f"{PAPER_MILLIONS[part]:>11.1f}"
        lines.append(line)
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    import torch

    from signbind_hf import SignBindConfig, SignBindModel

    config = SignBindConfig.from_preset(args.preset)
    with torch.device("meta"):
        model = SignBindModel(config)
    # The table is this command's output (stdout, so it can be piped); progress and diagnostics go to logging.
    print(format_breakdown(model.parameter_breakdown(), args.preset))
    return 0
