"""The LLM glosser's plumbing (prompt, batching, padding, stopping, parsing, caching, invalid outputs) on a tiny
scripted Llama saved locally (see conftest.py); not the quality of any model's glosses."""

import json
import re
import shutil

import pytest

from signbind_hf import SignBindInputError
from signbind_hf.targets import Glosser, InvalidGlossError, LLMGlosser, parse_gloss_output, pseudo_gloss
from signbind_hf.targets.llm_glosser import DEFAULT_EXAMPLES, DEFAULT_INSTRUCTION

SCRIPT = " HAVE HERE\nMORE WORDS"  # the first line is the answer; the rest must never be generated

# Sentences of very different lengths (left padding must keep each row's last prompt token last), one repeated,
# one blank.
SENTENCES = [
    "Hi.",
    "A much longer sentence, with many more words in it than the first one has.",
    "Hi.",
    "",
    "Where did you come from?",
    "Yes.",
]


def _count_generate_calls(glosser: LLMGlosser) -> list[int]:
    """Wrap the loaded model's generate; returns the list that collects each call's batch size."""
    model, calls = glosser.model, []
    original = model.generate

    def counting_generate(*args, **kwargs):
        calls.append(kwargs["input_ids"].shape[0])
        return original(*args, **kwargs)

    model.generate = counting_generate
    return calls


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (" HAVE DIFFERENT HERE", "HAVE DIFFERENT HERE"),
        ("have different here\nEnglish: next one", "HAVE DIFFERENT HERE"),  # first line, upper-cased
        ("\n\n  Gloss: YOU COME FROM WHERE?", "YOU COME FROM WHERE"),  # label and punctuation removed
        ('"WARM-UP, NOW."', "WARM UP NOW"),
        ("ME LIVE U.S. O'BRIEN 3.5", "ME LIVE U.S. O'BRIEN 3.5"),
    ],
)
def test_parse_gloss_output(output, expected):
    assert parse_gloss_output(output, "I have a few different ones here, where?") == expected


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        ("", "empty output"),
        ("  \n \n", "empty output"),
        ("English: I have a few", "continued the prompt"),
        ("Gloss: ...", "no word"),
        ("HAVE <|im_end|> HERE", "not a gloss word"),
        ("HAVE#HERE", "not a gloss word"),
        (" ".join(["WORD"] * 11), "rambled"),  # the 3-word sentence allows 2 * 3 + 4 = 10
    ],
)
def test_parse_gloss_output_rejects_garbage(output, reason):
    with pytest.raises(ValueError, match=reason):
        parse_gloss_output(output, "one two three")


def test_plain_prompt_format(make_scripted_model):
    glosser = LLMGlosser(make_scripted_model(SCRIPT))
    assert not glosser.chat
    prompt = glosser.build_prompt("Where is it?")
    shots = "".join(f"English: {sentence}\nGloss: {gloss}\n\n" for sentence, gloss in DEFAULT_EXAMPLES)
    assert prompt == f"{DEFAULT_INSTRUCTION}\n\n{shots}English: Where is it?\nGloss:"


def test_chat_prompt_format(make_scripted_model):
    glosser = LLMGlosser(make_scripted_model(SCRIPT, chat=True))
    assert glosser.chat
    prompt = glosser.build_prompt("Where is it?")
    turns = "".join(f"<|user|>{sentence}\n<|assistant|>{gloss}\n" for sentence, gloss in DEFAULT_EXAMPLES)
    assert prompt == f"<|system|>{DEFAULT_INSTRUCTION}\n{turns}<|user|>Where is it?\n<|assistant|>"
    assert not LLMGlosser(make_scripted_model(SCRIPT, chat=True, name="forced"), use_chat_template=False).chat


@pytest.mark.parametrize("chat", [False, True])
def test_batched_generation_reads_the_first_line(make_scripted_model, chat):
    glosser = LLMGlosser(make_scripted_model(SCRIPT, chat=chat), batch_size=2)
    assert isinstance(glosser, Glosser)
    calls = _count_generate_calls(glosser)
    assert glosser.gloss_batch(SENTENCES) == ["HAVE HERE", "HAVE HERE", "HAVE HERE", "", "HAVE HERE", "HAVE HERE"]
    # 4 distinct non-blank sentences in batches of 2: the repeat and the blank are not generated.
    assert calls == [2, 2]
    assert glosser.last_failures == []
    # Answered from memory the second time.
    assert glosser.gloss("Yes.") == "HAVE HERE"
    assert pseudo_gloss("Hi.", glosser=glosser) == "HAVE HERE"
    assert calls == [2, 2]


def test_generation_stops_at_the_first_line_break(make_scripted_model):
    glosser = LLMGlosser(make_scripted_model(SCRIPT), max_new_tokens=20)
    assert glosser._generate(["Hi.", "A longer sentence here."]) == [" HAVE HERE\n", " HAVE HERE\n"]
    assert LLMGlosser(glosser.model_name_or_path, max_new_tokens=2)._generate(["Hi."]) == [" HAVE HERE"]


def test_cache_file_is_reused_without_loading_the_model(make_scripted_model, tmp_path):
    model_dir, cache_path = make_scripted_model(SCRIPT), tmp_path / "cache" / "glosses.json"
    first = LLMGlosser(model_dir, cache_path=cache_path)
    assert first.gloss_batch(["Hi.", "Yes."]) == ["HAVE HERE", "HAVE HERE"]
    data = json.loads(cache_path.read_text())
    assert data["format"] == "signbind-gloss-cache"
    assert data["version"] == 1
    assert sorted(entry["sentence"] for entry in data["entries"].values()) == ["Hi.", "Yes."]
    assert {entry["gloss"] for entry in data["entries"].values()} == {"HAVE HERE"}
    assert set(data["entries"]) == {first.cache_key("Hi."), first.cache_key("Yes.")}

    shutil.rmtree(model_dir)  # a cache hit must not need the model
    second = LLMGlosser(model_dir, cache_path=cache_path)
    assert second.gloss_batch(["Yes.", "Hi."]) == ["HAVE HERE", "HAVE HERE"]
    assert second._model is None
    assert second._tokenizer is None


def test_cache_keys_depend_on_model_prompt_and_sentence(make_scripted_model):
    model_dir = make_scripted_model(SCRIPT)
    base = LLMGlosser(model_dir)
    assert base.cache_key("Hi.") == LLMGlosser(model_dir).cache_key("Hi.")
    assert base.cache_key("Hi.") != base.cache_key("Hi!")
    assert base.cache_key("Hi.") != LLMGlosser(model_dir, instruction="Gloss it.").cache_key("Hi.")
    assert base.cache_key("Hi.") != LLMGlosser(model_dir, examples=DEFAULT_EXAMPLES[:2]).cache_key("Hi.")
    assert base.cache_key("Hi.") != LLMGlosser(model_dir, max_new_tokens=7).cache_key("Hi.")
    assert base.cache_key("Hi.") != LLMGlosser(str(model_dir) + "-other").cache_key("Hi.")


def test_invalid_outputs_are_reported_never_replaced(make_scripted_model, tmp_path):
    cache_path = tmp_path / "glosses.json"
    glosser = LLMGlosser(make_scripted_model(" HAVE#HERE"), cache_path=cache_path)
    with pytest.raises(InvalidGlossError, match=r"2 sentence\(s\).*'HAVE#HERE' is not a gloss word") as error:
        glosser.gloss_batch(["Hi.", "", "Yes."])
    assert [failure.sentence for failure in error.value.failures] == ["Hi.", "Yes."]
    assert error.value.failures[0].output == " HAVE#HERE"
    assert glosser.gloss_batch(["Hi.", "", "Yes."], on_invalid="none") == [None, "", None]
    assert [failure.output for failure in glosser.last_failures] == [" HAVE#HERE", " HAVE#HERE"]
    assert json.loads(cache_path.read_text())["entries"] == {}  # failures are not cached
    with pytest.raises(InvalidGlossError):
        glosser.gloss("Hi.")


def test_an_empty_completion_is_invalid(make_scripted_model):
    glosser = LLMGlosser(make_scripted_model("\n"))
    assert glosser.gloss_batch(["Hi."], on_invalid="none") == [None]
    assert glosser.last_failures[0].reason == "empty output"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "`batch_size` must be a positive integer"),
        ({"max_new_tokens": -1}, "`max_new_tokens` must be a positive integer"),
        ({"instruction": " "}, "`instruction` must be a non-empty string"),
        ({"examples": []}, "`examples` must be a non-empty sequence"),
        ({"examples": [("only a sentence",)]}, r"`examples\[0\]` must be a \(sentence, gloss\) pair"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LLMGlosser("unused", **kwargs)


def test_bad_calls():
    glosser = LLMGlosser("unused")
    with pytest.raises(ValueError, match="`on_invalid` must be one of"):
        glosser.gloss_batch(["Hi."], on_invalid="fallback")
    with pytest.raises(TypeError, match="sequence of strings"):
        glosser.gloss_batch("Hi.")
    with pytest.raises(TypeError, match=r"`sentences\[1\]` must be a string"):
        glosser.gloss_batch(["Hi.", 3])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a valid gloss cache"),
        ('{"entries": {}}', "expected a gloss cache"),
        ('{"format": "signbind-gloss-cache", "version": 99, "entries": {}}', "version 99"),
    ],
)
def test_a_bad_cache_file_is_named(tmp_path, content, message):
    path = tmp_path / "cache.json"
    path.write_text(content)
    with pytest.raises(SignBindInputError, match=f"{re.escape(str(path))}.*{message}"):
        LLMGlosser("unused", cache_path=path)


def test_few_shot_examples_follow_the_rule_glossers_policy():
    """Both glossers aim at one target: the examples after DESIGN.md's (GPT-4o's own gloss) are what the rules give."""
    paper_example, *own_examples = DEFAULT_EXAMPLES
    assert paper_example == ("I have a few different ones here.", "HAVE DIFFERENT HERE")
    for sentence, gloss in own_examples:
        assert pseudo_gloss(sentence) == gloss, sentence
