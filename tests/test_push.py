"""signbind push: the staged upload folder, the model card, the upload calls, and one-line errors."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import torch
import yaml
from huggingface_hub import EvalResult, HfApi, ModelCard, metadata_eval_result
from huggingface_hub.repocard_data import model_index_to_eval_results
from safetensors.torch import save_file

import signbind_hf
from signbind_cli.main import main as cli_main
from signbind_hf import SignBindModel, SignBindProcessor
from signbind_hf.data.synthsign.lexicon import GLOSSES
from signbind_hf.hub import HubPushError, push_model, stage_model

from .conftest import tiny_config

RESULTS = {
    "test": {
        "bleu1": 61.234,
        "bleu4": 41.5,
        "rouge_l": 63.2,
        "gloss_wer": 22.1,
        "homonym_accuracy": None,  # no homonym in the test split: not a number, left out of the model-index
        "letter_accuracy": 81.3,
        "phoneme_error_rate": 30.2,
        "sacrebleu_signature": "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.5.1",
    },
    "ablations": {"full": {"bleu4": 41.5, "gloss_wer": 22.1}, "no_lip": {"bleu4": 30.1, "gloss_wer": 35.0}},
}
REFINER_BASE = "meta-llama/Llama-2-7b-hf"


def save_model_folder(path: Path, glosses: list[str]) -> SignBindModel:
    """A tiny random model and its processor saved as `make demo` leaves them, with a refiner on a Hub base model."""
    torch.manual_seed(0)
    processor = SignBindProcessor.from_model_config(tiny_config(), glosses=glosses)
    model = SignBindModel(tiny_config(gloss_vocab_size=len(processor.tokenizer))).eval()
    model.save_pretrained(path)
    processor.save_pretrained(path)
    refiner = path / "refiner"
    refiner.mkdir()
    (refiner / "refiner_config.json").write_text(json.dumps({"base_model": REFINER_BASE}))
    (refiner / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": REFINER_BASE}))
    save_file({"lora_A": torch.zeros(2, 4)}, refiner / "adapter_model.safetensors")
    (refiner / "training_args.bin").write_bytes(b"Trainer settings: a pickle, but not weights")
    (refiner / "README.md").write_text("---\nbase_model: /home/me/runs/.tmp/base_model\n---\nPEFT's placeholder card")
    return model


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("push") / "model"
    save_model_folder(path, ["NOW IVAN SCHOOL", "GOOD MORNING"])
    return path


@pytest.fixture(scope="module")
def synthsign_model_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("push_synthsign") / "model"
    save_model_folder(path, [" ".join(GLOSSES[:6]), "OUR DOCTOR OMAR SMITH"])  # fingerspelled names, as SynthSign has
    shutil.rmtree(path / "refiner")
    (path / "results.json").write_text(json.dumps(RESULTS))
    return path


@pytest.fixture
def results_file(tmp_path) -> Path:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(RESULTS))
    return path


@pytest.fixture
def no_hub_login(monkeypatch, tmp_path):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(
        "huggingface_hub.constants.HF_HUB_OFFLINE", False
    )  # read once, when huggingface_hub is imported
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))  # no stored token
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "hf_home" / "token"))


@pytest.fixture
def hub_calls(monkeypatch) -> list:
    """HfApi's two upload calls, recorded instead of sent (with the uploaded folder's files and sizes)."""
    calls = []

    def create_repo(self, repo_id, **kwargs):
        calls.append(("create_repo", repo_id, kwargs))

    def upload_folder(self, **kwargs):
        folder = Path(kwargs["folder_path"])
        uploaded = {
            path.relative_to(folder).as_posix(): path.stat().st_size for path in folder.rglob("*") if path.is_file()
        }
        calls.append(("upload_folder", uploaded, kwargs))

    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    return calls


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def front_matter(card_text: str) -> dict:
    _, yaml_text, _ = card_text.split("---\n", 2)
    return yaml.safe_load(yaml_text)


EXPECTED_FILES = {
    "README.md",
    "config.json",
    "model.safetensors",
    "results.json",
    # remote code: model, processor and pipeline, flat modules
    "configuration_signbind.py",
    "modeling_signbind.py",
    "processing_signbind.py",
    "tokenization_signbind.py",
    "video_processing_signbind.py",
    "pipeline_signbind.py",
    # processor files
    "processor_config.json",
    "tokenizer_config.json",
    "vocab.json",
    "letter_tokenizer/tokenizer_config.json",
    "letter_tokenizer/vocab.json",
    "phoneme_tokenizer/tokenizer_config.json",
    "phoneme_tokenizer/vocab.json",
    # the face models the processor's remote code crops faces with
    "face_models/face_detector.tflite",
    "face_models/face_landmark.tflite",
    # the refiner, without its Trainer state
    "refiner/refiner_config.json",
    "refiner/adapter_config.json",
    "refiner/adapter_model.safetensors",
}


def test_dry_run_writes_the_hub_layout_and_leaves_the_model_folder_alone(model_dir, results_file, tmp_path):
    before = snapshot(model_dir)
    out = tmp_path / "hub"
    staged = stage_model(
        model_dir, out, repo_id="my-org/signbind-tiny", results=results_file, datasets=["my-org/data"]
    )

    files = {file.path: file.size for file in staged}
    assert files == {
        path.relative_to(out).as_posix(): path.stat().st_size for path in out.rglob("*") if path.is_file()
    }
    assert set(files) >= EXPECTED_FILES
    assert not {name for name in files if name.endswith((".bin", ".pt", ".pth", ".pkl"))}
    python = {name for name in files if name.endswith(".py")}
    assert all("/" not in name for name in python)  # transformers' remote code is flat
    # Every top-level module of signbind_hf ships as remote code and nothing else does: what a checkpoint does not need
    # (the Hub push, data, training, live) lives in a sub-package.
    package = Path(signbind_hf.__file__).parent
    assert python == {path.name for path in package.glob("*.py") if path.name != "__init__.py"}
    config = json.loads((out / "config.json").read_text())
    assert config["auto_map"] == {
        "AutoConfig": "configuration_signbind.SignBindConfig",
        "AutoModel": "modeling_signbind.SignBindModel",
    }
    assert config["custom_pipelines"]["sign-language-translation"]["impl"].startswith("pipeline_signbind.")
    assert json.loads((out / "results.json").read_text()) == RESULTS
    assert (out / "model.safetensors").read_bytes() == before["model.safetensors"]
    assert "model-index" in front_matter((out / "README.md").read_text())

    assert snapshot(model_dir) == before  # nothing written into the model folder
    assert sorted(path.name for path in tmp_path.iterdir()) == ["hub", "results.json"]  # no temporary sibling left


def test_card_metadata_model_index_and_text(model_dir, results_file, tmp_path):
    stage_model(
        model_dir, tmp_path / "hub", repo_id="my-org/signbind-tiny", results=results_file, datasets=["my-org/data"]
    )
    text = (tmp_path / "hub" / "README.md").read_text()
    metadata = front_matter(text)  # the YAML the Hub parses
    assert metadata["library_name"] == "transformers"
    assert metadata["pipeline_tag"] == "other"  # the Hub's task list has no sign-language translation
    assert {"sign-language", "sign-language-translation", "custom_code"} <= set(metadata["tags"])
    assert "synthetic-data" not in metadata["tags"]
    assert metadata["datasets"] == ["my-org/data"]
    assert metadata["base_model"] == REFINER_BASE
    assert metadata["license"] == "other"  # follows the training data: the publisher states it

    # The model-index reads back, through huggingface_hub's own parser, as the numbers of results.json (2 decimals).
    name, entries = model_index_to_eval_results(metadata["model-index"])
    assert name == "signbind-tiny"
    scores = {entry.metric_name: entry.metric_value for entry in entries}
    assert scores == {
        "BLEU-1": 61.23,
        "BLEU-4": 41.5,
        "ROUGE-L F1": 63.2,
        "Pseudo-gloss WER": 22.1,
        "Letter accuracy (fingerspelling)": 81.3,
        "Phoneme error rate": 30.2,
    }
    assert {entry.dataset_type for entry in entries} == {"my-org/data"}
    bleu4 = next(entry for entry in entries if entry.metric_name == "BLEU-4")
    assert bleu4.metric_args == {"max_order": 4, "signature": RESULTS["test"]["sacrebleu_signature"]}
    # ...and each entry is what huggingface_hub's metadata_eval_result writes for that score.
    reference = metadata_eval_result(
        model_pretty_name="signbind-tiny",
        task_pretty_name=bleu4.task_name,
        task_id="translation",
        metrics_pretty_name="BLEU-4",
        metrics_id="bleu",
        metrics_value=41.5,
        dataset_pretty_name=bleu4.dataset_name,
        dataset_id="my-org/data",
        dataset_split="test",
    )["model-index"][0]["results"][0]
    ours = next(result for result in metadata["model-index"][0]["results"])
    assert ours["task"] == reference["task"]
    assert ours["dataset"] == reference["dataset"]
    reference_metric = {key: value for key, value in reference["metrics"][0].items() if key != "verified"}
    assert {**reference_metric, "args": bleu4.metric_args} in ours["metrics"]

    card = ModelCard.load(tmp_path / "hub" / "README.md")
    assert card.data.eval_results == entries
    assert all(isinstance(entry, EvalResult) for entry in entries)
    for statement in (
        "Built with and for Deaf signers",
        "Deaf researchers",
        "Not a replacement for interpreters",
        "consent",
        "Dialect and signer variation",
        "## Intended use",
        "## Limitations",
        "## Training data",
        'pipeline("sign-language-translation", model="my-org/signbind-tiny", trust_remote_code=True)',
        'AutoModel.from_pretrained("my-org/signbind-tiny", trust_remote_code=True)',
        f"a LoRA adapter on `{REFINER_BASE}`",
        "| no_lip | 30.10 | 35.00 |",
        RESULTS["test"]["sacrebleu_signature"],
    ):
        assert statement in text, statement
    assert "synthetic data only" not in text.lower()


def test_a_synthsign_model_card_says_synthetic_data_only(synthsign_model_dir, tmp_path):
    # No --dataset and no --results: the gloss vocabulary is SynthSign's, and the folder holds its results.json.
    staged = stage_model(synthsign_model_dir, tmp_path / "hub", repo_id="me/signbind-synthsign")
    assert "results.json" in {file.path for file in staged}
    assert not any(file.path.startswith("refiner/") for file in staged)
    text = (tmp_path / "hub" / "README.md").read_text()
    metadata = front_matter(text)
    assert metadata["datasets"] == ["synthsign"]
    assert metadata["license"] == "apache-2.0"
    assert "synthetic-data" in metadata["tags"]
    assert "base_model" not in metadata
    assert "Trained on synthetic data only" in text
    assert "**Synthetic data only.**" in text
    assert "No LLM refiner ships with this checkpoint" in text
    assert metadata["model-index"][0]["results"][0]["dataset"]["name"] == "SynthSign (signbind-hf, procedural)"


def test_push_uploads_exactly_the_dry_run_folder(model_dir, results_file, tmp_path, hub_calls, no_hub_login):
    dry_run = stage_model(model_dir, tmp_path / "hub", repo_id="my-org/tiny", results=results_file, datasets=["d/x"])
    url, pushed = push_model(
        model_dir,
        "my-org/tiny",
        private=True,
        token="hf_test",
        commit_message="first upload",
        results=results_file,
        datasets=["d/x"],
    )
    assert url == "https://huggingface.co/my-org/tiny"
    assert pushed == dry_run
    (create, upload) = hub_calls
    assert create == ("create_repo", "my-org/tiny", {"repo_type": "model", "private": True, "exist_ok": True})
    _, uploaded, arguments = upload
    assert uploaded == {file.path: file.size for file in dry_run}  # the staged folder holds exactly the listed files
    assert arguments["repo_id"] == "my-org/tiny"
    assert arguments["repo_type"] == "model"
    assert arguments["commit_message"] == "first upload"
    assert arguments["allow_patterns"] == [file.path for file in dry_run]
    assert not Path(arguments["folder_path"]).exists()  # the temporary staging folder is gone


def test_no_token_offline_and_no_network_are_one_line(model_dir, hub_calls, no_hub_login, monkeypatch, caplog):
    with pytest.raises(HubPushError, match=r"^no Hugging Face token: pass --token") as caught:
        push_model(model_dir, "my-org/tiny")
    assert "\n" not in str(caught.value)

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubPushError, match=r"^cannot push my-org/tiny: Hugging Face offline mode is on"):
        push_model(model_dir, "my-org/tiny", token="hf_test")
    assert cli_main(["push", "--model", str(model_dir), "--repo-id", "my-org/tiny", "--token", "hf_test"]) == 2
    assert "offline mode is on (unset HF_HUB_OFFLINE)" in caplog.text
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert hub_calls == []  # nothing was sent

    def unreachable(self, **kwargs):
        import httpx

        raise httpx.ConnectError("[Errno 111] Connection refused")

    monkeypatch.setattr(HfApi, "upload_folder", unreachable)
    with pytest.raises(HubPushError, match=r"^cannot push my-org/tiny: the Hugging Face Hub is unreachable") as caught:
        push_model(model_dir, "my-org/tiny", token="hf_test")
    assert "\n" not in str(caught.value)


def test_cli_dry_run_prints_the_file_list_with_sizes(model_dir, results_file, tmp_path, capsys):
    out = tmp_path / "hub"
    arguments = ["push", "--model", str(model_dir), "--repo-id", "my-org/tiny", "--dry-run", str(out)]
    assert cli_main([*arguments, "--results", str(results_file), "--dataset", "my-org/data"]) == 0
    printed = capsys.readouterr().out.splitlines()
    listed = [re.fullmatch(r"\s*([\d,]+)  (\S+)", line) for line in printed]
    sizes = {match[2]: int(match[1].replace(",", "")) for match in listed if match}
    assert sizes["model.safetensors"] == (out / "model.safetensors").stat().st_size
    assert set(sizes) == {path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file()}
    assert printed[-1].startswith(f"written to {out}; nothing uploaded")


def copy_model(model_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(model_dir, tmp_path / "model"))


def break_config(path: Path) -> None:
    config = json.loads((path / "config.json").read_text())
    (path / "config.json").write_text(json.dumps({**config, "model_type": "bert"}))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda path: shutil.rmtree(path), r"--model .*model: no such folder"),
        (lambda path: (path / "config.json").unlink(), r"not a model folder \(no config.json\)"),
        (break_config, r"config.json: model_type 'bert'; expected 'signbind'"),
        (lambda path: (path / "model.safetensors").unlink(), r"no weights \(model.safetensors or"),
        (lambda path: (path / "pytorch_model.bin").write_bytes(b"pickle"), r"pytorch_model.bin is a pickle file"),
        (
            lambda path: (path / "refiner" / "adapter_model.bin").write_bytes(b"x"),
            r"refiner/adapter_model.bin is a pickle",
        ),
        (lambda path: (path / "processor_config.json").unlink(), r"no processor_config.json; the pipeline needs"),
        (
            lambda path: (path / "refiner" / "refiner_config.json").write_text('{"base_model": "/home/me/llama"}'),
            r"the base model '/home/me/llama' is neither a model folder inside",
        ),
    ],
)
def test_bad_model_folders_are_named_and_nothing_is_written(model_dir, tmp_path, damage, message):
    model = copy_model(model_dir, tmp_path)
    damage(model)
    out = tmp_path / "out" / "hub"
    with pytest.raises(HubPushError, match=message):
        stage_model(model, out, repo_id="my-org/tiny", datasets=["d/x"])
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize(
    ("repo_id", "options", "message"),
    [
        ("tiny", {}, r"--repo-id 'tiny': expected ORG/NAME"),
        ("my-org/a/b", {}, r"--repo-id 'my-org/a/b'"),
        ("my-org/tiny", {"results": "missing.json"}, r"--results missing.json: no such file"),
        ("my-org/tiny", {"results": "results.json", "datasets": None}, r"--dataset is needed with results"),
    ],
)
def test_bad_arguments_are_named_and_nothing_is_written(model_dir, results_file, tmp_path, repo_id, options, message):
    if options.get("results") == "results.json":
        options = {**options, "results": results_file}
    with pytest.raises(HubPushError, match=message):
        stage_model(model_dir, tmp_path / "hub", repo_id=repo_id, **options)
    assert not (tmp_path / "hub").exists()


def test_bad_results_and_output_folders(model_dir, tmp_path):
    (tmp_path / "results.json").write_text('{"bleu4": 12}')
    with pytest.raises(HubPushError, match=r'results.json: expected an object with a "test" object'):
        stage_model(model_dir, tmp_path / "hub", repo_id="a/b", results=tmp_path / "results.json", datasets=["d/x"])
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    with pytest.raises(HubPushError, match=r"busy: already exists and is not empty"):
        stage_model(model_dir, tmp_path / "busy", repo_id="a/b", datasets=["d/x"])
    assert [path.name for path in (tmp_path / "busy").iterdir()] == ["keep.txt"]
    with pytest.raises(HubPushError, match=r"inside the model folder"):
        stage_model(model_dir, model_dir / "hub", repo_id="a/b", datasets=["d/x"])
    assert not (model_dir / "hub").exists()


def test_trainer_state_checkpoints_and_openvino_exports_are_left_out(model_dir, tmp_path, caplog):
    model = copy_model(model_dir, tmp_path)
    (model / "training_args.bin").write_bytes(b"pickle")
    (model / "checkpoint-10").mkdir()
    (model / "checkpoint-10" / "optimizer.pt").write_bytes(b"pickle")
    (model / "notes.txt").write_text("mine")
    (model / "openvino").mkdir()  # an OpenVINO export: its .bin is a raw weight blob, made again after download
    (model / "openvino" / "frame_backbone.bin").write_bytes(b"weights")
    staged = {file.path for file in stage_model(model, tmp_path / "hub", repo_id="a/b", datasets=["d/x"])}
    left_out = {
        "training_args.bin",
        "checkpoint-10/optimizer.pt",
        "openvino/frame_backbone.bin",
        "notes.txt",
        "refiner/training_args.bin",
        "refiner/README.md",
    }
    assert not staged & left_out
    assert "not uploaded" in caplog.text
    assert "notes.txt" in caplog.text


def test_a_refiner_with_its_base_model_inside_travels_with_it(model_dir, tmp_path):
    model = copy_model(model_dir, tmp_path)
    base = model / "refiner" / "base_model"
    base.mkdir()
    (base / "config.json").write_text(json.dumps({"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 64}))
    save_file({"embed": torch.zeros(4, 2)}, base / "model.safetensors")
    (model / "refiner" / "refiner_config.json").write_text(json.dumps({"base_model": "base_model"}))
    staged = {file.path for file in stage_model(model, tmp_path / "hub", repo_id="a/b", datasets=["d/x"])}
    assert {"refiner/base_model/config.json", "refiner/base_model/model.safetensors"} <= staged
    text = (tmp_path / "hub" / "README.md").read_text()
    assert "base_model" not in front_matter(text)  # not a Hub id: the card's metadata must not point at one
    assert "a LoRA adapter on a llama model with 2 layers of width 64, built for this checkpoint" in " ".join(
        text.split()
    )
    assert "ships in this repository (`refiner/base_model`)" in " ".join(text.split())


def test_a_merged_refiner_needs_no_base_model(model_dir, tmp_path):
    model = copy_model(model_dir, tmp_path)
    refiner = model / "refiner"
    (refiner / "refiner_config.json").write_text(json.dumps({"base_model": "base_model", "merged": True}))
    with pytest.raises(HubPushError, match=r"says merged, but .*refiner has no config.json"):
        stage_model(model, tmp_path / "hub", repo_id="a/b", datasets=["d/x"])
    (refiner / "config.json").write_text(json.dumps({"model_type": "llama"}))
    stage_model(model, tmp_path / "hub", repo_id="a/b", datasets=["d/x"])
    text = (tmp_path / "hub" / "README.md").read_text()
    assert "`base_model` fine-tuned with LoRA, merged into full weights" in text
    assert "base_model" not in front_matter(text)


def test_sharded_weights_are_staged_with_their_index(tmp_path):
    torch.manual_seed(0)
    processor = SignBindProcessor.from_model_config(tiny_config(), glosses=["GOOD MORNING"])
    model = SignBindModel(tiny_config(gloss_vocab_size=len(processor.tokenizer)))
    model.save_pretrained(tmp_path / "model", max_shard_size="300KB")
    processor.save_pretrained(tmp_path / "model")
    shards = sorted(path.name for path in (tmp_path / "model").glob("model-*.safetensors"))
    assert len(shards) > 1
    staged = {file.path for file in stage_model(tmp_path / "model", tmp_path / "hub", repo_id="a/b")}
    assert {"model.safetensors.index.json", *shards} <= staged
    (tmp_path / "model" / shards[-1]).unlink()
    with pytest.raises(HubPushError, match=rf"lists shards that are not in the folder: {shards[-1]}"):
        stage_model(tmp_path / "model", tmp_path / "hub2", repo_id="a/b")
