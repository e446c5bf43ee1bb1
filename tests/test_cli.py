"""The `signbind` command line: instant --help, every sub-command's --help, `params`, bad input, and the smoke run."""

import argparse
import json
import subprocess
import sys
import time

import pytest
import torch

from signbind_cli import params
from signbind_cli.main import COMMANDS, build_parser, main
from signbind_hf import SignBindConfig, SignBindModel
from signbind_hf.configuration_signbind import PRESETS

HEAVY_MODULES = ("torch", "transformers", "signbind_hf")


def _subcommand_names() -> list[str]:
    subparsers = next(action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction))
    return list(subparsers.choices)


def test_building_the_parser_imports_no_heavy_module():
    # A fresh interpreter: this test process has long imported torch.
    code = (
        "import sys; from signbind_cli.main import build_parser; build_parser(); "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY_MODULES!r}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_help_is_fast_in_a_subprocess():
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "signbind_cli", "--help"], capture_output=True, text=True, check=True
    )
    elapsed = time.perf_counter() - started
    assert "usage: signbind" in result.stdout
    for name in _subcommand_names():
        assert name in result.stdout
    # Importing torch + transformers alone takes ~4 s on our 2-core machines; --help takes ~0.1 s.
    assert elapsed < 2.0, f"`signbind --help` took {elapsed:.2f} s"


def test_every_command_module_is_registered():
    # A module is named after its command, with "_" where the command has "-" (push_dataset -> push-dataset).
    module_commands = {module.__name__.rsplit(".", 1)[1].replace("_", "-") for module in COMMANDS}
    assert module_commands == set(_subcommand_names())


@pytest.mark.parametrize("name", _subcommand_names())
def test_every_subcommand_help_works(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: signbind {name}" in capsys.readouterr().out


def test_params_presets_match_the_configuration():
    assert set(params.PRESETS) == set(PRESETS)


@pytest.mark.parametrize("preset", ["tiny", "paper"])
def test_params_prints_the_models_breakdown(preset, capsys):
    with torch.device("meta"):
        expected = SignBindModel(SignBindConfig.from_preset(preset)).parameter_breakdown()
    assert main(["params", "--preset", preset]) == 0
    table = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in table.splitlines()[3:]}
    assert list(rows) == list(params.PARTS)
    for part in params.PARTS:
        assert int(rows[part][2].replace(",", "")) == expected[part]
        assert float(rows[part][1]) == pytest.approx(expected[part] / 1e6, abs=0.05)
    assert ("paper (M)" in table) == (preset == "paper")


def test_format_breakdown_names_a_missing_part():
    with pytest.raises(ValueError, match="missing \\['lip'\\]"):
        params.format_breakdown({"manual": 1, "fusion": 2, "total": 3}, "tiny")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["params", "--preset", "huge"], "invalid choice: 'huge'"),
        (["smoke", "--steps", "1"], "expected an integer >= 2, got 1"),
        (["smoke", "--fusion-learning-rate", "0"], "expected a positive number, got 0"),
    ],
)
def test_bad_arguments_are_named(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_input_is_one_line_and_exit_status_2_whatever_the_command(tmp_path, caplog):
    missing = tmp_path / "no-model"
    assert main(["evaluate", "--model", str(missing), "--data", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    (record,) = [record for record in caplog.records if record.levelname == "ERROR"]
    assert f"--model {missing}: not a model folder" in record.getMessage()
    assert "\n" not in record.getMessage()


def test_errors_other_than_bad_input_are_not_taken_for_it(monkeypatch):
    from signbind_hf.training import evaluation

    def broken(*args, **kwargs):
        raise RuntimeError("a bug, not bad input")

    monkeypatch.setattr(evaluation, "evaluate_model", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["evaluate", "--model", "m", "--data", "d", "--out", "o"])


@pytest.mark.slow
def test_smoke_trains_both_stages_reloads_and_decodes_a_mini_synthsign(tmp_path):
    # Few steps, so the test stays short; `signbind smoke` runs the default number.
    assert main(["smoke", "--out", str(tmp_path), "--steps", "6", "--seed", "0"]) == 0
    summary = json.loads((tmp_path / "smoke.json").read_text())
    for stage in ("experts", "fusion"):
        result = summary["stages"][stage]
        assert len(result["losses"]) == 6
        assert result["last_loss"] < result["first_loss"]
    assert summary["reload_identical"] is True
    for stream in ("gloss", "sign", "fingerspelling", "phoneme"):
        result = summary["decoded"][stream]
        assert len(result["decoded"]) == len(result["targets"]) == summary["clips"]
    assert all(summary["decoded"]["gloss"]["targets"])  # every clip glosses (not every one fingerspells)
    assert summary["parameters"]["total"] > 0
    assert (tmp_path / "model" / "config.json").is_file()
    assert (tmp_path / "data" / "dataset_dict.json").is_file()  # a real SynthSign, in the datasets format
