"""SignBindCTCTokenizer: vocabularies, encoding, CTC decoding, save/load (incl. AutoTokenizer remote code)."""

import json

import pytest
import torch
from transformers import AutoTokenizer

from signbind_hf.constants import (
    BLANK_ID,
    BLANK_TOKEN,
    IGNORE_INDEX,
    LETTER_VOCAB_SIZE,
    LETTERS,
    PHONEME_VOCAB_SIZE,
    PHONEMES,
    SPELLED_WORD_TOKEN,
    UNK_TOKEN,
    WORD_BOUNDARY_TOKEN,
)
from signbind_hf.errors import SignBindInputError
from signbind_hf.tokenization_signbind import SignBindCTCTokenizer

GLOSS_CORPUS = ["HAVE DIFFERENT HERE", "have my over flow", "GAIN BALANCE ON TOE", "HAVE HERE CAFÉ", "CAFÉ"]


@pytest.fixture
def letters() -> SignBindCTCTokenizer:
    return SignBindCTCTokenizer.for_letters()


@pytest.fixture
def phonemes() -> SignBindCTCTokenizer:
    return SignBindCTCTokenizer.for_phonemes()


@pytest.fixture
def glosses() -> SignBindCTCTokenizer:
    return SignBindCTCTokenizer.for_glosses(GLOSS_CORPUS)


def all_streams() -> list[SignBindCTCTokenizer]:
    return [
        SignBindCTCTokenizer.for_glosses(GLOSS_CORPUS),
        SignBindCTCTokenizer.for_letters(),
        SignBindCTCTokenizer.for_phonemes(),
    ]


# --- vocabularies -------------------------------------------------------------------------------------------------
def test_fixed_vocab_sizes_and_id_order(letters, phonemes):
    assert letters.vocab_size == len(letters) == LETTER_VOCAB_SIZE
    assert phonemes.vocab_size == len(phonemes) == PHONEME_VOCAB_SIZE
    assert letters.convert_ids_to_tokens(list(range(LETTER_VOCAB_SIZE))) == [BLANK_TOKEN, *LETTERS, "|"]
    assert phonemes.convert_ids_to_tokens(list(range(PHONEME_VOCAB_SIZE))) == [BLANK_TOKEN, *PHONEMES]
    assert letters.unk_token is None
    assert phonemes.unk_token is None


@pytest.mark.parametrize("tokenizer", all_streams(), ids=lambda tok: tok.stream)
def test_blank_is_pad_is_id_zero(tokenizer):
    assert tokenizer.pad_token == BLANK_TOKEN
    assert tokenizer.pad_token_id == BLANK_ID == tokenizer.convert_tokens_to_ids(BLANK_TOKEN) == 0


def test_gloss_vocab_from_corpus_is_sorted_and_counts_words(glosses):
    vocab = glosses.get_vocab()
    words = ["BALANCE", "CAFÉ", "DIFFERENT", "FLOW", "GAIN", "HAVE", "HERE", "MY", "ON", "OVER", "TOE"]
    # lower-case corpus words were upper-cased, not doubled
    assert list(vocab) == [BLANK_TOKEN, UNK_TOKEN, SPELLED_WORD_TOKEN, *words]
    assert list(vocab.values()) == list(range(len(vocab)))

    frequent = SignBindCTCTokenizer.for_glosses(GLOSS_CORPUS, min_count=2)
    assert list(frequent.get_vocab()) == [BLANK_TOKEN, UNK_TOKEN, SPELLED_WORD_TOKEN, "CAFÉ", "HAVE", "HERE"]
    ids = frequent("HAVE DIFFERENT HERE")["labels"]
    assert frequent.convert_ids_to_tokens(ids) == ["HAVE", UNK_TOKEN, "HERE"]
    assert frequent.decode(ids, ctc=False) == "HAVE [UNK] HERE"
    assert frequent.decode(ids, ctc=False, skip_special_tokens=True) == "HAVE HERE"


def test_gloss_vocab_rejects_bad_corpora():
    with pytest.raises(ValueError, match="min_count=9"):
        SignBindCTCTokenizer.for_glosses(GLOSS_CORPUS, min_count=9)
    with pytest.raises(TypeError, match="single string"):
        SignBindCTCTokenizer.for_glosses("HAVE DIFFERENT HERE")
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        SignBindCTCTokenizer.for_glosses(["HAVE", None])
    with pytest.raises(ValueError, match="min_count"):
        SignBindCTCTokenizer.for_glosses(GLOSS_CORPUS, min_count=0)


def test_constructor_rejects_inconsistent_arguments(tmp_path):
    with pytest.raises(ValueError, match="stream"):
        SignBindCTCTokenizer(vocab={BLANK_TOKEN: 0, UNK_TOKEN: 1}, stream="words")
    with pytest.raises(ValueError, match="exactly one"):
        SignBindCTCTokenizer(stream="gloss")
    with pytest.raises(ValueError, match="pad_token"):
        SignBindCTCTokenizer.for_letters(pad_token="<pad>")
    with pytest.raises(ValueError, match="unk_token"):
        SignBindCTCTokenizer.for_phonemes(unk_token=UNK_TOKEN)
    with pytest.raises(SignBindInputError, match="blank"):
        SignBindCTCTokenizer(vocab={UNK_TOKEN: 0, BLANK_TOKEN: 1}, stream="gloss")
    with pytest.raises(SignBindInputError, match=r"ids must be 0\.\.2"):
        SignBindCTCTokenizer(vocab={BLANK_TOKEN: 0, UNK_TOKEN: 1, "HAVE": 5}, stream="gloss")


# --- encoding -----------------------------------------------------------------------------------------------------
def test_letters_accept_spaced_and_raw_forms(letters):
    spaced = letters.tokenize("L A U R E N E | S I M M S")
    assert spaced == [*"LAURENE", WORD_BOUNDARY_TOKEN, *"SIMMS"]
    assert letters.tokenize("laurene simms") == spaced
    assert letters.tokenize("  Laurene   SIMMS ") == spaced
    assert letters.tokenize("S I M M S") == list("SIMMS")  # spelled-out letters of one word, no boundary
    assert letters.tokenize("A | | B |") == ["A", WORD_BOUNDARY_TOKEN, "B"]


def test_letters_drop_non_letters_and_fold_accents(letters):
    assert letters.decode(letters.encode("José O'Neil-2"), ctc=False) == "JOSE ONEIL"
    assert letters.decode(letters.encode("straße"), ctc=False) == "STRASSE"
    assert letters.tokenize("中文 ?! 42") == []
    assert letters.tokenize("<blank>") == list("BLANK")  # a target is text: never read as the blank id


def test_phonemes_strip_stress_and_reject_unknown_symbols(phonemes):
    assert phonemes.tokenize("HH AE1 V  m ay0 OW2") == ["hh", "ae", "v", "m", "ay", "ow"]
    assert phonemes.decode(phonemes.encode("hh ae v m ay ow v er f l ow"), ctc=False) == "hh ae v m ay ow v er f l ow"
    with pytest.raises(SignBindInputError, match=r"\['ax', 'qx'\].*'hh qx ax0'"):
        phonemes("hh qx ax0")
    with pytest.raises(SignBindInputError, match="not in the phoneme vocabulary"):
        phonemes.convert_tokens_to_ids(["hh", "x"])


def test_call_pads_labels_with_ignore_index(letters):
    batch = letters(["L A U R E N E | S I M M S", "bo", ""], return_tensors="pt")
    assert set(batch) == {"labels", "attention_mask"}
    labels = batch["labels"]
    assert labels.dtype == torch.long
    assert labels.shape == (3, 13)
    assert labels[1].tolist() == [2, 15] + [IGNORE_INDEX] * 11
    assert (labels[2] == IGNORE_INDEX).all()
    assert batch["attention_mask"].sum(-1).tolist() == [13, 2, 0] == (labels != IGNORE_INDEX).sum(-1).tolist()

    lists = letters(["bo", "b"])
    assert lists["labels"] == [[2, 15], [2, IGNORE_INDEX]]
    assert letters(["bo", "b"], return_attention_mask=False).keys() == {"labels"}


def test_call_single_text_and_empty_input(glosses):
    assert glosses("HAVE HERE")["labels"] == [
        glosses.convert_tokens_to_ids("HAVE"),
        glosses.convert_tokens_to_ids("HERE"),
    ]
    single = glosses("HAVE HERE", return_tensors="pt")["labels"]
    assert single.shape == (1, 2)
    empty = glosses("", return_tensors="pt")["labels"]
    assert empty.shape == (1, 0)
    assert empty.dtype == torch.long
    assert glosses.decode(glosses.encode("")) == ""
    with pytest.raises(ValueError, match="empty batch"):
        glosses([])


def test_letters_refuse_pretokenized_words(letters):
    with pytest.raises(ValueError, match="word boundaries"):
        letters([["LAURENE", "SIMMS"]], is_split_into_words=True)


# --- decoding -----------------------------------------------------------------------------------------------------
def test_label_round_trip_keeps_doubled_letters(letters):
    texts = ["LAURENE SIMMS", "BOOKKEEPER", "A"]
    labels = letters(texts, return_tensors="pt")["labels"]
    assert letters.batch_decode(labels, ctc=False) == texts
    assert letters.batch_decode(labels) == ["LAURENE SIMS", "BOKEPER", "A"]  # what CTC would make of labels


@pytest.mark.parametrize("tokenizer", all_streams(), ids=lambda tok: tok.stream)
def test_label_round_trip_every_stream(tokenizer):
    text = {
        "gloss": "HAVE MY OVER FLOW",
        "letter": "HAVE MY OVER FLOW",
        "phoneme": "hh ae v m ay ow v er f l ow",
    }[tokenizer.stream]
    labels = tokenizer([text, text.split()[0]], return_tensors="pt")["labels"]
    assert tokenizer.batch_decode(labels, ctc=False) == [text, text.split()[0]]


def test_ctc_collapse_merges_repeats_then_drops_blanks(letters, glosses):
    s, i, m = (letters.convert_tokens_to_ids(char) for char in "SIM")
    frames = [0, s, s, 0, i, i, m, m, 0, m, s, 0, 0]  # a blank between the two Ms keeps both
    assert letters.decode(frames) == "SIMMS"
    assert letters.decode(frames, ctc=False) == "SSIIMMMS"
    boundary = letters.convert_tokens_to_ids(WORD_BOUNDARY_TOKEN)
    assert letters.decode([s, boundary, boundary, 0, i]) == "S I"

    have, here = glosses.convert_tokens_to_ids(["HAVE", "HERE"])
    argmax = torch.tensor([[have, have, 0, here, here, 0], [0, 0, here, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX]])
    assert glosses.batch_decode(argmax) == ["HAVE HERE", "HERE"]
    assert glosses.batch_decode(argmax.numpy()) == ["HAVE HERE", "HERE"]
    assert glosses.batch_decode(torch.zeros(2, 0, dtype=torch.long)) == ["", ""]
    assert glosses.decode(have) == "HAVE"


def test_decode_rejects_logits_and_unknown_ids(letters):
    with pytest.raises(TypeError, match="argmax"):
        letters.batch_decode(torch.randn(2, 5, LETTER_VOCAB_SIZE))
    with pytest.raises(SignBindInputError, match=r"token id 28 is outside the letter vocabulary \(ids 0\.\.27\)"):
        letters.decode([1, 28])


# --- save / load --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tokenizer", all_streams(), ids=lambda tok: tok.stream)
def test_save_load_round_trip(tokenizer, tmp_path):
    tokenizer.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "vocab.json").read_text(encoding="utf-8"))
    assert saved == tokenizer.get_vocab()
    assert list(saved.values()) == list(range(len(saved)))
    assert json.loads((tmp_path / "tokenizer_config.json").read_text())["stream"] == tokenizer.stream

    loaded = SignBindCTCTokenizer.from_pretrained(tmp_path)
    assert loaded.stream == tokenizer.stream
    assert loaded.get_vocab() == tokenizer.get_vocab()
    assert loaded.special_tokens_map == tokenizer.special_tokens_map
    texts = {"gloss": ["HAVE CAFÉ UNSEEN", ""], "letter": ["José simms", "x"], "phoneme": ["hh AE1 v", "ow"]}
    texts = texts[tokenizer.stream]
    assert loaded(texts)["labels"] == tokenizer(texts)["labels"]


def test_from_pretrained_rejects_a_tampered_fixed_vocab(letters, tmp_path):
    letters.save_pretrained(tmp_path)
    vocab = json.loads((tmp_path / "vocab.json").read_text())
    del vocab["Z"], vocab[WORD_BOUNDARY_TOKEN]
    vocab[WORD_BOUNDARY_TOKEN] = 26
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    with pytest.raises(SignBindInputError, match=r"vocab\.json.*fixed letter vocabulary.*missing \['Z'\]"):
        SignBindCTCTokenizer.from_pretrained(tmp_path)


def test_auto_tokenizer_loads_it_as_remote_code(phonemes, tmp_path, monkeypatch):
    # What a Hub repo does: tokenizer_config.json names the class in `auto_map` and the code files travel along.
    monkeypatch.setattr(SignBindCTCTokenizer, "_auto_class", "AutoTokenizer")
    phonemes.save_pretrained(tmp_path)
    assert {"tokenization_signbind.py", "constants.py", "errors.py"} <= {path.name for path in tmp_path.iterdir()}

    loaded = AutoTokenizer.from_pretrained(tmp_path, trust_remote_code=True)
    assert type(loaded).__name__ == "SignBindCTCTokenizer"
    assert loaded.stream == "phoneme"
    assert loaded("hh ae1 v")["labels"] == phonemes("hh ae1 v")["labels"]
    assert loaded.decode([0, 16, 16, 0, 2]) == "hh ae"
