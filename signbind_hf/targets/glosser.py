"""One interface for every pseudo-glosser, and ``pseudo_gloss``, the function the rest of the package calls.

A glosser turns English sentences into pseudo-gloss: upper-case words separated by single spaces ("" when nothing
is left). :class:`~signbind_hf.targets.rule_glosser.RuleGlosser` (deterministic rules, the default) and
:class:`~signbind_hf.targets.llm_glosser.LLMGlosser` (a local language model) both satisfy :class:`Glosser`; so does
any object with these two methods.
"""

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
