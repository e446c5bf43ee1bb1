"""The LLM refiner at run time: pseudo-gloss in, English out.

A model folder's ``refiner/`` holds a causal language model fine-tuned with LoRA on (pseudo-gloss, sentence) pairs
(``signbind_hf.training.refiner`` writes it): the adapter, the tokenizer and ``refiner_config.json`` (base model
reference, prompt template, generation defaults, versions), plus ``base_model/`` when the base model was a local
folder, so that the model folder can be moved or pushed. A merged refiner holds full weights instead of an adapter.

This module is flat on purpose (stdlib, torch, transformers, peft and flat relative imports only): it ships inside
model folders and the pipeline imports it where signbind_hf is not installed.

Example:

```python
>>> from signbind_hf.refiner import Refiner
>>> refiner = Refiner.from_pretrained("runs/quickstart/model")
>>> refiner.translate(["NOW IVAN SCHOOL", ""])
['Is Ivan at the school now?', '']
```
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from .errors import SignBindInputError, SignBindModelError

logger = logging.getLogger(__name__)

REFINER_DIR = "refiner"
REFINER_CONFIG_NAME = "refiner_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"  # what peft's save_pretrained writes (safe_serialization)
BASE_MODEL_DIR = "base_model"  # a local base model travels inside the refiner folder, referenced relatively
GLOSS_PLACEHOLDER = "{pseudo_gloss}"
# Chat-free on purpose: any causal LM (a base Llama-2 as well as the small local Llama) continues plain text. The
# completion is " " + sentence, so the prompt ends on a token boundary (":") and the sentence's first word gets the
# same space-prefixed token as in running text.
DEFAULT_PROMPT_TEMPLATE = "Pseudo-gloss: {pseudo_gloss}\nEnglish:"


def normalize_gloss(gloss: str) -> str:
    """One space between glosses, none at the ends: the form that training and ``Refiner.translate`` both see."""
    return " ".join(gloss.split())


def format_prompt(template: str, pseudo_gloss: str, *, lowercase_gloss: bool) -> str:
    """``template`` with its ``{pseudo_gloss}`` slot filled (``str.replace``: a template may contain other braces)."""
    pseudo_gloss = normalize_gloss(pseudo_gloss)
    return template.replace(GLOSS_PLACEHOLDER, pseudo_gloss.lower() if lowercase_gloss else pseudo_gloss)


@dataclass
class RefinerConfig:
    """What ``refiner_config.json`` holds: everything needed to rebuild and run the refiner.

    Attributes:
        base_model: the base model as given to training: a Hub id, or a path relative to the refiner folder
            (``"base_model"``) for a local one. For a merged refiner, provenance only.
        merged: the refiner folder holds full merged weights (``config.json`` + ``model.safetensors``), no adapter.
        prompt_template: the text the model was fine-tuned on, with a ``{pseudo_gloss}`` slot; the completion follows.
        lowercase_gloss: the pseudo-gloss goes into the prompt in lower case. Pseudo-gloss is written in capitals,
            so as typed it shares no token with the English it becomes ("SCHOOL" vs "school"): lower-cased, most of
            the translation is copying tokens, which a small model learns from few pairs (SynthSign test BLEU-4 of
            the local Llama: see training/refiner.py); only names must be re-capitalised.
        max_new_tokens: generation default: the longest sentence the refiner writes, in tokens.
        num_beams: generation default: 1 is greedy decoding; decoding is deterministic either way (no sampling).
        versions: library versions that trained it (for the record).
    """

    base_model: str
    merged: bool = False
    prompt_template: str = DEFAULT_PROMPT_TEMPLATE
    lowercase_gloss: bool = True
    max_new_tokens: int = 64
    num_beams: int = 1
    versions: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if GLOSS_PLACEHOLDER not in self.prompt_template:
            raise ValueError(f"prompt_template must contain {GLOSS_PLACEHOLDER}, got {self.prompt_template!r}")
        if self.max_new_tokens < 1 or self.num_beams < 1:
            raise ValueError(f"max_new_tokens and num_beams must be >= 1, got {self.max_new_tokens}, {self.num_beams}")

    def format_prompt(self, pseudo_gloss: str) -> str:
        """The prompt for ``pseudo_gloss``, exactly as in fine-tuning."""
        return format_prompt(self.prompt_template, pseudo_gloss, lowercase_gloss=self.lowercase_gloss)

    def save(self, refiner_dir: str | Path) -> Path:
        path = Path(refiner_dir) / REFINER_CONFIG_NAME
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, refiner_dir: str | Path) -> RefinerConfig:
        path = Path(refiner_dir) / REFINER_CONFIG_NAME
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
            return cls(**values)
        except (OSError, json.JSONDecodeError, TypeError, ValueError) as error:
            raise SignBindInputError(f"{path}: not a readable refiner config ({error})") from error


def find_refiner_dir(path: str | Path) -> Path | None:
    """The refiner folder for ``path`` (a model folder holding ``refiner/``, or the refiner folder), else None."""
    path = Path(path)
    for candidate in (path / REFINER_DIR, path):
        if (candidate / REFINER_CONFIG_NAME).is_file():
            return candidate
    return None


def has_refiner(model_dir: str | Path) -> bool:
    """Whether ``model_dir`` (or ``model_dir/refiner``) holds a refiner."""
    return find_refiner_dir(model_dir) is not None


def resolve_base_model(refiner_dir: Path, base_model: str) -> str:
    """A local reference resolved against the refiner folder (so the model folder can move); a Hub id unchanged."""
    local = refiner_dir / base_model
    if local.is_dir():
        return str(local)
    if base_model == BASE_MODEL_DIR or Path(base_model).is_absolute():
        raise SignBindInputError(f"{refiner_dir}: its base model folder {local} is missing (refiner_config.json)")
    return base_model


class Refiner:
    """A causal LM that turns pseudo-gloss into English, with the prompt template it was fine-tuned on.

    Args:
        model: the language model (a LoRA adapter is merged into it at load time: one matmul per layer, not two).
        tokenizer: its tokenizer; left padding is set here, as batched generation needs it.
        config: the refiner's ``RefinerConfig``.
    """

    def __init__(self, model, tokenizer, config: RefinerConfig) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.tokenizer.padding_side = "left"  # generation appends on the right: every prompt must end there
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.config = config

    @classmethod
    def from_pretrained(
        cls, path: str | Path, device: str | torch.device | None = None, dtype: torch.dtype | str | None = None
    ) -> Refiner:
        """Load the refiner of a model folder (``path/refiner``) or a refiner folder (``path``).

        Args:
            path: a model folder with ``refiner/`` inside, or the refiner folder itself.
            device: where to run; default CUDA when available, else CPU.
            dtype: the weights' dtype (``torch.bfloat16`` or ``"bfloat16"``...); default: as saved.

        Raises:
            SignBindInputError: ``path`` holds no refiner, its base model folder is missing, or ``dtype`` is unknown.
        """
        refiner_dir = find_refiner_dir(path)
        if refiner_dir is None:
            raise SignBindInputError(
                f"{path}: no refiner there: expected {Path(path) / REFINER_DIR / REFINER_CONFIG_NAME} or "
                f"{Path(path) / REFINER_CONFIG_NAME} (train one with `signbind train --stage llm`)"
            )
        config = RefinerConfig.load(refiner_dir)
        if not config.merged and not (refiner_dir / ADAPTER_WEIGHTS).is_file():
            # peft would fall back to adapter_model.bin, a pickle: loading one can run the code it carries.
            raise SignBindModelError(
                f"{refiner_dir}: no {ADAPTER_WEIGHTS}; signbind loads safetensors weights only (not a pickled "
                "adapter_model.bin): save the adapter again with peft's save_pretrained (safe_serialization=True)"
            )
        if isinstance(dtype, str):
            if not isinstance(getattr(torch, dtype, None), torch.dtype):
                raise SignBindInputError(f"dtype: expected a torch dtype name such as 'bfloat16', got {dtype!r}")
            dtype = getattr(torch, dtype)
        # Safetensors only, as for the model itself: unpickling a refiner's weights could run code.
        load_kwargs = {"use_safetensors": True, **({"dtype": dtype} if dtype is not None else {})}
        tokenizer = AutoTokenizer.from_pretrained(refiner_dir)
        if config.merged:
            model = AutoModelForCausalLM.from_pretrained(refiner_dir, **load_kwargs)
        else:
            # Inside try: transformers' remote-code check (which demands every module a shipped file imports) skips
            # it, so a model folder's code loads without peft unless its refiner is an adapter.
            try:
                from peft import PeftModel
            except ImportError as error:
                raise SignBindInputError(
                    f"{refiner_dir}: this refiner is a LoRA adapter; loading it needs peft (pip install peft)"
                ) from error

            base = AutoModelForCausalLM.from_pretrained(
                resolve_base_model(refiner_dir, config.base_model), **load_kwargs
            )
            model = PeftModel.from_pretrained(base, refiner_dir).merge_and_unload()
        device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        logger.info("Loaded the refiner of %s (%s) on %s", refiner_dir, config.base_model, device)
        return cls(model.to(device), tokenizer, config)

    @torch.inference_mode()
    def translate(
        self,
        pseudo_glosses: list[str],
        *,
        max_new_tokens: int | None = None,
        num_beams: int | None = None,
        batch_size: int = 16,
    ) -> list[str]:
        """English sentences for ``pseudo_glosses``, in order; an empty pseudo-gloss gives ``""``.

        Decoding is deterministic (greedy, or beam search with ``num_beams`` > 1); defaults come from
        ``refiner_config.json``. Only the generated text is returned, up to its first line break.
        """
        if isinstance(pseudo_glosses, str) or not all(isinstance(gloss, str) for gloss in pseudo_glosses):
            raise SignBindInputError(f"pseudo_glosses: expected a list of strings, got {type(pseudo_glosses).__name__}"
                                     f" {pseudo_glosses!r:.80}")  # fmt: skip
        if batch_size < 1:
            raise SignBindInputError(f"batch_size: expected >= 1, got {batch_size}")
        max_new_tokens = max_new_tokens or self.config.max_new_tokens
        num_beams = num_beams or self.config.num_beams
        translations = [""] * len(pseudo_glosses)
        todo = [index for index, gloss in enumerate(pseudo_glosses) if normalize_gloss(gloss)]
        for start in range(0, len(todo), batch_size):
            indices = todo[start : start + batch_size]
            prompts = [self.config.format_prompt(pseudo_glosses[index]) for index in indices]
            inputs = self.tokenizer(prompts, return_tensors="pt", padding=True).to(self.model.device)
            generated = self.model.generate(
                **inputs,
                max_new_tokens=max_new_tokens,
                num_beams=num_beams,
                do_sample=False,
                pad_token_id=self.tokenizer.pad_token_id,
                eos_token_id=self.tokenizer.eos_token_id,
            )  # (B, prompt + new)
            new_tokens = generated[:, inputs["input_ids"].shape[1] :]
            for index, text in zip(
                indices, self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True), strict=True
            ):
                # The completion is one line: a model that runs past it is starting another prompt.
                translations[index] = text.strip().split("\n", 1)[0].strip()
        return translations
