"""The folder `signbind push --dry-run` writes runs where signbind_hf cannot be imported, as on a Hub user's machine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from signbind_hf.hub import stage_model
from signbind_hf.pipeline_signbind import translation_pipeline
from signbind_hf.refiner import BASE_MODEL_DIR, RefinerConfig

from .conftest import make_batch
from .test_push import save_model_folder

FACE_BOX = [16.0, 8.0, 48.0, 40.0]  # a face box on every frame of the 64x48 test video, so no detector runs

# One interpreter for every check (starting one costs seconds): the model's logits, the processor's and the
# pipeline's classes, and a translation.
REMOTE_RUN = textwrap.dedent(
    """
    import json
    import sys
    sys.modules["signbind_hf"] = None  # make `import signbind_hf` fail, as on a machine without the package
    import numpy as np
    import torch
    from transformers import AutoModel, AutoProcessor, pipeline

    torch.set_num_threads(1)  # as in the test process (conftest.py): the same summation order, the same floats
    folder, face_box, batch_file, frames_file, logits_file, report_file = sys.argv[1:]
    model = AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
    with torch.no_grad():
        torch.save(model(**torch.load(batch_file)).gloss_logits, logits_file)
    processor = AutoProcessor.from_pretrained(folder, trust_remote_code=True)
    translator = pipeline("sign-language-translation", model=folder, trust_remote_code=True)
    frames = np.load(frames_file)
    result = translator(frames, face_boxes=np.tile([json.loads(face_box)], (len(frames), 1)))
    report = {
        "modules": [type(model).__module__, type(processor).__module__, type(translator).__module__],
        "result": result,
    }
    with open(report_file, "w") as file:
        json.dump(report, file)
    """
)


def save_tiny_refiner(refiner_dir: Path) -> None:
    """A real refiner in the layout `signbind train --stage llm` writes: a 1-layer Llama in ``base_model/``, a LoRA
    adapter on it, the tokenizer and ``refiner_config.json``. Untrained: only the layout and the loading are tested."""
    from peft import LoraConfig, get_peft_model
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    words = ["<pad>", "<s>", "</s>", "<unk>", "now", "ivan", "school", "good", "morning", "is", "at", "the", "?", "."]
    backend = Tokenizer(models.WordLevel({word: index for index, word in enumerate(words)}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )
    torch.manual_seed(0)
    # Untrained weights at the default scale (0.02) give near-tied logits, whose greedy choice flips with rounding;
    # a large scale spreads them (margins of several units), so the same weights write the same words in any process.
    config = LlamaConfig(
        vocab_size=len(words), hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
        pad_token_id=0, bos_token_id=1, eos_token_id=2, initializer_range=1.0,
    )  # fmt: skip
    base = LlamaForCausalLM(config)
    with torch.no_grad():
        base.lm_head.weight[:4] = 0.0  # never a special token (<pad> <s> </s> <unk>): words, not an empty sentence
    base.save_pretrained(refiner_dir / BASE_MODEL_DIR)
    lora = get_peft_model(
        LlamaForCausalLM.from_pretrained(refiner_dir / BASE_MODEL_DIR), LoraConfig(r=2, lora_alpha=4)
    )
    lora.save_pretrained(refiner_dir)
    tokenizer.save_pretrained(refiner_dir)
    RefinerConfig(base_model=BASE_MODEL_DIR, max_new_tokens=4).save(refiner_dir)


@pytest.mark.slow
def test_dry_run_folder_runs_with_remote_code_only(tmp_path):
    model = save_model_folder(tmp_path / "model", ["NOW IVAN SCHOOL", "GOOD MORNING"])
    shutil.rmtree(tmp_path / "model" / "refiner")  # a refiner on a Hub base model, which cannot be downloaded here
    save_tiny_refiner(tmp_path / "model" / "refiner")  # ... so one that carries its base model
    staged = tmp_path / "hub"
    stage_model(tmp_path / "model", staged, repo_id="my-org/signbind-tiny", datasets=["my-org/data"])
    batch = make_batch(model.config, labels=False)
    torch.save(batch, tmp_path / "batch.pt")  # our own file, written a line above: safe to load
    frames = np.random.default_rng(0).integers(0, 255, (20, 48, 64, 3), dtype=np.uint8)
    np.save(tmp_path / "frames.npy", frames)
    files = [tmp_path / name for name in ("batch.pt", "frames.npy", "logits.pt", "report.json")]
    result = subprocess.run(
        [sys.executable, "-c", REMOTE_RUN, str(staged), json.dumps(FACE_BOX), *map(str, files)],
        cwd=tmp_path,  # not the repository root, so signbind_hf is not on sys.path either
        env={**os.environ, "HF_MODULES_CACHE": str(tmp_path / "modules"), "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    with torch.no_grad():
        expected = model(**batch).gloss_logits
    torch.testing.assert_close(torch.load(tmp_path / "logits.pt"), expected, rtol=0, atol=0)
    report = json.loads((tmp_path / "report.json").read_text())
    assert all(module.startswith("transformers_modules.") for module in report["modules"]), report["modules"]
    local = translation_pipeline(staged)(frames, face_boxes=np.tile([FACE_BOX], (len(frames), 1)))
    assert {**report["result"], "timing": None} == {**local, "timing": None}
    assert report["result"]["refined"] is True  # the refiner (adapter + base model in refiner/) ran from the folder
