"""Splitting English text into sentences, clauses and tokens: the one tokeniser every Stage-1 target builds on.

Both the pseudo-glosser and the fingerspelling detector need the same facts about a word: where it stands (first
word of a sentence or after an opening quote, so its capital letter says nothing), which clause holds it (commas,
semicolons, colons, dashes, brackets and quotes end one) and whether its sentence is a question. Keeping them in one
place means both read a sentence the same way.

The text is NFKC-normalised first (full-width letters, ligatures such as "ﬁ" and compatibility digits become their
plain forms), and typographic apostrophes and quotes are straightened, so "don’t" and "don't" are the same word.
"""

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum


class TokenKind(Enum):
    WORD = "word"  # letters and digits, inner apostrophes: "don't", "O'Brien", "MP3", "1st"
    NUMBER = "number"  # digits only, with thousands commas or a decimal point: "25", "1,000", "3.5"
    ACRONYM = "acronym"  # a dotted abbreviation: "U.S.", "e.g."
    SYMBOL = "symbol"  # "$", "%", "&"


@dataclass(frozen=True)
class Token:
    text: str  # as written, after normalisation (apostrophes straightened)
    kind: TokenKind
    clause: int  # index of the clause within its sentence
    sentence_initial: bool  # first token of a sentence, or the first after an opening quote


@dataclass(frozen=True)
class Sentence:
    tokens: tuple[Token, ...]
    is_question: bool  # ended by "?"


# Typographic apostrophes (’ ‘ ʼ ′) and the backtick stand for the ASCII apostrophe in contractions and names.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "`": "'"})
_DOUBLE_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"'})

# A "." after these titles ends an abbreviation, not a sentence ("Dr. Smith", "vs. Chicago"). Only words that are
# (almost) never sentence-final: "etc." and "no." often end a sentence, so they are not here.
ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "mt"})

# One known limit: a dotted acronym takes its final dot, so "... in the U.S. Then ..." does not end a sentence there.
_SCANNER = re.compile(
    r"""
    (?P<acronym>(?:[^\W\d_]\.){2,})                                     # U.S.A.  e.g.
  | (?P<number>(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+)(?![^\W_]))     # 1,000  3.5  (plain "25" is a word run)
  | (?P<word>[^\W_]+(?:'[^\W_]+)*'?)                                     # don't  O'Brien  students'  MP3  25
  | (?P<symbol>[$%&])
  | (?P<end>[.?!\u2026]+)                                                # sentence end (… included)
  | (?P<open_quote>"(?=[^\W_]))                                          # a quote glued to the next word opens
  | (?P<pause>[,;:"()\[\]{}\u2013\u2014])                                # clause boundaries
    """,
    re.VERBOSE,
)


def normalize_text(text: str) -> str:
    """NFKC, straight apostrophes and quotes."""
    return unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).translate(_DOUBLE_QUOTES)


def strip_accents(text: str) -> str:
    """``José`` -> ``Jose``, ``Zürich`` -> ``Zurich``: NFKD splits a letter from its accent, which is then dropped.

    Letters with no decomposition (``ø``, ``ł``, other scripts) are kept as they are.
    """
    return "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))


# Latin letters that NFKD does not split into a base letter and an accent.
_UNDECOMPOSABLE_LETTERS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "ð": "d", "þ": "th", "đ": "d", "ı": "i", "ħ": "h"}
)


def plain_latin(word: str) -> str:
    """Lower case, accents removed, ø æ œ ł ð þ đ ı ħ spelled with plain letters: ``ZÜRICH`` -> ``zurich``.

    Characters of other scripts stay as they are; the caller decides what a word without a-z means.
    """
    return strip_accents(word.casefold().translate(_UNDECOMPOSABLE_LETTERS))


def split_sentences(text: str, argument: str = "sentence") -> list[Sentence]:
    """Tokenise ``text`` into sentences of tokens; hyphens and every other character not matched above separate words.

    ``argument`` names the caller's argument in the error for a non-string.
    """
    if not isinstance(text, str):
        raise TypeError(f"`{argument}` must be a string, got {type(text).__name__}: {text!r:.100}")
    sentences: list[Sentence] = []
    tokens: list[Token] = []
    clause = 0
    next_is_initial = True

    def close(is_question: bool) -> None:
        nonlocal tokens, clause, next_is_initial
        if tokens:
            sentences.append(Sentence(tuple(tokens), is_question))
        tokens, clause, next_is_initial = [], 0, True

    for match in _SCANNER.finditer(normalize_text(text)):
        group, value = match.lastgroup, match.group()
        if group == "end":
            previous = tokens[-1] if tokens else None
            after_abbreviation = (
                value == "." and previous is not None and previous.text.lower().rstrip("'") in ABBREVIATIONS
            )
            if not after_abbreviation:
                close(is_question="?" in value)
        elif group == "pause":
            clause += 1
        elif group == "open_quote":
            clause += 1
            next_is_initial = True
        else:
            kind = {"acronym": TokenKind.ACRONYM, "number": TokenKind.NUMBER, "symbol": TokenKind.SYMBOL}.get(
                group, TokenKind.WORD
            )
            if kind is TokenKind.WORD and value.isdigit():
                kind = TokenKind.NUMBER
            tokens.append(Token(value, kind, clause, next_is_initial))
            next_is_initial = False
    close(is_question=False)
    return sentences
