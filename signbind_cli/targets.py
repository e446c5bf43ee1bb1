"""`signbind targets`: Stage-1 training targets from English text: pseudo-gloss, phonemes and fingerspelled letters.

For each sentence: the pseudo-gloss (rules by default, or a local language model with `--glosser llm --model DIR`),
the ARPAbet phonemes of that gloss, the words likely to be fingerspelled and their letters.

Examples:
    signbind targets "I have a few different ones here." "Where did you meet Laurene Simms?"
    signbind targets --input sentences.txt --output targets.jsonl
    signbind targets --input clips.jsonl --output targets.jsonl --glosser llm --model models/my-llm \\
        --gloss-cache runs/gloss_cache.json

`--input` reads a `.jsonl` file as one JSON object per line with a `text` field (the other fields are copied to the
output), and any other file as one sentence per line (blank lines skipped). The output has one JSON object per
sentence: `text`, `gloss`, `phonemes`, `fingerspelled`, `letters`, `glosser`, and `error` where a target could not
be made (that record's failed targets are null); the command then exits with status 1.
"""

import argparse
import json
import logging
import sys
from pathlib import Path

from signbind_cli.argument_types import int_at_least

logger = logging.getLogger(__name__)

GLOSSERS = ("rule", "llm")
JSONL_SUFFIX = ".jsonl"


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "targets",
        help="pseudo-gloss, phonemes and fingerspelled letters of English sentences (Stage 1)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("sentences", nargs="*", help="sentences to process (printed as a readable table)")
    parser.add_argument("--input", type=Path, help="file of sentences: .jsonl with a `text` field, else one per line")
    parser.add_argument("--output", type=Path, help="JSONL file to write (default: standard output)")
    parser.add_argument("--glosser", choices=GLOSSERS, default="rule", help="pseudo-glosser (default: rule)")
    parser.add_argument("--model", help="with --glosser llm: folder (or Hub id) of a causal or chat language model")
    parser.add_argument("--gloss-cache", type=Path, help="with --glosser llm: JSON cache of generated glosses")
    parser.add_argument(
        "--batch-size", type=int_at_least(1), default=8, help="with --glosser llm: sentences per batch (default: 8)"
    )
    parser.set_defaults(handler=main)
    return parser


def read_records(path: Path) -> list[dict]:
    """The input records of ``path`` (see the module docstring), each a dict with a string ``text``."""
    if not path.is_file():
        raise FileNotFoundError(f"--input {path}: no such file")
    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix != JSONL_SUFFIX:
        return [{"text": line.strip()} for line in lines if line.strip()]
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: not valid JSON ({error})") from error
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise ValueError(f"{path}:{number}: expected a JSON object with a string `text` field, got {line[:120]}")
        records.append(record)
    return records


def _glosser(args: argparse.Namespace):
    from signbind_hf.targets import DEFAULT_GLOSSER, LLMGlosser

    if args.glosser == "rule":
        return DEFAULT_GLOSSER
    return LLMGlosser(args.model, batch_size=args.batch_size, cache_path=args.gloss_cache)


def make_targets(records: list[dict], glosser) -> list[dict]:
    """Add the targets to each record (a copy); a record whose targets failed gets an `error` field."""
    from signbind_hf.errors import SignBindInputError
    from signbind_hf.targets import LLMGlosser, fingerspelled_words, letters, phonemes

    texts = [record["text"] for record in records]
    if isinstance(glosser, LLMGlosser):
        glosses = glosser.gloss_batch(texts, on_invalid="none")
        reasons = {failure.sentence: failure.reason for failure in glosser.last_failures}
    else:
        glosses, reasons = glosser.gloss_batch(texts), {}
    results = []
    for record, text, gloss in zip(records, texts, glosses, strict=True):
        spelled = fingerspelled_words(text)
        result = {**record, "gloss": gloss, "phonemes": None, "fingerspelled": spelled}
        result.update(letters=letters(" ".join(spelled)), glosser=glosser.name)
        if gloss is None:
            result["error"] = f"no valid gloss from the model: {reasons.get(text, 'unknown reason')}"
        else:
            try:
                result["phonemes"] = phonemes(gloss)
            except SignBindInputError as error:
                result["error"] = str(error)
        results.append(result)
    return results


def format_table(result: dict) -> str:
    rows = [
        ("text", result["text"]),
        ("gloss", result["gloss"]),
        ("phonemes", result["phonemes"]),
        ("fingerspelled", " ".join(result["fingerspelled"])),
        ("letters", result["letters"]),
    ]
    if "error" in result:
        rows.append(("error", result["error"]))
    return "\n".join(f"{name:<14}{'' if value is None else value}" for name, value in rows)


def main(args: argparse.Namespace) -> int:
    if args.glosser == "llm" and not args.model:
        print("signbind targets: --glosser llm needs --model DIR (a causal or chat language model)", file=sys.stderr)
        return 2
    if args.glosser == "rule" and (args.model or args.gloss_cache):
        print("signbind targets: --model and --gloss-cache only apply to --glosser llm", file=sys.stderr)
        return 2
    if bool(args.sentences) == (args.input is not None):
        print("signbind targets: give sentences on the command line or --input FILE (one of the two)", file=sys.stderr)
        return 2
    try:
        records = read_records(args.input) if args.input is not None else [{"text": text} for text in args.sentences]
    except (OSError, ValueError) as error:
        print(f"signbind targets: {error}", file=sys.stderr)
        return 2
    try:
        results = make_targets(records, _glosser(args))
    except OSError as error:  # a --model that cannot be loaded (missing folder, no Hub access)
        print(f"signbind targets: cannot load --model {args.model}: {error}", file=sys.stderr)
        return 2
    failed = sum("error" in result for result in results)
    if args.input is None and args.output is None:
        print("\n\n".join(format_table(result) for result in results))
    else:
        lines = "".join(json.dumps(result, ensure_ascii=False) + "\n" for result in results)
        if args.output is None:
            sys.stdout.write(lines)
        else:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(lines, encoding="utf-8")
            logger.info("wrote the targets of %d sentences to %s", len(results), args.output)
    if failed:
        logger.error(
            "%d of %d sentences have a target that could not be made (see their `error` field)", failed, len(results)
        )
        return 1
    return 0
