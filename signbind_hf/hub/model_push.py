"""Publishing a trained SignBind model on the Hugging Face Hub: the staged upload folder and its model card.

``stage_model(model_dir, out_dir, repo_id=...)`` writes the exact folder a push uploads: ``config.json`` (with its
``auto_map``), the safetensors weights, the flat remote-code modules, the processor files, ``refiner/`` when the model
has one, ``results.json`` when there are results, and ``README.md``, the model card rendered from
``hub_cards/model_card.md``. ``push_model`` stages into a temporary folder and uploads that folder as it is, so the
dry run (``signbind push --dry-run OUT_DIR``) and the push share one file list. Every check runs before anything is
written, and every failure the user can fix is a one-line :class:`HubPushError`.

Example (a dry run; a real push needs a token with write access):

    >>> from signbind_hf.hub import stage_model
    >>> staged = stage_model("runs/quickstart/model", "runs/quickstart/hub", repo_id="my-org/signbind-synthsign",
    ...                      results="runs/quickstart/results.json")  # doctest: +SKIP
    >>> [(file.path, file.size) for file in staged][:2]  # doctest: +SKIP
    [('README.md', 9120), ('config.json', 2896)]
"""

import filecmp
import json
import logging
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..constants import SPELLED_WORD_TOKEN
from ..landmark_models_signbind import FACE_MODELS_DIR
from ..pipeline_signbind import TASK, add_pipeline_code
from ..refiner import REFINER_CONFIG_NAME, REFINER_DIR
from .publishing import (
    HubPushError,
    card_template,
    check_not_offline,
    check_repo_id,
    folder_files,
    resolve_token,
    upload_folder_to_hub,
)

logger = logging.getLogger(__name__)

MODEL_TYPE = "signbind"
CARD_FILE = "README.md"
CARD_TEMPLATE = "model_card.md"  # in signbind_hf/hub_cards/
CONFIG_FILE = "config.json"
RESULTS_FILE = "results.json"
PROCESSOR_FILE = "processor_config.json"
WEIGHTS_FILE = "model.safetensors"
WEIGHTS_INDEX_FILE = "model.safetensors.index.json"
REQUIRED_AUTO_CLASSES = ("AutoConfig", "AutoModel")
# The Hub's `pipeline_tag` is one of a fixed list of tasks (huggingface.js PIPELINE_DATA), which has no
# sign-language translation: a custom value risks the card being rejected, and the nearest listed tasks would make
# the Hub offer code snippets that cannot run this model (`translation` is text to text, `video-text-to-text` takes
# a prompt). So the card says `other`, and the task is a tag.
PIPELINE_TAG = "other"
TAGS = ["sign-language", TASK, "signbind", "video", "ctc", "lipreading", "fingerspelling", "custom_code"]
SYNTHETIC_TAG = "synthetic-data"
SYNTHETIC_DATASET = "synthsign"
# Files of the processor that `ProcessorMixin.save_pretrained` and the tokenizers write at the top of the folder;
# the letter and phoneme tokenizers go into sub-folders (any top-level folder holding a tokenizer_config.json).
PROCESSOR_FILES = (
    PROCESSOR_FILE,
    "preprocessor_config.json",
    "video_preprocessor_config.json",
    "tokenizer_config.json",
    "tokenizer.json",
    "vocab.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "chat_template.jinja",
    "chat_template.json",
)
# Folders the processor writes beside its files: the MediaPipe face models its remote code crops faces with.
PROCESSOR_FOLDERS = (FACE_MODELS_DIR,)
OPTIONAL_MODEL_FILES = ("generation_config.json",)
# Pickle files: loading one can run arbitrary code, so a push carries safetensors weights only.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
# What transformers' Trainer (and TRL's) leave beside a saved model: training state, not weights; never uploaded.
TRAINER_STATE_FILES = re.compile(
    r"^(training_args\.bin|optimizer\.pt|scheduler\.pt|scaler\.pt|rng_state(_\d+)?\.pth)$"
)
# Folders a push never uploads: Trainer checkpoints and logs, hidden folders, and the OpenVINO export (its .bin is
# OpenVINO's raw weight blob, never unpickled; an export belongs to the machine that calibrated it: made again with
# `signbind export-openvino` after download).
LEFT_OUT_FOLDERS = re.compile(r"^(checkpoint-\d+|runs|\..*|__pycache__|openvino)$")
# Reading order of results.json's test metrics in the card, with their model-index metric type and pretty name.
METRICS = {
    "bleu1": ("bleu", "BLEU-1"),
    "bleu4": ("bleu", "BLEU-4"),
    "rouge_l": ("rouge", "ROUGE-L F1"),
    "gloss_wer": ("wer", "Pseudo-gloss WER"),
    "homonym_accuracy": ("accuracy", "Homonym gloss accuracy"),
    "letter_accuracy": ("accuracy", "Letter accuracy (fingerspelling)"),
    "phoneme_error_rate": ("per", "Phoneme error rate"),
}
BLEU_ORDERS = {"bleu1": 1, "bleu4": 4}


@dataclass(frozen=True)
class StagedFile:
    """One file of the upload folder: its path relative to the folder (POSIX) and its size in bytes."""

    path: str
    size: int


@dataclass(frozen=True)
class ModelFolder:
    """A checked SignBind model folder: what a push takes from it, and what the card says about it."""

    root: Path
    config: dict[str, Any]
    files: list[str]  # relative paths to upload from the folder (README.md, results.json and the code aside)
    code: dict[str, Path]  # remote code: file name -> the installed signbind_hf module it is copied from
    left_out: list[str]  # relative paths present but not uploaded (training state, checkpoints, other files)


def inspect_model_folder(model_dir: str | os.PathLike) -> ModelFolder:
    """Check that ``model_dir`` is a SignBind model folder a push can upload; :class:`HubPushError` names the problem.

    Checks: a ``config.json`` of model type ``signbind`` with an ``auto_map`` for AutoConfig and AutoModel, the
    remote code modules it names (and the modules they import), safetensors weights (every shard of a sharded
    checkpoint), the processor files, and no pickle weights anywhere.
    """
    root = Path(model_dir)
    if not root.is_dir():
        raise HubPushError(f"--model {root}: no such folder (expected a model folder written by save_pretrained)")
    config = _read_config(root)
    _refuse_pickles(root)
    files: list[str] = [CONFIG_FILE, *_weight_files(root)]
    files += [name for name in (*OPTIONAL_MODEL_FILES, *PROCESSOR_FILES) if (root / name).is_file()]
    if PROCESSOR_FILE not in files:
        raise HubPushError(
            f"--model {root}: no {PROCESSOR_FILE}; the pipeline needs the processor: save it into the model folder "
            "with processor.save_pretrained(DIR)"
        )
    for folder in sorted(path for path in root.iterdir() if path.is_dir()):
        # The refiner, the processor's face models, and its letter and phoneme tokenizers (sub-folders).
        if folder.name in (REFINER_DIR, *PROCESSOR_FOLDERS) or (folder / "tokenizer_config.json").is_file():
            files += [f"{folder.name}/{name}" for name in _tree_files(folder)]
    code = _remote_code(root, config)
    if not (root / REFINER_DIR).is_dir():
        logger.warning("%s has no %s/: the pushed model translates into pseudo-gloss only", root, REFINER_DIR)
    uploaded = set(files) | set(code) | {CARD_FILE, RESULTS_FILE}
    left_out = [name for name in folder_files(root) if name not in uploaded]
    return ModelFolder(root=root, config=config, files=sorted(set(files)), code=code, left_out=left_out)


def _read_config(root: Path) -> dict[str, Any]:
    path = root / CONFIG_FILE
    if not path.is_file():
        raise HubPushError(
            f"--model {root}: not a model folder (no {CONFIG_FILE}); expected a folder written by "
            "SignBindModel.save_pretrained"
        )
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise HubPushError(f"{path}: not valid JSON ({error})") from error
    model_type = config.get("model_type") if isinstance(config, dict) else None
    if model_type != MODEL_TYPE:
        raise HubPushError(f"{path}: model_type {model_type!r}; expected {MODEL_TYPE!r} (a SignBind model folder)")
    auto_map = config.get("auto_map") or {}
    missing = [name for name in REQUIRED_AUTO_CLASSES if name not in auto_map]
    if missing:
        raise HubPushError(
            f"{path}: no auto_map entry for {', '.join(missing)}, so the Hub copy would not load with "
            "trust_remote_code=True; re-save it with signbind_hf imported (it registers the classes): "
            "AutoModel.from_pretrained(DIR).save_pretrained(DIR)"
        )
    return config


def _refuse_pickles(root: Path) -> None:
    for name in folder_files(root):
        path = Path(name)
        if path.suffix.lower() in PICKLE_SUFFIXES and not TRAINER_STATE_FILES.match(path.name):
            if any(LEFT_OUT_FOLDERS.match(part) for part in path.parts[:-1]):
                continue  # inside a Trainer checkpoint or log folder, which is never uploaded
            raise HubPushError(
                f"--model {root}: {name} is a pickle file; a push uploads safetensors weights only (loading a pickle "
                "can run arbitrary code). Convert it: load the model and save_pretrained it again (transformers writes "
                "safetensors), then remove the pickle file"
            )


def _weight_files(root: Path) -> list[str]:
    index = root / WEIGHTS_INDEX_FILE
    if index.is_file():
        try:
            shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
            raise HubPushError(f"{index}: not a safetensors index (no weight_map): {error}") from error
        missing = [shard for shard in shards if not (root / shard).is_file()]
        if missing:
            raise HubPushError(f"{index}: lists shards that are not in the folder: {', '.join(missing)}")
        return [WEIGHTS_INDEX_FILE, *shards]
    if (root / WEIGHTS_FILE).is_file():
        return [WEIGHTS_FILE]
    raise HubPushError(
        f"--model {root}: no weights ({WEIGHTS_FILE} or {WEIGHTS_INDEX_FILE}); expected a folder written by "
        "SignBindModel.save_pretrained"
    )


def _tree_files(folder: Path) -> list[str]:
    """Files under ``folder`` (relative), without Trainer checkpoints, logs, caches, Trainer state and model cards.

    A sub-folder's README.md is left out: PEFT writes a placeholder card (with the local paths it was trained in)
    beside every adapter, and the repository's one card is the top-level README.md.
    """
    return [
        name
        for name in folder_files(folder)
        if not any(LEFT_OUT_FOLDERS.match(part) for part in Path(name).parts[:-1])
        and not TRAINER_STATE_FILES.match(Path(name).name)
        and Path(name).name != CARD_FILE
    ]


def _remote_code(root: Path, config: dict[str, Any]) -> dict[str, Path]:
    """The remote code to upload: ``{file name: source}`` for the modules the auto_maps name and their imports.

    The sources are this installed package's modules, not the copies saved beside the weights: locally, a model folder
    always runs with the installed signbind_hf (its classes are registered), so the pushed code is the code the
    model was checked with here, and every module (model, processor, pipeline) comes from one version.
    """
    from transformers.dynamic_module_utils import get_relative_import_files

    references = list(config["auto_map"].values())
    processor_config = root / PROCESSOR_FILE
    try:
        references += list((json.loads(processor_config.read_text()).get("auto_map") or {}).values())
    except json.JSONDecodeError as error:
        raise HubPushError(f"{processor_config}: not valid JSON ({error})") from error
    package = Path(__file__).resolve().parents[1]  # signbind_hf/, whose flat modules are the remote code
    code: dict[str, Path] = {}
    for module in sorted({reference.split("--")[-1].rsplit(".", 1)[0] for reference in references if reference}):
        source = package / f"{module}.py"
        if not source.is_file():
            raise HubPushError(
                f"--model {root}: an auto_map names {module}, which is not a flat module of signbind_hf "
                f"{package}; expected a folder saved by SignBindModel / SignBindProcessor.save_pretrained"
            )
        for path in [source, *map(Path, get_relative_import_files(str(source)))]:
            code[path.name] = path
    changed = [
        name for name, source in code.items() if (root / name).is_file() and not filecmp.cmp(root / name, source)
    ]
    if changed:
        logger.warning(
            "the remote code comes from the installed signbind_hf, which differs from the copies saved with the model "
            "in: %s",
            ", ".join(sorted(changed)),
        )
    return code


def read_results(path: str | os.PathLike) -> dict[str, Any]:
    """A ``results.json`` written by ``signbind evaluate``: ``{"test": {metric: percent, ...}, "ablations": {...}}``."""
    path = Path(path)
    if not path.is_file():
        raise HubPushError(f"--results {path}: no such file (expected the results.json of `signbind evaluate`)")
    try:
        results = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise HubPushError(f"--results {path}: not valid JSON ({error})") from error
    if not isinstance(results, dict) or not isinstance(results.get("test"), dict):
        raise HubPushError(
            f'--results {path}: expected an object with a "test" object of metrics (results.json of `signbind '
            f"evaluate`); got {type(results).__name__} with keys {sorted(results) if isinstance(results, dict) else []}"
        )
    return results


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return round(float(value), 2)


def eval_results(results: dict[str, Any], dataset: str, dataset_name: str, split: str = "test") -> list:
    """The model-index entries (``huggingface_hub.EvalResult``) of ``results[split]``; non-numeric values are skipped."""
    from huggingface_hub import EvalResult

    metrics = results[split]
    names = [name for name in METRICS if name in metrics] + sorted(set(metrics) - set(METRICS))
    entries = []
    for name in names:
        value = _number(metrics[name])
        if value is None:
            if name != "sacrebleu_signature":
                logger.info(
                    "results.json: %s.%s = %r is not a number; left out of the model-index", split, name, value
                )
            continue
        metric_type, metric_name = METRICS.get(name, (name, name))
        metric_args = None
        if name in BLEU_ORDERS:
            metric_args = {"max_order": BLEU_ORDERS[name], "signature": metrics.get("sacrebleu_signature")}
        entries.append(
            EvalResult(
                task_type="translation",
                task_name="Sign language translation (video to English)",
                dataset_type=dataset,
                dataset_name=dataset_name,
                dataset_split=split,
                metric_type=metric_type,
                metric_name=metric_name,
                metric_value=value,
                metric_args=metric_args,
            )
        )
    return entries


def _ablation_table(ablations: dict[str, Any]) -> str:
    rows = {name: metrics for name, metrics in ablations.items() if isinstance(metrics, dict)}
    columns = [name for name in METRICS if any(name in metrics for metrics in rows.values())]
    if not rows or not columns:
        return ""
    lines = ["| variant | " + " | ".join(METRICS[name][1] for name in columns) + " |"]
    lines.append("| --- |" + " ---: |" * len(columns))
    for variant, metrics in rows.items():
        cells = [_number(metrics.get(name)) for name in columns]
        lines.append(f"| {variant} | " + " | ".join("–" if cell is None else f"{cell:.2f}" for cell in cells) + " |")
    return "\n".join(lines)


def _parameter_counts(root: Path, weight_files: list[str]) -> dict[str, str]:
    """Stored weights per part (``manual``, ``lip``, ``fusion``), read from the safetensors headers only."""
    from safetensors import safe_open

    counts = {"manual": 0, "lip": 0, "fusion": 0}
    for name in weight_files:
        if "/" in name or not name.endswith(".safetensors"):
            continue  # the refiner's and the tokenizers' files are not the visual model's
        try:
            with safe_open(root / name, framework="pt") as weights:
                for key in weights.keys():  # noqa: SIM118 (safe_open is not a mapping)
                    part = key.split(".", 1)[0]
                    if part in counts:
                        counts[part] += math.prod(weights.get_slice(key).get_shape())
        except Exception as error:  # safetensors raises its own Rust-side error type for a damaged header
            raise HubPushError(f"{root / name}: not a readable safetensors file ({error})") from error
    counts["total"] = sum(counts.values())
    in_millions = counts["total"] >= 1_000_000  # one unit for every part, so the parts add up to the total on sight
    return {part: f"{count / 1e6:.1f} M" if in_millions else f"{count:,}" for part, count in counts.items()}


def _refiner_details(root: Path) -> dict[str, Any] | None:
    """The refiner's base model (``refiner_config.json``) and where it lives: in ``refiner/`` or on the Hub."""
    folder = root / REFINER_DIR
    if not folder.is_dir():
        return None
    config_path = folder / REFINER_CONFIG_NAME
    try:
        settings = json.loads(config_path.read_text())
        base, merged = settings["base_model"], bool(settings.get("merged", False))
    except (OSError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
        raise HubPushError(
            f"{config_path}: cannot read the refiner's base model from it ({error!r}); expected the refiner/ folder "
            "written by `signbind train --stage llm`"
        ) from error
    base_in_repo = not Path(base).is_absolute() and (folder / base / CONFIG_FILE).is_file()
    if merged:
        # The merged weights are the whole language model: the base model is provenance only.
        if not (folder / CONFIG_FILE).is_file():
            raise HubPushError(f"{config_path}: says merged, but {folder} has no {CONFIG_FILE} of the merged model")
    elif not base_in_repo and _hub_model_id(base) is None:
        raise HubPushError(
            f"{config_path}: the base model {base!r} is neither a model folder inside {folder} nor a Hub model id "
            "(ORG/NAME), so a Hub copy could not load it; retrain the refiner so that it copies its base model into "
            "refiner/"
        )
    architecture = None
    if base_in_repo:  # a locally built base model: say what it is, its folder name says nothing
        base_config = json.loads((folder / base / CONFIG_FILE).read_text())
        architecture = (
            f"{base_config.get('model_type', 'causal LM')} model with {base_config.get('num_hidden_layers', '?')} "
            f"layers of width {base_config.get('hidden_size', '?')}"
        )
    return {"base": base, "merged": merged, "base_in_repo": base_in_repo, "architecture": architecture}


def _hub_model_id(reference: str | None) -> str | None:
    """``reference`` when it reads as a Hub model id (``org/name``) rather than a local path, else None."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    if not reference or "/" not in reference or reference.startswith((".", "/", "~")):
        return None
    try:
        validate_repo_id(reference)
    except HFValidationError:
        return None
    return reference


def _synthsign_words() -> set[str]:
    """Every word a SynthSign pseudo-gloss can hold: the lexicon's signs and the fingerspelled names and surnames."""
    from ..data.synthsign.lexicon import GLOSSES
    from ..data.synthsign.sentences import SLOTS

    # The names are pseudo-gloss words too (fingerspelled, "OMAR SMITH"): a vocabulary learnt from SynthSign holds them.
    return set(GLOSSES) | {name.upper() for name in (*SLOTS["name"], *SLOTS["surname"])}


def _synthsign_vocabulary(root: Path) -> bool:
    """Whether every word of the model's gloss vocabulary is a SynthSign word (a model trained on SynthSign only)."""
    vocabulary, tokenizer_config = root / "vocab.json", root / "tokenizer_config.json"
    if not vocabulary.is_file() or not tokenizer_config.is_file():
        return False
    added = json.loads(tokenizer_config.read_text()).get("added_tokens_decoder") or {}
    special = {token["content"] for token in added.values() if token.get("special")}
    # [FS] (a fingerspelled word's slot) is reserved in every gloss vocabulary, like the special tokens.
    words = set(json.loads(vocabulary.read_text())) - special - {SPELLED_WORD_TOKEN}
    return bool(words) and words <= _synthsign_words()


def _render_card(
    folder: ModelFolder,
    *,
    repo_id: str,
    results: dict[str, Any] | None,
    datasets: list[str] | None,
    license: str | None,
):
    """The model card (``huggingface_hub.ModelCard``), read back and checked as the Hub would parse it.

    ``datasets`` are the training data sets (Hub ids or names; the first is the one ``results`` were measured on).
    Without them, a model whose gloss vocabulary is SynthSign's is described as trained on SynthSign only.
    """
    from huggingface_hub import ModelCard, ModelCardData
    from huggingface_hub.repocard_data import model_index_to_eval_results

    root, config = folder.root, folder.config
    datasets = list(datasets or [])
    if not datasets and _synthsign_vocabulary(root):
        logger.info("%s: the gloss vocabulary is SynthSign's; the card says it was trained on SynthSign only", root)
        datasets = [SYNTHETIC_DATASET]
    synthetic_only = bool(datasets) and all(SYNTHETIC_DATASET in name.lower() for name in datasets)
    license = license or ("apache-2.0" if synthetic_only else "other")
    refiner = _refiner_details(root)
    base_model = _hub_model_id(refiner["base"]) if refiner else None
    evaluation = None
    entries = []
    if results is not None:
        if not datasets:
            raise HubPushError(
                "--dataset is needed with results (--results or the model folder's results.json): the model-index "
                "names the data set the scores were measured on, and the model's gloss vocabulary is not SynthSign's; "
                "name it (--dataset ORG/NAME, the Hub id of the data set)"
            )
        dataset_name = (
            "SynthSign (signbind-hf, procedural)" if SYNTHETIC_DATASET in datasets[0].lower() else datasets[0]
        )
        entries = eval_results(results, datasets[0], dataset_name)
        evaluation = {
            "split": "test",
            "dataset": datasets[0],
            "rows": [{"name": entry.metric_name, "value": f"{entry.metric_value:.2f}"} for entry in entries],
            "signature": results["test"].get("sacrebleu_signature"),
            "ablations": _ablation_table(results.get("ablations") or {}),
        }
    model_name = repo_id.split("/", 1)[1]
    card_data = ModelCardData(
        library_name="transformers",
        pipeline_tag=PIPELINE_TAG,
        license=license,
        language=["en"],
        tags=[*TAGS, *([SYNTHETIC_TAG] if synthetic_only else [])],
        datasets=datasets or None,
        base_model=base_model,
        model_name=model_name if entries else None,
        eval_results=entries or None,
    )
    card = ModelCard.from_template(
        card_data,
        template_str=card_template(CARD_TEMPLATE),
        model_name=model_name,
        repo_id=repo_id,
        synthetic_only=synthetic_only,
        datasets=datasets,
        parameters=_parameter_counts(root, folder.files),
        streams={
            "use_lip": config.get("use_lip", True),
            "use_fingerspelling": config.get("use_fingerspelling", True),
            "fusion_type": config.get("fusion_type", "gated"),
            "lip_shift": config.get("lip_shift", "learned"),
        },
        vocab={
            "gloss": config.get("gloss_vocab_size"),
            "letters": config.get("letter_vocab_size"),
            "phonemes": config.get("phoneme_vocab_size"),
        },
        refiner=refiner,
        results=evaluation,
    )
    # Read the rendered card back as the Hub does: the YAML must parse into the same metadata, and the model-index
    # into the same evaluation results (the parts of the Hub's validation that need no network).
    parsed = ModelCard(str(card))
    if parsed.data.to_dict() != card_data.to_dict():
        raise HubPushError(f"{root}: the rendered model card's metadata does not read back as written")
    if entries:
        name, read_back = model_index_to_eval_results(parsed.data.to_dict()["model-index"])
        if name != model_name or read_back != entries:
            raise HubPushError(f"{root}: the model card's model-index does not read back as written")
    return parsed


@dataclass(frozen=True)
class _Upload:
    """Everything checked and rendered before a byte is written: the folder, its results and its card."""

    folder: ModelFolder
    results: dict[str, Any] | None
    card: Any  # huggingface_hub.ModelCard


def _prepare(
    model_dir: str | os.PathLike,
    repo_id: str,
    results: str | os.PathLike | None,
    datasets: list[str] | None,
    license: str | None,
) -> _Upload:
    check_repo_id(repo_id)
    folder = inspect_model_folder(model_dir)
    results_path = Path(results) if results is not None else folder.root / RESULTS_FILE
    loaded_results = read_results(results_path) if results is not None or results_path.is_file() else None
    if loaded_results is None:
        logger.warning("no results.json (pass --results): the model card has no evaluation results or model-index")
    card = _render_card(folder, repo_id=repo_id, results=loaded_results, datasets=datasets, license=license)
    if folder.left_out:
        logger.warning("not uploaded (not part of a model folder): %s", ", ".join(folder.left_out))
    return _Upload(folder=folder, results=loaded_results, card=card)


def stage_model(
    model_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    repo_id: str,
    results: str | os.PathLike | None = None,
    datasets: list[str] | None = None,
    license: str | None = None,
) -> list[StagedFile]:
    """Write the folder a push of ``model_dir`` to ``repo_id`` uploads into ``out_dir``; returns its files and sizes.

    ``results`` is a results.json (default: the model folder's own, when it has one); ``datasets`` are the training
    data sets (Hub ids or names; the first is the one the results were measured on; default: SynthSign for a model
    whose gloss vocabulary is SynthSign's); ``license`` the weights' Hub licence id. ``out_dir`` must not exist or be
    empty; it is written in a temporary sibling and renamed at the end, so a failure leaves nothing behind.
    """
    upload = _prepare(model_dir, repo_id, results, datasets, license)
    return _write(upload, Path(out_dir))


def _write(upload: _Upload, out_dir: Path) -> list[StagedFile]:
    folder = upload.folder
    if out_dir.resolve() == folder.root.resolve() or folder.root.resolve() in out_dir.resolve().parents:
        raise HubPushError(f"--dry-run {out_dir}: inside the model folder {folder.root}; choose a folder outside it")
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise HubPushError(f"--dry-run {out_dir}: already exists and is not empty; remove it or choose a new folder")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        for name in folder.files:
            _place(folder.root / name, staging / name)
        for name, source in folder.code.items():
            shutil.copyfile(source, staging / name)
        # The sign-language-translation pipeline's code and config.json's custom_pipelines travel with the model, so
        # that `pipeline(..., trust_remote_code=True)` works where signbind_hf is not installed.
        add_pipeline_code(staging)
        if upload.results is not None:
            (staging / RESULTS_FILE).write_text(json.dumps(upload.results, indent=2) + "\n")
        upload.card.save(staging / CARD_FILE)
        if out_dir.exists():
            out_dir.rmdir()  # empty: checked above
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [StagedFile(name, (out_dir / name).stat().st_size) for name in folder_files(out_dir)]


def _place(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.suffix == ".safetensors":
        # Weights can be gigabytes and are never rewritten in place: a hard link costs nothing. Every other file is
        # copied, since staging may edit it (config.json) and must never touch the model folder.
        try:
            os.link(source, target)
            return
        except OSError:
            pass  # another file system, or links not allowed: copy
    shutil.copy2(source, target)


def push_model(
    model_dir: str | os.PathLike,
    repo_id: str,
    *,
    private: bool = False,
    token: str | None = None,
    commit_message: str | None = None,
    results: str | os.PathLike | None = None,
    datasets: list[str] | None = None,
    license: str | None = None,
) -> tuple[str, list[StagedFile]]:
    """Stage ``model_dir`` as :func:`stage_model` does (same arguments), upload that folder to the Hub model ``repo_id``.

    Returns the repository's URL and the files uploaded. The checks and the card come before the token is looked up
    and before any request, so bad input never reaches the Hub.
    """
    upload = _prepare(model_dir, repo_id, results, datasets, license)  # bad input is named before token and network
    check_not_offline(repo_id)
    token = resolve_token(token)
    with tempfile.TemporaryDirectory(prefix="signbind-push-") as temporary:
        staged_dir = Path(temporary) / "model"
        staged = _write(upload, staged_dir)
        upload_folder_to_hub(
            staged_dir,
            repo_id=repo_id,
            repo_type="model",
            token=token,
            private=private,
            allow_patterns=[file.path for file in staged],
            commit_message=commit_message or "Upload a SignBind model with signbind push",
        )
    return f"https://huggingface.co/{repo_id}", staged
