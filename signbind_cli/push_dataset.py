"""`signbind push-dataset`: upload a data set made by `signbind prepare` to the Hugging Face Hub, with its card.

The card (README.md) is generated from hub_cards/dataset_card.md: what the corpus is, the format, how it was made
(the prepare report), split sizes and the source's licence. Videos are not uploaded: rows keep their local paths.
`--dry-run` prints the card and the files a push would upload, without a token or network.

Examples:
    signbind push-dataset data/how2sign --repo-id my-org/how2sign-signbind --private
    signbind push-dataset data/how2sign --repo-id my-org/how2sign-signbind --dry-run
"""

import argparse
import logging
from pathlib import Path

logger = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "push-dataset",
        help="upload a prepared data set and its card to the Hugging Face Hub",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("folder", type=Path, help="data set folder written by `signbind prepare`")
    parser.add_argument("--repo-id", required=True, help="Hub data set repository, ORG/NAME")
    parser.add_argument("--private", action="store_true", help="create the repository private")
    parser.add_argument("--token", help="Hugging Face token with write access (default: HF_TOKEN or `hf auth login`)")
    parser.add_argument("--dry-run", action="store_true", help="print the card and the file list; upload nothing")
    parser.set_defaults(handler=main)
    return parser


def main(args: argparse.Namespace) -> int:
    from signbind_hf.data.hub import DatasetPushError, dataset_card, files_to_upload, push_dataset

    try:
        if args.dry_run:
            card = dataset_card(args.folder)
            print(f"{card}\n\nwould upload to {args.repo_id}:\n" + "\n".join(files_to_upload(args.folder)))
            return 0
        url = push_dataset(args.folder, args.repo_id, private=args.private, token=args.token)
    except DatasetPushError as error:
        logger.error("%s", error)
        return 2
    print(f"pushed {args.folder} -> {url}")
    return 0
