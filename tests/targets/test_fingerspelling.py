"""Fingerspelling targets: letters (agreeing with the letter tokenizer) and the rule-based fingerspelling detector."""

import pytest

from signbind_hf import SignBindCTCTokenizer
from signbind_hf.constants import LETTERS, WORD_BOUNDARY_TOKEN
from signbind_hf.targets import (
    fingerspelled_words,
    gloss_targets,
    letters,
    pseudo_gloss,
    signed_words,
    spelled_word_slots,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("laurene simms", "L A U R E N E | S I M M S"),  # ChicagoFSWild's label_proc form
        ("Laurene  Simms", "L A U R E N E | S I M M S"),
        ("José", "J O S E"),
        ("ZÜRICH", "Z U R I C H"),
        ("O'Brien", "O B R I E N"),
        ("warm-up", "W A R M U P"),  # a hyphen joins, like an apostrophe (only whitespace separates words)
        ("3 dogs!", "D O G S"),
        ("U.S.", "U S"),
        ("L A U R E N E | S I M M S", "L A U R E N E | S I M M S"),  # the spaced form reads back unchanged
        ("S I M M S", "S I M M S"),  # single characters only: the letters of one word
    ],
)
def test_letters(text, expected):
    assert letters(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "123 456", "?!", "東京"])
def test_letters_of_text_without_letters_is_empty(text):
    assert letters(text) == ""


def test_letters_uses_only_capitals_and_the_word_boundary():
    result = letters("Hello, wörld of Åsa & Bob's café 42").split()
    assert set(result) <= {*LETTERS, WORD_BOUNDARY_TOKEN}
    assert result.count(WORD_BOUNDARY_TOKEN) == 5


@pytest.mark.parametrize("text", ["laurene simms", "José María", "Bob's café", "x", "FBI agent"])
def test_letters_agree_with_the_letter_tokenizer(text):
    tokenizer = SignBindCTCTokenizer.for_letters()
    assert tokenizer(letters(text))["labels"] == tokenizer(text)["labels"]
    assert tokenizer.decode(tokenizer(letters(text))["labels"], ctc=False) == letters(text).replace(" ", "").replace(
        WORD_BOUNDARY_TOKEN, " "
    )


def test_letters_rejects_non_strings():
    with pytest.raises(TypeError, match="`text` must be a string"):
        letters(None)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        # proper nouns mid-sentence, acronyms, possessive removed
        ("Yesterday I met Laurene Simms at the FBI.", ["Laurene", "Simms", "FBI"]),
        ("We met José in Zürich on Monday.", ["José", "Zürich"]),  # weekdays have signs
        # "Mr" opens the sentence and CMUdict knows it; its dot does not end the sentence, so O'Brien is mid-sentence
        ("Mr. O'Brien's car is red.", ["O'Brien"]),
        # single capital letters, inner capitals
        ("I got an A in vitamin C class, said McDonald and the iPhone guy.", ["A", "C", "McDonald", "iPhone"]),
        # out-of-dictionary words, dotted acronyms, numbers never
        ("The activationist said hello to 25 U.S. officials.", ["activationist", "U.S."]),
        ("Zorblax is great.", ["Zorblax"]),  # sentence-initial but unknown to CMUdict
        ("Print it in 3D, as an MP3 or mp4.", ["MP3"]),  # letters with digits: only as an acronym
        # a sentence-initial name counts when the same word is capitalised elsewhere
        ("John went home. Then John called Mary.", ["John", "John", "Mary"]),
        # "I" and contractions of it are not names; sentence-initial common words are not either
        ("I'm here. I think Today is fine.", ["Today"]),
        ("Where is it?", []),
        # a word after an opening quote is like a sentence start
        ('He said "Great job" to Kim.', ["Kim"]),
        # words without Latin letters cannot be fingerspelled with the manual alphabet
        ("東京 is big.", []),
    ],
)
def test_fingerspelled_words(sentence, expected):
    assert fingerspelled_words(sentence) == expected


def test_capitals_carry_no_information_in_all_caps_or_title_case():
    assert fingerspelled_words("THE FBI IS HERE WITH ZORBLAX") == ["ZORBLAX"]  # only the dictionary rule
    assert fingerspelled_words("How To Tie A Tie With Zorblax") == ["Zorblax"]


@pytest.mark.parametrize("sentence", ["", "   ", "...", "123 456"])
def test_no_word_no_fingerspelling(sentence):
    assert fingerspelled_words(sentence) == []


def test_fingerspelled_words_rejects_non_strings():
    with pytest.raises(TypeError, match="`sentence` must be a string"):
        fingerspelled_words(42)


def test_deterministic_and_feeds_letters():
    sentence = "Yesterday I met Laurene Simms at the FBI."
    assert fingerspelled_words(sentence) == fingerspelled_words(sentence)
    assert letters(" ".join(fingerspelled_words(sentence))) == "L A U R E N E | S I M M S | F B I"


@pytest.mark.parametrize(
    ("gloss", "spelled", "expected"),
    [
        ("OUR DOCTOR OMAR SMITH", ["Omar", "Smith"], "OUR DOCTOR"),
        ("I LIKE TEA", [], "I LIKE TEA"),
        ("ANNA ANNA MEET", ["Anna"], "ANNA MEET"),  # one spelled word removes one gloss word
        ("WE VISIT US TOMORROW", ["U.S."], "WE VISIT TOMORROW"),  # compared by letters and digits
        ("ZURICH BIG", ["Zürich"], "BIG"),
        ("MEET KIM", ["Lee"], "MEET KIM"),  # a spelled word not in the gloss removes nothing
    ],
)
def test_signed_words_leave_the_fingerspelled_words_to_the_letter_expert(gloss, spelled, expected):
    assert signed_words(gloss, spelled) == expected


def test_signed_words_of_a_real_sentence():
    sentence = "Yesterday I met Laurene Simms at the FBI."
    assert signed_words(pseudo_gloss(sentence), fingerspelled_words(sentence)) == "YESTERDAY I MEET"


def test_each_expert_learns_its_own_channel_when_there_is_a_letter_expert():
    sentence = "Tomorrow Omar will visit Anna's family."
    gloss, spelled = pseudo_gloss(sentence), fingerspelled_words(sentence)
    assert (gloss, spelled) == ("TOMORROW OMAR VISIT ANNA FAMILY", ["Omar", "Anna"])
    assert spelled_word_slots(gloss, spelled) == "TOMORROW [FS] VISIT [FS] FAMILY"
    assert gloss_targets(gloss, spelled, letter_expert=True) == (
        "TOMORROW [FS] VISIT [FS] FAMILY",
        "TOMORROW VISIT FAMILY",
    )
    # Without a letter expert nothing else can read the spelled words: both learn the whole pseudo-gloss.
    assert gloss_targets(gloss, spelled, letter_expert=False) == (gloss, gloss)
