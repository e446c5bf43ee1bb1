"""Stage 1 of SignBind-LLM: training targets made from English text, offline.

- :func:`pseudo_gloss` — the sign stream's target: ``"Where did you come from?"`` -> ``"YOU COME FROM WHERE"``
  (rules by default, :class:`LLMGlosser` for a local language model; both are :class:`Glosser`).
- :func:`phonemes` — the lipreading stream's target: ``"HAVE MY OVER FLOW"`` -> ``"hh ae v m ay ow v er f l ow"``.
- :func:`letters` — the fingerspelling stream's target: ``"laurene simms"`` -> ``"L A U R E N E | S I M M S"``.
- :func:`fingerspelled_words` — the words of a sentence a signer would likely fingerspell.
- :func:`signed_words` — the sign expert's target: the pseudo-gloss without its fingerspelled words.
- :func:`spelled_word_slots` — the fusion's target: each fingerspelled word of the pseudo-gloss marked ``[FS]``.
- :func:`gloss_targets` — both of them for a model with a letter expert, the whole pseudo-gloss for one without.
- :func:`gloss_f1` — bag-of-words F1 of two glosses, to compare glossers.

Example:

```python
>>> from signbind_hf.targets import fingerspelled_words, letters, phonemes, pseudo_gloss
>>> sentence = "Yesterday I met Laurene Simms at the FBI."
>>> gloss = pseudo_gloss(sentence)  # 'YESTERDAY I MEET LAURENE SIMMS FBI'
>>> phonemes(gloss)  # 'y eh s t er d ey m iy m eh t ...'
>>> letters(" ".join(fingerspelled_words(sentence)))  # 'L A U R E N E | S I M M S | F B I'
```

Each module's docstring states its rules and their limits.
"""

from .fingerspelling import fingerspelled_words, gloss_targets, letters, signed_words, spelled_word_slots
from .glosser import DEFAULT_GLOSSER, Glosser, gloss_f1, pseudo_gloss
from .llm_glosser import GlossFailure, InvalidGlossError, LLMGlosser, parse_gloss_output
from .pronunciation import phonemes
from .rule_glosser import RuleGlosser

__all__ = [
    "DEFAULT_GLOSSER",
    "GlossFailure",
    "Glosser",
    "InvalidGlossError",
    "LLMGlosser",
    "RuleGlosser",
    "fingerspelled_words",
    "gloss_f1",
    "gloss_targets",
    "letters",
    "parse_gloss_output",
    "phonemes",
    "pseudo_gloss",
    "signed_words",
    "spelled_word_slots",
]
