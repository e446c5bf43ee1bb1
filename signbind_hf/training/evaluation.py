"""Scoring a trained model on a data set split: every stream decoded, every metric, ``results.json`` and a table.

One decoding pass over the split gives the strings of every stream (the sign expert's pseudo-gloss, the fingerspelled
letters, the lip expert's phonemes, the fused pseudo-gloss); the LLM refiner turns the fused pseudo-gloss into English.
Two of the paper's ablations need no training of their own and are scored from the same pass:

- ``no_fusion``: the sign expert's pseudo-gloss goes to the refiner instead of the fused one;
- ``no_llm``: the fused pseudo-gloss, lower-cased, is scored as the translation (upper-case glosses would match no
  cased reference word at all, which would measure the casing, not the missing LLM).

Scores are in percent (``signbind_hf.metrics``). Rows whose video cannot be read are skipped and counted in
``skipped``; every other row is scored, even one too short for its CTC targets (it then simply scores badly).

Example:

```python
>>> results = evaluate_model("runs/quickstart/model", "data/synthsign", split="test", out_dir="runs/eval")
>>> results["test"]["bleu4"], results["test"]["sacrebleu_signature"]
```
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from signbind_hf.constants import ATTENTION_MASK
from signbind_hf.errors import SignBindInputError
from signbind_hf.metrics import (
    bleu,
    homonym_accuracy,
    letter_accuracy,
    markdown_table,
    phoneme_error_rate,
    rouge_l,
    word_error_rate,
)
from signbind_hf.training.clip_dataset import ClipExample, example_from_row, load_split, video_kwargs

logger = logging.getLogger(__name__)

RESULTS_FILE = "results.json"
TABLE_FILE = "results.md"
# SynthSign writes this file; its homonym glosses are the benchmark's (see signbind_hf.data.synthsign.lexicon).
SYNTHSIGN_SETTINGS_FILE = "synthsign.json"


@dataclass
class DecodedSplit:
    """Reference and decoded strings of every clip of a split, stream by stream (lists aligned by clip)."""

    ids: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    pseudo_glosses: list[str] = field(default_factory=list)
    letters: list[str] = field(default_factory=list)
    phonemes: list[str] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # words fingerspelled somewhere in the split (upper-case)
    decoded: dict[str, list[str]] = field(default_factory=dict)  # stream -> one string per clip
    skipped: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, example: ClipExample, row: dict[str, Any], streams: dict[str, str]) -> None:
        self.ids.append(example.id)
        self.names.update(word.upper() for word in row.get("fingerspelled_words") or ())
        self.sentences.append(row.get("sentence") or "")
        self.pseudo_glosses.append(example.glosses)
        self.letters.append(example.letters)
        self.phonemes.append(example.phonemes)
        for stream, text in streams.items():
            self.decoded.setdefault(stream, []).append(text)


def homonyms_of(data_dir: str | os.PathLike) -> set[str] | None:
    """The manual-homonym glosses of a data set: SynthSign's lexicon groups; ``None`` for other data sets."""
    if not (Path(data_dir) / SYNTHSIGN_SETTINGS_FILE).is_file():
        return None
    from signbind_hf.data.synthsign import HOMONYM_GROUPS

    return {gloss for group in HOMONYM_GROUPS for gloss in group}


def _process(processor: Any, examples: list[ClipExample]) -> Any:
    kwargs = video_kwargs(examples, processor.video_processor)
    return processor(videos=[example.video for example in examples], return_tensors="pt", **kwargs)


def _readable_batches(processor: Any, examples: list[ClipExample], split: str, decoded: DecodedSplit):
    """Yields (examples, inputs) per batch; a batch with an unreadable clip is redone clip by clip, bad ones counted."""
    try:
        yield examples, _process(processor, examples)
        return
    except SignBindInputError:
        pass
    for example in examples:
        try:
            yield [example], _process(processor, [example])
        except SignBindInputError as error:
            decoded.skipped["unreadable_video"] += 1
            logger.warning("%s[%d] %s skipped: %s", split, example.row, example.id, error)


@torch.inference_mode()
def decode_split(
    model: Any,
    processor: Any,
    data_dir: str | os.PathLike,
    split: str = "test",
    *,
    batch_size: int = 8,
    beam_width: int | None = None,
    max_examples: int | None = None,
) -> DecodedSplit:
    """Run the model over ``split`` and CTC-decode every stream: prefix beam search of ``beam_width``, by default
    the model's ``config.ctc_beam_width`` (greedy when that is None)."""
    if beam_width is None:
        beam_width = getattr(model.config, "ctc_beam_width", None)
    data_dir = Path(data_dir).absolute()
    rows = load_split(data_dir, split)
    if max_examples is not None:
        rows = rows.select(range(min(max_examples, len(rows))))
    model.eval()
    device = next(model.parameters()).device
    decoded = DecodedSplit()
    started = time.perf_counter()
    examples = [example_from_row(index, row, data_dir) for index, row in enumerate(rows)]
    row_of = {example.row: row for example, row in zip(examples, rows, strict=True)}
    progress = tqdm(total=len(examples), desc=f"decode {split}", unit="clip", disable=None)
    for start in range(0, len(examples), batch_size):
        for batch_examples, inputs in _readable_batches(
            processor, examples[start : start + batch_size], split, decoded
        ):
            tensors = {key: inputs[key].to(device) for key in processor.model_input_names if key in inputs}
            output = model(**tensors)
            streams = processor.batch_decode(output, tensors[ATTENTION_MASK], beam_width=beam_width)
            for index, example in enumerate(batch_examples):
                decoded.add(example, row_of[example.row], {name: texts[index] for name, texts in streams.items()})
        progress.update(min(batch_size, len(examples) - start))
    progress.close()
    decoded.seconds = time.perf_counter() - started
    if not len(decoded):
        raise SignBindInputError(f"--data {data_dir}: no readable clip in split {split!r} ({dict(decoded.skipped)})")
    return decoded


def _only_with_reference(predictions: list[str], references: list[str]) -> tuple[list[str], list[str]]:
    pairs = [pair for pair in zip(predictions, references, strict=True) if pair[1].strip()]
    return [prediction for prediction, _ in pairs], [reference for _, reference in pairs]


def _rate_or_none(metric, predictions: list[str], references: list[str]) -> float | None:
    """A stream metric over the clips that have a reference for it; None when no clip has one."""
    predictions, references = _only_with_reference(predictions, references)
    return metric(predictions, references) if references else None


def translation_scores(translations: list[str], sentences: list[str]) -> dict[str, Any]:
    """BLEU-1/4 (with the sacrebleu signature) and ROUGE-L of English sentences."""
    return {**bleu(translations, sentences).to_dict(), "rouge_l": rouge_l(translations, sentences)}


def score_split(
    decoded: DecodedSplit, translations: list[str], homonyms: set[str] | None, gloss_stream: str = "gloss"
) -> dict[str, Any]:
    """The results.json metrics of one system: ``gloss_stream`` is the pseudo-gloss it translated from."""
    gloss = decoded.decoded[gloss_stream]
    scores = translation_scores(translations, decoded.sentences)
    scores["gloss_wer"] = word_error_rate(gloss, decoded.pseudo_glosses)
    scores["homonym_accuracy"] = homonym_accuracy(gloss, decoded.pseudo_glosses, homonyms) if homonyms else None
    # Fingerspelled names are pseudo-gloss words too: only the fingerspelling stream can tell the fusion which one.
    scores["name_accuracy"] = homonym_accuracy(gloss, decoded.pseudo_glosses, decoded.names) if decoded.names else None
    fingerspelling = decoded.decoded.get("fingerspelling")
    scores["letter_accuracy"] = (
        _rate_or_none(letter_accuracy, fingerspelling, decoded.letters) if fingerspelling else None
    )
    phonemes = decoded.decoded.get("phoneme")
    scores["phoneme_error_rate"] = _rate_or_none(phoneme_error_rate, phonemes, decoded.phonemes) if phonemes else None
    scores["sign_wer"] = word_error_rate(decoded.decoded["sign"], decoded.pseudo_glosses)
    scores["num_clips"] = len(decoded)
    return scores


def stream_table(decoded: DecodedSplit, translations: list[str], homonyms: set[str] | None) -> dict[str, dict]:
    """Per stream (sign, fingerspelling, lip, fused, final English), the metrics that apply to it."""
    rows: dict[str, dict[str, Any]] = {
        "sign expert": {"gloss_wer": word_error_rate(decoded.decoded["sign"], decoded.pseudo_glosses)},
        "fused pseudo-gloss": {"gloss_wer": word_error_rate(decoded.decoded["gloss"], decoded.pseudo_glosses)},
        "final English": translation_scores(translations, decoded.sentences),
    }
    if homonyms:
        for name, stream in (("sign expert", "sign"), ("fused pseudo-gloss", "gloss")):
            rows[name]["homonym_accuracy"] = homonym_accuracy(
                decoded.decoded[stream], decoded.pseudo_glosses, homonyms
            )
    if "fingerspelling" in decoded.decoded:
        accuracy = _rate_or_none(letter_accuracy, decoded.decoded["fingerspelling"], decoded.letters)
        rows["fingerspelling expert"] = {"letter_accuracy": accuracy}
    if "phoneme" in decoded.decoded:
        rows["lip expert"] = {"phoneme_error_rate": _rate_or_none(phoneme_error_rate, decoded.decoded["phoneme"],
                                                                  decoded.phonemes)}  # fmt: skip
    order = ("sign expert", "fingerspelling expert", "lip expert", "fused pseudo-gloss", "final English")
    return {name: rows[name] for name in order if name in rows}


def glosses_as_text(glosses: list[str]) -> list[str]:
    """Pseudo-gloss scored as English (the ``no_llm`` ablation): lower-cased words."""
    return [gloss.lower() for gloss in glosses]


def load_for_evaluation(model_dir: str | os.PathLike, device: str | None = None):
    """The model and processor of a model folder, with a clear error when it is not one."""
    from transformers import AutoProcessor

    from signbind_hf.pipeline_signbind import load_model, model_loading_errors

    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise SignBindInputError(
            f"--model {model_dir}: not a model folder (no config.json); train one with `signbind train` or `make demo`"
        )
    model = load_model(model_dir)
    with model_loading_errors(model_dir):
        processor = AutoProcessor.from_pretrained(model_dir)
    return model.to(device or "cpu").eval(), processor


def evaluate_model(
    model_dir: str | os.PathLike,
    data_dir: str | os.PathLike,
    split: str = "test",
    out_dir: str | os.PathLike | None = None,
    *,
    batch_size: int = 8,
    beam_width: int | None = None,
    refiner_batch_size: int = 16,
    max_examples: int | None = None,
    device: str | None = None,
    refiner_from: str | os.PathLike | None = None,
    backbone_frame_stride: int | None = None,
) -> dict[str, Any]:
    """Score a model folder on a split; write ``results.json`` and ``results.md`` into ``out_dir`` when given.

    Returns ``{split: {metrics}, "streams": {stream: {metrics}}, "ablations": {"full", "no_fusion", "no_llm"},
    "refined": bool, "skipped": {...}, "seconds": {...}}``. The refiner is ``refiner_from``'s (a model folder with
    ``refiner/``; default: ``model_dir``'s). Without one, the translation is the lower-cased fused pseudo-gloss and
    ``refined`` is false. ``backbone_frame_stride`` scores the model with its frame encoder on every k-th frame
    (see ``SignBindConfig``); default: the model's own setting.
    """
    from signbind_hf.refiner import Refiner, has_refiner

    started = time.perf_counter()
    model, processor = load_for_evaluation(model_dir, device)
    if backbone_frame_stride is not None:
        model.config.backbone_frame_stride = backbone_frame_stride
    decoded = decode_split(
        model, processor, data_dir, split, batch_size=batch_size, beam_width=beam_width, max_examples=max_examples
    )
    homonyms = homonyms_of(data_dir)
    refiner_from = refiner_from if refiner_from is not None else model_dir
    refined = has_refiner(refiner_from)
    refine_started = time.perf_counter()
    if refined:
        refiner = Refiner.from_pretrained(refiner_from, device=device or "cpu")
        fused_translations = refiner.translate(decoded.decoded["gloss"], batch_size=refiner_batch_size)
        sign_translations = refiner.translate(decoded.decoded["sign"], batch_size=refiner_batch_size)
    else:
        logger.warning("%s has no refiner/: the translation is the fused pseudo-gloss", refiner_from)
        fused_translations = glosses_as_text(decoded.decoded["gloss"])
        sign_translations = glosses_as_text(decoded.decoded["sign"])
    refine_seconds = time.perf_counter() - refine_started
    full = score_split(decoded, fused_translations, homonyms)
    results = {
        split: full,
        "streams": stream_table(decoded, fused_translations, homonyms),
        "ablations": {
            "full": full,
            "no_fusion": score_split(decoded, sign_translations, homonyms, gloss_stream="sign"),
            "no_llm": score_split(decoded, glosses_as_text(decoded.decoded["gloss"]), homonyms),
        },
        "refined": refined,
        "backbone_frame_stride": model.config.backbone_frame_stride,
        "skipped": dict(decoded.skipped),
        "seconds": {"decode": decoded.seconds, "refine": refine_seconds, "total": time.perf_counter() - started},
        "examples": [_example(decoded, fused_translations, index) for index in range(min(5, len(decoded)))],
    }
    if out_dir is not None:
        write_results(results, out_dir, title=f"{Path(model_dir).name} on {Path(data_dir).name}/{split}")
    return results


def _example(decoded: DecodedSplit, translations: list[str], index: int) -> dict[str, str]:
    return {
        "id": decoded.ids[index],
        "reference": decoded.sentences[index],
        "translation": translations[index],
        "reference_pseudo_gloss": decoded.pseudo_glosses[index],
        "pseudo_gloss": decoded.decoded["gloss"][index],
    }


def write_results(results: dict[str, Any], out_dir: str | os.PathLike, title: str = "") -> Path:
    """``results.json`` and ``results.md`` (the stream table, and the ablation table when there is one)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / RESULTS_FILE
    staging = path.with_name(f".{path.name}.partial")
    staging.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    os.replace(staging, path)
    sections = [f"# {title}\n" if title else ""]
    if "streams" in results:
        sections.append("## Streams\n\n" + markdown_table(results["streams"], row_header="stream"))
    if "ablations" in results:
        sections.append("## Ablations\n\n" + markdown_table(results["ablations"], row_header="variant"))
    (out_dir / TABLE_FILE).write_text("\n\n".join(section for section in sections if section) + "\n")
    return path


__all__ = ["DecodedSplit", "decode_split", "evaluate_model", "score_split", "stream_table", "write_results"]
