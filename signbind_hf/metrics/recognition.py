"""Recognition metrics for the CTC streams: letter accuracy, phoneme error rate, pseudo-gloss WER, homonym accuracy.

All four count the edits of a minimal Levenshtein alignment of each prediction against its reference (unit costs:
S substitutions, D deletions, I insertions) and sum them over the corpus before dividing by N, the number of
reference units: a long sentence weighs more than a short one, as in sclite, jiwer and ChicagoFSWild's evaluation.
The alignments come from jiwer (``process_words`` / ``process_characters``, on top of rapidfuzz's C++ Levenshtein),
a dependency already. A reference with no unit is handled here (every predicted unit is an insertion) rather than
left to jiwer, whose treatment of empty references has changed between releases.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from .inputs import check_pairs


@dataclass
class _EditCounts:
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0
    reference_length: int = 0  # N = hits + substitutions + deletions
    # One list of jiwer AlignmentChunks per pair (None where the reference is empty), for the word level only.
    alignments: list = field(default_factory=list)

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions


def _edit_counts(predictions: list[str], references: list[str], unit: str) -> _EditCounts:
    """Sum S, D, I and N over the pairs, aligning ``"words"`` or ``"characters"`` (spaces included) per ``unit``."""
    import jiwer

    # Whitespace runs become one space: jiwer's default transform splits words on " " only (a tab would glue two
    # words), and a doubled space is not a second word boundary for the letter metric either.
    predictions = [" ".join(text.split()) for text in predictions]
    references = [" ".join(text.split()) for text in references]
    if unit == "words":
        process, length = jiwer.process_words, lambda text: len(text.split())
    else:
        process, length = jiwer.process_characters, len

    counts = _EditCounts(alignments=[None] * len(references))
    scored = [index for index, reference in enumerate(references) if reference]
    for index, reference in enumerate(references):
        if not reference:  # nothing to align with: every predicted unit is an insertion
            counts.insertions += length(predictions[index])
    if not scored:
        return counts
    output = process([references[index] for index in scored], [predictions[index] for index in scored])
    counts.substitutions += output.substitutions
    counts.deletions += output.deletions
    counts.insertions += output.insertions
    counts.reference_length = output.hits + output.substitutions + output.deletions
    for index, alignment in zip(scored, output.alignments, strict=True):
        counts.alignments[index] = alignment
    return counts


def _error_rate(counts: _EditCounts, what: str) -> float:
    if counts.reference_length == 0:
        raise ValueError(
            f"`references` hold no {what}, so the rate (S+D+I)/N is undefined (N = 0); pass the clips that have one"
        )
    return 100.0 * counts.errors / counts.reference_length


def canonical_letters(text: str) -> str:
    """The form letter accuracy compares: upper-case words of A-Z separated by one space (``"LAURENE SIMMS"``).

    Accepts every form a fingerspelling string takes in this project: the data set's ``letters`` column
    (``"L A U R E N E | S I M M S"``, ``|`` between words), the letter tokenizer's decoded output
    (``"LAURENE SIMMS"``) and raw text (``"laurene simms"``). It is read by the letter tokenizer's own rule
    (``signbind_hf.targets.fingerspelling.letters``), so the metric sees exactly what the model was trained on:
    accents removed, every character that is not a letter dropped (``"O'Neil"`` -> ``"ONEIL"``, as ChicagoFSWild's
    label processing does), and a text made only of single characters read as one spelled word (``"S I M M S"``
    -> ``"SIMMS"``).

    >>> canonical_letters("L A U R E N E | S I M M S"), canonical_letters("laurene simms")
    ('LAURENE SIMMS', 'LAURENE SIMMS')
    """
    from ..targets.fingerspelling import letters

    return letters(text).replace(" ", "").replace("|", " ")


def letter_accuracy(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Fingerspelling letter accuracy in percent: 100 · (N − S − D − I) / N over characters, spaces included.

    Definition, as in ChicagoFSWild's evaluation (Shi et al., 2018/2019): both sides are put in the canonical form of
    ``canonical_letters`` (upper-case words of A-Z, one space between words; case is normalised), each prediction is
    aligned with its reference by character Levenshtein distance, and S, D, I and N (reference characters, the spaces
    between words included, so a missed word boundary costs one error) are summed over the corpus.

    It is 100 minus the character error rate and CAN BE NEGATIVE: insertions are not bounded by N, so a prediction
    much longer than its reference (``"XYZW"`` for ``"AB"``: 2 S + 2 I over N = 2) scores -100.

    Example (worked out in ``tests/test_metrics.py``): ``"OMAR SMITH"`` has N = 10; ``"OMARSMITH"`` misses the space
    (1 D) and ``"omar smythe"`` has 1 S (I -> Y) and 1 I (E): 100 · (20 − 3) / 20 = 85.

    >>> letter_accuracy(["OMARSMITH", "omar smythe"], ["O M A R | S M I T H", "O M A R | S M I T H"])
    85.0
    """
    predictions, references = check_pairs(predictions, references)
    counts = _edit_counts(
        [canonical_letters(text) for text in predictions],
        [canonical_letters(text) for text in references],
        "characters",
    )
    if counts.reference_length == 0:
        raise ValueError(
            "`references` hold no letter, so letter accuracy is undefined (N = 0); pass fingerspelled clips"
        )
    return 100.0 * (counts.reference_length - counts.errors) / counts.reference_length


def phoneme_error_rate(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Phoneme error rate (PER) in percent: 100 · (S + D + I) / N over space-separated ARPAbet tokens.

    Definition: each side is lower-cased (the lipreading targets are lower-case ARPAbet, ``hh ae v``) and split on
    whitespace; tokens are compared as they are (no stress digits are removed: the targets have none); S, D, I from
    a minimal Levenshtein alignment per pair and N (reference tokens) are summed over the corpus. It can exceed 100.

    >>> round(phoneme_error_rate(["hh eh v m"], ["hh ae v"]), 2)  # 1 S (ae -> eh) + 1 I (m) over N = 3
    66.67
    """
    predictions, references = check_pairs(predictions, references)
    counts = _edit_counts([text.lower() for text in predictions], [text.lower() for text in references], "words")
    return _error_rate(counts, "phoneme")


def word_error_rate(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Word error rate (WER) in percent, for pseudo-gloss: 100 · (S + D + I) / N over whitespace-separated words.

    Definition: each side is upper-cased (pseudo-gloss words are upper-case, and the gloss tokenizer upper-cases too)
    and split on whitespace; S, D, I from a minimal Levenshtein alignment per pair and N (reference words) are summed
    over the corpus, as jiwer's corpus WER does. It can exceed 100.

    >>> word_error_rate(["HAVE HERE", "MILK WATER"], ["HAVE DIFFERENT HERE", "WATER"])  # 1 D + 1 I over N = 4
    50.0
    """
    predictions, references = check_pairs(predictions, references)
    counts = _edit_counts([text.upper() for text in predictions], [text.upper() for text in references], "words")
    return _error_rate(counts, "word")


def homonym_accuracy(predictions: Sequence[str], references: Sequence[str], homonyms: Collection[str]) -> float | None:
    """Accuracy (percent) of the predicted pseudo-gloss on the reference glosses that are manual homonyms.

    Manual homonyms share one manual sign and differ only in the mouthing (SynthSign's
    ``signbind_hf.data.synthsign.HOMONYM_GROUPS``), so this is the number the lipreading expert exists for.

    Definition: words are upper-cased and aligned per pair exactly as in ``word_error_rate``. Every reference word
    found in ``homonyms`` counts once; it is correct when the alignment pairs it with an identical predicted word (a
    hit), wrong when it is substituted or deleted. The result is 100 · correct / count over the corpus. Where several
    minimal alignments exist, jiwer's (rapidfuzz's) choice is the one scored. Returns ``None`` when no reference word
    is a homonym: the accuracy is undefined there, and ``None`` becomes ``null`` in ``results.json`` instead of a NaN
    that is not valid JSON or a 0 that reads as a failure.

    >>> homonym_accuracy(["ME WANT MILK", "TEA GOOD"], ["ME WANT WATER", "TEA GOOD"], {"WATER", "MILK", "TEA"})
    50.0
    """
    predictions, references = check_pairs(predictions, references)
    if isinstance(homonyms, str) or not isinstance(homonyms, Collection):
        raise TypeError(f"`homonyms` must be a set of gloss words, got {type(homonyms).__name__}: {homonyms!r:.100}")
    if not homonyms:
        raise ValueError("`homonyms` is empty: pass the glosses that are manual homonyms, e.g. {'WATER', 'MILK'}")
    for word in homonyms:
        if not isinstance(word, str) or len(word.split()) != 1:
            raise ValueError(f"`homonyms` must hold single gloss words, got {word!r}")
    homonym_set = {word.strip().upper() for word in homonyms}
    references = [text.upper() for text in references]
    counts = _edit_counts([text.upper() for text in predictions], references, "words")
    total = correct = 0
    for reference, alignment in zip(references, counts.alignments, strict=True):
        if alignment is None:  # an empty reference holds no homonym
            continue
        words = reference.split()
        total += sum(word in homonym_set for word in words)
        for chunk in alignment:
            if chunk.type == "equal":
                correct += sum(word in homonym_set for word in words[chunk.ref_start_idx : chunk.ref_end_idx])
    if total == 0:
        return None
    return 100.0 * correct / total
