"""Base forms of English nouns and verbs for the pseudo-gloss (``CASES`` -> ``CASE``, ``CAME`` -> ``COME``).

A sign has one form for *case* and *cases*, *come* and *came*; the gloss names the sign, so it writes the base form.
The forms come from ``lemminflect``'s dictionary (inside its wheel: offline, deterministic), read with
``getAllLemmas``, which answers only for words it lists. Its out-of-vocabulary rules (``getLemma`` on an unknown
word) are not used: they guess (``Simms`` -> ``Simm``, ``sunglasses`` -> ``sunglass``), and a wrong guess would be
baked into every target; an unknown word is kept as written.

Without a part-of-speech tagger, the word before (``previous``, lower case, dropped words included) stands in for
one:

- A word that is a base form itself in some class (``building``, ``saying``, ``left``, ``saw``, ``felt``) is kept,
  unless the word before marks a verb: a subject pronoun, *not*, *to*, a modal, an auxiliary (a form of *be* before
  an *-ing* form, of *have* before any other), or an adverb that stands between them (``I saw`` -> ``I SEE``,
  ``we're building`` -> ``WE BUILD``, ``the building`` and ``turn left`` stay).
- Otherwise, when the noun and the verb reading give different base forms (``lives``: *life* or *live*), a
  determiner before the word picks the noun, anything else the verb.
- Several noun candidates: the word itself when it is one of them (``glasses``, ``means``, ``goods``, ``physics``,
  ``data``, ``minutes``: the dictionary lists each as a base form of its own, with a sense that merging would lose:
  glasses are spectacles, not glass), unless a number or a counting word comes before it (``two glasses`` ->
  ``GLASS``, ``20 minutes`` -> ``MINUTE``: counted, so a plural); else the dictionary's first. Several verb candidates: the dictionary's first, which is
  the common verb (``saw`` -> ``see``, ``found`` -> ``find``; *to saw*, *to found* are rare).
- Nouns used only in the plural are kept (``PLURAL_ONLY``): ``news``, ``species``, ``jeans`` are already their own
  lemma in the dictionary; ``pants`` and a few others are not, and would become *pant*.
- A word the dictionary lacks: its *-s*, *-ing* and *-ed* endings go by lemminflect's rules, and the result is looked
  up again (``startings`` -> *starting* -> ``START``). The glosser only asks about words that CMUdict knows and that
  are not names (the fingerspelling detector flags the others, and they are kept as written), so these rules meet
  real English words, not ``Simms``; any other word is kept as written.

Adjectives and adverbs are not reduced (``BIGGER``, ``BEST`` are signs of their own), nor are modals.
"""

import functools

from lemminflect import getAllLemmas, getLemma

from .words import BE_FORMS, CONTENT_MODALS, COUNTING_WORDS, DETERMINERS, HAVE_FORMS, SUBJECT_PRONOUNS, TENSE_MODALS

PLURAL_ONLY = frozenset(
    {"pants", "trousers", "shorts", "tights", "pajamas", "pyjamas", "thanks", "outskirts", "sunglasses", "headphones",
     "binoculars", "goggles"}
)  # fmt: skip
_OOV_ENDINGS = (("ing", "VERB"), ("ed", "VERB"), ("s", "NOUN"))
_BASE_FORM_CLASSES = ("NOUN", "ADJ", "ADV")
# Words that may stand between a subject or auxiliary and its verb ("I just saw", "you never felt").
_VERB_ADVERBS = frozenset({"just", "already", "also", "always", "never", "really", "often", "usually", "still"})
_VERB_MARKERS = SUBJECT_PRONOUNS | CONTENT_MODALS | TENSE_MODALS | _VERB_ADVERBS | {"not", "to", "do", "does", "did"}


def _marks_verb(word: str, previous: str | None) -> bool:
    if previous is None:
        return False
    if previous in BE_FORMS:
        return word.endswith("ing")
    if previous in HAVE_FORMS:
        return not word.endswith("ing")
    return previous in _VERB_MARKERS


def _noun(word: str, candidates: tuple[str, ...], counted: bool) -> str:
    others = [candidate for candidate in candidates if candidate != word]
    if word in candidates and not (counted and others):
        return word
    return others[0]


def _is_counting(word: str | None) -> bool:
    return word is not None and (word.replace(".", "").isdigit() or word in COUNTING_WORDS)


def _out_of_dictionary(word: str) -> str:
    for ending, upos in _OOV_ENDINGS:
        if word.endswith(ending) and len(word) > len(ending) + 2:
            lemma = getLemma(word, upos=upos, lemmatize_oov=True)[0]
            return base_form(lemma) if lemma != word and getAllLemmas(lemma) else lemma
    return word


@functools.lru_cache(maxsize=65536)
def base_form(word: str, previous: str | None = None) -> str:
    """The base form of ``word`` (lower case) after ``previous`` (lower case, or None); see the module docstring."""
    if word in PLURAL_ONLY or word in CONTENT_MODALS:  # "should" is not SHALL, "might" not MAY
        return word
    lemmas = getAllLemmas(word)
    if not lemmas:
        return _out_of_dictionary(word)
    verbs, nouns = lemmas.get("VERB"), lemmas.get("NOUN")
    counted = _is_counting(previous)
    if nouns and counted:
        return _noun(word, nouns, counted)
    if any(word in lemmas.get(upos, ()) for upos in _BASE_FORM_CLASSES):
        return verbs[0] if verbs and _marks_verb(word, previous) else word
    if nouns and (previous in DETERMINERS or not verbs):
        return _noun(word, nouns, counted)
    return verbs[0] if verbs else word


# Nouns that follow "going to" as places ("going to school"), though the dictionary also lists them as verbs.
_PLACES_AFTER_GO = frozenset({"school", "church", "bed", "class", "college", "town", "market", "court", "jail"})


@functools.lru_cache(maxsize=65536)
def is_verb_base(word: str) -> bool:
    """Whether ``word`` (lower case) is the base form of a verb in the dictionary, and not a place one goes to."""
    return word not in _PLACES_AFTER_GO and word in getAllLemmas(word).get("VERB", ())
