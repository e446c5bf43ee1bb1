"""A small Llama built locally: the refiner's base model where no Hub checkpoint can be downloaded.

``build_small_llm`` trains a byte-level BPE tokenizer on a data set's text (English sentences, pseudo-gloss and the
prompt template), builds a ``LlamaForCausalLM`` from a ``LlamaConfig`` (same architecture as Llama-2, a few layers
wide), pre-trains it as a causal language model on the English sentences of the train split (never validation or
test text), and saves a normal Hugging Face folder (``config.json``, ``model.safetensors``, tokenizer files) that
``AutoModelForCausalLM.from_pretrained`` and ``AutoTokenizer.from_pretrained`` load. The LoRA stage then fine-tunes
a real (if small) language model, as the paper fine-tunes Llama-2-7B, not a lookup table.

Example:

```python
>>> from signbind_hf.training.small_llm import SmallLlmSettings, build_small_llm
>>> build_small_llm("data/synthsign", "runs/small_llm", SmallLlmSettings(pretrain_epochs=20))
PosixPath('runs/small_llm')
```
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from ..refiner import DEFAULT_PROMPT_TEMPLATE
from .text_pairs import load_text_pairs

logger = logging.getLogger(__name__)

SMALL_LLM_REPORT_NAME = "small_llm.json"
PAD_TOKEN, BOS_TOKEN, EOS_TOKEN = "<pad>", "<s>", "</s>"  # ids 0, 1, 2: the order the BPE trainer gets them in


@dataclass
class SmallLlmSettings:
    """Size and pre-training of the local base model (defaults measured on SynthSign: ``benchmarks/RESULTS.md``).

    Attributes:
        vocab_size: BPE vocabulary; a few hundred merges past the 256 bytes already make most words one token.
        hidden_size: model width (Llama-2-7B: 4096).
        num_layers: decoder layers (Llama-2-7B: 32).
        num_heads: attention heads; ``hidden_size`` must divide by it.
        intermediate_size: SwiGLU MLP width (Llama keeps it near 8/3 of the width).
        pretrain_epochs: passes over the train split's English sentences.
        pretrain_learning_rate: AdamW peak learning rate (cosine decay after a 5 % warm-up).
        pretrain_batch_size: sentences per step.
        max_position_embeddings: longest sequence the model is built for (the SFT stage caps at 512 tokens).
        tie_word_embeddings: one matrix for input and output embeddings (GPT-2, Llama-3.2-1B). Off, as in Llama-2:
            tied, the refiner learnt less in the same steps on SynthSign (test BLEU-4 32 against 45, 10 SFT epochs).
        seed: initialisation and data order.
    """

    vocab_size: int = 1000
    hidden_size: int = 128
    num_layers: int = 4
    num_heads: int = 4
    intermediate_size: int = 352
    pretrain_epochs: float = 20.0
    pretrain_learning_rate: float = 2e-3
    pretrain_batch_size: int = 32
    max_position_embeddings: int = 512
    tie_word_embeddings: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("vocab_size", "hidden_size", "num_layers", "num_heads", "intermediate_size",
                     "pretrain_batch_size", "max_position_embeddings"):  # fmt: skip
            if getattr(self, name) < 1:
                raise ValueError(f"SmallLlmSettings.{name} must be >= 1, got {getattr(self, name)}")
        if self.hidden_size % self.num_heads:
            raise ValueError(f"hidden_size ({self.hidden_size}) must divide by num_heads ({self.num_heads})")
        if self.vocab_size < 259:
            raise ValueError(f"vocab_size must be >= 259 (256 bytes + 3 special tokens), got {self.vocab_size}")
        if self.pretrain_epochs < 0 or self.pretrain_learning_rate <= 0:
            raise ValueError(f"pretrain_epochs must be >= 0 and pretrain_learning_rate > 0, got "
                             f"{self.pretrain_epochs}, {self.pretrain_learning_rate}")  # fmt: skip


def train_tokenizer(texts: list[str], vocab_size: int, model_max_length: int = 512):
    """A byte-level BPE ``PreTrainedTokenizerFast`` trained on ``texts``: any text encodes (no unknown token).

    BPE rather than a word-level vocabulary so that words the data set never had (a new name) still encode, as
    they do with Llama's own tokenizer; ``<s>`` is prepended to every text, ``</s>`` and ``<pad>`` exist.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    # A leading space on every text, like Llama's sentencepiece: a sentence's first word then has the same token at
    # the start of a pre-training sentence as after the prompt's "English:".
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD_TOKEN, BOS_TOKEN, EOS_TOKEN],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    bos_id = tokenizer.token_to_id(BOS_TOKEN)
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS_TOKEN} $A", pair=f"{BOS_TOKEN} $A {BOS_TOKEN} $B", special_tokens=[(BOS_TOKEN, bos_id)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=BOS_TOKEN,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        model_max_length=model_max_length,
    )


def small_llama_config(settings: SmallLlmSettings, tokenizer):
    """The ``LlamaConfig`` of the small model: Llama-2's architecture (RMSNorm, RoPE, SwiGLU), scaled down."""
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=settings.hidden_size,
        intermediate_size=settings.intermediate_size,
        num_hidden_layers=settings.num_layers,
        num_attention_heads=settings.num_heads,
        num_key_value_heads=settings.num_heads,
        max_position_embeddings=settings.max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=settings.tie_word_embeddings,
    )


def pretrain_causal_lm(model, tokenizer, sentences: list[str], settings: SmallLlmSettings, work_dir: Path,
                       eval_sentences: list[str] | None = None) -> dict[str, float]:  # fmt: skip
    """Train ``model`` in place as a causal LM on ``sentences`` (each ``<s> sentence </s>``); returns the losses."""
    import torch
    from datasets import Dataset
    from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments

    def encode(texts: list[str]) -> Dataset:
        return Dataset.from_dict(
            {"input_ids": [[*ids, tokenizer.eos_token_id] for ids in tokenizer(texts)["input_ids"]]}
        )

    arguments = TrainingArguments(
        output_dir=str(work_dir),
        num_train_epochs=settings.pretrain_epochs,
        per_device_train_batch_size=settings.pretrain_batch_size,
        per_device_eval_batch_size=64,
        learning_rate=settings.pretrain_learning_rate,
        lr_scheduler_type="cosine",
        warmup_steps=0.05,  # a float below 1 is a ratio of the total steps (transformers 5)
        weight_decay=0.01,
        max_grad_norm=1.0,
        seed=settings.seed,
        use_cpu=not torch.cuda.is_available(),
        save_strategy="no",
        report_to="none",
        logging_steps=50,
        disable_tqdm=True,
    )
    trainer = Trainer(
        model=model,
        args=arguments,
        train_dataset=encode(sentences),
        eval_dataset=encode(eval_sentences) if eval_sentences else None,
        data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False),
    )
    losses = {"train_loss": trainer.train().training_loss}
    if eval_sentences:
        losses["validation_loss"] = trainer.evaluate()["eval_loss"]
        losses["validation_perplexity"] = math.exp(losses["validation_loss"])
    return losses


def build_small_llm(
    data_dir: str | Path,
    out_dir: str | Path,
    settings: SmallLlmSettings | None = None,
    train_split: str = "train",
    validation_split: str | None = "validation",
) -> Path:
    """Build, pre-train and save a small Llama and its tokenizer from the text of the data set in ``data_dir``.

    The tokenizer learns from the train split's sentences and pseudo-gloss (as written and lower-cased, and the
    prompt template, so that it is a few tokens); the model pre-trains on the train split's sentences only. ``validation_split`` (skipped when
    absent or None) only measures the perplexity reported in ``small_llm.json``. Written to a temporary sibling and
    renamed at the end: ``out_dir`` must not exist yet.

    Returns:
        ``out_dir``, loadable with ``AutoModelForCausalLM.from_pretrained`` / ``AutoTokenizer.from_pretrained``.
    """
    import torch
    from datasets import load_from_disk
    from transformers import LlamaForCausalLM, set_seed

    settings = settings or SmallLlmSettings()
    out_dir = Path(out_dir)
    if out_dir.exists():
        raise FileExistsError(f"out_dir {out_dir} exists already; give a new folder (nothing was written)")
    pairs = load_text_pairs(data_dir, train_split)
    eval_sentences = None
    if validation_split is not None and validation_split in load_from_disk(str(data_dir)):
        eval_sentences = load_text_pairs(data_dir, validation_split).sentences

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.tmp-"))
    work_dir.chmod(0o755)  # mkdtemp makes it private; the finished folder is an ordinary one
    try:
        set_seed(settings.seed)
        template_text = DEFAULT_PROMPT_TEMPLATE.replace("{pseudo_gloss}", "")
        # The pseudo-gloss in both cases: as written, and lower-cased as the default prompt shows it.
        texts = [*pairs.sentences, *pairs.glosses, *(gloss.lower() for gloss in pairs.glosses), template_text]
        tokenizer = train_tokenizer(texts, settings.vocab_size,
                                    model_max_length=settings.max_position_embeddings)  # fmt: skip
        model = LlamaForCausalLM(small_llama_config(settings, tokenizer))
        logger.info("Small Llama: %.2f M parameters, %d tokens of vocabulary; pre-training on %d sentences",
                    model.num_parameters() / 1e6, len(tokenizer), len(pairs))  # fmt: skip
        losses = {}
        if settings.pretrain_epochs > 0:
            losses = pretrain_causal_lm(model, tokenizer, pairs.sentences, settings, work_dir / "trainer",
                                        eval_sentences)  # fmt: skip
            shutil.rmtree(work_dir / "trainer", ignore_errors=True)
        model.to(torch.float32).save_pretrained(work_dir)
        tokenizer.save_pretrained(work_dir)
        report = {
            "settings": asdict(settings),
            "data_dir": str(data_dir),
            "train_split": train_split,
            "train_sentences": len(pairs),
            "skipped_rows": pairs.skipped,
            "parameters": model.num_parameters(),
            **losses,
        }
        (work_dir / SMALL_LLM_REPORT_NAME).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        work_dir.rename(out_dir)
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    logger.info("Small Llama saved to %s (%s)", out_dir, losses)
    return out_dir
