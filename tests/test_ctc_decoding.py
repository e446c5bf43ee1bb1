import itertools
import time
from collections import defaultdict

import numpy as np
import pytest
import torch

from signbind_hf.constants import BLANK_ID
from signbind_hf.ctc_decoding import ctc_beam_search_decode, ctc_greedy_decode, ctc_prefix_beam_search
from signbind_hf.errors import SignBindInputError

A, B, C = 1, 2, 3  # non-blank token ids; BLANK_ID is 0


def one_hot_logits(paths: list[list[int]], vocab_size: int = 4) -> torch.Tensor:
    """Logits whose argmax at each step is the given id (one path per sample, equal lengths)."""
    return torch.nn.functional.one_hot(torch.tensor(paths), vocab_size).float() * 5.0  # (B, T, V)


def random_log_probs(rng: np.random.Generator, num_steps: int, vocab_size: int, scale: float = 2.0) -> np.ndarray:
    scores = rng.normal(size=(num_steps, vocab_size)) * scale
    return scores - np.logaddexp.reduce(scores, axis=1, keepdims=True)  # (T, V)


def collapse(path: tuple[int, ...]) -> tuple[int, ...]:
    labels, previous = [], None
    for token in path:
        if token != previous and token != BLANK_ID:
            labels.append(token)
        previous = token
    return tuple(labels)


def brute_force_labelling_log_probs(log_probs: np.ndarray) -> dict[tuple[int, ...], float]:
    """log p(labelling) summed over every alignment, by enumerating all V**T paths."""
    num_steps, vocab_size = log_probs.shape
    totals: dict[tuple[int, ...], float] = defaultdict(lambda: -np.inf)
    for path in itertools.product(range(vocab_size), repeat=num_steps):
        path_log_prob = float(log_probs[np.arange(num_steps), path].sum())
        labelling = collapse(path)
        totals[labelling] = np.logaddexp(totals[labelling], path_log_prob)
    return dict(totals)


def textbook_prefix_beam_search(log_probs: np.ndarray, beam_width: int) -> list[tuple[list[int], float]]:
    """Hannun et al.'s prefix beam search, written plainly: every beam tries every token at every step."""
    beams = {(): (0.0, -np.inf)}  # prefix -> (log p ending in blank, log p ending in last token)
    for frame in log_probs:
        next_beams: dict[tuple[int, ...], list[float]] = defaultdict(lambda: [-np.inf, -np.inf])
        for prefix, (p_blank, p_token) in beams.items():
            p_total = np.logaddexp(p_blank, p_token)
            for token, p in enumerate(frame):
                if token == BLANK_ID:
                    next_beams[prefix][0] = np.logaddexp(next_beams[prefix][0], p_total + p)
                elif prefix and token == prefix[-1]:
                    next_beams[prefix][1] = np.logaddexp(next_beams[prefix][1], p_token + p)
                    extended = (*prefix, token)
                    next_beams[extended][1] = np.logaddexp(next_beams[extended][1], p_blank + p)
                else:
                    extended = (*prefix, token)
                    next_beams[extended][1] = np.logaddexp(next_beams[extended][1], p_total + p)
        ranked = sorted(next_beams.items(), key=lambda item: -np.logaddexp(*item[1]))
        beams = {prefix: tuple(scores) for prefix, scores in ranked[:beam_width] if np.isfinite(np.logaddexp(*scores))}
    return [(list(prefix), float(np.logaddexp(*scores))) for prefix, scores in beams.items()]


# --- greedy ----------------------------------------------------------------------------------------------------


def test_greedy_collapses_repeats_and_keeps_repeats_separated_by_blank():
    paths = [
        [A, A, BLANK_ID, A],  # a a <b> a -> a a
        [A, A, A, A],  # -> a
        [BLANK_ID, A, B, B],  # -> a b
        [BLANK_ID] * 4,  # -> nothing
    ]
    assert ctc_greedy_decode(one_hot_logits(paths)) == [[A, A], [A], [A, B], []]


def test_greedy_respects_lengths_and_masks():
    logits = one_hot_logits([[A, B, C, A], [C, BLANK_ID, C, B]])
    assert ctc_greedy_decode(logits, lengths=torch.tensor([2, 4])) == [[A, B], [C, C, B]]
    assert ctc_greedy_decode(logits, lengths=np.array([0, 3])) == [[], [C, C]]
    # A mask keeps the masked-in steps in order, wherever the padding is (left padding here).
    mask = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 0]])
    assert ctc_greedy_decode(logits, lengths=mask) == [[C, A], [C, C]]
    # Steps that are masked out do not split runs: C <pad> C decodes as one C.
    assert ctc_greedy_decode(logits, lengths=torch.tensor([[1] * 4, [1, 0, 1, 1]], dtype=torch.bool)) == [
        [A, B, C, A],
        [C, B],
    ]


def test_greedy_accepts_numpy_and_honours_blank_id():
    paths = [[2, 2, 0, 2, 1]]
    assert ctc_greedy_decode(one_hot_logits(paths).numpy()) == [[2, 2, 1]]
    assert ctc_greedy_decode(one_hot_logits(paths), blank_id=2) == [[0, 1]]


# --- beam search ------------------------------------------------------------------------------------------------


def test_beam_search_finds_the_most_probable_labelling_on_small_random_cases():
    rng = np.random.default_rng(0)
    for _ in range(40):
        num_steps, vocab_size = int(rng.integers(1, 7)), int(rng.integers(2, 5))
        log_probs = random_log_probs(rng, num_steps, vocab_size)
        exact = brute_force_labelling_log_probs(log_probs)
        nbest = ctc_prefix_beam_search(log_probs, beam_width=2000)  # wider than the number of labellings
        best_labelling = max(exact, key=exact.get)
        assert tuple(nbest[0][0]) == best_labelling
        # Every hypothesis carries its exact probability, and none are missing.
        assert {tuple(tokens): score for tokens, score in nbest} == pytest.approx(exact, abs=1e-9)
        batch = torch.from_numpy(log_probs)[None]
        assert ctc_beam_search_decode(batch, beam_width=2000) == [list(best_labelling)]


@pytest.mark.parametrize(("vocab_size", "beam_width"), [(6, 3), (300, 3), (300, 8)])
def test_beam_search_matches_textbook_algorithm_with_narrow_beams(vocab_size, beam_width):
    # With V >> 2 * beam_width only the frame's top tokens are tried; the result must be identical anyway.
    rng = np.random.default_rng(vocab_size + beam_width)
    for _ in range(2):
        log_probs = random_log_probs(rng, num_steps=25, vocab_size=vocab_size, scale=3.0)
        expected = textbook_prefix_beam_search(log_probs, beam_width)
        got = ctc_prefix_beam_search(log_probs, beam_width=beam_width)
        assert [tokens for tokens, _ in got] == [tokens for tokens, _ in expected]
        assert [score for _, score in got] == pytest.approx([score for _, score in expected], abs=1e-9)


def test_beam_search_beats_best_path_when_alignments_split_the_mass():
    # Two steps, p(blank) = 0.6, p(a) = 0.4. Best path: <b> <b> -> "" (0.36).
    # Labelling "a" sums a a, a <b>, <b> a: 0.16 + 0.24 + 0.24 = 0.64.
    probs = torch.tensor([[[0.6, 0.4], [0.6, 0.4]]])
    assert ctc_greedy_decode(probs) == [[]]
    assert ctc_beam_search_decode(probs.log(), beam_width=4) == [[1]]
    (tokens, log_prob), *_ = ctc_prefix_beam_search(probs[0].log().numpy(), beam_width=4)
    assert tokens == [1]
    assert np.exp(log_prob) == pytest.approx(0.64)


def test_beam_search_normalises_logits_and_handles_batches_lengths_and_inputs():
    rng = np.random.default_rng(1)
    logits = torch.from_numpy(rng.normal(size=(3, 12, 7)).astype(np.float32) * 3)  # (B, T, V), not normalised
    lengths = torch.tensor([12, 5, 0])
    expected = [
        ctc_prefix_beam_search(torch.log_softmax(logits[b, : int(n)], -1).double().numpy(), beam_width=5)[0][0]
        for b, n in enumerate(lengths)
    ]
    assert expected[2] == []
    assert ctc_beam_search_decode(logits, lengths=lengths, beam_width=5) == expected
    assert ctc_beam_search_decode(logits.numpy() + 10.0, lengths=lengths.numpy(), beam_width=5) == expected
    assert ctc_beam_search_decode(logits.to(torch.bfloat16), lengths=lengths, beam_width=5)[2] == []
    mask = torch.arange(12)[None, :] < lengths[:, None]  # (B, T)
    assert ctc_beam_search_decode(logits, lengths=mask, beam_width=5) == expected


def test_beam_search_is_fast_on_a_large_vocabulary():
    logits = torch.randn(1, 200, 3000, generator=torch.Generator().manual_seed(0)) * 3
    start = time.perf_counter()
    (decoded,) = ctc_beam_search_decode(logits, beam_width=16)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, f"beam search took {elapsed:.2f} s for T=200, V=3000"
    assert len(decoded) > 0


# --- bad input --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("decode", [ctc_greedy_decode, ctc_beam_search_decode])
def test_bad_inputs_raise_errors_naming_the_argument(decode):
    logits = torch.randn(2, 5, 4)
    with pytest.raises(ValueError, match=r"logits: expected shape \(B, T, V\).*got shape \(5, 4\)"):
        decode(logits[0])
    with pytest.raises(ValueError, match=r"lengths: expected values in \[0, 5\].*got \[3, 6\]"):
        decode(logits, lengths=torch.tensor([3, 6]))
    with pytest.raises(ValueError, match=r"lengths: expected shape \(2,\).*got shape \(3,\)"):
        decode(logits, lengths=[1, 2, 3])
    with pytest.raises(ValueError, match=r"lengths: a mask must have .*\(2, 5\), got shape \(2, 4\)"):
        decode(logits, lengths=torch.ones(2, 4))
    with pytest.raises(ValueError, match=r"blank_id: expected an id in \[0, 4\), got 4"):
        decode(logits, blank_id=4)


def test_beam_search_rejects_bad_beam_width_and_nan():
    logits = torch.randn(1, 5, 4)
    with pytest.raises(SignBindInputError, match=r"beam_width: expected a positive integer, got -1"):
        ctc_beam_search_decode(logits, beam_width=-1)
    with pytest.raises(SignBindInputError, match=r"beam_width: expected a positive integer, got 0"):
        ctc_beam_search_decode(logits, beam_width=0)
    logits[0, 2, 1] = float("nan")
    with pytest.raises(SignBindInputError, match=r"logits: found NaN"):
        ctc_beam_search_decode(logits)
