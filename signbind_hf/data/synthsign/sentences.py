"""English sentences for SynthSign: templates with function words, questions and reordering, filled at random.

The English is the translation target; the video shows the project's own pseudo-gloss of it (articles, copulas,
do-support and tense modals dropped, verbs lemmatised, time expressions fronted, WH-words moved last: see
``signbind_hf.targets``), so recovering the English from the signs needs the LLM refiner, as with real data. Every sentence the templates can make belongs to
one split only (``sentence_split``): validation and test sentences are never seen in training.

Names are never the first word of a sentence: there, a capital letter does not mark a proper noun, and the
fingerspelling detector (rightly) would not flag a dictionary word such as "Grace". Every name is in the CMU
Pronouncing Dictionary, so its mouthing is a real pronunciation, and together the names use all 26 letters.
"""

import hashlib
import re

import numpy as np

# Each slot's fillers. Sentences mostly keep verbs in their base form ("I like", "you want", "Anna will visit"); the
# glosser lemmatises the rest ("has" -> HAVE), so the gloss vocabulary has no LIKE/LIKES pairs either way.
SLOTS: dict[str, tuple[str, ...]] = {
    "name": (
        "Anna", "Maria", "David", "James", "Laura", "Peter", "Sarah", "Daniel", "Emma", "Lucas", "Olivia", "Noah",
        "Omar", "Grace", "Henry", "Julia", "Oscar", "Nina", "Victor", "Carlos", "Helen", "Ivan", "Kevin", "Linda",
        "Ruth", "Simon", "Quinn", "Xavier", "Jack", "Max", "Felix", "Zara", "Quincy", "Roxanne", "Boris", "Fatima",
        "Wendy", "Hugo", "Pablo", "Jade", "Vera", "Igor", "Wyatt", "Zoe",
    ),
    "surname": ("Simms", "Garcia", "Smith", "Brown", "Lee", "Kim", "Lopez", "Novak", "Patel", "Weber", "Young", "Fox"),
    "family": ("mother", "father", "brother", "sister", "friend"),
    "drink": ("water", "milk", "tea", "coffee", "juice"),
    "food": ("bread", "soup", "apple", "rice", "cake"),
    "color": ("red", "blue", "green", "black", "white"),
    "animal": ("cat", "dog", "bird", "horse", "fish"),
    "place": ("school", "library", "store", "park", "hospital"),
    "feeling": ("happy", "sad", "tired", "sick", "angry"),
    "object": ("book", "paper", "phone", "bag", "key", "car"),
    "profession": ("teacher", "doctor", "nurse", "student", "artist"),
    "time": ("today", "tomorrow", "tonight"),
}  # fmt: skip

# A slot written "{name2}" is a second, different filler of "name".
# Every template makes at least 25 sentences, so that every gloss occurs in many sentences of every split.
TEMPLATES: tuple[str, ...] = (
    "I like {drink} and {food}.",
    "Does your {family} want {food} {time}?",
    "Where is my {color} {object}?",
    "Tomorrow {name} will visit my {family}.",
    "Did you see the {color} {animal} at the {place}?",
    "We can't find {name}'s {object}.",
    "My friend {name} is a {profession}.",
    "I will meet {name} and {name2} at the {place} {time}.",
    "The {color} {animal} is {feeling}.",
    "Why is your {family} {feeling}?",
    "How old is {name}'s {family}?",
    "Every morning my {family} and I drink {drink}.",
    "Is {name} at the {place} now?",
    "What will {name} eat {time}?",
    "Please give {name} the {color} {object}.",
    "My {family} and I work at the {place}.",
    "When will {name} come home?",
    "I don't know {name}.",
    "Our {profession} is {name} {surname}.",
    "Can {name} bring {food} and {drink} {time}?",
    "Who has my {color} {object}?",
    "Yesterday my {family} was {feeling}.",
)

_SLOT = re.compile(r"\{(\w+?)(\d?)\}")


def template_slots(template: str) -> list[tuple[str, str]]:
    """``(placeholder, slot)`` pairs of a template, in order: ``("name2", "name")`` for ``{name2}``."""
    return [(match.group(1) + match.group(2), match.group(1)) for match in _SLOT.finditer(template)]


def fill_template(template: str, rng: np.random.Generator) -> str:
    """``template`` with each slot drawn from ``SLOTS``; repeated slots ("{name}", "{name2}") get different fillers."""
    chosen: dict[str, str] = {}
    used: dict[str, set[str]] = {}
    for placeholder, slot in template_slots(template):
        options = [value for value in SLOTS[slot] if value not in used.setdefault(slot, set())]
        chosen[placeholder] = options[rng.integers(len(options))]
        used[slot].add(chosen[placeholder])
    return template.format(**chosen)


# Every possible sentence belongs to exactly one split, by a hash of its text, so that validation and test sentences
# are never seen in training (as in real corpora, whose test sentences are new) whatever the seed and the sizes.
SENTENCE_SPLIT_SHARES = {"train": 0.8, "validation": 0.1, "test": 0.1}
_MAX_DRAWS = 10_000


def sentence_split(sentence: str) -> str:
    """The split ``sentence`` belongs to: a fixed function of its text (a BLAKE2 hash), independent of any seed."""
    position = int.from_bytes(hashlib.blake2b(sentence.encode(), digest_size=8).digest(), "big") / 2**64
    for split, share in SENTENCE_SPLIT_SHARES.items():
        if position < share:
            return split
        position -= share
    return split  # rounding at the very top of the range


def sample_sentence(rng: np.random.Generator, split: str) -> str:
    """A random sentence of ``split``: a template drawn uniformly, then its slots, until the sentence is ``split``'s."""
    if split not in SENTENCE_SPLIT_SHARES:
        raise ValueError(f"split must be one of {tuple(SENTENCE_SPLIT_SHARES)}, got {split!r}")
    for _ in range(_MAX_DRAWS):
        sentence = fill_template(TEMPLATES[rng.integers(len(TEMPLATES))], rng)
        if sentence_split(sentence) == split:
            return sentence
    raise RuntimeError(f"no sentence of split {split!r} in {_MAX_DRAWS} draws: SENTENCE_SPLIT_SHARES is off")
