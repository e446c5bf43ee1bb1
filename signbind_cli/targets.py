"""`signbind targets`: Stage-1 training targets from English text: pseudo-gloss, phonemes and fingerspelled letters.

For each sentence: the pseudo-gloss (rules by default, or a local language model with `--glosser llm --model DIR`),
the ARPAbet phonemes of that gloss, the words likely to be fingerspelled and their letters.

With `--glosser both`, the two glossers side by side instead: for each sentence the rule gloss, the LLM gloss and
their bag-of-words F1 (`signbind_hf.targets.gloss_f1`), then their mean F1 and how many glosses are identical.

Examples:
    signbind targets "I have a few different ones here." "Where did you meet Laurene Simms?"
    signbind targets --input sentences.txt --output targets.jsonl
    signbind targets --input clips.jsonl --output targets.jsonl --glosser llm --model models/my-llm \\
        --gloss-cache runs/gloss_cache.json
    signbind targets --input sentences.txt --glosser both --model models/my-llm

`--input` reads a `.jsonl` file as one JSON object per line with a `text` field (the other fields are copied to the
output), and any other file as one sentence per line (blank lines skipped). The output has one JSON object per
sentence: `text`, `gloss`, `phonemes`, `fingerspelled`, `letters`, `glosser`, and `error` where a target could not
be made (that record's failed targets are null); the command then exits with status 1. With `--glosser both`, each
object has `text`, `rule`, `llm` and `f1` (null, with an `error`, where the model gave no valid gloss).
"""

import argparse
import json
import logging
import sys
from pathlib import Path

from signbind_cli.argument_types import int_at_least

logger = logging.getLogger(__name__)

GLOSSERS = ("rule", "llm", "both")  # "both": compare the rule and the LLM glosser
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
    parser.add_argument(
        "--glosser", choices=GLOSSERS, default="rule", help="pseudo-glosser, or both to compare them (default: rule)"
    )
    parser.add_argument("--model", help="with --glosser llm or both: folder of a causal or chat language model")
    parser.add_argument("--gloss-cache", type=Path, help="with --glosser llm or both: JSON cache of glosses")
    parser.add_argument(
        "--batch-size",
        type=int_at_least(1),
        default=8,
        help="with --glosser llm or both: sentences per batch (default: 8)",
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


def _llm_glosser(args: argparse.Namespace):
    from signbind_hf.targets import LLMGlosser

    return LLMGlosser(args.model, batch_size=args.batch_size, cache_path=args.gloss_cache)


def _glosser(args: argparse.Namespace):
    from signbind_hf.targets import DEFAULT_GLOSSER

    return DEFAULT_GLOSSER if args.glosser == "rule" else _llm_glosser(args)


def compare_glossers(records: list[dict], llm_glosser) -> list[dict]:
    """``text``, ``rule``, ``llm`` and ``f1`` of each record; an ``error`` where the model gave no valid gloss."""
    from signbind_hf.targets import DEFAULT_GLOSSER, gloss_f1

    texts = [record["text"] for record in records]
    rule_glosses = DEFAULT_GLOSSER.gloss_batch(texts)
    llm_glosses = llm_glosser.gloss_batch(texts, on_invalid="none")
    reasons = {failure.sentence: failure.reason for failure in llm_glosser.last_failures}
    results = []
    for text, rule, llm in zip(texts, rule_glosses, llm_glosses, strict=True):
        result = {"text": text, "rule": rule, "llm": llm, "f1": None if llm is None else gloss_f1(rule, llm)}
        if llm is None:
            result["error"] = f"no valid gloss from the model: {reasons.get(text, 'unknown reason')}"
        results.append(result)
    return results


def comparison_summary(results: list[dict]) -> str:
    """One line: mean F1 and identical glosses over the sentences both glossers glossed."""
    scored = [result for result in results if result["f1"] is not None]
    if not scored:
        return "rule vs llm: no sentence has a valid LLM gloss"
    mean = sum(result["f1"] for result in scored) / len(scored)
    identical = sum(result["rule"] == result["llm"] for result in scored)
    return (
        f"rule vs llm over {len(scored)} sentences: mean bag-of-words F1 {mean:.3f}, "
        f"{identical} identical ({len(results) - len(scored)} without a valid LLM gloss)"
    )


def format_comparison(result: dict) -> str:
    rows = [("text", result["text"]), ("rule", result["rule"]), ("llm", result["llm"]), ("f1", result["f1"])]
    if "error" in result:
        rows.append(("error", result["error"]))
    formatted = [(name, "" if value is None else f"{value:.3f}" if name == "f1" else value) for name, value in rows]
    return "\n".join(f"{name:<14}{value}" for name, value in formatted)


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
    if args.glosser != "rule" and not args.model:
        print(
            f"signbind targets: --glosser {args.glosser} needs --model DIR (a folder with a causal or chat language "
            "model saved by transformers); use --glosser rule for the offline rules",
            file=sys.stderr,
        )
        return 2
    if args.glosser == "rule" and (args.model or args.gloss_cache):
        print("signbind targets: --model and --gloss-cache only apply to --glosser llm or both", file=sys.stderr)
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
        if args.glosser == "both":
            results = compare_glossers(records, _llm_glosser(args))
        else:
            results = make_targets(records, _glosser(args))
    except OSError as error:  # a --model that cannot be loaded (missing folder, no Hub access)
        print(f"signbind targets: cannot load --model {args.model}: {error}", file=sys.stderr)
        return 2
    _write(results, args, format_comparison if args.glosser == "both" else format_table)
    if args.glosser == "both":
        print(comparison_summary(results), file=sys.stderr)
    failed = sum("error" in result for result in results)
    if failed:
        logger.error(
            "%d of %d sentences have a target that could not be made (see their `error` field)", failed, len(results)
        )
        return 1
    return 0


def _write(results: list[dict], args: argparse.Namespace, format_record) -> None:
    """A readable table for sentences given on the command line, else JSONL to --output or standard output."""
    if args.input is None and args.output is None:
        print("\n\n".join(format_record(result) for result in results))
        return
    lines = "".join(json.dumps(result, ensure_ascii=False) + "\n" for result in results)
    if args.output is None:
        sys.stdout.write(lines)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(lines, encoding="utf-8")
        logger.info("wrote the results of %d sentences to %s", len(results), args.output)
