"""Markdown tables of scores (the evaluation and ablation reports), with the sacrebleu signature as a footnote."""

import math
from collections.abc import Mapping, Sequence

SIGNATURE_KEY = "sacrebleu_signature"

# Column headings for the results.json keys; a key not listed here is shown as it is. "↓": lower is better.
DISPLAY_NAMES = {
    "bleu1": "BLEU-1",
    "bleu4": "BLEU-4",
    "rouge_l": "ROUGE-L",
    "gloss_wer": "gloss WER ↓",
    "word_error_rate": "WER ↓",
    "homonym_accuracy": "homonym acc.",
    "letter_accuracy": "letter acc.",
    "phoneme_error_rate": "PER ↓",
}


def _cell(value: object, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"  # undefined, e.g. homonym accuracy on a split without homonyms
    if isinstance(value, int):  # a step count, a flag
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    # "|" would end the cell early.
    return str(value).replace("|", "\\|")


def markdown_table(
    rows: Mapping[str, Mapping[str, object]],
    *,
    columns: Sequence[str] | None = None,
    digits: int = 1,
    row_header: str = "",
) -> str:
    """Render ``{row_name: {metric: value}}`` as a GitHub Markdown table, the sacrebleu signature as a footnote.

    Columns are ``columns`` if given, else every metric in the order first seen; ``sacrebleu_signature`` is never a
    column: the distinct signatures are printed under the table (one line, or one per group of rows if the rows were
    scored with different settings). Floats get ``digits`` decimals, ``None``/NaN prints ``n/a``, a metric a row lacks
    prints ``–``. Known keys get readable headings (``bleu4`` -> ``BLEU-4``, ``gloss_wer`` -> ``gloss WER ↓``).

    >>> print(markdown_table({"full": {"bleu4": 22.06, "rouge_l": 41.2, "sacrebleu_signature": "nrefs:1|tok:13a"},
    ...                       "no_lip": {"bleu4": 13.6, "rouge_l": None, "sacrebleu_signature": "nrefs:1|tok:13a"}}))
    |        | BLEU-4 | ROUGE-L |
    |--------|-------:|--------:|
    | full   |   22.1 |    41.2 |
    | no_lip |   13.6 |     n/a |
    <BLANKLINE>
    BLEU: sacrebleu signature `nrefs:1|tok:13a`.
    """
    if not rows:
        raise ValueError("`rows` is empty: pass {row_name: {metric: value}} with at least one row")
    for name, metrics in rows.items():
        if not isinstance(metrics, Mapping):
            raise TypeError(f"`rows[{name!r}]` must be a {{metric: value}} mapping, got {type(metrics).__name__}")
    if columns is None:
        columns = list(dict.fromkeys(key for metrics in rows.values() for key in metrics if key != SIGNATURE_KEY))
    else:
        columns = [column for column in columns if column != SIGNATURE_KEY]

    header = [row_header, *(DISPLAY_NAMES.get(column, column) for column in columns)]
    body = [
        [str(name), *(_cell(metrics.get(column, "–"), digits) for column in columns)] for name, metrics in rows.items()
    ]
    widths = [max(len(line[index]) for line in [header, *body]) for index in range(len(header))]

    def render(cells: list[str]) -> str:
        # Padded so that the plain text reads as a table too: row names align left, numbers right.
        padded = [
            cells[0].ljust(widths[0]),
            *(cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)),
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(["-" * (widths[0] + 2), *("-" * (width + 1) + ":" for width in widths[1:])]) + "|"
    lines = [render(header), rule, *(render(line) for line in body)]

    rows_by_signature: dict[str, list[str]] = {}
    for name, metrics in rows.items():
        if metrics.get(SIGNATURE_KEY) is not None:
            rows_by_signature.setdefault(str(metrics[SIGNATURE_KEY]), []).append(str(name))
    if len(rows_by_signature) == 1:
        lines += ["", f"BLEU: sacrebleu signature `{next(iter(rows_by_signature))}`."]
    elif rows_by_signature:
        lines += ["", "BLEU: sacrebleu signatures differ between rows:"]
        lines += [f"- {', '.join(names)}: `{signature}`" for signature, names in rows_by_signature.items()]
    return "\n".join(lines)
