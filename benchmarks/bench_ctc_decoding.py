"""Time CTC greedy decoding against prefix beam search on a realistic batch, side by side in one run.

    .venv/bin/python -m benchmarks.bench_ctc_decoding
    .venv/bin/python -m benchmarks.bench_ctc_decoding --batch-size 8 --steps 512 --vocab-size 2000 --beam-width 16

Two kinds of random logits: "peaky" looks like a trained CTC head (blank wins most frames, a token spikes on the
others); "flat" is an untrained head (Gaussian noise), the worst case for a beam search because no prefix dominates.
If pyctcdecode is installed it is timed too, with its default pruning (token_min_logp=-5), on the same logits and
with each id mapped to a private-use Unicode character, to show why signbind_hf/ctc_decoding.py does its own search.
Quality is the exact log-probability of each decoder's output labelling (summed over all of its alignments, from
torch's CTC loss), averaged over the batch: higher is better, and a beam search should never be below greedy.
"""

import argparse
import functools
import logging
import os
import platform
import time

import torch

from signbind_hf.ctc_decoding import ctc_beam_search_decode, ctc_greedy_decode

logger = logging.getLogger("bench_ctc_decoding")

PRIVATE_USE_START = 0xE000  # Unicode private-use area: characters no real text or pyctcdecode rule uses


def make_logits(kind: str, batch_size: int, steps: int, vocab_size: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(batch_size, steps, vocab_size, generator=generator) * 2.0  # (B, T, V)
    if kind == "peaky":
        blank_frames = torch.rand(batch_size, steps, generator=generator) < 0.7  # (B, T)
        spike_tokens = torch.randint(1, vocab_size, (batch_size, steps), generator=generator)  # (B, T)
        logits[..., 0] += 8.0 * blank_frames
        logits.scatter_add_(-1, spike_tokens[..., None], 8.0 * (~blank_frames[..., None]).float())
    return logits


def time_call(function, repeats: int) -> float:
    """Best wall time of `repeats` calls, in seconds (the minimum is the least noisy estimate)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def pyctcdecode_decode(logits: torch.Tensor) -> list[list[int]] | None:
    # pyctcdecode warns (on import) that kenlm is missing and (per decoder) that there is no space token.
    for name in ("pyctcdecode.alphabet", "pyctcdecode.decoder", "pyctcdecode.language_model"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from pyctcdecode import build_ctcdecoder
    except ImportError:
        return None
    vocab_size = logits.shape[-1]
    decoder = build_ctcdecoder([""] + [chr(PRIVATE_USE_START + i) for i in range(1, vocab_size)])
    log_probs = torch.log_softmax(logits.float(), dim=-1).numpy()
    decoded = []
    for sample in log_probs:
        text = decoder.decode_beams(sample, beam_width=16)[0][0]
        decoded.append([ord(character) - PRIVATE_USE_START for character in text])
    return decoded


def mean_labelling_log_prob(logits: torch.Tensor, labellings: list[list[int]]) -> float:
    """Mean over the batch of log p(labelling | logits), every alignment summed (the negative CTC loss)."""
    log_probs = torch.log_softmax(logits.double(), dim=-1).transpose(0, 1)  # (T, B, V)
    targets = torch.tensor([token for labelling in labellings for token in labelling], dtype=torch.long)
    input_lengths = torch.full((logits.shape[0],), logits.shape[1], dtype=torch.long)
    target_lengths = torch.tensor([len(labelling) for labelling in labellings], dtype=torch.long)
    losses = torch.nn.functional.ctc_loss(log_probs, targets, input_lengths, target_lengths, reduction="none")
    return -losses.mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=512)
    parser.add_argument("--vocab-size", type=int, default=2000)
    parser.add_argument("--beam-width", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    logger.info(
        "machine: %s, %s, %d CPUs, torch %s with %d threads",
        platform.platform(),
        platform.processor() or platform.machine(),
        os.cpu_count(),
        torch.__version__,
        torch.get_num_threads(),
    )
    logger.info(
        "batch B=%d, T=%d, V=%d, beam width %d, best of %d runs",
        args.batch_size,
        args.steps,
        args.vocab_size,
        args.beam_width,
        args.repeats,
    )
    for kind in ("peaky", "flat"):
        logits = make_logits(kind, args.batch_size, args.steps, args.vocab_size, seed=0)
        greedy_s = time_call(functools.partial(ctc_greedy_decode, logits), args.repeats)
        beam_s = time_call(functools.partial(ctc_beam_search_decode, logits, beam_width=args.beam_width), args.repeats)
        greedy, beam = ctc_greedy_decode(logits), ctc_beam_search_decode(logits, beam_width=args.beam_width)
        same = sum(g == b for g, b in zip(greedy, beam, strict=True))
        logger.info(
            "%-5s greedy %8.1f ms | beam %8.1f ms | beam/greedy %6.1fx | beam = greedy on %d/%d samples",
            kind,
            greedy_s * 1e3,
            beam_s * 1e3,
            beam_s / greedy_s,
            same,
            len(beam),
        )
        logger.info(
            "%-5s mean log p(labelling): greedy %.3f | beam %.3f",
            kind,
            mean_labelling_log_prob(logits, greedy),
            mean_labelling_log_prob(logits, beam),
        )
        start = time.perf_counter()
        reference = pyctcdecode_decode(logits)
        if reference is None:
            logger.info("%-5s pyctcdecode not installed, skipped", kind)
            continue
        pyctc_s = time.perf_counter() - start
        agree = sum(r == b for r, b in zip(reference, beam, strict=True))
        logger.info(
            "%-5s pyctcdecode (token_min_logp=-5, one run) %8.1f ms | pyctcdecode/beam %6.1fx | same output on %d/%d"
            " | mean log p(labelling) %.3f",
            kind,
            pyctc_s * 1e3,
            pyctc_s / beam_s,
            agree,
            len(beam),
            mean_labelling_log_prob(logits, reference),
        )


if __name__ == "__main__":
    main()
