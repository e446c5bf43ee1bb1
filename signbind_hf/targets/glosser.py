"""One interface for every pseudo-glosser, and ``pseudo_gloss``, the function the rest of the package calls.

A glosser turns English sentences into pseudo-gloss: upper-case words separated by single spaces ("" when nothing
is left). :class:`~signbind_hf.targets.rule_glosser.RuleGlosser` (deterministic rules, the default) and
:class:`~signbind_hf.targets.llm_glosser.LLMGlosser` (a local language model) both satisfy :class:`Glosser`; so does
any object with these two methods.
"""

from collections import Counter
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from .rule_glosser import RuleGlosser


@runtime_checkable
class Glosser(Protocol):
    name: str  # short identifier, recorded next to targets ("rule", "llm")

    def gloss(self, sentence: str) -> str:
        """The pseudo-gloss of one sentence."""
        ...

    def gloss_batch(self, sentences: Sequence[str]) -> list[str]:
        """The pseudo-glosses of many sentences, in order (batched where the glosser can batch)."""
        ...


DEFAULT_GLOSSER = RuleGlosser()


def pseudo_gloss(sentence: str, glosser: Glosser | None = None) -> str:
    """Upper-case pseudo-gloss of an English sentence: ``"Where did you come from?"`` -> ``"YOU COME FROM WHERE"``.

    ``glosser`` defaults to the rule glosser (offline, deterministic); pass an ``LLMGlosser`` to use a local model.
    """
    return (glosser if glosser is not None else DEFAULT_GLOSSER).gloss(sentence)


def gloss_f1(prediction: str, reference: str) -> float:
    """Bag-of-words F1 of two glosses (words counted with multiplicity, order ignored): how far two glossers agree.

    Two empty glosses agree (1.0); an empty one against a non-empty one scores 0.0.
    """
    predicted, expected = Counter(prediction.split()), Counter(reference.split())
    if not predicted and not expected:
        return 1.0
    matched = sum((predicted & expected).values())
    if matched == 0:
        return 0.0
    return 2 * matched / (sum(predicted.values()) + sum(expected.values()))
