"""English sentences for SynthSign: templates with function words, questions and reordering, filled at random.

The English is the translation target; the video shows the project's own pseudo-gloss of it (articles, copulas and
do-support dropped, time expressions fronted, WH-words moved last: see ``signbind_hf.targets``), so recovering the
English from the signs needs the LLM refiner, as with real data.

Names are never the first word of a sentence: there, a capital letter does not mark a proper noun, and the
fingerspelling detector (rightly) would not flag a dictionary word such as "Grace". Every name is in the CMU
Pronouncing Dictionary, so its mouthing is a real pronunciation, and together the names use all 26 letters.
"""

import re

import numpy as np

# Each slot's fillers. Sentences keep verbs in their base form ("I like", "you want", "Anna will visit"), so that the
# gloss vocabulary has no LIKE/LIKES pairs that a 2-D signer could not tell apart.
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
TEMPLATES: tuple[str, ...] = (
    "I like {drink}.",
    "Do you want {food} {time}?",
    "Where is my {object}?",
    "Tomorrow {name} will visit my {family}.",
    "Did you see the {color} {animal}?",
    "We can't find the {object}.",
    "My friend {name} is a {profession}.",
    "I will meet {name} and {name2} at the {place} {time}.",
    "The {animal} is {feeling}.",
    "Why are you {feeling}?",
    "How old is your {family}?",
    "Every morning I drink {drink}.",
    "Is {name} at the {place} now?",
    "What do you want to eat {time}?",
    "Please give me the {color} {object}.",
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


def sample_sentence(rng: np.random.Generator) -> str:
    """A random sentence: a template drawn uniformly, then its slots."""
    return fill_template(TEMPLATES[rng.integers(len(TEMPLATES))], rng)
