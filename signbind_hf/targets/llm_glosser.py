"""A pseudo-glosser backed by any local transformers causal or chat model: few-shot prompted, batched, cached.

The paper made its pseudo-glosses with GPT-4o; this runs the same kind of prompt on a model the user has locally.

Example:
    glosser = LLMGlosser("models/Llama-3.1-8B-Instruct", cache_path="runs/gloss_cache.json", batch_size=16)
    glosser.gloss_batch(["I have a few different ones here.", "Where did you come from?"])
    pseudo_gloss("Where did you come from?", glosser=glosser)

- **Prompt**: an instruction and few-shot (English, gloss) pairs (defaults below, taken from the paper's examples).
  A tokenizer with a chat template gets them as chat turns (system = instruction, then user/assistant pairs, then
  the sentence as the last user turn); one without gets a plain completion prompt ending in ``Gloss:``.
  ``use_chat_template`` forces either (some chat templates reject a system turn: pass ``False`` for those).
- **Generation**: greedy (deterministic), left-padded batches of ``batch_size`` distinct sentences, each row stopped
  at its first line break after some text or after ``max_new_tokens``.
- **Output**: the first non-empty line, a leading ``Gloss:`` label and quotes removed, hyphens split, punctuation at
  word edges removed, upper-cased. It is **invalid** when it is empty, when it starts with ``English:`` (the model
  continued the few-shot pattern instead of answering), when a word has characters other than letters, digits and
  inner apostrophes or dots, or when it has more than twice the sentence's words plus four (the model rambled).
- **Invalid outputs are never replaced** by another glosser's output. The whole call runs first; the failures
  (sentence, raw output, reason) are kept in ``last_failures``, logged, and then ``on_invalid="raise"`` (default)
  raises :class:`InvalidGlossError` listing them, while ``on_invalid="none"`` returns ``None`` in their places, for
  callers (data set builders) that count and skip such rows. Valid outputs of the same call are cached either way.
- **Cache**: a JSON file, ``{"format": ..., "version": 1, "entries": {key: {"sentence", "gloss", "model",
  "prompt"}}}``, key = SHA-256 of (model name or path, prompt hash, sentence); the prompt hash covers the
  instruction, the examples, the prompt format choice and ``max_new_tokens``. It is read once and rewritten
  atomically after each batch, so an interrupted run keeps its work. The model is keyed by the name or path it was
  given: after retraining a model saved at the same path, use a new cache file. A call whose sentences are all
  cached never loads the model.
"""

import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import SignBindInputError

logger = logging.getLogger(__name__)

DEFAULT_INSTRUCTION = (
    "Rewrite each English sentence as an ASL pseudo-gloss. Drop articles, forms of 'be', auxiliary verbs, 'will' and "
    "'would', grammatical prepositions (of, to, at, for, with, in), 'and', 'so' and fillers; keep content words, "
    "pronouns as English words (I, YOU, WE, IT), NOT, numbers, names and question words; write nouns and verbs in "
    "their base form (CASES -> CASE, CAME -> COME); put time words first and question words last; write every word "
    "in capital letters. Answer with the gloss only, on one line."
)
# English sentences and glosses in the style of the paper's GPT-4o targets (the paper's example) and of the rule
# glosser's policy (``rule_glosser``), so that both glossers aim at the same target.
DEFAULT_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("I have a few different ones here.", "HAVE DIFFERENT HERE"),
    ("Today we're going to work on the lower body.", "TODAY WE WORK ON LOWER BODY"),
    ("Where did you come from?", "YOU COME FROM WHERE"),
    ("I don't know the cases Laura Simms told us about.", "I NOT KNOW CASE LAURA SIMMS TELL US"),
    ("It's not a crazy theory.", "NOT CRAZY THEORY"),
)

CACHE_FORMAT = "signbind-gloss-cache"
CACHE_VERSION = 1
# Bumped whenever build_prompt changes what it writes, so old cache entries stop matching.
PROMPT_FORMAT_VERSION = 1
INVALID_POLICIES = ("raise", "none")

_LABEL = re.compile(r"^(?:pseudo[- ]?)?gloss\s*:\s*", re.IGNORECASE)
_CONTINUED_PROMPT = re.compile(r"^english\s*:", re.IGNORECASE)
_EDGE_PUNCTUATION = ",;:!?\"'`*()[]{}<>"
_GLOSS_WORD = re.compile(r"[^\W_]+(?:['.][^\W_]+)*\.?")
_DOTTED_ACRONYM = re.compile(r"(?:[^\W\d_]\.)+")


@dataclass(frozen=True)
class GlossFailure:
    sentence: str
    output: str  # the model's decoded completion, as generated
    reason: str


class InvalidGlossError(ValueError):
    """The model's output for one or more sentences is not a usable gloss; ``failures`` lists every one."""

    def __init__(self, failures: Sequence[GlossFailure], model: str):
        self.failures = list(failures)
        shown = "; ".join(
            f"{failure.sentence!r}: {failure.reason} (output {failure.output!r:.80})" for failure in failures[:3]
        )
        more = f" and {len(failures) - 3} more" if len(failures) > 3 else ""
        super().__init__(
            f"{model} gave no valid gloss for {len(failures)} sentence(s): {shown}{more}. Change the prompt or model, "
            "or call gloss_batch(..., on_invalid='none') to get None for these and handle them yourself"
        )


def parse_gloss_output(output: str, sentence: str) -> str:
    """The pseudo-gloss in a model's completion for ``sentence``; ``ValueError`` (the reason) if there is none."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if not lines:
        raise ValueError("empty output")
    line = lines[0]
    if _CONTINUED_PROMPT.match(line):
        raise ValueError("the model continued the prompt instead of answering")
    line = _LABEL.sub("", line).strip()
    words: list[str] = []
    for piece in line.replace("-", " ").split():
        word = piece.strip(_EDGE_PUNCTUATION).lstrip(".")
        if not _DOTTED_ACRONYM.fullmatch(word):
            word = word.rstrip(".")  # sentence-final dots; "U.S." keeps its own
        if not word:
            continue
        if not _GLOSS_WORD.fullmatch(word):
            raise ValueError(f"{piece!r} is not a gloss word (letters, digits, inner apostrophes or dots)")
        words.append(word.upper())
    if not words:
        raise ValueError("no word in the output")
    limit = 2 * len(sentence.split()) + 4
    if len(words) > limit:
        raise ValueError(f"{len(words)} words for a {len(sentence.split())}-word sentence (over {limit}): it rambled")
    return " ".join(words)


class GlossCache:
    """The JSON cache file of generated glosses (format in the module docstring)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.entries: dict[str, dict[str, str]] = {}
        if self.path.exists():
            self.entries = self._read()

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise SignBindInputError(
                f"{self.path}: not a valid gloss cache ({error}); delete it or pass another cache_path"
            ) from error
        if (
            not isinstance(data, dict)
            or data.get("format") != CACHE_FORMAT
            or not isinstance(data.get("entries"), dict)
        ):
            raise SignBindInputError(
                f"{self.path}: expected a gloss cache {{'format': {CACHE_FORMAT!r}, 'version': {CACHE_VERSION}, "
                f"'entries': {{...}}}}, got {str(data)[:120]}; delete it or pass another cache_path"
            )
        if data.get("version") != CACHE_VERSION:
            raise SignBindInputError(
                f"{self.path}: gloss cache version {data.get('version')!r}, this code reads version {CACHE_VERSION}"
            )
        return data["entries"]

    def get(self, key: str) -> str | None:
        entry = self.entries.get(key)
        return None if entry is None else entry["gloss"]

    def put(self, key: str, entry: dict[str, str]) -> None:
        self.entries[key] = entry

    def save(self) -> None:
        """Write the whole cache to a temporary file beside it, then rename: a crash never leaves half a file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"format": CACHE_FORMAT, "version": CACHE_VERSION, "entries": self.entries}
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(data, file, ensure_ascii=False, indent=1, sort_keys=True)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _check_examples(examples: object) -> tuple[tuple[str, str], ...]:
    if isinstance(examples, str) or not isinstance(examples, Sequence) or not examples:
        raise ValueError(f"`examples` must be a non-empty sequence of (sentence, gloss) pairs, got {examples!r:.120}")
    checked = []
    for position, pair in enumerate(examples):
        if not (isinstance(pair, Sequence) and len(pair) == 2 and all(isinstance(part, str) for part in pair)):
            raise ValueError(f"`examples[{position}]` must be a (sentence, gloss) pair of strings, got {pair!r:.120}")
        checked.append((pair[0], pair[1]))
    return tuple(checked)


class LLMGlosser:
    """A :class:`~signbind_hf.targets.Glosser` that prompts a local causal or chat model (see the module docstring).

    Args:
        model_name_or_path: a folder saved with ``save_pretrained`` (model and tokenizer), or a Hub id (needs the
            Hub or a local Hub cache).
        instruction: what the model is asked to do.
        examples: few-shot (English sentence, gloss) pairs.
        batch_size: sentences per ``generate`` call.
        max_new_tokens: the longest completion generated.
        cache_path: JSON cache file (created if missing); ``None`` keeps the cache in memory only.
        use_chat_template: ``None`` uses the tokenizer's chat template when it has one.
        device: where the model runs (default: CUDA when available, else the CPU).
        dtype: passed to ``from_pretrained`` (e.g. ``"bfloat16"``); ``None`` keeps the checkpoint's.
    """

    name = "llm"

    def __init__(
        self,
        model_name_or_path: str | os.PathLike,
        *,
        instruction: str = DEFAULT_INSTRUCTION,
        examples: Sequence[tuple[str, str]] = DEFAULT_EXAMPLES,
        batch_size: int = 8,
        max_new_tokens: int = 48,
        cache_path: str | os.PathLike | None = None,
        use_chat_template: bool | None = None,
        device: str | None = None,
        dtype: str | None = None,
    ):
        if not isinstance(instruction, str) or not instruction.strip():
            raise ValueError(f"`instruction` must be a non-empty string, got {instruction!r:.120}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}")
        if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
            raise ValueError(f"`max_new_tokens` must be a positive integer, got {max_new_tokens!r}")
        self.model_name_or_path = str(model_name_or_path)
        self.instruction = instruction
        self.examples = _check_examples(examples)
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.use_chat_template = use_chat_template
        self.device = device
        self.dtype = dtype
        self.cache = GlossCache(cache_path) if cache_path is not None else None
        self._memory: dict[str, str] = {}
        self._tokenizer = None
        self._model = None
        self.last_failures: list[GlossFailure] = []
        settings = {
            "instruction": instruction,
            "examples": self.examples,
            "use_chat_template": use_chat_template,
            "max_new_tokens": max_new_tokens,
            "prompt_format_version": PROMPT_FORMAT_VERSION,
        }
        self.prompt_hash = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]

    # --- model, lazily ------------------------------------------------------------------------------------------
    @property
    def tokenizer(self):
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(self.model_name_or_path)
            tokenizer.padding_side = "left"  # generation continues each row from its last real token
            if tokenizer.pad_token is None:
                if tokenizer.eos_token is None:
                    raise SignBindInputError(
                        f"{self.model_name_or_path}: the tokenizer has neither a pad nor an eos token; batched "
                        "generation needs one of them"
                    )
                tokenizer.pad_token = tokenizer.eos_token
            self._tokenizer = tokenizer
        return self._tokenizer

    @property
    def model(self):
        if self._model is None:
            import torch
            from transformers import AutoModelForCausalLM

            logger.info("loading the glossing model %s", self.model_name_or_path)
            kwargs = {} if self.dtype is None else {"dtype": self.dtype}
            model = AutoModelForCausalLM.from_pretrained(self.model_name_or_path, **kwargs)
            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            self._model = model.to(device).eval()
        return self._model

    @property
    def chat(self) -> bool:
        """Whether prompts are chat turns (the tokenizer's chat template) rather than plain text."""
        if self.use_chat_template is not None:
            return self.use_chat_template
        return getattr(self.tokenizer, "chat_template", None) is not None

    # --- prompts ------------------------------------------------------------------------------------------------
    def build_prompt(self, sentence: str) -> str:
        """The exact text given to the model for ``sentence`` (see the module docstring)."""
        if self.chat:
            messages = [{"role": "system", "content": self.instruction}]
            for example, gloss in self.examples:
                messages += [{"role": "user", "content": example}, {"role": "assistant", "content": gloss}]
            messages.append({"role": "user", "content": sentence})
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        shots = "".join(f"English: {example}\nGloss: {gloss}\n\n" for example, gloss in self.examples)
        return f"{self.instruction}\n\n{shots}English: {sentence}\nGloss:"

    def cache_key(self, sentence: str) -> str:
        return hashlib.sha256(json.dumps([self.model_name_or_path, self.prompt_hash, sentence]).encode()).hexdigest()

    # --- glossing -----------------------------------------------------------------------------------------------
    def _generate(self, sentences: list[str]) -> list[str]:
        import torch
        from transformers import GenerationConfig, StoppingCriteriaList

        tokenizer, model = self.tokenizer, self.model
        # A chat template writes its own BOS; adding special tokens again would double it.
        batch = tokenizer(
            [self.build_prompt(sentence) for sentence in sentences],
            return_tensors="pt",
            padding=True,
            add_special_tokens=not self.chat,
        ).to(model.device)
        prompt_length = batch["input_ids"].shape[1]
        generation_config = GenerationConfig(
            max_new_tokens=self.max_new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=model.generation_config.eos_token_id or tokenizer.eos_token_id,
        )
        stop = StoppingCriteriaList([_StopAtLineBreak(tokenizer, prompt_length)])
        with torch.inference_mode():
            output = model.generate(**batch, generation_config=generation_config, stopping_criteria=stop)
        return tokenizer.batch_decode(output[:, prompt_length:], skip_special_tokens=True)

    def gloss_batch(
        self, sentences: Sequence[str], *, on_invalid: Literal["raise", "none"] = "raise"
    ) -> list[str | None]:
        """Pseudo-glosses of ``sentences`` in order; cached ones are not generated again; "" for blank sentences.

        Invalid outputs: see the module docstring (``on_invalid``, ``last_failures``, :class:`InvalidGlossError`).
        """
        if on_invalid not in INVALID_POLICIES:
            raise ValueError(f"`on_invalid` must be one of {INVALID_POLICIES}, got {on_invalid!r}")
        if isinstance(sentences, str) or not isinstance(sentences, Sequence):
            raise TypeError(f"`sentences` must be a sequence of strings, got {type(sentences).__name__}")
        results: list[str | None] = [None] * len(sentences)
        pending: dict[str, list[int]] = {}  # each distinct uncached sentence -> its positions
        for position, sentence in enumerate(sentences):
            if not isinstance(sentence, str):
                raise TypeError(f"`sentences[{position}]` must be a string, got {type(sentence).__name__}")
            cached = self._lookup(sentence) if sentence.strip() else ""
            if cached is not None:
                results[position] = cached
            else:
                pending.setdefault(sentence, []).append(position)
        failures: list[GlossFailure] = []
        distinct = list(pending)
        for start in range(0, len(distinct), self.batch_size):
            chunk = distinct[start : start + self.batch_size]
            for sentence, output in zip(chunk, self._generate(chunk), strict=True):
                try:
                    gloss = parse_gloss_output(output, sentence)
                except ValueError as error:
                    failures.append(GlossFailure(sentence, output, str(error)))
                    continue
                self._store(sentence, gloss)
                for position in pending[sentence]:
                    results[position] = gloss
            if self.cache is not None:
                self.cache.save()
        self.last_failures = failures
        if failures:
            logger.warning(
                "%s: %d of %d sentences got no valid gloss", self.model_name_or_path, len(failures), len(distinct)
            )
            if on_invalid == "raise":
                raise InvalidGlossError(failures, self.model_name_or_path)
        return results

    def gloss(self, sentence: str) -> str:
        """The pseudo-gloss of one sentence; :class:`InvalidGlossError` if the model gives none."""
        return self.gloss_batch([sentence])[0]

    def _lookup(self, sentence: str) -> str | None:
        key = self.cache_key(sentence)
        if key in self._memory:
            return self._memory[key]
        return self.cache.get(key) if self.cache is not None else None

    def _store(self, sentence: str, gloss: str) -> None:
        key = self.cache_key(sentence)
        self._memory[key] = gloss
        if self.cache is not None:
            entry = {
                "sentence": sentence,
                "gloss": gloss,
                "model": self.model_name_or_path,
                "prompt": self.prompt_hash,
            }
            self.cache.put(key, entry)


class _StopAtLineBreak:
    """Stops a row once its completion has a line break after some text: only the first line is read."""

    def __init__(self, tokenizer, prompt_length: int):
        self.tokenizer = tokenizer
        self.prompt_length = prompt_length

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_length :], skip_special_tokens=True)
        return torch.tensor([("\n" in text.lstrip()) for text in texts], dtype=torch.bool, device=input_ids.device)
