"""`signbind targets`: sentences on the command line, files in, JSONL out, the LLM glosser, and bad input."""

import json

import pytest

from signbind_cli.main import main
from signbind_hf.targets import fingerspelled_words, letters, phonemes, pseudo_gloss


def _read_jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _read_table(block: str) -> dict[str, str]:
    rows = [line.partition(" ") for line in block.splitlines()]
    return {name: value.strip() for name, _, value in rows}


def test_sentences_are_printed_as_a_table(capsys):
    assert main(["targets", "I have a few different ones here.", "Where did you meet Laurene Simms?"]) == 0
    blocks = [_read_table(block) for block in capsys.readouterr().out.split("\n\n")]
    assert blocks[0]["gloss"] == "I HAVE FEW DIFFERENT HERE"
    assert blocks[0]["phonemes"] == phonemes("I HAVE FEW DIFFERENT HERE")
    assert blocks[0]["fingerspelled"] == blocks[0]["letters"] == ""  # nothing fingerspelled
    assert blocks[1]["gloss"] == "YOU MEET LAURENE SIMMS WHERE"
    assert blocks[1]["fingerspelled"] == "Laurene Simms"
    assert blocks[1]["letters"] == "L A U R E N E | S I M M S"


def test_text_file_to_jsonl(tmp_path):
    source, target = tmp_path / "sentences.txt", tmp_path / "out" / "targets.jsonl"
    source.write_text("We met José in Zürich.\n\n  \nWhere did you come from?\n", encoding="utf-8")
    assert main(["targets", "--input", str(source), "--output", str(target)]) == 0
    records = _read_jsonl(target)
    assert [record["text"] for record in records] == ["We met José in Zürich.", "Where did you come from?"]
    for record in records:
        text = record["text"]
        assert record["gloss"] == pseudo_gloss(text)
        assert record["phonemes"] == phonemes(record["gloss"])
        assert record["fingerspelled"] == fingerspelled_words(text)
        assert record["letters"] == letters(" ".join(record["fingerspelled"]))
        assert record["glosser"] == "rule"
        assert "error" not in record
    assert records[0]["letters"] == "J O S E | Z U R I C H"


def test_jsonl_input_keeps_other_fields_and_marks_failures(tmp_path, capsys):
    source = tmp_path / "clips.jsonl"
    rows = [{"id": "a", "text": "Hello there.", "start": 1.5}, {"id": "b", "text": "東京 is big."}]
    source.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    assert main(["targets", "--input", str(source)]) == 1  # to standard output; one record failed
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert records[0]["id"] == "a"
    assert records[0]["start"] == 1.5
    assert records[0]["gloss"] == "HELLO THERE"
    assert records[1]["gloss"] == "東京 BIG"
    assert records[1]["phonemes"] is None
    assert "Latin letters" in records[1]["error"]


@pytest.mark.parametrize(
    ("content", "message"),
    [("{bad json\n", "clips.jsonl:1: not valid JSON"), ('{"text": 3}\n', "clips.jsonl:1: expected a JSON object")],
)
def test_bad_jsonl_names_file_and_line(tmp_path, capsys, content, message):
    source = tmp_path / "clips.jsonl"
    source.write_text(content)
    assert main(["targets", "--input", str(source)]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["targets"], "one of the two"),
        (["targets", "Hi.", "--input", "x.txt"], "one of the two"),
        (["targets", "--input", "missing.txt"], "--input missing.txt: no such file"),
        (["targets", "Hi.", "--glosser", "llm"], "--glosser llm needs --model"),
        (["targets", "Hi.", "--glosser", "both"], "--glosser both needs --model DIR"),
        (["targets", "Hi.", "--model", "dir"], "only apply to --glosser llm"),
    ],
)
def test_bad_arguments(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_llm_glosser_from_the_command_line(make_scripted_model, tmp_path):
    source, target, cache = tmp_path / "in.txt", tmp_path / "out.jsonl", tmp_path / "cache.json"
    source.write_text("Hi.\nWhere did you come from?\n")
    argv = ["targets", "--input", str(source), "--output", str(target), "--glosser", "llm"]
    argv += ["--model", str(make_scripted_model(" HAVE HERE\n")), "--gloss-cache", str(cache), "--batch-size", "1"]
    assert main(argv) == 0
    records = _read_jsonl(target)
    assert [(record["gloss"], record["glosser"]) for record in records] == [("HAVE HERE", "llm")] * 2
    assert records[0]["phonemes"] == phonemes("HAVE HERE")
    assert len(json.loads(cache.read_text())["entries"]) == 2


def test_invalid_llm_output_is_marked_in_the_record(make_scripted_model, tmp_path):
    source, target = tmp_path / "in.txt", tmp_path / "out.jsonl"
    source.write_text("Hi.\n")
    argv = ["targets", "--input", str(source), "--output", str(target), "--glosser", "llm"]
    assert main([*argv, "--model", str(make_scripted_model(" HAVE#HERE"))]) == 1
    [record] = _read_jsonl(target)
    assert record["gloss"] is None
    assert record["phonemes"] is None
    assert "no valid gloss from the model" in record["error"]
    assert "not a gloss word" in record["error"]


def test_a_model_that_cannot_be_loaded_is_a_one_line_error(tmp_path, capsys):
    missing = tmp_path / "no" / "model"
    assert main(["targets", "Hi.", "--glosser", "llm", "--model", str(missing)]) == 2
    assert f"cannot load --model {missing}" in capsys.readouterr().err


def test_both_glossers_compared_on_a_file(make_scripted_model, tmp_path, capsys):
    source, target = tmp_path / "in.txt", tmp_path / "out.jsonl"
    source.write_text("I have a few different ones here.\nHave it here.\n")
    argv = ["targets", "--input", str(source), "--output", str(target), "--glosser", "both"]
    assert main([*argv, "--model", str(make_scripted_model(" HAVE HERE\n"))]) == 0
    records = _read_jsonl(target)
    assert [record["rule"] for record in records] == ["I HAVE FEW DIFFERENT HERE", "HAVE IT HERE"]
    assert [record["llm"] for record in records] == ["HAVE HERE", "HAVE HERE"]
    assert [record["f1"] for record in records] == pytest.approx([2 * 2 / (5 + 2), 2 * 2 / (3 + 2)])
    assert "rule vs llm over 2 sentences: mean bag-of-words F1 0.686, 0 identical" in capsys.readouterr().err


def test_both_glossers_printed_side_by_side_and_failures_marked(make_scripted_model, capsys):
    model = str(make_scripted_model(" HAVE#HERE"))
    assert main(["targets", "Have it here.", "--glosser", "both", "--model", model]) == 1
    out, err = capsys.readouterr()
    table = _read_table(out)
    assert table["rule"] == "HAVE IT HERE"
    assert table["llm"] == ""
    assert "not a gloss word" in table["error"]
    assert "no sentence has a valid LLM gloss" in err
