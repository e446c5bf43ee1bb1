"""Entry point of the `signbind` console script: one sub-command per module of `signbind_cli`.

Examples:
    signbind params --preset paper
    signbind smoke --out runs/smoke
"""

import argparse
import importlib.metadata
import logging
import sys
from collections.abc import Sequence

from signbind_cli import (
    ablate,
    app,
    evaluate,
    export_openvino,
    features,
    keypoints,
    params,
    prepare,
    push,
    push_dataset,
    quickstart,
    smoke,
    synth,
    targets,
    train,
    translate,
)

# Each module registers its own sub-command; listed here once, in the order `--help` shows them.
COMMANDS = (
    ablate,
    app,
    evaluate,
    export_openvino,
    features,
    keypoints,
    params,
    prepare,
    push,
    push_dataset,
    quickstart,
    smoke,
    synth,
    targets,
    train,
    translate,
)

DISTRIBUTION = "signbind-hf"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# Exit status of a command refused for bad input (a file, an argument): the one line saying why is logged. argparse
# exits with it too, for bad options.
EXIT_BAD_INPUT = 2

logger = logging.getLogger(__name__)


def _version() -> str:
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "(not installed: run `make venv`)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="signbind",
        description="SignBind-LLM, Hugging Face-native: sign-language video in, English out.",
        epilog="Run `signbind COMMAND --help` for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="INFO", help="logging verbosity (default: INFO)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S"
    )
    try:
        return args.handler(args)
    except Exception as error:
        # signbind_hf is imported inside the commands (so that --help stays instant): where it never was, the error
        # cannot be its SignBindInputError.
        errors = sys.modules.get("signbind_hf.errors")
        if errors is None or not isinstance(error, errors.SignBindInputError):
            raise
        logger.error("%s", " ".join(str(error).split()))
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    raise SystemExit(main())
