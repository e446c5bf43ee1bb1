"""Fine-tuning on another gloss vocabulary: resize the gloss CTC heads, keeping what was learnt for shared words.

A checkpoint trained on one data set reads that set's pseudo-gloss words; a new data set (another sign language, a
new domain) has another vocabulary. Three layers depend on it: the sign head (``manual.sign_head``, one output row per
word), the fusion's gloss head (``fusion.gloss_head``, likewise) and the fusion's sign projection
(``fusion.sign_projection``, one input column per word). ``resize_gloss_heads`` rebuilds them for the new vocabulary:
a word in both vocabularies keeps its learnt row (matched by the word, not its id: ids shift when words are added or
removed), the blank and ``[UNK]`` keep theirs, and new words start from the model's own initialisation (normal,
std ``initializer_range``; bias 0).

Example:

```python
>>> model = AutoModel.from_pretrained("runs/experts"); old = AutoProcessor.from_pretrained("runs/experts").tokenizer
>>> new = SignBindCTCTokenizer.for_glosses(new_rows["pseudo_gloss"])
>>> kept = resize_gloss_heads(model, old.get_vocab(), new.get_vocab())  # number of rows carried over
```
"""

from __future__ import annotations

import logging

import torch
from torch import nn

logger = logging.getLogger(__name__)


def _ordered_tokens(vocab: dict[str, int]) -> list[str]:
    ids = sorted(vocab.values())
    if ids != list(range(len(vocab))):
        raise ValueError(f"a gloss vocabulary must use the ids 0..{len(vocab) - 1} once each")
    return [token for token, _ in sorted(vocab.items(), key=lambda item: item[1])]


def _fresh_linear(in_features: int, out_features: int, like: nn.Linear, std: float) -> nn.Linear:
    layer = nn.Linear(in_features, out_features, bias=like.bias is not None)
    layer.to(device=like.weight.device, dtype=like.weight.dtype)
    with torch.no_grad():
        layer.weight.normal_(mean=0.0, std=std)
        if layer.bias is not None:
            layer.bias.zero_()
    return layer


def resize_gloss_heads(model: nn.Module, old_vocab: dict[str, int], new_vocab: dict[str, int]) -> int:
    """Resize ``model``'s gloss heads from ``old_vocab`` to ``new_vocab`` (token -> id); returns the rows kept.

    Updates ``model.config.gloss_vocab_size``. The new layers keep their modules' ``requires_grad`` settings.
    """
    if len(old_vocab) != model.config.gloss_vocab_size:
        raise ValueError(
            f"the old gloss vocabulary has {len(old_vocab)} ids but the model's gloss_vocab_size is "
            f"{model.config.gloss_vocab_size}: pass the tokenizer the model was trained with"
        )
    old_tokens, new_tokens = _ordered_tokens(old_vocab), _ordered_tokens(new_vocab)
    shared = [(new_id, old_vocab[token]) for new_id, token in enumerate(new_tokens) if token in old_vocab]
    new_ids = torch.tensor([new for new, _ in shared], dtype=torch.long)
    old_ids = torch.tensor([old for _, old in shared], dtype=torch.long)
    std = model.config.initializer_range

    def resized_rows(layer: nn.Linear) -> nn.Linear:  # words are output rows
        fresh = _fresh_linear(layer.in_features, len(new_tokens), layer, std)
        with torch.no_grad():
            fresh.weight[new_ids] = layer.weight[old_ids]
            if layer.bias is not None:
                fresh.bias[new_ids] = layer.bias[old_ids]
        fresh.requires_grad_(layer.weight.requires_grad)
        return fresh

    def resized_columns(layer: nn.Linear) -> nn.Linear:  # words are input columns
        fresh = _fresh_linear(len(new_tokens), layer.out_features, layer, std)
        with torch.no_grad():
            fresh.weight[:, new_ids] = layer.weight[:, old_ids]
            if layer.bias is not None:
                fresh.bias.copy_(layer.bias)
        fresh.requires_grad_(layer.weight.requires_grad)
        return fresh

    model.manual.sign_head = resized_rows(model.manual.sign_head)
    if getattr(model, "fusion", None) is not None:
        model.fusion.gloss_head = resized_rows(model.fusion.gloss_head)
        model.fusion.sign_projection = resized_columns(model.fusion.sign_projection)
    model.config.gloss_vocab_size = len(new_tokens)
    logger.info(
        "gloss vocabulary %d -> %d words: %d rows kept (shared words, blank, [UNK]), %d new",
        len(old_tokens),
        len(new_tokens),
        len(shared),
        len(new_tokens) - len(shared),
    )
    return len(shared)


__all__ = ["resize_gloss_heads"]
