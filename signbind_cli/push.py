"""`signbind push`: publish a trained model folder on the Hugging Face Hub, with its model card.

What is uploaded is one staged folder: config.json (with its auto_map), the safetensors weights, the remote code
(model, processor and pipeline), the processor files, refiner/ when the model has one, results.json, and README.md,
the model card (metadata, model-index from results.json, intended use, limitations, training data, how to use, the
ethical considerations of sign-language technology). `--dry-run OUT_DIR` writes that exact folder and uploads
nothing; without it the folder is staged in a temporary directory and uploaded as it is. Pickle weights are refused.

Examples:
    signbind push --model runs/quickstart/model --repo-id my-org/signbind-synthsign \\
        --results runs/quickstart/results.json --dry-run runs/quickstart/hub
    signbind push --model runs/how2sign/model --repo-id my-org/signbind-how2sign --dataset my-org/how2sign \\
        --results runs/how2sign/results.json --license cc-by-nc-4.0 --private
"""

import argparse
import logging
from pathlib import Path

logger = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "push",
        help="upload a trained model, its code and its model card to the Hugging Face Hub",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", type=Path, required=True, help="model folder (config.json, model.safetensors, ...)")
    parser.add_argument("--repo-id", required=True, help="Hub model repository, ORG/NAME")
    parser.add_argument("--private", action="store_true", help="create the repository private")
    parser.add_argument(
        "--dry-run",
        type=Path,
        metavar="OUT_DIR",
        help="write the exact folder a push would upload into OUT_DIR (new or empty) and upload nothing",
    )
    parser.add_argument("--token", help="Hugging Face token with write access (default: HF_TOKEN or `hf auth login`)")
    parser.add_argument("--commit-message", help="message of the upload commit")
    parser.add_argument(
        "--results",
        type=Path,
        help="results.json of `signbind evaluate` for the card's model-index (default: the model folder's own)",
    )
    parser.add_argument(
        "--dataset",
        action="append",
        dest="datasets",
        metavar="ID",
        help="a training data set (Hub id or name; repeatable; the first is the one --results were measured on). "
        "Default: SynthSign when the model's gloss vocabulary is SynthSign's",
    )
    parser.add_argument(
        "--license",
        help="licence of the weights (Hub licence id); default apache-2.0 for a SynthSign-only model, else 'other': "
        "a model's licence follows its training data and the refiner's base model",
    )
    parser.set_defaults(handler=main)
    return parser


def main(args: argparse.Namespace) -> int:
    from signbind_hf.hub import HubPushError, push_model, stage_model

    options = {"results": args.results, "datasets": args.datasets, "license": args.license}
    try:
        if args.dry_run is not None:
            staged = stage_model(args.model, args.dry_run, repo_id=args.repo_id, **options)
            print(
                f"{_listing(staged)}\nwritten to {args.dry_run}; nothing uploaded (a push would go to {args.repo_id})"
            )
            return 0
        url, staged = push_model(
            args.model,
            args.repo_id,
            private=args.private,
            token=args.token,
            commit_message=args.commit_message,
            **options,
        )
    except HubPushError as error:
        logger.error("%s", error)
        return 2
    print(f"{_listing(staged)}\npushed {args.model} -> {url}")
    return 0


def _listing(staged: list) -> str:
    """One line per file, its size in bytes right-aligned, then the totals."""
    width = max(len(f"{file.size:,}") for file in staged)
    lines = [f"{file.size:>{width},}  {file.path}" for file in staged]
    return "\n".join([*lines, f"{len(staged)} files, {sum(file.size for file in staged):,} bytes"])
