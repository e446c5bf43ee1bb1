"""Every command README.md shows, run as written in a prepared workspace: a documented command that breaks fails here.

The commands are read from README.md itself: the ```bash blocks (backslash continuations joined, `# comments`
dropped), the inline commands of the numbered Space steps, and the ```python blocks, which are executed. COMMANDS
below is the one table of how each is run and what it must have done; a README command without an entry fails, and
so does an entry whose command left the README. Where the real command takes long or needs the network, the entry
runs a minimal substitute, written out in full in the table next to the README text it replaces.

The commands run once, in the table's order (a reader's order, with each command after the ones whose output it
reads), in one workspace holding what the README assumes: runs/quickstart/ (a tiny model trained on a mini
SynthSign, with a refiner, and its results.json), clip.mp4 (a SynthSign clip: a face MediaPipe finds), How2Sign's
released CSVs with clips/, and a tiny local Llama standing in for meta-llama/Llama-2-7b-hf. `signbind` commands run
in this process (`signbind_cli.main.main`, what the console script calls: no second torch import); make, hf,
accelerate and the app servers run as subprocesses.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import traceback
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# End to end (runs the README's commands, each a whole CLI run): `make test-fast` leaves these out.
pytestmark = pytest.mark.slow

REPOSITORY = Path(__file__).resolve().parents[1]
README = REPOSITORY / "README.md"
BIN = Path(sys.executable).parent
# The programs whose inline `code` in a numbered README step is a command (other spans there are names and values).
STEP_PROGRAMS = ("hf", "signbind", "make")
SERVER_STARTUP_S = 120
# A few steps of every training stage: the README's stages train for hours, these prove that the command runs.
FEW_STEPS = (
    "--max_steps 2 --eval_strategy no --save_strategy no --logging_steps 1 --max_frames 32 "
    "--per_device_train_batch_size 2 --dataloader_num_workers 0"
)
TINY_LLM = "--epochs 1 --batch_size 2 --gradient_accumulation_steps 1 --logging_steps 1 --max_new_tokens 8 --disable_tqdm true"


# -- What README.md shows ----------------------------------------------------------------------------------------


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def _normal(command: str) -> str:
    return " ".join(command.split())


def bash_commands(text: str) -> list[str]:
    """The commands of the ```bash blocks: continuations joined, `# comments` and blank lines dropped."""
    commands = []
    for block in _blocks(text, "bash"):
        for command in block.replace("\\\n", " ").splitlines():
            command = re.sub(r"(^|\s)#\s.*$", "", command)  # no README command holds " # " inside quotes
            if command.strip():
                commands.append(_normal(command))
    return commands


def step_commands(text: str) -> list[str]:
    """The `inline` commands of the numbered steps (a step runs on until the next step or a blank line)."""
    steps = re.findall(r"^\d+\. .*?(?=^\d+\. |^\s*$)", text, flags=re.MULTILINE | re.DOTALL)
    spans = [_normal(span) for step in steps for span in re.findall(r"`([^`]+)`", step)]
    return [span for span in spans if span.split()[0] in STEP_PROGRAMS and " " in span]


def python_key(block: str) -> str:
    """A ```python block's table key: its first line that is not an import, a comment or blank."""
    for line in block.splitlines():
        code = re.sub(r"\s+#.*$", "", line).strip()
        if code and not code.startswith(("import ", "from ", "#")):
            return f"python: {code}"
    raise ValueError(f"a README python block with nothing but imports:\n{block}")


def readme_commands(text: str) -> dict[str, str]:
    """Every README command, as its table key -> what runs (the command, or the whole python block)."""
    commands = {command: command for command in bash_commands(text) + step_commands(text)}
    commands.update({python_key(block): block for block in _blocks(text, "python")})
    return commands


# -- How each one is run and checked -----------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one command did: its exit status, its output (stdout, then logs or stderr), and for a python block the
    names it defined."""

    command: str
    returncode: int
    output: str
    workspace: Path
    namespace: dict = field(default_factory=dict)
    started: float = 0.0  # time.time() as it started: what it wrote is newer

    def ok(self) -> None:
        assert self.returncode == 0, f"`{self.command}` exited with {self.returncode}:\n{self.output[-4000:]}"


@dataclass(frozen=True)
class Entry:
    """How a README command is tested. ``run``: what runs instead of the README's text (None: the text as written;
    ``{repo}`` and ``{port}`` are filled in), with ``why`` the reason. ``check``: what it must have done.
    ``serve``: the command is a server, checked while it serves on ``{port}`` and then stopped."""

    check: Callable[[Outcome], None]
    run: str | None = None
    why: str = ""
    serve: bool = False


def _file(outcome: Outcome, path: str) -> Path:
    target = outcome.workspace / path
    assert target.is_file(), f"`{outcome.command}` did not write {path}:\n{outcome.output[-3000:]}"
    return target


def _json(outcome: Outcome, path: str) -> dict:
    return json.loads(_file(outcome, path).read_text())


def _make_calls(*expected: str) -> Callable[[Outcome], None]:
    def check(outcome: Outcome) -> None:
        outcome.ok()
        for text in expected:
            assert text in outcome.output, f"`{outcome.command}` does not run {text!r}:\n{outcome.output}"

    return check


def _hf_options(*options: str) -> Callable[[Outcome], None]:
    """The hf subcommand exists and its --help names every option (and choice) the README passes."""

    def check(outcome: Outcome) -> None:
        outcome.ok()
        for option in options:
            assert re.search(rf"(^|[\s,\[|]){re.escape(option)}([\s,=\]|]|$)", outcome.output, re.MULTILINE), (
                f"`{outcome.command}` does not offer {option}:\n{outcome.output}"
            )

    return check


def check_translate(outcome: Outcome) -> None:
    outcome.ok()
    assert outcome.output.startswith("clip.mp4:"), outcome.output
    for line in ("pseudo-gloss:", "segments:"):
        assert line in outcome.output, outcome.output
    assert "no LLM refiner" not in outcome.output, outcome.output  # the quickstart model's refiner translated


def check_export_openvino(outcome: Outcome) -> None:
    outcome.ok()
    record = json.loads(_file(outcome, "runs/quickstart/model/openvino/openvino_export.json").read_text())
    assert record["quantization"] == "int8", record
    assert "lip_vit" in record["encoders"], record
    for encoder in record["encoders"]:
        _file(outcome, f"runs/quickstart/model/openvino/{encoder}.xml")


def check_translate_live(outcome: Outcome) -> None:
    outcome.ok()
    sentences = [line for line in outcome.output.splitlines() if line.startswith("[")]
    assert sentences, outcome.output  # the random model reads words into the clip, as the pipeline block shows
    assert all(re.match(r"^\[\d+\.\d\d-\d+\.\d\d s\] .+ \+-?\d+\.\d\d s\)$", line) for line in sentences), sentences


def check_live_block(outcome: Outcome) -> None:
    outcome.ok()
    sentences = outcome.namespace["sentences"]
    assert sentences, outcome.output
    assert all(sentence["translation"] and sentence["start"] < sentence["end"] for sentence in sentences)
    assert outcome.namespace["live"].state.time > sentences[-1]["start"]


def check_serving_quickstart_model(outcome: Outcome) -> None:
    # The page's config holds the model field's value: the quickstart model, pre-selected.
    outcome.ok()
    assert "runs/quickstart/model" in outcome.output, outcome.output[-3000:]


def check_make_app(outcome: Outcome) -> None:
    from signbind_cli.app import DEFAULT_PORT

    check_serving_quickstart_model(outcome)
    recipe = subprocess.run(["make", "-n", "-C", str(REPOSITORY), "app"], capture_output=True, text=True, check=True)
    assert re.search(r"/signbind app\s*$", recipe.stdout, re.MULTILINE), recipe.stdout  # the port left at its default
    assert DEFAULT_PORT == 7860  # the port README names


def check_pipeline_block(outcome: Outcome) -> None:
    outcome.ok()
    result = outcome.namespace["result"]
    assert isinstance(result["translation"], str)
    assert result["translation"]
    assert isinstance(result["pseudo_gloss"], str)
    assert isinstance(result["segments"], list)
    assert result["segments"]


def check_model_block(outcome: Outcome) -> None:
    import torch

    outcome.ok()
    names = outcome.namespace
    assert set(names["model"].parameter_breakdown()) >= {"manual", "lip", "fusion", "total"}
    assert _json(outcome, "my-signbind/config.json")["model_type"] == "signbind"
    assert type(names["reloaded"]) is type(names["model"])
    assert all(parameter.device.type == "meta" for parameter in names["paper_model"].parameters())
    assert names["paper_model"].num_parameters() > 10 * names["model"].num_parameters()
    assert torch.equal(
        next(iter(names["model"].state_dict().values())), next(iter(names["reloaded"].state_dict().values()))
    )


def check_processor_block(outcome: Outcome) -> None:
    outcome.ok()
    inputs = outcome.namespace["inputs"]
    assert inputs["pixel_values"].shape[2:] == (3, 32, 32)
    assert inputs["face_pixel_values"].shape[2:] == (3, 32, 32)
    assert inputs["pixel_values"].shape[:2] == inputs["attention_mask"].shape
    for key in ("'gloss'", "'phoneme'"):  # what the block prints
        assert key in outcome.output, outcome.output


def check_params(outcome: Outcome) -> None:
    outcome.ok()
    for word in ("paper", "total"):
        assert word in outcome.output.lower(), outcome.output


def check_targets(outcome: Outcome) -> None:
    outcome.ok()
    for word in ("DIFFERENT", "HERE"):
        assert word in outcome.output, outcome.output


def check_keypoints(outcome: Outcome) -> None:
    from pose_format import Pose

    outcome.ok()
    pose = Pose.read((outcome.workspace / "runs/keypoints/clip.pose").read_bytes())
    names = [component.name for component in pose.header.components]
    assert names == ["POSE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"], names
    assert pose.body.data.shape[0] > 0


def check_synth(outcome: Outcome) -> None:
    import datasets

    outcome.ok()
    data = datasets.load_from_disk(str(outcome.workspace / "runs/synthsign"))
    assert {split: len(rows) for split, rows in data.items()} == {"train": 4, "validation": 2, "test": 2}


def check_prepare_val(outcome: Outcome) -> None:
    import datasets

    outcome.ok()
    assert set(datasets.load_from_disk(str(outcome.workspace / "runs/how2sign"))) == {"validation"}


def check_push_dataset(outcome: Outcome) -> None:
    outcome.ok()
    for text in ("ORG/NAME", "---"):  # where it would go, and the card
        assert text in outcome.output, outcome.output


def check_features(outcome: Outcome) -> None:
    outcome.ok()
    manifests = list((outcome.workspace / "runs/synthsign/features").rglob("*.json"))
    assert manifests, f"no feature cache under runs/synthsign/features:\n{outcome.output[-3000:]}"


def check_smoke(outcome: Outcome) -> None:
    outcome.ok()
    assert _json(outcome, "runs/smoke/smoke.json")
    _file(outcome, "runs/smoke/model/config.json")


def check_prepare_all(outcome: Outcome) -> None:
    import datasets

    outcome.ok()
    data = datasets.load_from_disk(str(outcome.workspace / "data/how2sign"))
    assert {split: len(rows) for split, rows in data.items()} == {"train": 4, "validation": 2, "test": 2}


def _trained(folder: str, stage: str) -> Callable[[Outcome], None]:
    def check(outcome: Outcome) -> None:
        outcome.ok()
        # Written by this command, not left by an earlier one (the accelerate run writes where the plain one did);
        # a second of slack for the file system's coarse clock.
        assert _file(outcome, f"{folder}/model.safetensors").stat().st_mtime > outcome.started - 1
        assert _json(outcome, f"{folder}/trainer_state.json")["global_step"] == 2
        assert _json(outcome, f"{folder}/stage_arguments.json")["stage"]["stage"] == stage

    return check


def check_train_llm(outcome: Outcome) -> None:
    outcome.ok()
    _file(outcome, "runs/model/refiner/adapter_model.safetensors")
    # A local base model travels inside the refiner: it is the one --base-model named.
    base = _json(outcome, "runs/model/refiner/base_model/config.json")
    assert base == _json(outcome, "tiny-llama/config.json")


def check_evaluate(outcome: Outcome) -> None:
    outcome.ok()
    results = _json(outcome, "runs/eval/results.json")
    assert results["refined"] is True
    assert {"bleu4", "gloss_wer"} <= set(results["test"])
    _file(outcome, "runs/eval/results.md")


def check_ablate(outcome: Outcome) -> None:
    outcome.ok()
    ablations = _json(outcome, "runs/ablations/ablations.json")
    assert set(ablations["ablations"]) == {"full", "no_lip", "no_fusion", "no_llm"}, ablations


def check_accelerate(outcome: Outcome) -> None:
    from accelerate.commands.config.config_args import load_config_from_file

    _trained("runs/experts", "experts")(outcome)
    # The README's config file is a valid accelerate config for 8 GPUs (this machine has none to run it on).
    config = load_config_from_file(str(REPOSITORY / "configs/accelerate/multi_gpu.yaml"))
    assert (config.distributed_type, config.num_processes) == ("MULTI_GPU", 8)


def check_push_dry_run(outcome: Outcome) -> None:
    outcome.ok()
    card = _file(outcome, "runs/quickstart/hub/README.md").read_text()
    for text in ("- synthsign", "model-index", "license: apache-2.0"):
        assert text in card, card
    for name in ("config.json", "model.safetensors", "results.json", "refiner/refiner_config.json"):
        _file(outcome, f"runs/quickstart/hub/{name}")
    assert "nothing uploaded" in outcome.output


def check_push_offline(outcome: Outcome) -> None:
    # Everything a push checks and renders passed; it stopped at the first thing that needs the Hub.
    assert outcome.returncode == 2, outcome.output[-3000:]
    assert "offline mode is on" in outcome.output, outcome.output[-3000:]


QUICKSTART_APP = "signbind app --port {port}"
MAKE_N = "make -n -C {repo} "
# README command -> how it is run and checked, in the order they run.
COMMANDS: dict[str, Entry] = {
    "make demo": Entry(
        _make_calls("signbind quickstart --out runs/quickstart"),
        MAKE_N + "demo",
        "13 minutes of training; the recipe is checked here, the quickstart itself runs tiny in test_quickstart.py",
    ),
    "make test": Entry(_make_calls("-m pytest"), MAKE_N + "test", "this is the test suite"),
    "make test-fast": Entry(_make_calls("-m pytest", "not slow"), MAKE_N + "test-fast", "this is the test suite"),
    "signbind translate clip.mp4 --model runs/quickstart/model": Entry(check_translate),
    "signbind translate clip.mp4 --live --model runs/quickstart/model": Entry(check_translate_live),
    "signbind translate clip.mp4 --model runs/quickstart/model --backbone-frame-stride 2": Entry(check_translate),
    "signbind export-openvino --model runs/quickstart/model clip.mp4": Entry(check_export_openvino),
    "signbind translate clip.mp4 --model runs/quickstart/model --precision openvino": Entry(check_translate),
    'python: live = StreamingTranslator(translation_pipeline("runs/quickstart/model"))': Entry(check_live_block),
    "make app": Entry(
        check_make_app,
        QUICKSTART_APP,
        "its recipe (checked: `signbind app`, default port 7860) with a free port; stopped once it serves",
        serve=True,
    ),
    'python: translator = pipeline("sign-language-translation", model="runs/quickstart/model")': Entry(
        check_pipeline_block
    ),
    "make test-newest": Entry(
        _make_calls("--upgrade", "-m compat"), MAKE_N + "test-newest", "builds a venv from the network"
    ),
    "make test-oldest": Entry(
        _make_calls("oldest-constraints.txt", "-m compat"), MAKE_N + "test-oldest", "builds a venv from the network"
    ),
    "make wheel-check": Entry(
        _make_calls("pip wheel", "scripts/check_wheel.py"), MAKE_N + "wheel-check", "builds a venv from the network"
    ),
    "make lock": Entry(_make_calls("pip freeze", "requirements-lock.txt"), MAKE_N + "lock", "resolves on the network"),
    'python: config = SignBindConfig.from_preset("tiny")': Entry(check_model_block),
    'python: processor = SignBindProcessor.from_preset("tiny", glosses=["HAVE DIFFERENT HERE", "ME NAME LAURENE"])': Entry(
        check_processor_block
    ),
    "signbind params --preset paper": Entry(check_params),
    'signbind targets "I have a few different ones here."': Entry(check_targets),
    "signbind keypoints clip.mp4 --out runs/keypoints": Entry(check_keypoints),
    "signbind synth --out runs/synthsign --seed 0": Entry(
        check_synth,
        "signbind synth --out runs/synthsign --seed 0 --num-train 4 --num-val 2 --num-test 2",
        "700 clips take a minute",
    ),
    "signbind prepare how2sign --csv how2sign_realigned_val.csv --videos clips/ --out runs/how2sign": Entry(
        check_prepare_val
    ),
    "signbind push-dataset runs/how2sign --repo-id ORG/NAME --dry-run": Entry(check_push_dataset),
    "signbind smoke --out runs/smoke": Entry(
        check_smoke, "signbind smoke --out runs/smoke --steps 10", "the same stages, fewer steps"
    ),
    "signbind prepare how2sign --csv how2sign_realigned_train.csv how2sign_realigned_val.csv "
    "how2sign_realigned_test.csv --videos clips/ --out data/how2sign": Entry(check_prepare_all),
    "signbind train --stage experts --config configs/experts_paper.yaml --data data/how2sign --out runs/experts": Entry(
        _trained("runs/experts", "experts"),
        "signbind train --stage experts --config configs/experts_cpu.yaml --data data/how2sign "
        f"--out runs/experts {FEW_STEPS}",
        "the paper config needs DINOv2 weights from the Hub and trains for days",
    ),
    "signbind features --model runs/experts --data runs/synthsign": Entry(check_features),
    "signbind train --stage fusion --config configs/fusion_paper.yaml --data data/how2sign --init runs/experts "
    "--out runs/model": Entry(
        _trained("runs/model", "fusion"),
        "signbind train --stage fusion --config configs/fusion_cpu.yaml --data data/how2sign "
        f"--init runs/experts --out runs/model {FEW_STEPS}",
        "the paper's fusion sizes and schedule",
    ),
    "signbind train --stage llm --data data/how2sign --out runs/model --base-model meta-llama/Llama-2-7b-hf": Entry(
        check_train_llm,
        f"signbind train --stage llm --data data/how2sign --out runs/model --base-model tiny-llama {TINY_LLM}",
        "Llama-2-7b is on the Hub (and 13 GB): a tiny local Llama, one epoch",
    ),
    "signbind evaluate --model runs/model --data data/how2sign --split test --out runs/eval": Entry(check_evaluate),
    "signbind ablate --data data/how2sign --experts runs/experts --model runs/model --out runs/ablations": Entry(
        check_ablate,
        "signbind ablate --data data/how2sign --experts runs/experts --model runs/model --out runs/ablations "
        f"--variants full no_lip no_fusion no_llm --fusion-args {FEW_STEPS}",
        "seven fusion retrainings: two of them (one retrained, one scored), for a few steps",
    ),
    "accelerate launch --config_file configs/accelerate/multi_gpu.yaml -m signbind_cli.main train --stage experts "
    "--config configs/experts_paper.yaml --data data/how2sign --out runs/experts": Entry(
        check_accelerate,
        f"{BIN}/accelerate launch --cpu --num_processes 1 -m signbind_cli.main train --stage experts "
        f"--config {{repo}}/configs/experts_cpu.yaml --data data/how2sign --out runs/experts {FEW_STEPS}",
        "8 GPUs: one CPU process of the tiny config, and the config file is loaded as accelerate reads it",
    ),
    "signbind push --model runs/quickstart/model --repo-id ORG/signbind-synthsign --results "
    "runs/quickstart/results.json --dry-run runs/quickstart/hub": Entry(check_push_dry_run),
    "signbind push --model runs/quickstart/model --repo-id ORG/signbind-synthsign --results "
    "runs/quickstart/results.json": Entry(
        check_push_offline, None, "as written, with HF_HUB_OFFLINE=1: it must stop before its first request"
    ),
    "hf repos create ORG/signbind --type space --sdk gradio": Entry(
        _hf_options("--type", "space", "--sdk"), f"{BIN}/hf repos create --help", "creates a Hub repository"
    ),
    "hf upload ORG/signbind spaces/signbind . --repo-type space": Entry(
        _hf_options("--repo-type", "space"), f"{BIN}/hf upload --help", "uploads to the Hub"
    ),
    "hf spaces variables add ORG/signbind -e SIGNBIND_MODEL=ORG/signbind-synthsign": Entry(
        _hf_options("-e"), f"{BIN}/hf spaces variables add --help", "changes a Space on the Hub"
    ),
    "signbind app --model DIR": Entry(
        check_serving_quickstart_model,
        "signbind app --model runs/quickstart/model --port {port}",
        "DIR is the quickstart model; stopped once it serves",
        serve=True,
    ),
}


# -- The workspace and the runs ----------------------------------------------------------------------------------


def _copy_clip(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _how2sign_release(workspace: Path, synthsign: Path) -> None:
    """How2Sign's released layout from the mini SynthSign's clips: one tab-separated CSV per split, clips/ of
    per-sentence clips named SENTENCE_NAME.mp4."""
    import datasets

    data = datasets.load_from_disk(str(synthsign))
    header = "VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE"
    for split, released in (("train", "train"), ("validation", "val"), ("test", "test")):
        lines = [header]
        for index, row in enumerate(data[split]):
            name = f"{released}{index}-1-rgb_front"
            _copy_clip(synthsign / row["video"], workspace / "clips" / f"{name}.mp4")
            lines.append(f"{released}{index}\traw_{name}\t{released}{index}_0\t{name}\t0.0\t5.0\t{row['sentence']}")
        (workspace / f"how2sign_realigned_{released}.csv").write_text("\n".join(lines) + "\n")


def _quickstart(workspace: Path) -> None:
    """runs/quickstart as `make demo` leaves it, in miniature: its SynthSign data, a tiny model whose gloss vocabulary
    is the data's, a refiner trained on it, results.json of its evaluation; and a tiny Llama for --base-model."""
    import torch
    from datasets import load_from_disk

    from signbind_hf import SignBindConfig, SignBindModel, SignBindProcessor
    from signbind_hf.data.synthsign import generate_synthsign
    from signbind_hf.training.evaluation import evaluate_model
    from signbind_hf.training.refiner import RefinerArguments, train_refiner
    from signbind_hf.training.small_llm import SmallLlmSettings, build_small_llm

    out = workspace / "runs/quickstart"
    data, model_dir = out / "data", out / "model"
    generate_synthsign(data, seed=0, num_train=4, num_validation=2, num_test=2, num_workers=1)
    glosses = load_from_disk(str(data))["train"]["pseudo_gloss"]
    processor = SignBindProcessor.from_preset("tiny", glosses=glosses)
    torch.manual_seed(0)
    model = SignBindModel(SignBindConfig.from_preset("tiny", gloss_vocab_size=len(processor.tokenizer)))
    model.save_pretrained(model_dir)
    processor.save_pretrained(model_dir)
    llm = SmallLlmSettings(vocab_size=300, hidden_size=32, num_layers=1, num_heads=2, intermediate_size=64)
    build_small_llm(data, workspace / "tiny-llama", llm)
    tiny = {"epochs": 1.0, "batch_size": 2, "gradient_accumulation_steps": 1, "max_new_tokens": 8, "logging_steps": 1}
    train_refiner(
        RefinerArguments(data_dir=str(data), out_dir=str(model_dir), base_model=str(workspace / "tiny-llama"), **tiny)
    )
    evaluate_model(model_dir, data, "test", out)
    _copy_clip(data / load_from_disk(str(data))["test"][0]["video"], workspace / "clip.mp4")
    _how2sign_release(workspace, data)
    (workspace / "configs").symlink_to(REPOSITORY / "configs")  # README's commands run from the repository root


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def _captured_logs():
    stream, root = io.StringIO(), logging.getLogger()
    handler, level = logging.StreamHandler(stream), root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)  # what the console script logs (pytest's own handler keeps basicConfig from acting)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _run_in_process(command: str, block: str | None) -> tuple[int, str, dict]:
    """A `signbind` command through the console script's main(), or a python block executed as a script."""
    from signbind_cli.main import main

    stdout, namespace = io.StringIO(), {"__name__": "__main__"}
    with _captured_logs() as logs, contextlib.redirect_stdout(stdout):
        try:
            if block is not None:
                exec(compile(block, "README.md", "exec"), namespace)
                returncode = 0
            else:
                returncode = main(shlex.split(command)[1:])
        except SystemExit as exit_:
            returncode = exit_.code if isinstance(exit_.code, int) else 1
        except Exception:
            returncode = 1
            print(traceback.format_exc())  # into the captured output, which a failing check shows
    return returncode, stdout.getvalue() + logs.getvalue(), namespace


def _serve(command: str, workspace: Path, port: int) -> tuple[int, str]:
    """Start the server, wait until it answers, read its page config, stop it."""
    argv = shlex.split(command)
    log = workspace / f"server-{port}.log"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "OMP_NUM_THREADS": "1"}
    with log.open("w") as log_file:
        server = subprocess.Popen(
            [str(BIN / argv[0]), *argv[1:]], cwd=workspace, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + SERVER_STARTUP_S
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=2) as response:
                    return 0, response.read().decode()
            except OSError:
                time.sleep(0.5)
        return server.poll() or 1, f"did not serve on port {port}:\n{log.read_text()}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def run_entry(key: str, entry: Entry, readme: dict[str, str], workspace: Path) -> Outcome:
    port, started = _free_port(), time.time()
    command = (entry.run or readme[key]).replace("{repo}", str(REPOSITORY)).replace("{port}", str(port))
    namespace = {}
    if key.startswith("python: "):
        command = key
        returncode, output, namespace = _run_in_process(key, readme[key])
    elif entry.serve:
        returncode, output = _serve(command, workspace, port)
    elif command.startswith("signbind "):
        returncode, output, _ = _run_in_process(command, None)
    else:
        done = subprocess.run(shlex.split(command), cwd=workspace, capture_output=True, text=True, timeout=300)
        returncode, output = done.returncode, done.stdout + done.stderr
    return Outcome(command, returncode, output, workspace, namespace, started)


@pytest.fixture(scope="module")
def readme() -> dict[str, str]:
    return readme_commands(README.read_text())


@pytest.fixture(scope="module")
def outcomes(readme, tmp_path_factory) -> dict[str, Outcome]:
    """Every table entry run once, in order, in one prepared workspace (the cwd of every command)."""
    import torch

    workspace = tmp_path_factory.mktemp("readme")
    threads = torch.get_num_threads()  # the tiny configs' torch_threads: 1 would last for the rest of the session
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(workspace)
        patch.setenv("HF_HUB_OFFLINE", "1")  # nothing here may reach the Hub; a push must stop before it tries
        patch.setenv("OMP_NUM_THREADS", "1")
        _quickstart(workspace)
        try:
            return {key: run_entry(key, entry, readme, workspace) for key, entry in COMMANDS.items() if key in readme}
        finally:
            torch.set_num_threads(threads)


def test_every_readme_command_has_exactly_one_entry(readme):
    untested = [command for command in readme if command not in COMMANDS]
    stale = [command for command in COMMANDS if command not in readme]
    assert not untested, f"README commands with no entry in COMMANDS (say how each is run and checked): {untested}"
    assert not stale, f"COMMANDS entries whose command is no longer in README.md (update or remove them): {stale}"
    assert all(entry.why for entry in COMMANDS.values() if entry.run), "every substitution says why"


def test_the_extraction_reads_blocks_continuations_comments_and_steps():
    text = (
        "```bash\nsignbind a \\\n    --x 1   # a comment\n\n# a whole comment line\nmake b\n```\n"
        "1. Do `hf thing ORG/x --y`, then `signbind-hf[video]` and\n   `make c` on a step's second line.\n\n"
        "Not a step: `hf prose`.\n```python\nimport os\n\nvalue = os.sep  # why\n```\n"
    )
    assert readme_commands(text) == {
        "signbind a --x 1": "signbind a --x 1",
        "make b": "make b",
        "hf thing ORG/x --y": "hf thing ORG/x --y",
        "make c": "make c",
        "python: value = os.sep": "import os\n\nvalue = os.sep  # why\n",
    }


@pytest.mark.parametrize("command", list(COMMANDS), ids=list(COMMANDS))
def test_readme_command(command, outcomes):
    if command not in outcomes:
        pytest.fail(f"not in README.md any more: {command}")
    COMMANDS[command].check(outcomes[command])
