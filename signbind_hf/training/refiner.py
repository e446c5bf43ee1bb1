"""Training the LLM refiner: TRL SFT with a PEFT LoRA adapter on (pseudo-gloss → English) pairs.

The paper fine-tunes Llama-2-7B with LoRA (r=16, α=32, dropout 0.05 on q,k,v,o,gate,up,down), AdamW β=(0.9, 0.999),
warm-up ratio 0.03, grad clip 1.0, batch 1 × accumulation 4, 512 tokens, 10 epochs; these are the defaults of
``RefinerArguments``. Each pair is a prompt (``DEFAULT_PROMPT_TEMPLATE`` filled with the pseudo-gloss) and a
completion (" " + sentence + EOS): TRL computes the loss on the completion only. With no ``base_model`` a small Llama
is built and pre-trained locally first (``small_llm.py``), since the Hub cannot be reached here.

Output, in ``out_dir/refiner/`` (built in a temporary sibling and renamed at the end):
- ``adapter_config.json`` + ``adapter_model.safetensors``: the LoRA adapter (``--merge``: ``config.json`` +
  ``model.safetensors`` of the merged full model instead, and no adapter or base model copy);
- the tokenizer; ``refiner_config.json`` (base model reference, prompt template, generation defaults, versions);
- ``base_model/``: a copy of a local base model (built here or given as a folder), referenced relatively so that
  the model folder can be moved or pushed; a Hub id is referenced as is;
- ``trainer_log.json``: the SFT loss log, wall and CPU seconds.

The paper's schedule suits a 7B model that already reads and writes English. The small local Llama learns to copy
prompt words into the sentence only after several hundred optimizer steps at a high LoRA learning rate, then jumps
from fluent-but-wrong to right; ``SMALL_LLM_SFT_OVERRIDES`` holds the settings measured best for it
(``benchmarks/RESULTS.md``, "the refiner's SFT schedule").

Example:

```python
>>> from signbind_hf.training.refiner import SMALL_LLM_SFT_OVERRIDES, RefinerArguments, train_refiner
>>> args = RefinerArguments(data_dir="data/synthsign", out_dir="runs/quickstart/model", **SMALL_LLM_SFT_OVERRIDES)
>>> train_refiner(args)
PosixPath('runs/quickstart/model/refiner')
```
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SignBindInputError
from ..refiner import BASE_MODEL_DIR, DEFAULT_PROMPT_TEMPLATE, REFINER_DIR, RefinerConfig
from .small_llm import SmallLlmSettings, build_small_llm
from .text_pairs import TextPairs, load_text_pairs

logger = logging.getLogger(__name__)

LORA_TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
TRAINER_LOG_NAME = "trainer_log.json"
# SFT settings for the small local Llama (base_model None), the best of those measured on SynthSign
# (benchmarks/RESULTS.md). The paper's schedule stays the default for real LLMs.
SMALL_LLM_SFT_OVERRIDES: dict[str, float | int] = {
    "batch_size": 16,
    "gradient_accumulation_steps": 1,
    "epochs": 30.0,
    "learning_rate": 5e-3,
}


@dataclass
class RefinerArguments:
    """Everything ``signbind train --stage llm`` takes (an ``HfArgumentParser`` dataclass: YAML + command line).

    Paper values are the defaults (for the small local Llama, ``SMALL_LLM_SFT_OVERRIDES`` does much better in
    minutes); ``small_llm_*`` fields size the local base model built when ``base_model`` is None, ignored otherwise.
    """

    data_dir: str = field(metadata={"help": "Prepared data set folder (DatasetDict.save_to_disk) with pseudo_gloss and sentence columns."})  # fmt: skip
    out_dir: str = field(metadata={"help": "Model folder; the refiner is written to OUT_DIR/refiner/ (replaced if present)."})  # fmt: skip
    base_model: str | None = field(default=None, metadata={"help": "AutoModelForCausalLM Hub id or folder (the paper: meta-llama/Llama-2-7b-hf). None: build and pre-train a small Llama locally."})  # fmt: skip
    merge: bool = field(default=False, metadata={"help": "Save the LoRA-merged full model instead of the adapter."})
    epochs: float = field(default=10.0, metadata={"help": "SFT epochs over the train pairs."})
    learning_rate: float = field(default=2e-4, metadata={"help": "AdamW peak learning rate of the LoRA weights."})
    batch_size: int = field(default=1, metadata={"help": "Pairs per device per step."})
    gradient_accumulation_steps: int = field(default=4, metadata={"help": "Steps accumulated per optimizer update."})
    max_length: int = field(default=512, metadata={"help": "Longest prompt + completion, in tokens (longer ones are truncated)."})  # fmt: skip
    warmup_ratio: float = field(default=0.03, metadata={"help": "Share of the optimizer steps spent warming up."})
    lr_scheduler_type: str = field(default="cosine", metadata={"help": "transformers scheduler name."})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay of the LoRA weights."})
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    max_grad_norm: float = field(default=1.0, metadata={"help": "Gradient-norm clip."})
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: list[str] = field(default_factory=lambda: list(LORA_TARGET_MODULES))
    prompt_template: str = field(default=DEFAULT_PROMPT_TEMPLATE, metadata={"help": "Prompt with a {pseudo_gloss} slot."})  # fmt: skip
    lowercase_gloss: bool = field(default=True, metadata={"help": "Put the pseudo-gloss in the prompt in lower case (see RefinerConfig)."})  # fmt: skip
    train_split: str = "train"
    eval_split: str | None = field(default="validation", metadata={"help": "Split whose SFT loss is logged at the end (None or absent: none)."})  # fmt: skip
    max_new_tokens: int = field(default=64, metadata={"help": "Generation default stored in refiner_config.json."})
    num_beams: int = field(default=1, metadata={"help": "Generation default stored in refiner_config.json (1: greedy)."})  # fmt: skip
    seed: int = 0
    use_cpu: bool | None = field(default=None, metadata={"help": "Train on the CPU (None: when no GPU is found)."})
    bf16: bool | None = field(default=None, metadata={"help": "bfloat16 mixed precision (None: on a GPU that has it)."})  # fmt: skip
    logging_steps: int = 25
    disable_tqdm: bool = field(default=False, metadata={"help": "No progress bars (when another process shares the terminal)."})  # fmt: skip
    small_llm_vocab_size: int = SmallLlmSettings.vocab_size
    small_llm_hidden_size: int = SmallLlmSettings.hidden_size
    small_llm_num_layers: int = SmallLlmSettings.num_layers
    small_llm_num_heads: int = SmallLlmSettings.num_heads
    small_llm_intermediate_size: int = SmallLlmSettings.intermediate_size
    small_llm_pretrain_epochs: float = SmallLlmSettings.pretrain_epochs
    small_llm_pretrain_learning_rate: float = SmallLlmSettings.pretrain_learning_rate
    small_llm_pretrain_batch_size: int = SmallLlmSettings.pretrain_batch_size
    small_llm_tie_word_embeddings: bool = SmallLlmSettings.tie_word_embeddings

    def __post_init__(self) -> None:
        positive = ("epochs", "learning_rate", "batch_size", "gradient_accumulation_steps", "max_length", "lora_r",
                    "lora_alpha", "max_new_tokens", "num_beams", "logging_steps")  # fmt: skip
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"RefinerArguments.{name} must be > 0, got {getattr(self, name)}")
        if not 0 <= self.warmup_ratio < 1 or not 0 <= self.lora_dropout < 1:
            raise ValueError(f"warmup_ratio and lora_dropout must be in [0, 1), got {self.warmup_ratio}, {self.lora_dropout}")  # fmt: skip
        if not self.lora_target_modules:
            raise ValueError("lora_target_modules must name at least one module (the paper: q,k,v,o,gate,up,down)")
        self.refiner_config(base_model="")  # validates the template and the generation defaults

    def refiner_config(self, base_model: str, merged: bool = False) -> RefinerConfig:
        """The ``refiner_config.json`` these arguments train for (its prompt formatting is the one SFT sees)."""
        return RefinerConfig(
            base_model=base_model,
            merged=merged,
            prompt_template=self.prompt_template,
            lowercase_gloss=self.lowercase_gloss,
            max_new_tokens=self.max_new_tokens,
            num_beams=self.num_beams,
        )

    def small_llm_settings(self) -> SmallLlmSettings:
        return SmallLlmSettings(
            vocab_size=self.small_llm_vocab_size,
            hidden_size=self.small_llm_hidden_size,
            num_layers=self.small_llm_num_layers,
            num_heads=self.small_llm_num_heads,
            intermediate_size=self.small_llm_intermediate_size,
            pretrain_epochs=self.small_llm_pretrain_epochs,
            pretrain_learning_rate=self.small_llm_pretrain_learning_rate,
            pretrain_batch_size=self.small_llm_pretrain_batch_size,
            tie_word_embeddings=self.small_llm_tie_word_embeddings,
            max_position_embeddings=self.max_length,
            seed=self.seed,
        )


def prompt_completion_dataset(pairs: TextPairs, config: RefinerConfig):
    """A TRL prompt-completion ``Dataset``: the completion is " " + sentence (TRL appends EOS)."""
    from datasets import Dataset

    return Dataset.from_dict({
        "prompt": [config.format_prompt(gloss) for gloss in pairs.glosses],
        "completion": [" " + sentence for sentence in pairs.sentences],
    })  # fmt: skip


def make_sft_trainer(model, tokenizer, train_pairs: TextPairs, args: RefinerArguments, output_dir: str | Path,
                     eval_pairs: TextPairs | None = None):  # fmt: skip
    """An ``SFTTrainer`` that wraps ``model`` in a LoRA adapter and fine-tunes it on the pairs (completion-only loss)."""
    import torch
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    has_cuda = torch.cuda.is_available()
    use_cpu = (not has_cuda) if args.use_cpu is None else args.use_cpu
    bf16 = (not use_cpu and has_cuda and torch.cuda.is_bf16_supported()) if args.bf16 is None else args.bf16
    config = SFTConfig(
        output_dir=str(output_dir),
        num_train_epochs=args.epochs,
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=max(args.batch_size, 8),
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        learning_rate=args.learning_rate,
        lr_scheduler_type=args.lr_scheduler_type,
        warmup_steps=args.warmup_ratio,  # a float below 1 is a ratio of the total steps (transformers 5)
        weight_decay=args.weight_decay,
        adam_beta1=args.adam_beta1,
        adam_beta2=args.adam_beta2,
        max_grad_norm=args.max_grad_norm,
        max_length=args.max_length,
        completion_only_loss=True,
        # SFTConfig defaults to bf16 and gradient checkpointing, which a CPU has no use for (ENVIRONMENT.md).
        bf16=bf16,
        use_cpu=use_cpu,
        activation_checkpointing=False,  # transformers 5 name of gradient_checkpointing
        save_strategy="no",
        report_to="none",
        logging_steps=args.logging_steps,
        disable_tqdm=args.disable_tqdm,
        seed=args.seed,
    )
    peft_config = LoraConfig(
        r=args.lora_r,
        lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout,
        target_modules=list(args.lora_target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )
    return SFTTrainer(
        model=model,
        args=config,
        train_dataset=prompt_completion_dataset(train_pairs, args.refiner_config(base_model="")),
        eval_dataset=prompt_completion_dataset(eval_pairs, args.refiner_config(base_model="")) if eval_pairs else None,
        processing_class=tokenizer,
        peft_config=peft_config,
    )


def library_versions() -> dict[str, str]:
    import peft
    import torch
    import transformers
    import trl

    from .. import __version__

    return {"signbind_hf": __version__, "torch": torch.__version__, "transformers": transformers.__version__,
            "peft": peft.__version__, "trl": trl.__version__}  # fmt: skip


def _provide_base_model(args: RefinerArguments, work_dir: Path) -> tuple[str, str]:
    """(where to load the base model from now, the reference to store): a local one is put in ``base_model/``."""
    local_copy = work_dir / BASE_MODEL_DIR
    if args.base_model is None:
        build_small_llm(args.data_dir, local_copy, args.small_llm_settings(), train_split=args.train_split,
                        validation_split=args.eval_split)  # fmt: skip
        return str(local_copy), BASE_MODEL_DIR
    if Path(args.base_model).is_dir() and args.merge:
        return args.base_model, args.base_model  # the merged weights will stand alone: no copy needed
    if Path(args.base_model).is_dir():
        # Checkpoints of an earlier run are not the model; everything else (weights, tokenizer, code) travels.
        shutil.copytree(args.base_model, local_copy, ignore=shutil.ignore_patterns("checkpoint-*", ".git"))
        return str(local_copy), BASE_MODEL_DIR
    if Path(args.base_model).exists():
        raise SignBindInputError(f"--base_model {args.base_model}: a file, expected a model folder or a Hub id")
    return args.base_model, args.base_model


def _replace_dir(new_dir: Path, target: Path) -> None:
    """Put ``new_dir`` at ``target``, replacing an existing one only once the new one is complete."""
    backup = None
    if target.exists():
        backup = target.with_name(f".{target.name}.old-{time.time_ns()}")
        target.rename(backup)
        logger.info("Replacing the refiner in %s", target)
    new_dir.rename(target)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


def train_refiner(args: RefinerArguments) -> Path:
    """Fine-tune the refiner on ``args.data_dir``'s pairs and write ``args.out_dir/refiner/``; returns that folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed

    train_pairs = load_text_pairs(args.data_dir, args.train_split)
    eval_pairs = None
    if args.eval_split is not None:
        from datasets import load_from_disk

        if args.eval_split in load_from_disk(args.data_dir):
            eval_pairs = load_text_pairs(args.data_dir, args.eval_split)
        else:
            logger.info("No %r split in %s: no evaluation loss", args.eval_split, args.data_dir)

    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(dir=out_dir, prefix=f".{REFINER_DIR}.tmp-"))
    work_dir.chmod(0o755)  # mkdtemp makes it private; the finished folder is an ordinary one
    try:
        started, cpu_started = time.perf_counter(), time.process_time()
        load_from, base_reference = _provide_base_model(args, work_dir)
        built_seconds = time.perf_counter() - started
        set_seed(args.seed)
        tokenizer = AutoTokenizer.from_pretrained(load_from)
        if tokenizer.pad_token is None:  # Llama-2's tokenizer has none; EOS stays learnable as the completion's end
            tokenizer.pad_token = tokenizer.eos_token
        model = AutoModelForCausalLM.from_pretrained(load_from)
        trainer = make_sft_trainer(model, tokenizer, train_pairs, args, work_dir / "trainer", eval_pairs)
        logger.info("LoRA SFT on %d pairs (%s skipped), %s epochs", len(train_pairs), train_pairs.skipped, args.epochs)
        trainer.train()
        if eval_pairs is not None:
            trainer.evaluate()
        shutil.rmtree(work_dir / "trainer", ignore_errors=True)

        peft_model = trainer.model
        if args.merge:
            peft_model.merge_and_unload().save_pretrained(work_dir)
            shutil.rmtree(work_dir / BASE_MODEL_DIR, ignore_errors=True)  # a base built here: not needed any more
        else:
            # The adapter's own record of its base is the reference that travels, not this run's temporary path.
            peft_model.peft_config["default"].base_model_name_or_path = base_reference
            # Embeddings are not trained: without this, PEFT looks the base up (on the Hub) to check the vocabulary.
            peft_model.save_pretrained(work_dir, save_embedding_layers=False)
            # PEFT's stub card names this run's temporary base path; the model folder's card is written elsewhere.
            (work_dir / "README.md").unlink(missing_ok=True)
        tokenizer.save_pretrained(work_dir)
        # A merged refiner needs no base: its reference is then provenance only.
        provenance = args.base_model or "small Llama built locally"
        refiner_config = args.refiner_config(provenance if args.merge else base_reference, merged=args.merge)
        refiner_config.versions = library_versions()
        refiner_config.save(work_dir)
        log = {
            "train_pairs": len(train_pairs),
            "skipped_rows": train_pairs.skipped + (eval_pairs.skipped if eval_pairs else 0),
            "base_model_seconds": round(built_seconds, 1),
            "total_seconds": round(time.perf_counter() - started, 1),
            # On a shared machine wall time says little; this process's CPU time is what the run itself cost.
            "total_cpu_seconds": round(time.process_time() - cpu_started, 1),
            "log_history": trainer.state.log_history,
        }
        (work_dir / TRAINER_LOG_NAME).write_text(json.dumps(log, indent=2) + "\n", encoding="utf-8")
        refiner_dir = out_dir / REFINER_DIR
        _replace_dir(work_dir, refiner_dir)
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    logger.info("Refiner saved to %s", refiner_dir)
    return refiner_dir
