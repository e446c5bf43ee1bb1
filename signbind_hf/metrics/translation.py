"""Translation metrics for the English output: corpus BLEU-1/BLEU-4 with sacrebleu, sentence-mean ROUGE-L F1.

Both are pinned here, in one place, because the settings move the numbers: sacrebleu's tokenizer alone moves
How2Sign BLEU-4 by more than 3 points between published papers, and ROUGE-L implementations differ in stemming,
case and the F-measure's beta.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from .inputs import check_pairs

# sacrebleu's BLEU settings, written out even where they are sacrebleu's defaults so that a change of default in a
# later sacrebleu cannot change our numbers silently: 13a tokenisation (the WMT standard, what the SLT papers report),
# cased, exponential smoothing, no effective order (corpus BLEU).
BLEU_SETTINGS = {"tokenize": "13a", "lowercase": False, "smooth_method": "exp", "effective_order": False}


@dataclass(frozen=True)
class BleuScore:
    """Corpus BLEU-1 and BLEU-4 in percent, with the sacrebleu signature that makes them reproducible.

    Attributes:
        bleu1: sacrebleu corpus BLEU with ``max_ngram_order=1`` (unigram precision times the brevity penalty).
        bleu4: sacrebleu corpus BLEU with ``max_ngram_order=4`` (the usual "BLEU").
        signature: sacrebleu's signature string, e.g. ``nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0``.
            It is the same for both orders (sacrebleu leaves the n-gram order out of it).
    """

    bleu1: float
    bleu4: float
    signature: str

    def to_dict(self) -> dict[str, float | str]:
        """The ``results.json`` keys: ``{"bleu1", "bleu4", "sacrebleu_signature"}``."""
        return {"bleu1": self.bleu1, "bleu4": self.bleu4, "sacrebleu_signature": self.signature}


def bleu(predictions: Sequence[str], references: Sequence[str]) -> BleuScore:
    """Corpus-level BLEU-1 and BLEU-4 (percent) of ``predictions`` against one reference each, with sacrebleu.

    Definition: sacrebleu's ``BLEU(tokenize="13a", lowercase=False, smooth_method="exp", effective_order=False)``
    ``.corpus_score(predictions, [references])``, once with ``max_ngram_order=1`` and once with ``4``: the clipped
    n-gram counts are summed over the whole corpus before the precisions are taken, and the brevity penalty uses the
    corpus lengths. It is not the mean of sentence BLEUs. Both numbers are sacrebleu's own ``.score``.

    Example (worked out in ``tests/test_metrics.py``):

    >>> score = bleu(["the cat sat on the mat", "hello there"], ["the cat sat on a mat", "hello there friend"])
    >>> round(score.bleu1, 2), round(score.bleu4, 2)
    (77.22, 49.28)
    >>> score.signature  # doctest: +ELLIPSIS
    'nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2...'
    """
    from sacrebleu.metrics import BLEU

    predictions, references = check_pairs(predictions, references)
    scores = {}
    for order in (1, 4):
        metric = BLEU(max_ngram_order=order, **BLEU_SETTINGS)
        scores[order] = metric.corpus_score(predictions, [references]).score
    return BleuScore(bleu1=float(scores[1]), bleu4=float(scores[4]), signature=str(metric.get_signature()))


def rouge_l(predictions: Sequence[str], references: Sequence[str]) -> float:
    """ROUGE-L F1 (percent) with Google's ``rouge_score``, averaged over sentences.

    Definition: for each pair, ``rouge_score.rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)`` gives the
    longest common subsequence (LCS) of the two token lists, precision = LCS / prediction length, recall =
    LCS / reference length and F1 = their harmonic mean (beta = 1; an empty side scores 0). The result is the mean F1
    over sentences, times 100.

    - Tokens are rouge_score's: lower-cased, every character outside ``a-z0-9`` a separator. So ROUGE-L ignores case
      and punctuation, unlike the cased BLEU, and scores text without Latin letters or digits as empty.
    - Stemming is OFF: the Porter stemmer is English-only, would credit a wrong inflection ("signs" for "sign") that
      BLEU counts as an error, and off is also what ``evaluate.load("rouge")`` does by default, so the number
      compares with the Hugging Face ecosystem's.
    - This is not the ROUGE-L of signjoey / the COCO caption toolkit, which uses an F-measure with beta = 1.2 and
      gives different numbers on the same outputs.

    Example (worked out in ``tests/test_metrics.py``):

    >>> round(rouge_l(["the cat sat on the mat", "hello there"], ["the cat is on the mat", "hello there friend"]), 2)
    81.67
    """
    from rouge_score.rouge_scorer import RougeScorer

    predictions, references = check_pairs(predictions, references)
    scorer = RougeScorer(["rougeL"], use_stemmer=False)
    # RougeScorer.score takes (target, prediction): the reference comes first.
    f1_scores = [
        scorer.score(reference, prediction)["rougeL"].fmeasure
        for prediction, reference in zip(predictions, references, strict=True)
    ]
    return 100.0 * sum(f1_scores) / len(f1_scores)
