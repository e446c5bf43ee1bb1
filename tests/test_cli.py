"""The `signbind` command line: instant --help, every sub-command's --help, `params`, and the synthetic smoke run."""

import argparse
import itertools
import json
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from signbind_cli import params
from signbind_cli.main import COMMANDS, build_parser, main
from signbind_cli.smoke_training import NUM_CLIPS, make_synthetic_batch
from signbind_hf import SignBindConfig, SignBindModel
from signbind_hf.configuration_signbind import PRESETS
from signbind_hf.constants import GLOSS_LABELS, PIXEL_VALUES, SEGMENT_LABELS, SEGMENT_REST, SEGMENT_SIGN

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


def test_smoke_trains_saves_reloads_and_decodes(tmp_path):
    # Few steps, so the test stays a few seconds; `make demo` runs the default number.
    assert main(["smoke", "--out", str(tmp_path), "--steps", "6", "--seed", "0"]) == 0
    summary = json.loads((tmp_path / "smoke.json").read_text())
    for stage in ("experts", "fusion"):
        result = summary["stages"][stage]
        assert len(result["losses"]) == 6
        assert result["last_loss"] < result["first_loss"]
    assert summary["reload_identical"] is True
    for stream in ("fused pseudo-gloss", "sign expert", "fingerspelling expert", "lipreading expert"):
        result = summary["decoded"][stream]
        assert len(result["decoded"]) == len(result["targets"]) == summary["clips"]
        assert all(result["targets"])  # every clip has a target in every stream
    assert summary["parameters"]["total"] > 0
    assert (tmp_path / "model" / "config.json").is_file()


def test_smoke_clips_show_their_labels_in_the_pixels():
    config = SignBindConfig.from_preset("tiny")
    batch = make_synthetic_batch(config, NUM_CLIPS, np.random.default_rng(0))
    frames, segments, glosses = batch[PIXEL_VALUES], batch[SEGMENT_LABELS], batch[GLOSS_LABELS]
    assert frames.shape[:2] == segments.shape
    centre = slice(frames.shape[-1] // 2 - 2, frames.shape[-1] // 2 + 2)
    colours_by_gloss = {}
    for clip in range(NUM_CLIPS):
        sign_frames = (segments[clip] == SEGMENT_SIGN).nonzero().flatten()
        # Two signed words per clip, in label order, each over the same number of frames.
        for frames_of_word, gloss in zip(sign_frames.tensor_split(2), glosses[clip, :2].tolist(), strict=True):
            colour = frames[clip, frames_of_word][..., centre, centre].mean(dim=(2, 3))  # (frames, 3)
            colours_by_gloss.setdefault(gloss, []).append(colour)
        rest = frames[clip, segments[clip] == SEGMENT_REST][..., centre, centre]
        assert rest.abs().mean() < 0.1  # mid-grey, 0 after normalisation
    mean_colour = {gloss: torch.cat(colours).mean(dim=0) for gloss, colours in colours_by_gloss.items()}
    for gloss, colours in colours_by_gloss.items():  # one colour per word ...
        assert torch.allclose(torch.cat(colours), mean_colour[gloss].expand(len(torch.cat(colours)), 3), atol=0.1)
    for first, second in itertools.combinations(mean_colour, 2):  # ... and different words look different
        assert (mean_colour[first] - mean_colour[second]).abs().max() > 0.2
