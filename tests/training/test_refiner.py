"""The LLM refiner: a tiny local Llama, LoRA SFT with TRL, the refiner folder and its runtime."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from datasets import Dataset, DatasetDict
from transformers import AutoModelForCausalLM, AutoTokenizer, HfArgumentParser

from signbind_hf.errors import SignBindInputError
from signbind_hf.refiner import (
    BASE_MODEL_DIR,
    DEFAULT_PROMPT_TEMPLATE,
    REFINER_CONFIG_NAME,
    REFINER_DIR,
    Refiner,
    has_refiner,
)
from signbind_hf.training.refiner import LORA_TARGET_MODULES, RefinerArguments, make_sft_trainer, train_refiner
from signbind_hf.training.small_llm import SMALL_LLM_REPORT_NAME, SmallLlmSettings, build_small_llm
from signbind_hf.training.text_pairs import load_text_pairs

PAIRS = {
    "train": [
        ("NOW IVAN SCHOOL", "Is Ivan at the school now?"),
        ("YOUR FRIEND SICK WHY", "Why is your friend sick?"),
        ("TODAY WILL HELEN EAT WHAT", "What will Helen eat today?"),
        ("YESTERDAY MY BROTHER SAD", "Yesterday my brother was sad."),
        ("RED HORSE ANGRY", "The red horse is angry."),
        ("MY FRIEND WYATT DOCTOR", "My friend Wyatt is a doctor."),
        ("OUR ARTIST HELEN BROWN", "Our artist is Helen Brown."),
        ("ME LIKE TEA BREAD", "I like tea and bread."),
    ],
    "validation": [("NOW HELEN PARK", "Is Helen at the park now?"), ("BLUE CAT HAPPY", "The blue cat is happy.")],
    "test": [("TODAY WILL IVAN EAT WHAT", "What will Ivan eat today?"), ("WHY YOUR SISTER TIRED", "Why is your sister tired?")],
}  # fmt: skip
TINY_LLM = {"small_llm_vocab_size": 300, "small_llm_hidden_size": 64, "small_llm_num_layers": 2,
            "small_llm_num_heads": 2, "small_llm_intermediate_size": 128, "small_llm_pretrain_epochs": 2.0,
            "small_llm_pretrain_batch_size": 8}  # fmt: skip
TINY_SFT = {"epochs": 2.0, "batch_size": 4, "gradient_accumulation_steps": 1, "learning_rate": 1e-3, "logging_steps": 1,
            "max_new_tokens": 12}  # fmt: skip


def write_pairs(folder: Path, pairs: dict[str, list[tuple[str | None, str | None]]]) -> Path:
    DatasetDict({
        split: Dataset.from_dict({"pseudo_gloss": [gloss for gloss, _ in rows], "sentence": [sentence for _, sentence in rows]})
        for split, rows in pairs.items()
    }).save_to_disk(folder)  # fmt: skip
    return folder


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return write_pairs(tmp_path_factory.mktemp("pairs") / "data", PAIRS)


@pytest.fixture(scope="module")
def model_dir(data_dir, tmp_path_factory) -> Path:
    """A model folder whose refiner/ was trained here: tiny local Llama (2 layers, width 64) + a few LoRA steps."""
    out_dir = tmp_path_factory.mktemp("model") / "model"
    train_refiner(RefinerArguments(data_dir=str(data_dir), out_dir=str(out_dir), **TINY_LLM, **TINY_SFT))
    return out_dir


def test_arguments_default_to_the_paper_and_parse_from_yaml_and_command_line(tmp_path):
    defaults = RefinerArguments(data_dir="d", out_dir="o")
    assert (defaults.lora_r, defaults.lora_alpha, defaults.lora_dropout) == (16, 32, 0.05)
    assert defaults.lora_target_modules == LORA_TARGET_MODULES == [
        "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]  # fmt: skip
    assert (defaults.adam_beta1, defaults.adam_beta2, defaults.warmup_ratio, defaults.max_grad_norm) == (0.9, 0.999, 0.03, 1.0)  # fmt: skip
    assert (defaults.batch_size, defaults.gradient_accumulation_steps, defaults.max_length, defaults.epochs) == (1, 4, 512, 10)  # fmt: skip
    assert defaults.base_model is None
    assert not defaults.merge

    parser = HfArgumentParser(RefinerArguments)
    config = tmp_path / "llm.yaml"
    config.write_text("data_dir: d\nout_dir: o\nepochs: 3\nlora_target_modules: [q_proj, v_proj]\n")
    (from_yaml,) = parser.parse_yaml_file(config)
    assert from_yaml.epochs == 3
    assert from_yaml.lora_target_modules == ["q_proj", "v_proj"]
    (from_line,) = parser.parse_args_into_dataclasses(
        ["--data_dir", "d", "--out_dir", "o", "--merge", "--base_model", "meta-llama/Llama-2-7b-hf", "--epochs", "2"]
    )
    assert from_line.merge
    assert from_line.base_model == "meta-llama/Llama-2-7b-hf"
    assert from_line.epochs == 2

    with pytest.raises(ValueError, match="epochs"):
        RefinerArguments(data_dir="d", out_dir="o", epochs=0)
    with pytest.raises(ValueError, match="pseudo_gloss"):
        RefinerArguments(data_dir="d", out_dir="o", prompt_template="Gloss: {gloss}")


def test_text_pairs_skip_and_count_bad_rows_and_name_bad_folders(tmp_path):
    data = write_pairs(tmp_path / "data", {"train": [("NOW  IVAN SCHOOL ", "Is Ivan at the school now?"), (None, "x"),
                                                     ("RED HORSE", "  "), ("ME LIKE TEA", "I like tea.")]})  # fmt: skip
    pairs = load_text_pairs(data, "train")
    assert pairs.glosses == ["NOW IVAN SCHOOL", "ME LIKE TEA"]
    assert pairs.skipped == 2

    with pytest.raises(SignBindInputError, match="no split 'test'"):
        load_text_pairs(data, "test")
    with pytest.raises(SignBindInputError, match=str(tmp_path / "nowhere")):
        load_text_pairs(tmp_path / "nowhere", "train")
    Dataset.from_dict({"sentence": ["a"]}).save_to_disk(tmp_path / "single")
    with pytest.raises(SignBindInputError, match="DatasetDict"):
        load_text_pairs(tmp_path / "single", "train")
    DatasetDict({"train": Dataset.from_dict({"sentence": ["a"]})}).save_to_disk(tmp_path / "no_gloss")
    with pytest.raises(SignBindInputError, match="pseudo_gloss"):
        load_text_pairs(tmp_path / "no_gloss", "train")


def test_refiner_folder_holds_adapter_tokenizer_config_and_base_model(model_dir, data_dir):
    refiner_dir = model_dir / REFINER_DIR
    for name in ("adapter_config.json", "adapter_model.safetensors", "tokenizer.json", REFINER_CONFIG_NAME,
                 "trainer_log.json", f"{BASE_MODEL_DIR}/config.json", f"{BASE_MODEL_DIR}/model.safetensors",
                 f"{BASE_MODEL_DIR}/tokenizer.json"):  # fmt: skip
        assert (refiner_dir / name).is_file(), name
    assert [path.name for path in model_dir.iterdir()] == [REFINER_DIR]  # no temporary folder left behind
    for path in refiner_dir.rglob("*"):  # nothing refers to the temporary folder the refiner was built in
        if path.suffix in {".json", ".md", ".txt"}:
            assert ".tmp-" not in path.read_text(), path
    config = json.loads((refiner_dir / REFINER_CONFIG_NAME).read_text())
    assert config["base_model"] == BASE_MODEL_DIR
    assert not config["merged"]
    assert config["prompt_template"] == DEFAULT_PROMPT_TEMPLATE
    assert {"torch", "transformers", "peft", "trl", "signbind_hf"} <= set(config["versions"])
    assert json.loads((refiner_dir / "adapter_config.json").read_text())["base_model_name_or_path"] == BASE_MODEL_DIR

    # The base model is a real (tiny) Llama, pre-trained on the train split's sentences only.
    base = AutoModelForCausalLM.from_pretrained(refiner_dir / BASE_MODEL_DIR)
    assert base.config.model_type == "llama"
    assert base.config.num_hidden_layers == 2
    assert base.config.hidden_size == 64
    report = json.loads((refiner_dir / BASE_MODEL_DIR / SMALL_LLM_REPORT_NAME).read_text())
    assert report["train_sentences"] == len(PAIRS["train"])
    assert report["train_split"] == "train"
    assert report["train_loss"] > 0
    assert report["validation_perplexity"] > 1
    tokenizer = AutoTokenizer.from_pretrained(refiner_dir)
    sentence = "Is Ivan at the school now?"
    assert tokenizer.decode(tokenizer(sentence)["input_ids"], skip_special_tokens=True).strip() == sentence
    assert tokenizer("IVAN")["input_ids"][0] == tokenizer.bos_token_id
    assert {tokenizer.pad_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id} == {0, 1, 2}


def test_refiner_translates_after_the_model_folder_moves(model_dir, tmp_path):
    moved = tmp_path / "moved_model"
    shutil.copytree(model_dir, moved)
    assert has_refiner(moved)
    assert has_refiner(moved / REFINER_DIR)
    assert not has_refiner(tmp_path)
    refiner = Refiner.from_pretrained(moved, device="cpu")
    translations = refiner.translate(["NOW IVAN SCHOOL", "", "   ", "RED HORSE ANGRY"], batch_size=2)
    assert len(translations) == 4
    assert all(isinstance(text, str) for text in translations)
    assert translations[1] == translations[2] == ""
    assert "\n" not in translations[0]
    assert "English:" not in translations[0]
    # The refiner folder on its own loads too, and batching does not change greedy output.
    alone = Refiner.from_pretrained(moved / REFINER_DIR, device="cpu")
    assert alone.translate(["RED HORSE ANGRY", "NOW IVAN SCHOOL"], batch_size=1) == [translations[3], translations[0]]
    (beam,) = alone.translate(["NOW IVAN SCHOOL"], num_beams=2, max_new_tokens=5)
    assert isinstance(beam, str)
    assert len(alone.tokenizer(beam, add_special_tokens=False)["input_ids"]) <= 5


def test_bad_paths_and_inputs_give_clear_errors(model_dir, tmp_path):
    with pytest.raises(SignBindInputError, match=str(tmp_path)):
        Refiner.from_pretrained(tmp_path)
    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken)
    shutil.rmtree(broken / REFINER_DIR / BASE_MODEL_DIR)
    with pytest.raises(SignBindInputError, match="base model folder"):
        Refiner.from_pretrained(broken)
    (broken / REFINER_DIR / REFINER_CONFIG_NAME).write_text("{not json")
    with pytest.raises(SignBindInputError, match=REFINER_CONFIG_NAME):
        Refiner.from_pretrained(broken)
    with pytest.raises(SignBindInputError, match="dtype"):
        Refiner.from_pretrained(model_dir, dtype="float17")
    refiner = Refiner.from_pretrained(model_dir, device="cpu", dtype="float32")
    with pytest.raises(SignBindInputError, match="pseudo_glosses"):
        refiner.translate("NOW IVAN SCHOOL")
    with pytest.raises(FileExistsError, match=str(model_dir)):
        build_small_llm(tmp_path, model_dir, SmallLlmSettings())


@pytest.mark.compat
def test_sft_trains_lora_weights_only_on_completion_tokens(model_dir, data_dir, tmp_path):
    base_dir = model_dir / REFINER_DIR / BASE_MODEL_DIR
    model = AutoModelForCausalLM.from_pretrained(base_dir)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    args = RefinerArguments(data_dir=str(data_dir), out_dir=str(tmp_path), **TINY_SFT)
    trainer = make_sft_trainer(model, tokenizer, load_text_pairs(data_dir, "train"), args, tmp_path / "trainer")

    # Completion-only loss: the collator masks every prompt token, keeps the completion and its EOS.
    example = trainer.train_dataset[0]
    batch = trainer.data_collator([example])
    prompt = args.refiner_config(base_model="").format_prompt(PAIRS["train"][0][0])
    assert prompt == "Pseudo-gloss: now ivan school\nEnglish:"
    prompt_length = len(tokenizer(prompt)["input_ids"])
    labels, input_ids = batch["labels"][0], batch["input_ids"][0]
    assert (labels[:prompt_length] == -100).all()
    assert torch.equal(labels[prompt_length:], input_ids[prompt_length:])
    assert labels[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(input_ids[prompt_length:], skip_special_tokens=True).strip() == PAIRS["train"][0][1]

    parameters = dict(trainer.model.named_parameters())
    trainable = {name for name, parameter in parameters.items() if parameter.requires_grad}
    assert trainable
    assert all("lora_" in name for name in trainable)
    assert {name.split(".")[-4] for name in trainable} == set(LORA_TARGET_MODULES)
    before = {name: parameter.detach().clone() for name, parameter in parameters.items()}
    trainer.train()
    lora_b = [name for name in trainable if "lora_B" in name]
    assert all(not torch.equal(before[name], parameters[name]) for name in lora_b)  # B starts at zero
    frozen = [name for name in parameters if name not in trainable]
    assert all(torch.equal(before[name], parameters[name]) for name in frozen)


def test_merge_writes_a_full_model_that_translates_like_the_adapter(model_dir, data_dir, tmp_path):
    # The same base (a local folder this time) and seed as the fixture: the merged refiner must say the same.
    # Trained into a copy of the model folder: its adapter refiner is replaced, and nothing else is left behind.
    base_dir = model_dir / REFINER_DIR / BASE_MODEL_DIR
    out_dir = tmp_path / "merged_model"
    shutil.copytree(model_dir, out_dir)
    refiner_dir = train_refiner(RefinerArguments(data_dir=str(data_dir), out_dir=str(out_dir), base_model=str(base_dir),
                                                 merge=True, **TINY_SFT))  # fmt: skip
    assert (refiner_dir / "model.safetensors").is_file()
    assert (refiner_dir / "config.json").is_file()
    assert not (refiner_dir / "adapter_model.safetensors").exists()
    assert not (refiner_dir / BASE_MODEL_DIR).exists()
    assert [path.name for path in out_dir.iterdir()] == [REFINER_DIR]
    config = json.loads((refiner_dir / REFINER_CONFIG_NAME).read_text())
    assert config["merged"]
    assert config["base_model"] == str(base_dir)
    glosses = ["NOW IVAN SCHOOL", "RED HORSE ANGRY", "TODAY WILL IVAN EAT WHAT"]
    merged = Refiner.from_pretrained(out_dir, device="cpu").translate(glosses)
    assert merged == Refiner.from_pretrained(model_dir, device="cpu").translate(glosses)
