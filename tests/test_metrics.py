"""signbind_hf.metrics against values worked out by hand, and the evaluate modules loading with the network off."""

import json
import math
import os
import re
import subprocess
import sys
import textwrap

import jiwer
import pytest
import sacrebleu

from signbind_hf.data.synthsign import HOMONYM_GROUPS
from signbind_hf.metrics import (
    MODULE_NAMES,
    bleu,
    canonical_letters,
    homonym_accuracy,
    letter_accuracy,
    markdown_table,
    module_path,
    phoneme_error_rate,
    rouge_l,
    word_error_rate,
)

# --- BLEU ------------------------------------------------------------------------------------------------------------
# Corpus of two pairs; 13a keeps these tokens as they are.
#   hyp 1 "the cat sat on the mat"  ref 1 "the cat sat on a mat"     (6 and 6 tokens)
#   hyp 2 "hello there"             ref 2 "hello there friend"       (2 and 3 tokens)
# clipped matches / hypothesis n-grams, summed over the corpus:
#   1-grams: (5 + 2) / (6 + 2) = 7/8   ("the" twice in hyp 1, once in ref 1: clipped to 1)
#   2-grams: (3 + 1) / (5 + 1) = 4/6   (the cat, cat sat, sat on; hello there)
#   3-grams: (2 + 0) / (4 + 0) = 2/4   (the cat sat, cat sat on)
#   4-grams: (1 + 0) / (3 + 0) = 1/3   (the cat sat on)
# brevity penalty: hyp length 8 < ref length 9, BP = exp(1 - 9/8)
# BLEU-1 = BP * 7/8;  BLEU-4 = BP * (7/8 * 4/6 * 2/4 * 1/3) ** (1/4)
BLEU_PREDICTIONS = ["the cat sat on the mat", "hello there"]
BLEU_REFERENCES = ["the cat sat on a mat", "hello there friend"]
BREVITY_PENALTY = math.exp(1 - 9 / 8)


def test_bleu_is_sacrebleu_corpus_bleu_worked_by_hand():
    score = bleu(BLEU_PREDICTIONS, BLEU_REFERENCES)
    assert score.bleu1 == pytest.approx(100 * BREVITY_PENALTY * 7 / 8)  # 77.22
    assert score.bleu4 == pytest.approx(100 * BREVITY_PENALTY * (7 / 8 * 4 / 6 * 2 / 4 * 1 / 3) ** 0.25)  # 49.28
    # Corpus BLEU is not the mean of sentence BLEUs: BLEU-1 per sentence is 5/6 and exp(1 - 3/2), mean 71.99.
    assert score.bleu1 != pytest.approx(100 * (5 / 6 + math.exp(1 - 3 / 2)) / 2, abs=1)


def test_bleu_signature_string_names_every_setting():
    signature = bleu(BLEU_PREDICTIONS, BLEU_REFERENCES).signature
    assert signature == f"nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:{sacrebleu.__version__}"
    assert re.fullmatch(r"nrefs:1\|case:mixed\|eff:no\|tok:13a\|smooth:exp\|version:\d+\.\d+\.\d+", signature)


def test_bleu_is_cased_and_tokenizes_13a():
    # Cased: "Hello" does not match "hello": 1 of 2 unigrams, same lengths (BP = 1).
    assert bleu(["Hello there"], ["hello there"]).bleu1 == pytest.approx(50.0)
    # 13a splits the final period off "cat.", so both sides are "the cat ." and every unigram matches.
    assert bleu(["the cat."], ["the cat ."]).bleu1 == pytest.approx(100.0)


def test_bleu_to_dict_has_the_results_json_keys():
    assert set(bleu(["a b c d"], ["a b c d"]).to_dict()) == {"bleu1", "bleu4", "sacrebleu_signature"}
    assert bleu(["a b c d"], ["a b c d"]).bleu4 == pytest.approx(100.0)


# --- ROUGE-L ---------------------------------------------------------------------------------------------------------


def test_rouge_l_is_mean_sentence_lcs_f1_worked_by_hand():
    # Pair 1: LCS("the cat sat on the mat", "the cat is on the mat") = "the cat on the mat" = 5; P = R = 5/6.
    # Pair 2: LCS("hello there", "hello there friend") = 2; P = 2/2, R = 2/3, F1 = 2PR/(P+R) = 0.8.
    expected = 100 * (5 / 6 + 0.8) / 2  # 81.67
    assert rouge_l(["the cat sat on the mat", "hello there"], ["the cat is on the mat", "hello there friend"]) == (
        pytest.approx(expected)
    )


def test_rouge_l_has_no_stemming_and_ignores_case_and_punctuation():
    assert rouge_l(["cats"], ["cat"]) == 0.0  # a stemmer would make these one token
    assert rouge_l(["The cat!"], ["the cat"]) == pytest.approx(100.0)


# --- letter accuracy -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prediction", "expected"),
    [
        ("OMAR SMITH", 100.0),
        ("omar smith", 100.0),  # case is normalised
        ("O M A R | S M I T H", 100.0),  # the data set's spaced form
        ("OMARSMITH", 90.0),  # the space is a character: 1 D over N = 10
        ("OMAR SMYTHE", 80.0),  # I -> Y (1 S) and a trailing E (1 I): 2 errors over 10
        ("OMA SMITH", 90.0),  # 1 D
        ("", 0.0),  # 10 D
    ],
)
def test_letter_accuracy_counts_substitutions_deletions_insertions_and_spaces(prediction, expected):
    assert letter_accuracy([prediction], ["O M A R | S M I T H"]) == pytest.approx(expected)


def test_letter_accuracy_sums_edits_over_the_corpus():
    # N = 10 + 2 = 12; errors 1 (missing space) + 1 (B -> C): 100 * (12 - 2) / 12.
    assert letter_accuracy(["OMARSMITH", "AC"], ["OMAR SMITH", "AB"]) == pytest.approx(100 * 10 / 12)


def test_letter_accuracy_can_be_negative():
    # "AB" -> "XYZW": 2 substitutions + 2 insertions over N = 2: 100 * (2 - 4) / 2.
    assert letter_accuracy(["XYZW"], ["AB"]) == pytest.approx(-100.0)


def test_letter_accuracy_scores_insertions_against_an_empty_reference():
    # The empty reference adds nothing to N and its 3 letters are insertions: 100 * (2 - 3) / 2.
    assert letter_accuracy(["AB", "XYZ"], ["AB", ""]) == pytest.approx(-50.0)
    with pytest.raises(ValueError, match="no letter"):
        letter_accuracy(["AB"], [""])


def test_canonical_letters_reads_every_form_the_project_writes():
    assert canonical_letters("L A U R E N E | S I M M S") == "LAURENE SIMMS"
    assert canonical_letters("laurene  simms") == "LAURENE SIMMS"
    assert canonical_letters("O'Neil") == "ONEIL"
    assert canonical_letters("José") == "JOSE"


# --- phoneme error rate, WER -----------------------------------------------------------------------------------------


def test_phoneme_error_rate_worked_by_hand():
    # "hh ae v" vs "hh eh v m": ae -> eh (1 S), m inserted (1 I), N = 3.
    assert phoneme_error_rate(["hh eh v m"], ["hh ae v"]) == pytest.approx(200 / 3)
    # Corpus: + "s ih" vs "s" (1 D): 3 errors over N = 5.
    assert phoneme_error_rate(["hh eh v m", "s"], ["hh ae v", "s ih"]) == pytest.approx(60.0)
    assert phoneme_error_rate(["HH AE V"], ["hh ae v"]) == 0.0


def test_word_error_rate_worked_by_hand():
    # "HAVE DIFFERENT HERE" vs "HAVE HERE": 1 D; "WATER" vs "MILK WATER": 1 I; N = 4.
    assert word_error_rate(["HAVE HERE", "MILK WATER"], ["HAVE DIFFERENT HERE", "WATER"]) == pytest.approx(50.0)
    assert word_error_rate(["have  here"], ["HAVE HERE"]) == 0.0  # case and spacing do not count
    # Insertions against an empty reference count; N comes from the other pair: 2 errors over N = 1.
    assert word_error_rate(["A B", "C"], ["", "C"]) == pytest.approx(200.0)
    with pytest.raises(ValueError, match="no word"):
        word_error_rate(["A"], [""])


def test_word_error_rate_agrees_with_jiwer_corpus_wer():
    predictions = ["ME WANT MILK TODAY", "TEACHER SCHOOL", "WHERE YOU GO", "MY MOTHER MY"]
    references = ["ME WANT WATER", "TEACHER GO SCHOOL NOW", "WHERE YOU", "MY FATHER"]
    assert word_error_rate(predictions, references) == pytest.approx(100 * jiwer.wer(references, predictions))


# --- homonym accuracy ------------------------------------------------------------------------------------------------
HOMONYMS = {gloss for group in HOMONYM_GROUPS for gloss in group}


def test_homonym_accuracy_worked_by_hand():
    predictions = ["ME WANT MILK", "TEA GOOD NOW", "", "DOG ME SEE"]
    references = ["ME WANT WATER", "TEA GOOD", "MILK", "CAT YOU SEE"]
    # Homonyms in the references: WATER (substituted by MILK: wrong), TEA (hit), MILK (deleted: wrong),
    # CAT (substituted by its homonym DOG: wrong). YOU -> ME and the inserted NOW are not homonyms and do not count.
    assert homonym_accuracy(predictions, references, HOMONYMS) == pytest.approx(100 * 1 / 4)
    assert homonym_accuracy(["tea"], ["TEA"], {"tea"}) == 100.0  # case-insensitive on all three


def test_homonym_accuracy_is_none_without_homonyms():
    assert homonym_accuracy(["ME GO"], ["ME GO"], HOMONYMS) is None


def test_homonym_accuracy_rejects_bad_homonym_sets():
    with pytest.raises(TypeError, match="homonyms"):
        homonym_accuracy(["A"], ["A"], "WATER")
    with pytest.raises(ValueError, match="homonyms"):
        homonym_accuracy(["A"], ["A"], set())
    with pytest.raises(ValueError, match="single gloss words"):
        homonym_accuracy(["A"], ["A"], {"WATER MILK"})


# --- input checks ----------------------------------------------------------------------------------------------------
ALL_METRICS = [
    bleu,
    rouge_l,
    letter_accuracy,
    phoneme_error_rate,
    word_error_rate,
    lambda predictions, references: homonym_accuracy(predictions, references, {"WATER"}),
]


@pytest.mark.parametrize("metric", ALL_METRICS)
@pytest.mark.parametrize(
    ("predictions", "references", "error", "message"),
    [
        ([], [], ValueError, r"`predictions` is empty"),
        (["A"], ["A", "B"], ValueError, r"`predictions` has 1 entries but `references` has 2"),
        (["A", None], ["A", "B"], ValueError, r"`predictions\[1\]` is None"),
        (["A"], [None], ValueError, r"`references\[0\]` is None"),
        (["A"], [3], TypeError, r"`references\[0\]` must be a string"),
        ("A", ["A"], TypeError, r"`predictions` must be a list of strings"),
    ],
)
def test_bad_inputs_raise_errors_naming_the_argument(metric, predictions, references, error, message):
    with pytest.raises(error, match=message):
        metric(predictions, references)


# --- Markdown table --------------------------------------------------------------------------------------------------


def test_markdown_table_renders_rows_and_the_signature_footnote():
    rows = {
        "full": {"bleu4": 22.06, "gloss_wer": 12.0, "steps": 300, "sacrebleu_signature": "nrefs:1|tok:13a"},
        "no_lip": {"bleu4": 13.64, "gloss_wer": None, "sacrebleu_signature": "nrefs:1|tok:13a"},
    }
    assert markdown_table(rows, row_header="variant") == textwrap.dedent(
        """\
        | variant | BLEU-4 | gloss WER ↓ | steps |
        |---------|-------:|------------:|------:|
        | full    |   22.1 |        12.0 |   300 |
        | no_lip  |   13.6 |         n/a |     – |

        BLEU: sacrebleu signature `nrefs:1|tok:13a`."""
    )


def test_markdown_table_lists_differing_signatures_and_chosen_columns():
    rows = {
        "a": {"bleu4": 1.0, "sacrebleu_signature": "tok:13a"},
        "b": {"bleu4": 2.0, "sacrebleu_signature": "tok:intl"},
    }
    assert markdown_table(rows, columns=["bleu4"], digits=2) == textwrap.dedent(
        """\
        |   | BLEU-4 |
        |---|-------:|
        | a |   1.00 |
        | b |   2.00 |

        BLEU: sacrebleu signatures differ between rows:
        - a: `tok:13a`
        - b: `tok:intl`"""
    )
    assert "BLEU:" not in markdown_table({"a": {"rouge_l": 5.0}})  # no signature, no footnote
    with pytest.raises(ValueError, match="`rows` is empty"):
        markdown_table({})


# --- evaluate modules ------------------------------------------------------------------------------------------------
# One input set per module, and what the plain functions say about it.
MODULE_INPUTS = {
    "bleu": (BLEU_PREDICTIONS, BLEU_REFERENCES),
    "rouge_l": (BLEU_PREDICTIONS, BLEU_REFERENCES),
    "letter_accuracy": (["OMARSMITH", "omar smythe"], ["O M A R | S M I T H", "O M A R | S M I T H"]),
    "phoneme_error_rate": (["hh eh v m", "s"], ["hh ae v", "s ih"]),
    "word_error_rate": (["HAVE HERE", "MILK WATER"], ["HAVE DIFFERENT HERE", "WATER"]),
    "homonym_accuracy": (["ME WANT MILK", "TEA GOOD NOW"], ["ME WANT WATER", "TEA GOOD"]),
}

# Runs in a fresh interpreter with the Hub switched off and every socket connection refused and recorded.
_LOAD_OFFLINE = """
import json, socket, sys

attempts = []

def refuse(*args, **kwargs):
    attempts.append(repr(args)[:200])
    raise OSError("network access attempted")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse

import evaluate
from signbind_hf.metrics import MODULE_NAMES, module_path

inputs = json.loads(sys.argv[1])
report = {}
for name in MODULE_NAMES:
    metric = evaluate.load(module_path(name))
    predictions, references = inputs[name]
    kwargs = {"homonyms": {"WATER", "MILK", "TEA"}} if name == "homonym_accuracy" else {}
    result = metric.compute(predictions=predictions, references=references, **kwargs)
    report[name] = {
        "result": result,
        "description": metric.description,
        "citation": metric.citation,
        "features": sorted(metric.features),
    }
print(json.dumps({"report": report, "attempts": attempts}))
"""


@pytest.mark.slow
def test_evaluate_modules_load_offline_and_agree_with_the_plain_functions(tmp_path):
    cache = tmp_path / "hf"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_EVALUATE_OFFLINE": "1",
        "HF_HOME": str(cache),
        "HF_MODULES_CACHE": str(cache / "modules"),
        "HF_EVALUATE_CACHE": str(cache / "evaluate"),
        "HF_METRICS_CACHE": str(cache / "evaluate" / "metrics"),
    }
    completed = subprocess.run(
        [sys.executable, "-c", _LOAD_OFFLINE, json.dumps(MODULE_INPUTS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    output = json.loads(completed.stdout.strip().splitlines()[-1])
    assert output["attempts"] == []
    report = output["report"]
    assert set(report) == set(MODULE_NAMES)

    expected = {
        "bleu": bleu(*MODULE_INPUTS["bleu"]).to_dict(),
        "rouge_l": {"rouge_l": rouge_l(*MODULE_INPUTS["rouge_l"])},
        "letter_accuracy": {"letter_accuracy": 85.0},
        "phoneme_error_rate": {"phoneme_error_rate": 60.0},
        "word_error_rate": {"word_error_rate": 50.0},
        "homonym_accuracy": {"homonym_accuracy": 50.0},
    }
    for name, entry in report.items():
        assert entry["result"] == pytest.approx(expected[name]), name
        assert entry["features"] == ["predictions", "references"]
        assert entry["citation"].lstrip().startswith("@")
    assert report["bleu"]["result"]["sacrebleu_signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|")
    assert report["letter_accuracy"]["description"] == letter_accuracy.__doc__
    # evaluate copied the scripts into the cache we gave it, not into the user's.
    assert list((cache / "modules").rglob("signbind_bleu.py"))


def test_module_path_names_the_modules():
    assert MODULE_NAMES == (
        "bleu",
        "rouge_l",
        "letter_accuracy",
        "phoneme_error_rate",
        "word_error_rate",
        "homonym_accuracy",
    )
    for name in MODULE_NAMES:
        assert os.path.isfile(module_path(name))
    with pytest.raises(ValueError, match="unknown metric 'sacrebleu'"):
        module_path("sacrebleu")
