"""The fusion stage on cached expert outputs: the data (a checked view of a feature cache) and the module Trainer runs.

The experts are frozen in the fusion stage, so ``signbind_hf.data.feature_cache`` computes their outputs once;
``FusionOnCachedOutputs`` is what ``Trainer`` trains: a thin ``nn.Module`` whose ``forward`` is the model's
``fuse_expert_outputs``. A wrapper rather than a ``compute_loss`` override because ``forward`` is what every wrapper
around the model calls (DDP's gradient synchronisation, FSDP, DeepSpeed): a method called beside ``forward`` would
skip them. Its state dict is the model's under ``signbind.``, so Trainer checkpoints resume as usual.

Example:

```python
>>> train = CachedFusionDataset.from_cache(cache_dir, "train", model, report)
>>> trainer = Trainer(model=FusionOnCachedOutputs(model), train_dataset=train, data_collator=FusionFeatureCollator())
```
"""

from __future__ import annotations

import logging
from typing import Any

from torch import nn
from torch.utils.data import Dataset

from signbind_hf.data.feature_cache import CachedExpertOutputs, read_manifest
from signbind_hf.training.clip_dataset import ctc_frames_needed
from signbind_hf.training.skipped_rows import EMPTY_PSEUDO_GLOSS, TOO_SHORT_FOR_GLOSSES, SkippedRows

logger = logging.getLogger(__name__)


class FusionOnCachedOutputs(nn.Module):
    """``forward(**batch)`` = ``model.fuse_expert_outputs(**batch)``: the fusion stage as a module for ``Trainer``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.signbind = model
        self.config = model.config

    # Named arguments, not **kwargs: Trainer passes extra loss arguments to a forward that takes **kwargs.
    def forward(
        self,
        sign_logits,
        router_logits,
        attention_mask,
        fingerspelling_logits=None,
        phoneme_logits=None,
        face_attention_mask=None,
        gloss_labels=None,
    ) -> Any:
        return self.signbind.fuse_expert_outputs(
            sign_logits=sign_logits,
            router_logits=router_logits,
            attention_mask=attention_mask,
            fingerspelling_logits=fingerspelling_logits,
            phoneme_logits=phoneme_logits,
            face_attention_mask=face_attention_mask,
            gloss_labels=gloss_labels,
        )


class CachedFusionDataset(Dataset):
    """The examples of a cached split whose clip can emit its pseudo-gloss (the rest skipped and counted)."""

    def __init__(self, cached: CachedExpertOutputs, indices: list[int]) -> None:
        self.cached = cached
        self.indices = indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.cached[self.indices[index]]

    @classmethod
    def from_cache(
        cls,
        cache_dir: Any,
        split: str,
        model: nn.Module,
        report: SkippedRows,
        tokenizer: Any = None,
        max_examples: int | None = None,
    ) -> CachedFusionDataset:
        cached = CachedExpertOutputs(cache_dir, split, model, tokenizer=tokenizer)
        split_manifest = read_manifest(cache_dir)["splits"][split]
        # Rows the cache could not read (missing or unreadable video) were counted when it was made.
        report.merge(split, 0, split_manifest["reasons"], split_manifest["skipped_examples"])
        kept = []
        for position, entry in enumerate(cached.index):
            if max_examples is not None and entry["row"] >= max_examples:
                continue
            where = f"{split}[{entry['row']}] {entry['id']}"
            if not entry["pseudo_gloss"].strip():
                report.skip(split, EMPTY_PSEUDO_GLOSS, where)
                continue
            needed = ctc_frames_needed(cached.gloss_labels(entry))
            if needed > entry["frames"]:
                report.skip(
                    split,
                    TOO_SHORT_FOR_GLOSSES,
                    f"{where}: its targets need {needed} frames, the clip has {entry['frames']}",
                )
                continue
            report.keep(split)
            kept.append(position)
        logger.info("%s: %d of %d cached examples usable", split, len(kept), len(cached))
        if not kept:
            raise ValueError(f"feature cache {cache_dir}: no usable example in split {split!r}")
        return cls(cached, kept)


__all__ = ["CachedFusionDataset", "FusionOnCachedOutputs"]
