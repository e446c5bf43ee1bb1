"""CTC decoding: turn ``(B, T, V)`` logits of a CTC head into token ids per sample.

Two decoders, both returning ``list[list[int]]`` (ids only; strings belong to the tokenizers):

- :func:`ctc_greedy_decode`: best path (argmax per step), collapse repeats, drop blanks.
- :func:`ctc_beam_search_decode`: CTC prefix beam search (Graves 2012; Hannun et al. 2014, "First-Pass Large
  Vocabulary Continuous Speech Recognition using Bi-Directional Recurrent DNNs"), which approximates the most
  probable *labelling* (summed over all of its alignments) rather than the most probable path.
  :func:`ctc_prefix_beam_search` is the same search on one sequence, returning the n-best labellings with their
  log-probabilities.

Why not pyctcdecode (the obvious library): it pins numpy<2, which breaks pyarrow and so `datasets`, and it is built
around characters, words and a KenLM language model. It did decode correctly on small cases when each id was mapped to a private-use Unicode character, but
(measured with pyctcdecode 0.5.0, V=3000, T=200, beam 16, 2 CPU cores) it visits every (token, beam) pair in a Python
loop: 45 s per sequence without token pruning, 6 s at ``token_min_logp=-10``. It is only fast (0.14 s) with its
default ``token_min_logp=-5``, an absolute log-probability threshold that drops hypotheses depending on how peaked the
model's outputs happen to be. It also logs warnings on import (no kenlm) and on every decoder build (no space token).
The search below is exact with respect to the textbook prefix beam search, yet restricts each step to the
``2 * beam_width`` most probable tokens of that frame, which provably changes nothing (see
:func:`ctc_prefix_beam_search`); the per-step work on the vocabulary is vectorised in numpy. On B=8, T=512, V=2000
(benchmarks/bench_ctc_decoding.py) it takes about 0.3 s against pyctcdecode's 2-3 s at its default pruning, and its
labellings are never less probable than pyctcdecode's (they are more probable on the samples where the two differ).

This module is flat with relative imports only, so it can be exported as Hub remote code beside the model.
"""

import numpy as np
import torch

from .constants import BLANK_ID
from .errors import SignBindInputError

__all__ = [
    "ctc_beam_search_decode", "ctc_greedy_decode", "ctc_prefix_beam_search", "decode_spans", "decode_streams",
]  # fmt: skip

DEFAULT_BEAM_WIDTH = 16

ArrayLike = torch.Tensor | np.ndarray


def ctc_greedy_decode(
    logits: ArrayLike, lengths: ArrayLike | None = None, blank_id: int = BLANK_ID
) -> list[list[int]]:
    """Best-path decoding: argmax per step, collapse repeats, then drop blanks (``a a <b> a`` -> ``a a``).

    Args:
        logits: ``(B, T, V)`` scores (logits, probabilities or log-probabilities: argmax is the same), torch or numpy.
        lengths: ``(B,)`` number of valid leading steps per sample, or a ``(B, T)`` attention-style mask (1/True
            for valid steps; only the masked-in steps are decoded, in order). ``None`` means all ``T`` steps.
        blank_id: id of the CTC blank token.

    Returns:
        One list of token ids per sample.
    """
    _check_logits(logits)
    batch_size, num_steps, vocab_size = logits.shape
    _check_blank_id(blank_id, vocab_size)
    # Argmax where the logits live (e.g. on the GPU): only (B, T) integers cross to the CPU.
    if isinstance(logits, torch.Tensor):
        best_ids = logits.detach().argmax(dim=-1).cpu().numpy()  # (B, T)
    else:
        best_ids = np.asarray(logits).argmax(axis=-1)  # (B, T)
    valid_steps = _valid_steps(lengths, batch_size, num_steps)  # (B, T) bool
    decoded = []
    for sample_ids, sample_valid in zip(best_ids, valid_steps, strict=True):
        path = sample_ids[sample_valid]  # (T_b,)
        is_new = np.ones(path.shape, dtype=bool)
        is_new[1:] = path[1:] != path[:-1]  # first step of each run of equal ids
        decoded.append(path[is_new & (path != blank_id)].tolist())
    return decoded


def decode_spans(
    logits: ArrayLike, spans: list[tuple[int, int]], beam_width: int | None = None, blank_id: int = BLANK_ID
) -> list[list[int]]:
    """Each ``(start, end)`` span of one sample's ``(T, V)`` logits decoded on its own (greedy when ``beam_width``
    is None, else prefix beam search): what a stream read within each stretch of time, e.g. each fingerspelled run."""
    decoded = []
    for start, end in spans:
        span = logits[None, start:end]  # (1, end - start, V)
        if beam_width is None:
            decoded.extend(ctc_greedy_decode(span, blank_id=blank_id))
        else:
            decoded.extend(ctc_beam_search_decode(span, blank_id=blank_id, beam_width=beam_width))
    return decoded


def ctc_beam_search_decode(
    logits: ArrayLike,
    lengths: ArrayLike | None = None,
    blank_id: int = BLANK_ID,
    beam_width: int = DEFAULT_BEAM_WIDTH,
) -> list[list[int]]:
    """CTC prefix beam search per sample; returns the most probable labelling found for each.

    Args:
        logits: ``(B, T, V)`` unnormalised logits or log-probabilities, torch or numpy. A float32 log-softmax is
            always applied (it leaves log-probabilities unchanged), so raw head outputs can be passed directly.
        lengths: ``(B,)`` number of valid leading steps per sample, or a ``(B, T)`` attention-style mask (1/True
            for valid steps; only the masked-in steps are decoded, in order). ``None`` means all ``T`` steps.
        blank_id: id of the CTC blank token.
        beam_width: number of prefixes kept after each step (1 keeps only the best prefix).

    Returns:
        One list of token ids per sample.
    """
    log_probs = _log_softmax_numpy(logits)  # (B, T, V) float32
    batch_size, num_steps, vocab_size = log_probs.shape
    _check_blank_id(blank_id, vocab_size)
    _check_beam_width(beam_width)
    valid_steps = _valid_steps(lengths, batch_size, num_steps)  # (B, T) bool
    return [
        ctc_prefix_beam_search(sample_log_probs[sample_valid], blank_id=blank_id, beam_width=beam_width)[0][0]
        for sample_log_probs, sample_valid in zip(log_probs, valid_steps, strict=True)
    ]


def ctc_prefix_beam_search(
    log_probs: np.ndarray, blank_id: int = BLANK_ID, beam_width: int = DEFAULT_BEAM_WIDTH
) -> list[tuple[list[int], float]]:
    """Prefix beam search over one sequence of log-probabilities.

    Each kept prefix carries two log-probabilities: of all alignments of it seen so far that end in a blank, and of
    those that end in its last token. That split is what lets ``a <b> a`` become ``a a`` while ``a a`` stays ``a``.

    Only the ``2 * beam_width`` most probable non-blank tokens of a frame are tried as extensions. This loses
    nothing: a prefix's extension by token ``c`` scores ``total(prefix) + log p(c)`` (or less, when ``c`` repeats its
    last token), and at most ``beam_width - 1`` of its extensions coincide with other kept prefixes (these are
    merged into them whatever ``c`` is), so the ``beam_width`` best new extensions of any prefix always lie among
    those tokens. The search returns exactly what the textbook algorithm over all ``V`` tokens returns.

    Args:
        log_probs: ``(T, V)`` log-probabilities (log-softmax already applied).
        blank_id: id of the CTC blank token.
        beam_width: number of prefixes kept after each step.

    Returns:
        Up to ``beam_width`` ``(token_ids, log_probability)`` pairs, most probable first. With ``T = 0`` this is
        ``[([], 0.0)]``.
    """
    if not isinstance(log_probs, np.ndarray) or log_probs.ndim != 2:
        received = f"shape {tuple(log_probs.shape)}" if hasattr(log_probs, "shape") else type(log_probs).__name__
        raise SignBindInputError(f"log_probs: expected a (T, V) numpy array of log-probabilities, got {received}.")
    num_steps, vocab_size = log_probs.shape
    _check_blank_id(blank_id, vocab_size)
    _check_beam_width(beam_width)
    log_probs = log_probs.astype(np.float64, copy=False)  # sums over up to hundreds of steps

    # Candidate extension tokens of every frame, chosen at once for the whole sequence.
    num_candidates = min(vocab_size - 1, 2 * beam_width)
    non_blank = log_probs.copy()
    non_blank[:, blank_id] = -np.inf
    if num_candidates < vocab_size - 1:
        candidates = np.argpartition(non_blank, -num_candidates, axis=1)[:, -num_candidates:]  # (T, M)
    else:
        candidates = np.delete(np.arange(vocab_size), blank_id)[None, :].repeat(num_steps, axis=0)  # (T, M)
    candidate_log_probs = np.take_along_axis(log_probs, candidates, axis=1)  # (T, M)

    # Prefixes are nodes of a trie, so a prefix is one integer and extending it costs O(1) however long it is.
    # Node 0 is the empty prefix; the (parent, token) -> node map keeps one node per distinct prefix, so equal
    # prefixes reached along different beams are recognised and merged.
    node_parent, node_token = [-1], [-1]
    child_of: dict[tuple[int, int], int] = {}

    def child(parent: int, token: int) -> int:
        node = child_of.get((parent, token))
        if node is None:
            node = child_of[(parent, token)] = len(node_parent)
            node_parent.append(parent)
            node_token.append(token)
        return node

    beam_nodes = np.zeros(1, dtype=np.int64)  # (K,)
    last_tokens = np.full(1, -1, dtype=np.int64)  # (K,) -1 for the empty prefix
    log_p_blank = np.zeros(1)  # (K,) alignments ending in blank
    log_p_token = np.full(1, -np.inf)  # (K,) alignments ending in the prefix's last token

    for step in range(num_steps):
        frame = log_probs[step]  # (V,)
        step_tokens, step_log_probs = candidates[step], candidate_log_probs[step]  # (M,)
        log_p_total = np.logaddexp(log_p_blank, log_p_token)  # (K,)

        # Staying on the same prefix: emit blank, or repeat the last token (collapsed by CTC).
        stay_blank = log_p_total + frame[blank_id]
        repeat_log_probs = np.where(last_tokens >= 0, frame[np.maximum(last_tokens, 0)], -np.inf)
        stay_token = log_p_token + repeat_log_probs

        # Extending by a new token; a repeated token only extends alignments that end in blank.
        is_repeat = step_tokens[None, :] == last_tokens[:, None]  # (K, M)
        extend = np.where(is_repeat, log_p_blank[:, None], log_p_total[:, None]) + step_log_probs[None, :]  # (K, M)

        # An extension equal to an already kept prefix adds its mass there instead of competing with it.
        beam_index = {int(node): k for k, node in enumerate(beam_nodes)}
        column_of = {int(token): j for j, token in enumerate(step_tokens)}
        for k, node in enumerate(beam_nodes):
            parent_k = beam_index.get(node_parent[node]) if node else None
            if parent_k is None:
                continue
            token = node_token[node]
            from_parent = (log_p_blank if last_tokens[parent_k] == token else log_p_total)[parent_k] + frame[token]
            stay_token[k] = np.logaddexp(stay_token[k], from_parent)
            if token in column_of:
                extend[parent_k, column_of[token]] = -np.inf

        # Keep the beam_width best of (kept prefixes) + (new extensions), dropping impossible ones.
        scores = np.concatenate([np.logaddexp(stay_blank, stay_token), extend.ravel()])
        keep = min(beam_width, scores.size)
        best = np.argpartition(-scores, keep - 1)[:keep]
        best = best[np.argsort(-scores[best], kind="stable")]
        best = best[np.isfinite(scores[best])]
        num_kept = beam_nodes.size
        new_nodes, new_last, new_blank, new_token = [], [], [], []
        for index in best.tolist():
            if index < num_kept:
                new_nodes.append(int(beam_nodes[index]))
                new_last.append(int(last_tokens[index]))
                new_blank.append(stay_blank[index])
                new_token.append(stay_token[index])
            else:
                parent_k, column = divmod(index - num_kept, step_tokens.size)
                token = int(step_tokens[column])
                new_nodes.append(child(int(beam_nodes[parent_k]), token))
                new_last.append(token)
                new_blank.append(-np.inf)
                new_token.append(extend[parent_k, column])
        beam_nodes = np.asarray(new_nodes, dtype=np.int64)
        last_tokens = np.asarray(new_last, dtype=np.int64)
        log_p_blank = np.asarray(new_blank, dtype=np.float64)
        log_p_token = np.asarray(new_token, dtype=np.float64)

    final_scores = np.logaddexp(log_p_blank, log_p_token)
    order = np.argsort(-final_scores, kind="stable")
    return [(_trie_tokens(int(beam_nodes[k]), node_parent, node_token), float(final_scores[k])) for k in order]


def _trie_tokens(node: int, node_parent: list[int], node_token: list[int]) -> list[int]:
    tokens = []
    while node:
        tokens.append(node_token[node])
        node = node_parent[node]
    return tokens[::-1]


def _check_logits(logits: ArrayLike) -> None:
    if not isinstance(logits, torch.Tensor | np.ndarray):
        raise SignBindInputError(
            f"logits: expected a torch.Tensor or numpy array of shape (B, T, V), got {type(logits).__name__}."
        )
    if logits.ndim != 3:
        raise SignBindInputError(
            f"logits: expected shape (B, T, V) (batch, steps, vocabulary), got shape {tuple(logits.shape)}; "
            "add a batch axis with logits[None] for a single sequence."
        )
    if logits.shape[-1] < 2:
        raise SignBindInputError(
            f"logits: expected a vocabulary axis of at least 2 (blank + one token), got shape {tuple(logits.shape)}."
        )


def _check_blank_id(blank_id: int, vocab_size: int) -> None:
    if not 0 <= blank_id < vocab_size:
        raise SignBindInputError(f"blank_id: expected an id in [0, {vocab_size}), got {blank_id}.")


def _check_beam_width(beam_width: int) -> None:
    if isinstance(beam_width, bool) or not isinstance(beam_width, int | np.integer) or beam_width < 1:
        raise SignBindInputError(f"beam_width: expected a positive integer, got {beam_width!r}.")


def _log_softmax_numpy(logits: ArrayLike) -> np.ndarray:
    """Float32 log-softmax over the vocabulary, on the logits' device, returned as a CPU numpy array."""
    _check_logits(logits)
    tensor = logits.detach() if isinstance(logits, torch.Tensor) else torch.from_numpy(np.asarray(logits))
    if not tensor.is_floating_point():
        raise SignBindInputError(f"logits: expected floating-point scores, got dtype {tensor.dtype}.")
    log_probs = torch.log_softmax(tensor.float(), dim=-1)  # (B, T, V)
    if torch.isnan(log_probs).any():
        raise SignBindInputError(
            "logits: found NaN, +inf, or a step whose scores are all -inf; expected finite scores "
            "(-inf is allowed for individual tokens)."
        )
    return log_probs.cpu().numpy()


def _valid_steps(lengths: ArrayLike | None, batch_size: int, num_steps: int) -> np.ndarray:
    """``(B, T)`` boolean mask of the steps to decode, from lengths ``(B,)`` or a mask ``(B, T)``."""
    if lengths is None:
        return np.ones((batch_size, num_steps), dtype=bool)
    values = lengths.detach().cpu().numpy() if isinstance(lengths, torch.Tensor) else np.asarray(lengths)
    if values.ndim == 2:
        if values.shape != (batch_size, num_steps):
            raise SignBindInputError(
                f"lengths: a mask must have the logits' (B, T) = {(batch_size, num_steps)}, got shape {values.shape}."
            )
        if not np.isin(values, (0, 1)).all():
            raise SignBindInputError(
                f"lengths: a (B, T) mask must hold only 0/1 or booleans, got values {np.unique(values)[:8].tolist()}."
            )
        return values.astype(bool)
    if values.ndim != 1 or values.shape[0] != batch_size:
        raise SignBindInputError(
            f"lengths: expected shape ({batch_size},) (steps per sample) or a ({batch_size}, {num_steps}) mask, "
            f"got shape {values.shape}."
        )
    if not (np.issubdtype(values.dtype, np.integer) or np.issubdtype(values.dtype, np.floating)) or not np.all(
        values == np.round(values)
    ):
        raise SignBindInputError(f"lengths: expected whole numbers of steps, got {values.tolist()}.")
    if values.min(initial=0) < 0 or values.max(initial=0) > num_steps:
        raise SignBindInputError(
            f"lengths: expected values in [0, {num_steps}] (T of the logits), got {values.tolist()}."
        )
    return np.arange(num_steps)[None, :] < values[:, None].astype(np.int64)


# Which logits of a SignBindOutput belong to which stream, and the mask that limits each one's valid steps.
_OUTPUT_STREAMS = {
    "gloss": ("gloss_logits", None),
    "sign": ("sign_logits", None),
    "fingerspelling": ("fingerspelling_logits", None),
    "phoneme": ("phoneme_logits", "phoneme_attention_mask"),
}


def decode_streams(
    output, attention_mask: ArrayLike | None = None, beam_width: int | None = None
) -> dict[str, list[list[int]]]:
    """CTC-decode every stream present in a ``SignBindOutput`` to token ids.

    ``attention_mask`` (B, T) limits the frame-rate streams (gloss, sign, fingerspelling); the phoneme stream uses the
    output's own ``phoneme_attention_mask``. Greedy when ``beam_width`` is None, prefix beam search otherwise. Streams
    switched off in the model's config (``None`` logits) are left out of the result.
    """
    decoded = {}
    for stream, (logits_name, mask_name) in _OUTPUT_STREAMS.items():
        logits = getattr(output, logits_name, None)
        if logits is None:
            continue
        lengths = getattr(output, mask_name) if mask_name else attention_mask
        if beam_width is None:
            decoded[stream] = ctc_greedy_decode(logits, lengths)
        else:
            decoded[stream] = ctc_beam_search_decode(logits, lengths, beam_width=beam_width)
    return decoded
