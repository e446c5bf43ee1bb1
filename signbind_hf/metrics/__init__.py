"""Pinned, documented metrics for SignBind-LLM, as plain functions and as offline ``evaluate`` modules.

Scores are in percent. Each function's docstring gives its exact definition and a worked example.

| function | what it scores | definition |
|---|---|---|
| ``bleu`` -> ``BleuScore`` | English translation | sacrebleu corpus BLEU-1 / BLEU-4, tok 13a, cased, exp smoothing, + signature |
| ``rouge_l`` | English translation | rouge_score ROUGE-L F1, no stemming, mean over sentences |
| ``letter_accuracy`` | fingerspelling stream | 100·(N−S−D−I)/N over characters incl. spaces (can be negative) |
| ``phoneme_error_rate`` | lipreading stream | 100·(S+D+I)/N over ARPAbet tokens |
| ``word_error_rate`` | pseudo-gloss streams | 100·(S+D+I)/N over words |
| ``homonym_accuracy`` | fused pseudo-gloss | share of manual-homonym reference glosses aligned to an identical word |

``markdown_table`` renders ``{row: {metric: value}}`` (the evaluation and ablation reports) with the sacrebleu
signature as a footnote. ``module_path(name)`` gives the path of an ``evaluate`` module for ``evaluate.load``:
the Hub's ``evaluate.load("sacrebleu")`` cannot be reached here, these need no network.

This is a package rather than one ``metrics.py`` because the ``evaluate`` scripts must be files of their own, and
they live beside the functions they call so that they install with the package as ordinary ``.py`` files.

>>> from signbind_hf.metrics import bleu, word_error_rate
>>> bleu(["hello there"], ["hello there friend"]).to_dict()  # doctest: +ELLIPSIS
{'bleu1': 60.65..., 'bleu4': 0.0, 'sacrebleu_signature': 'nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:...'}
>>> round(word_error_rate(["HAVE HERE"], ["HAVE DIFFERENT HERE"]), 2)
33.33
"""

from .evaluate_modules import MODULE_NAMES, module_path
from .recognition import canonical_letters, homonym_accuracy, letter_accuracy, phoneme_error_rate, word_error_rate
from .report import markdown_table
from .translation import BleuScore, bleu, rouge_l

__all__ = [
    "MODULE_NAMES",
    "BleuScore",
    "bleu",
    "canonical_letters",
    "homonym_accuracy",
    "letter_accuracy",
    "markdown_table",
    "module_path",
    "phoneme_error_rate",
    "rouge_l",
    "word_error_rate",
]
