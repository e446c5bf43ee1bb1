"""Fingerspelling targets: the letters of a word or phrase, and a rule-based guess of which words are fingerspelled.

``letters("laurene simms")`` -> ``"L A U R E N E | S I M M S"``: the letter stream's tokens, produced by the letter
tokenizer itself (``SignBindCTCTokenizer.for_letters().tokenize``), so target and tokenizer cannot disagree. Like
ChicagoFSWild's ``label_proc``, whitespace separates words, accents are removed (``José`` -> ``J O S E``) and every
other character that is not a letter (digits, apostrophes, hyphens, dots, other scripts) is dropped. One quirk comes
with that tokenizer's accepted forms: a text made only of single characters (``"S I M M S"``) is read as the letters
of one word.

``fingerspelled_words(sentence)`` returns, in order and as written (possessive and contraction endings removed:
``John's`` -> ``John``), the words ASL signers are likely to fingerspell, by these rules:

1. **Acronyms**: two or more letters, all capitals (``FBI``, ``ASL``, ``MP3``), or a dotted abbreviation in capitals
   (``U.S.``).
2. **Proper nouns** from capitalisation: a word with a capital letter that is not all capitals (``Laurene``,
   ``McDonald``, ``iPhone``), or a single capital letter other than *I* (``Plan B``), unless the capital only marks
   the start of a sentence or quotation: such a word counts only if CMUdict does not know it or the same word is
   capitalised elsewhere in the text. Days of the week are left out (ASL has signs for them).
3. **Out-of-dictionary words**: a word of letters that CMUdict (126k words, names included) does not know, nor its
   base form (``lemmas.base_form``: ``startings`` is an inflection of *start*), accents removed (``zorblax``,
   ``activationist``); a mix of letters and digits (``3D``, ``mp3``) counts only as an acronym.
Numbers are never included (they are signed), nor words without a Latin letter (they cannot be fingerspelled with
the manual alphabet).

Capitalisation is ignored when it carries no information: a text without any lower-case letter (captions in
capitals), or one in title case (a function word such as *the*, *of* or *is* capitalised mid-sentence).

Limits, known and accepted: names at the start of a sentence that CMUdict knows (it lists many first names:
"John went home") are missed; names that have an established sign (countries, big cities, *America*) are flagged;
technical terms in CMUdict (``photosynthesis``) are not; a lower-cased caption loses every proper-noun cue; whether
a signer fingerspells a given word also depends on the signer and the context, which no rule sees.
"""

import functools

from ..constants import SPELLED_WORD_TOKEN
from .lemmas import base_form
from .pronunciation import cmu_dictionary
from .text import Sentence, Token, TokenKind, plain_latin, split_sentences, strip_accents
from .words import TITLE_CASE_MARKERS, WEEKDAYS

_CLITICS = ("n't", "'s", "'re", "'m", "'ll", "'ve", "'d")


@functools.cache
def _letter_tokenizer():
    from ..tokenization_signbind import SignBindCTCTokenizer

    return SignBindCTCTokenizer.for_letters()


def letters(text: str) -> str:
    """Space-separated capitals A-Z of ``text``, ``|`` between words; "" when ``text`` has no letter."""
    if not isinstance(text, str):
        raise TypeError(f"`text` must be a string, got {type(text).__name__}: {text!r:.100}")
    return " ".join(_letter_tokenizer().tokenize(text))


def _strip_clitics(word: str) -> str:
    """``John's`` -> ``John``, ``I'm`` -> ``I``, ``students'`` -> ``students``; other words unchanged."""
    word = word.rstrip("'")
    lower = word.lower()
    for clitic in _CLITICS:
        if lower.endswith(clitic) and len(lower) > len(clitic):
            return word[: -len(clitic)]
    return word


def _in_dictionary(word: str) -> bool:
    """CMUdict knows the word, or its base form (``startings`` -> *start*: an inflection, not a coined word)."""
    dictionary = cmu_dictionary()
    plain = plain_latin(word)
    return plain in dictionary or plain.replace("'", "") in dictionary or base_form(plain) in dictionary


def _has_latin_letter(word: str) -> bool:
    return any("a" <= char <= "z" for char in plain_latin(word))


def _capitalisation_is_informative(tokens: list[Token]) -> bool:
    words = [token for token in tokens if token.kind is TokenKind.WORD]
    if not any(char.islower() for token in words for char in token.text):
        return False  # all capitals
    # Single letters do not count: "an A", "Plan B" are letters, not title-case function words.
    title_case = any(
        not token.sentence_initial
        and len(token.text) > 1
        and token.text[0].isupper()
        and token.text.lower() in TITLE_CASE_MARKERS
        for token in words
    )
    return not title_case


def _is_acronym(word: str) -> bool:
    letters_only = [char for char in strip_accents(word) if char.isalpha()]
    return len(letters_only) >= 2 and all(char.isupper() for char in letters_only)


def _is_capitalised(word: str) -> bool:
    """A capital that may mark a name: ``Laurene``, ``McDonald``, ``iPhone``, ``B`` (not ``I``, not all capitals)."""
    if word == "I":
        return False
    has_upper = any(char.isupper() for char in word)
    return has_upper and (len(word) == 1 or any(char.islower() for char in word))


def _is_fingerspelled(token: Token, informative: bool, capitalised_mid_sentence: set[str]) -> bool:
    if token.kind is TokenKind.ACRONYM:
        return informative and _is_acronym(token.text)
    if token.kind is not TokenKind.WORD:
        return False
    word = _strip_clitics(token.text)
    if not _has_latin_letter(word) or word.isdigit():
        return False
    lower = word.lower()
    if informative and _is_acronym(word):
        return True
    if informative and _is_capitalised(word) and lower not in WEEKDAYS:
        return not token.sentence_initial or lower in capitalised_mid_sentence or not _in_dictionary(word)
    return word.replace("'", "").isalpha() and not _in_dictionary(word)


def fingerspelled_flags(sentences: list[Sentence]) -> list[list[bool]]:
    """For each token of each sentence (``text.split_sentences``), whether it is likely fingerspelled.

    The pseudo-glosser reads these to keep names as written; ``fingerspelled_words`` lists the flagged words.
    """
    tokens = [token for parsed in sentences for token in parsed.tokens]
    informative = _capitalisation_is_informative(tokens)
    capitalised_mid_sentence = {
        _strip_clitics(token.text).lower()
        for token in tokens
        if token.kind is TokenKind.WORD and not token.sentence_initial and _is_capitalised(_strip_clitics(token.text))
    }
    return [
        [_is_fingerspelled(token, informative, capitalised_mid_sentence) for token in parsed.tokens]
        for parsed in sentences
    ]


def fingerspelled_words(sentence: str) -> list[str]:
    """Words of ``sentence`` that are likely fingerspelled, in order, as written; see the module docstring."""
    sentences = split_sentences(sentence)
    return [
        token.text if token.kind is TokenKind.ACRONYM else _strip_clitics(token.text)
        for parsed, flags in zip(sentences, fingerspelled_flags(sentences), strict=True)
        for token, flagged in zip(parsed.tokens, flags, strict=True)
        if flagged
    ]


def _spelling_key(word: str) -> str:
    return "".join(char for char in plain_latin(word).upper() if char.isalnum())


def _split_spelled(gloss: str, spelled: list[str] | tuple[str, ...]) -> list[tuple[str, bool]]:
    """Each gloss word with whether it is one of ``spelled`` (each spelled word claims one gloss word)."""
    remaining = [_spelling_key(word) for word in spelled]
    words = []
    for word in gloss.split():
        key = _spelling_key(word)
        is_spelled = bool(key) and key in remaining
        if is_spelled:
            remaining.remove(key)
        words.append((word, is_spelled))
    return words


def signed_words(gloss: str, spelled: list[str] | tuple[str, ...]) -> str:
    """``gloss`` without its fingerspelled words: the words the hands sign, which the sign expert learns to read.

    Each word of ``spelled`` (``fingerspelled_words`` of the sentence) removes one matching gloss word, compared by
    letters and digits only, so ``Omar`` removes ``OMAR`` and ``U.S.`` removes ``US``. A fingerspelled word has no
    sign: reading it is the letter expert's job, and the fusion module puts it back from the letter stream.

    >>> signed_words("OUR DOCTOR OMAR SMITH", ["Omar", "Smith"])
    'OUR DOCTOR'
    """
    return " ".join(word for word, is_spelled in _split_spelled(gloss, spelled) if not is_spelled)


def spelled_word_slots(gloss: str, spelled: list[str] | tuple[str, ...]) -> str:
    """``gloss`` with each fingerspelled word replaced by ``[FS]``: the fusion module's target when the model has a
    letter expert. The fusion says where a spelled word goes; the letter stream says which word it is
    (``SignBindProcessor.batch_decode`` puts it in), so a name never seen in training can still be read.

    >>> spelled_word_slots("OUR DOCTOR OMAR SMITH", ["Omar", "Smith"])
    'OUR DOCTOR [FS] [FS]'
    """
    return " ".join(SPELLED_WORD_TOKEN if is_spelled else word for word, is_spelled in _split_spelled(gloss, spelled))


def gloss_targets(gloss: str, spelled: list[str] | tuple[str, ...], letter_expert: bool) -> tuple[str, str]:
    """``(fusion target, sign expert target)`` of a clip whose pseudo-gloss is ``gloss`` and whose sentence
    fingerspells ``spelled``.

    With a letter expert, each expert learns its own channel: the sign expert the signed words only
    (``signed_words``), the fusion the pseudo-gloss with each fingerspelled word marked ``[FS]``
    (``spelled_word_slots``). Without one, both learn the whole pseudo-gloss, spelled words included.
    """
    if not letter_expert:
        return gloss, gloss
    return spelled_word_slots(gloss, spelled), signed_words(gloss, spelled)
