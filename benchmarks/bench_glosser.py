"""The rule pseudo-glosser against the paper's glosses (bag-of-words F1), and its speed in sentences per second.

    python benchmarks/bench_glosser.py [--sentences 35000]

**Agreement.** The paper prints one (sentence, GPT-4o pseudo-gloss) pair (DESIGN.md: "I have a few different ones
here." -> HAVE DIFFERENT HERE); its qualitative figure adds twelve (reference sentence, fused output) pairs. A fused
output is what the model trained on GPT-4o's glosses predicts, so it shows their style (function words out, English
pronouns, time first, WH last) but also the model's errors (RIGHT for WRITE, JIM DOWN WITH ROAR) and inflected words
(SHOULDERS, CAME, USING). Both are held out: no rule names a word of them. Scored, side by side in one run:
- the rule glosser (``signbind_hf.targets.pseudo_gloss``);
- a plain stop-word filter (NLTK's English list, upper-cased), the baseline;
- micro F1 over all words (and per pair, averaged), on the words as written and on their base forms (both sides
  through lemminflect, ``base_forms``), which separates the choice of words from their inflection;
- the ceiling any glosser that only picks words of the sentence can reach (the gloss words found in the sentence).

**Speed.** ``--sentences`` English sentences (How2Sign has 35k): SynthSign's templates filled at random, and the
paper's reference sentences, glossed one by one after a warm-up.

To score the glosser of another commit, put its package first on the path:
``git archive REF signbind_hf | tar -x -C /tmp/old && PYTHONPATH=/tmp/old python benchmarks/bench_glosser.py``.
"""

import argparse
import os
import platform
import re
import statistics
import time
from collections import Counter

import numpy as np

import signbind_hf.targets
from signbind_hf.data.synthsign.sentences import SENTENCE_SPLIT_SHARES, sample_sentence
from signbind_hf.targets import pseudo_gloss

# (sentence, gloss): the first from the paper's Stage 1 (GPT-4o), the others (reference, fused output) from its
# qualitative figure.
PAPER_PAIRS = [
    ("I have a few different ones here.", "HAVE DIFFERENT HERE"),
    (
        "To gain balance on your toe side, all you have to do is center your shoulders by looking up the mountain, "
        "back where you came from.",
        "GAIN BALANCE ON TOE YOU HAVE CENTER YOU SHOULDERS LOOK UP MOUNTAIN YOU CAME FROM WHERE",
    ),
    ("Write them down, then go to the store.", "RIGHT DOWN GO STORE BUY ME"),
    ("Some jeans are too tight, some jeans are not tight enough.", "SOME TIGHT SOME NOT TIGHT"),
    ("Today we're going to work on stretching and strengthening the lower body.", "TODAY WE WORK LOWER HOUSE"),
    (
        "This obviously can also be used as a warm up tool when you're first initially using a bag.",
        "CAN USED AS WARM UP TOOL WHEN YOU FIRST INITIALLY USING BAG",
    ),
    ("I'm Jim Dowd with Zoar Outdoor.", "I JIM DOWN WITH ROAR"),
    ("Other reptiles as well.", "OTHER REPTILES"),
    ("The trouble is, humans are not built like dolphins.", "TROUBLE HUMANS DOLPHINS"),
    ("It's not a crazy theory.", "NOT LIKE CARE IT"),
    ("Not the best ingredients for survival.", "NOT SURVIVE"),
    (
        "Unfortunately for the cats, the best way to keep this chubby little parrot alive is to take kitty out of the "
        "equation.",
        "AN FORTUNATELY CATS BEST KEEP LITTLE PARROT ALIVE TAKE OUT",
    ),
    ("As I was saying, this is our rapid assessment bay.", "ME SAY RAPID ASSESSMENT"),
]

# NLTK's English stop-word list (nltk.corpus.stopwords.words("english")), written out: its corpus is a download.
STOP_WORDS = frozenset(
    """i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself yourselves he him his
    himself she she's her hers herself it it's its itself they them their theirs themselves what which who whom this
    that that'll these those am is are was were be been being have has had having do does did doing a an the and but
    if or because as until while of at by for with about against between into through during before after above
    below to from up down in out on off over under again further then once here there when where why how all any
    both each few more most other some such no nor not only own same so than too very s t can will just don don't
    should should've now d ll m o re ve y ain aren aren't couldn couldn't didn didn't doesn doesn't hadn hadn't hasn
    hasn't haven haven't isn isn't ma mightn mightn't mustn mustn't needn needn't shan shan't shouldn shouldn't wasn
    wasn't weren weren't won won't wouldn wouldn't""".split()  # noqa: SIM905 (a list of words reads as words)
)
_WORD = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?")


def stop_word_gloss(sentence: str) -> str:
    """The baseline: the sentence's words, stop words removed, upper-cased."""
    words = _WORD.findall(sentence.replace("’", "'"))
    return " ".join(word.upper() for word in words if word.lower() not in STOP_WORDS)


def base_forms(gloss: str) -> str:
    """Each word's first verb, else noun, base form in lemminflect's dictionary, without context: the same for every
    glosser scored (the glosser's own ``lemmas.base_form`` reads context, and older glossers do not have it)."""
    from lemminflect import getAllLemmas

    def base(word: str) -> str:
        lemmas = getAllLemmas(word.lower())
        return (lemmas.get("VERB") or lemmas.get("NOUN") or (word,))[0].upper()

    return " ".join(base(word) for word in gloss.split())


def micro_f1(predictions: list[str], references: list[str]) -> float:
    matched = predicted = expected = 0
    for prediction, reference in zip(predictions, references, strict=True):
        bag, gold = Counter(prediction.split()), Counter(reference.split())
        matched += sum((bag & gold).values())
        predicted += sum(bag.values())
        expected += sum(gold.values())
    return 2 * matched / (predicted + expected)


def macro_f1(predictions: list[str], references: list[str]) -> float:
    scores = []
    for prediction, reference in zip(predictions, references, strict=True):
        bag, gold = Counter(prediction.split()), Counter(reference.split())
        matched = sum((bag & gold).values())
        scores.append(2 * matched / (sum(bag.values()) + sum(gold.values())))
    return statistics.mean(scores)


def ceiling_gloss(sentence: str, reference: str) -> str:
    """The reference's words that occur in the sentence (as written): the best a word-picking glosser can do."""
    available = Counter(word.upper() for word in _WORD.findall(sentence.replace("’", "'")))
    return " ".join(word for word in reference.split() if available[word] > 0 and not available.subtract([word]))


def agreement_table() -> list[str]:
    sentences = [sentence for sentence, _ in PAPER_PAIRS]
    references = [gloss for _, gloss in PAPER_PAIRS]
    glossers = {
        "rule glosser": [pseudo_gloss(sentence) for sentence in sentences],
        "stop-word filter": [stop_word_gloss(sentence) for sentence in sentences],
        "ceiling (words of the sentence)": [ceiling_gloss(s, g) for s, g in PAPER_PAIRS],
    }
    lemma_references = [base_forms(gloss) for gloss in references]
    lines = [f"{'':34}{'micro F1':>10}{'macro F1':>10}{'micro F1, base forms':>22}"]
    for name, glosses in glossers.items():
        lemma_glosses = [base_forms(gloss) for gloss in glosses]
        lines.append(
            f"{name:34}{micro_f1(glosses, references):10.3f}{macro_f1(glosses, references):10.3f}"
            f"{micro_f1(lemma_glosses, lemma_references):22.3f}"
        )
    return lines


def corpus(size: int) -> list[str]:
    """``size`` sentences: SynthSign's templates filled at random, with the paper's reference sentences mixed in."""
    rng = np.random.default_rng(0)
    splits = list(SENTENCE_SPLIT_SHARES)
    sentences = [sample_sentence(rng, splits[index % len(splits)]) for index in range(size - len(PAPER_PAIRS) * 10)]
    return sentences + [sentence for sentence, _ in PAPER_PAIRS] * 10


def speed(sentences: list[str]) -> float:
    for sentence in sentences[:200]:  # warm-up: imports, dictionaries
        pseudo_gloss(sentence)
    start = time.perf_counter()
    for sentence in sentences:
        pseudo_gloss(sentence)
    return len(sentences) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=35_000, help="sentences to gloss for the speed (35000)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}; glosser from {os.path.dirname(signbind_hf.targets.__file__)}")  # fmt: skip
    print(f"agreement with the paper's glosses ({len(PAPER_PAIRS)} pairs, bag of words):")
    print("\n".join(agreement_table()))
    sentences = corpus(args.sentences)
    per_second = speed(sentences)
    print(
        f"speed: {per_second:,.0f} sentences/s ({len(sentences):,} sentences in {len(sentences) / per_second:.2f} s)"
    )


if __name__ == "__main__":
    main()
