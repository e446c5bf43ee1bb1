"""The default pseudo-glosser: deterministic, offline rules from an English sentence to upper-case sign-order words.

The paper asked GPT-4o to "remove function words and reorder content to match common signing patterns"
(``I have a few different ones here.`` -> ``HAVE DIFFERENT HERE``). These rules do the part of that which needs no
parser and no model, each small enough to state and test. The word classes are listed in ``words.py``.

1. **Tokenise** (``text.split_sentences``): sentences, clauses (split at , ; : dashes brackets quotes) and words;
   hyphens split words (``warm-up`` -> ``WARM UP``, as the paper's glosses write it), other punctuation is dropped.
2. **Expand contractions** so that every word is one unit: ``don't`` -> do not, ``can't`` -> can not, ``won't`` ->
   will not, ``isn't`` -> is not, ``we're`` -> we are, ``I'll`` -> I will, ``I've`` -> I 've, ``he'd`` -> he 'd,
   ``it's`` / ``what's`` -> it is / what is (after a pronoun, WH-word, *there*, *here*), ``John's`` / ``students'``
   -> John / students (a possessive ending has no sign); ``gonna`` / ``wanna`` / ``gotta`` -> going / want / got to.
3. **Names** stay as written: a word the fingerspelling detector flags (``fingerspelling.fingerspelled_flags``:
   acronyms, capitalised words that are not just sentence-initial, out-of-dictionary words) is never dropped and
   never lemmatised, so ``Will``, ``Simms`` and ``FBI`` reach the gloss as the letters the fingerspelling target
   spells.
4. **Drop function words**, those ASL expresses without a separate sign or not at all:
   - always: articles; forms of *be* (ASL has no copula, and the progressive is shown by the verb); tense modals
     *will, would, shall* and the clitics *'ll, 'd, 've*; grammatical prepositions (*of, to, at, by, as, than, for,
     with, in, into, about*, ...); the conjunctions *and, nor, so, whether* (sentence-initial *so* is How2Sign's most
     common filler); fillers (*um, uh, oh*, ..., and *well* alone in its clause or in *as well*); stance adverbs (*obviously, basically, actually, literally*); the
     pro-form *ones* (``a few different ones`` -> ``FEW DIFFERENT``); *let's*; *e.g., i.e., etc.*
   - in context: *do/does/did* before *not* (do-support in negation) and, in a question, before a subject
     (``Where did you go?``); *have/has/had/having* before a past participle, adverbs such as *not, just, already*
     skipped (the perfect auxiliary; *have to* and *have a car* keep HAVE); *it* and *there* before a form of *be*
     (the dummy subjects of ``it's raining`` and ``there are``); *that* unless it ends its clause (mid-clause it is
     a complementiser, relative pronoun or determiner; clause-final it is the pronoun of ``I like that``); *going*
     before *to* and a verb (the future of ``we're going to work`` -> ``WE WORK``; ``going to the store`` keeps GO).
   - kept: content words; personal pronouns as the English words (``I``, ``ME``, ``YOU``, ``WE``, ``IT``, ``THEM``;
     ASL points, and the paper's glosses write the English pronoun); possessives (``MY``, ``YOUR``); negation
     (``NOT``, ``NEVER``, ``NO``, also out of contractions); modals with a meaning of their own (*can, could, should,
     must, might, may*: ability, obligation and possibility are signs); spatial and directional prepositions and
     particles (*on, up, down, out, from, under*, ...: ``ON TOE``, ``LOOK UP``); *but, or, because, if*; question
     words; numbers.
5. **Lemmatise** nouns and verbs with ``lemminflect``'s dictionary (``lemmas.base_form``): ``CASES`` -> ``CASE``,
   ``CAME`` -> ``COME``, ``GOING`` -> ``GO``, ``HAS`` -> ``HAVE``; the word before stands in for a part-of-speech tag
   (``I saw`` -> ``I SEE``, ``the building`` stays); words the dictionary lacks and nouns used only in the plural
   (``NEWS``, ``GLASSES``, ``SPECIES``, ``JEANS``) stay. Adjectives and adverbs keep their form (``BEST``).
6. **Time expressions first** in their clause (ASL's time-topic-comment order): *today, tomorrow, yesterday,
   tonight, now, nowadays*; *last/next/this/every* + a time unit (*week, morning, Monday, time*, ...);
   [number] unit *ago* (``two years ago`` -> ``TWO YEAR AGO``).
7. **WH-word last** in a WH-question (a sentence ending in "?" whose first word after any time expression is a
   WH-word): ``Where did you come from?`` -> ``YOU COME FROM WHERE`` (the order the paper's fused output shows);
   *how* takes *many/much/long/often/far/old* with it. Yes/no questions keep their order (ASL marks them with the
   eyebrows, not with word order).
8. **Numbers** keep their digits (one sign each; ``1,000`` -> ``1000``, ``3.5`` stays), number words stay words;
   ``$5`` -> ``5 DOLLAR``, ``%`` -> ``PERCENT``, ``&`` -> and (dropped). Accents are kept (``JOSÉ``; the phoneme and
   letter targets remove them).

Not reordered, because it needs a parser these rules do not have:
- no topicalisation beyond time: a topic phrase (``That movie, I liked it``) keeps the place English gives it, and
  subject-verb-object order is not changed to subject-object-verb;
- no negation movement: ASL puts NOT before the verb as often as at the end (``I NOT UNDERSTAND``), so it stays
  where English has it; the paper's outputs (``NOT SURVIVE``, ``SOME NOT TIGHT``) do the same;
- no dropping of pronouns (the paper's outputs keep ``YOU``, ``WE``, ``I`` and ``ME`` where English has them).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from .fingerspelling import fingerspelled_flags
from .lemmas import base_form, is_verb_base
from .text import Sentence, Token, TokenKind, split_sentences
from .words import (
    ARTICLES,
    BE_FORMS,
    COUNTING_WORDS,
    DISCOURSE_ADVERBS,
    DO_FORMS,
    DROPPED_CONJUNCTIONS,
    FILLERS,
    GRAMMATICAL_PREPOSITIONS,
    HAVE_FORMS,
    OTHER_DROPPED,
    TENSE_MODALS,
    WEEKDAYS,
    WH_WORDS,
)

ALWAYS_DROPPED = (
    ARTICLES
    | BE_FORMS
    | TENSE_MODALS
    | {"'ve"}
    | GRAMMATICAL_PREPOSITIONS
    | DROPPED_CONJUNCTIONS
    | FILLERS
    | DISCOURSE_ADVERBS
    | OTHER_DROPPED
)

# Words that can start the subject of a question ("did YOU ...", "does THE ..."): a do-form before one is do-support.
SUBJECT_STARTERS = frozenset(
    {"i", "you", "he", "she", "it", "we", "they", "this", "that", "these", "those", "there", "the", "a", "an", "my",
     "your", "his", "her", "its", "our", "their", "some", "any", "anyone", "someone", "everyone", "anybody",
     "somebody", "everybody", "people"}
)  # fmt: skip
# Adverbs that may stand between an auxiliary and its verb ("have not seen", "had already left").
AUXILIARY_ADVERBS = frozenset({"not", "never", "already", "just", "also", "always", "ever", "really", "recently"})
IRREGULAR_PARTICIPLES = frozenset(
    {"been", "done", "gone", "seen", "taken", "given", "made", "had", "got", "gotten", "known", "said", "told",
     "thought", "brought", "bought", "found", "come", "become", "run", "begun", "broken", "chosen", "driven", "eaten",
     "fallen", "felt", "forgotten", "held", "kept", "left", "lost", "meant", "met", "paid", "put", "read", "sent",
     "shown", "spent", "spoken", "stood", "taught", "understood", "won", "written", "worn", "built", "caught", "cut",
     "drawn", "drunk", "flown", "grown", "heard", "hit", "hurt", "let", "led", "lent", "ridden", "sold", "shot",
     "sung", "sat", "slept", "stuck", "swum", "thrown", "woken"}
)  # fmt: skip
# Words ending in "-ed" that are not past participles ("have red paint", "has a need").
NOT_PARTICIPLES = frozenset(
    {"need", "red", "bed", "seed", "feed", "speed", "weed", "shed", "bleed", "breed", "hundred"}
)

# Hosts after which "'s" is "is"/"has" rather than a possessive ("it's", "what's", "there's").
S_CONTRACTION_HOSTS = frozenset(
    {"he", "she", "it", "that", "this", "there", "here", "what", "where", "who", "how", "when", "why", "everyone",
     "everything", "someone", "something", "nothing", "nobody", "everybody", "somebody"}
)  # fmt: skip
# The stem left before "n't" when it is not a word of its own.
NEGATED_STEMS = {"ca": "can", "wo": "will", "sha": "shall", "ai": "is"}
INFORMAL_CONTRACTIONS = {"gonna": ("going", "to"), "wanna": ("want", "to"), "gotta": ("got", "to")}
# "cannot" is one written word for two signs.
CLOSED_COMPOUNDS = {"cannot": ("can", "not")}

TIME_WORDS = frozenset({"today", "tomorrow", "yesterday", "tonight", "now", "nowadays"})
TIME_MODIFIERS = frozenset({"last", "next", "this", "every"})
TIME_UNITS = WEEKDAYS | frozenset(
    {"morning", "afternoon", "evening", "night", "day", "week", "weekend", "month", "year", "semester", "summer",
     "winter", "spring", "fall", "autumn", "time"}
)  # fmt: skip
AGO_UNITS = frozenset(
    {"second", "seconds", "minute", "minutes", "hour", "hours", "day", "days", "week", "weeks", "month", "months",
     "year", "years", "decade", "decades", "century", "centuries", "while", "long"}
)  # fmt: skip

HOW_COMPLEMENTS = frozenset({"many", "much", "long", "often", "far", "old"})

# Words whose gloss is another word: "whom" is signed WHO.
GLOSS_REPLACEMENTS = {"whom": "who"}
SYMBOL_WORDS = {"$": "dollar", "%": "percent", "&": "and"}


@dataclass
class _Unit:
    """One sign-sized piece of a token: ``gloss`` is written (upper-cased) if kept; rules match on ``key``."""

    gloss: str
    key: str
    kind: TokenKind
    clause: int
    is_name: bool = False  # flagged by the fingerspelling detector: kept as written
    keep: bool = True
    is_time: bool = False


def _split_contraction(text: str) -> list[tuple[str, str]]:
    """``(gloss, key)`` pieces of one word token (see rule 2 of the module docstring)."""
    text = text.rstrip("'")  # plural possessive ("students'") or a closing single quote
    lower = text.lower()
    if lower in INFORMAL_CONTRACTIONS or lower in CLOSED_COMPOUNDS:
        return [(piece, piece) for piece in {**INFORMAL_CONTRACTIONS, **CLOSED_COMPOUNDS}[lower]]
    if lower in ALWAYS_DROPPED:  # "let's" is dropped whole, not split
        return [(text, lower)]
    if lower.endswith("n't") and len(lower) > 3:
        stem = NEGATED_STEMS.get(lower[:-3], text[:-3])
        return [(stem, stem.lower()), ("not", "not")]
    for suffix, expansion in (("'re", "are"), ("'m", "am"), ("'ll", "will"), ("'ve", "'ve"), ("'d", "'d")):
        if lower.endswith(suffix) and len(lower) > len(suffix):
            stem = text[: -len(suffix)]
            return [(stem, stem.lower()), (expansion, expansion)]
    if lower.endswith("'s") and len(lower) > 2:
        stem = text[:-2]
        if stem.lower() in S_CONTRACTION_HOSTS:
            return [(stem, stem.lower()), ("is", "is")]
        return [(stem, stem.lower())]  # possessive
    return [(text, lower)]


def _units(token: Token, is_name: bool) -> list[_Unit]:
    if token.kind is TokenKind.SYMBOL:
        word = SYMBOL_WORDS[token.text]
        return [_Unit(word, word, token.kind, token.clause)]
    if token.kind is TokenKind.NUMBER:
        return [_Unit(token.text.replace(",", ""), token.text, token.kind, token.clause)]
    if token.kind is TokenKind.ACRONYM:
        return [_Unit(token.text, token.text.lower(), token.kind, token.clause, is_name=is_name)]
    pieces = _split_contraction(token.text)
    return [
        _Unit(GLOSS_REPLACEMENTS.get(key, gloss), key, token.kind, token.clause, is_name=is_name and position == 0)
        for position, (gloss, key) in enumerate(pieces)
    ]


def _is_participle(word: str) -> bool:
    if word in IRREGULAR_PARTICIPLES:
        return True
    return word.endswith("ed") and len(word) >= 4 and word not in NOT_PARTICIPLES


def _next_key(units: list[_Unit], index: int, skip: frozenset[str] = frozenset()) -> str | None:
    """The key of the first unit after ``index`` that is not in ``skip``, within the same clause."""
    for unit in units[index + 1 :]:
        if unit.clause != units[index].clause:
            return None
        if unit.key not in skip:
            return unit.key
    return None


def _is_future_going(units: list[_Unit], index: int) -> bool:
    """*going* + *to* + a verb: the future (``we're going to work``), which ASL shows with time signs, if at all."""
    following = units[index + 1 : index + 3]
    return (
        len(following) == 2
        and all(unit.clause == units[index].clause for unit in following)
        and following[0].key == "to"
        and is_verb_base(following[1].key)
    )


def _is_dropped(units: list[_Unit], index: int, is_question: bool) -> bool:
    unit = units[index]
    key, following = unit.key, _next_key(units, index)
    if unit.is_name:
        return False
    if key in ALWAYS_DROPPED:
        return True
    if key in DO_FORMS:
        return following == "not" or (is_question and following in SUBJECT_STARTERS)
    if key in HAVE_FORMS:
        verb = _next_key(units, index, skip=AUXILIARY_ADVERBS)
        return verb is not None and _is_participle(verb)
    if key in ("it", "there"):
        return following in BE_FORMS
    if key == "that":
        return following is not None
    if key == "going":
        return _is_future_going(units, index)
    if key == "well":  # the filler "Well, ..." (a clause of its own) and "as well" (ALSO, which the paper drops)
        return following is None and (
            index == 0 or units[index - 1].clause != unit.clause or units[index - 1].key == "as"
        )
    return False


def _mark_function_words(units: list[_Unit], is_question: bool) -> None:
    for index, unit in enumerate(units):
        unit.keep = not _is_dropped(units, index, is_question)


def _lemmatise(units: list[_Unit]) -> None:
    """Kept words get their base form (``lemmas.base_form``), read after the word before them, dropped or not."""
    for index, unit in enumerate(units):
        if unit.keep and not unit.is_name and unit.kind is TokenKind.WORD and unit.key not in GLOSS_REPLACEMENTS:
            previous = units[index - 1].key if index > 0 else None
            unit.gloss = base_form(unit.key, previous)


def _place_symbols(units: list[_Unit]) -> list[_Unit]:
    """``$ 5`` -> ``5 dollar``: the currency is signed after the number."""
    placed: list[_Unit] = []
    index = 0
    while index < len(units):
        unit = units[index]
        following = units[index + 1] if index + 1 < len(units) else None
        if unit.key == "dollar" and unit.kind is TokenKind.SYMBOL and following and following.kind is TokenKind.NUMBER:
            placed.extend((following, unit))
            index += 2
        else:
            placed.append(unit)
            index += 1
    return placed


def _time_spans(clause: list[_Unit]) -> list[tuple[int, int]]:
    """``[start, end)`` index ranges of the time expressions of one clause (kept units only), left to right."""
    spans: list[tuple[int, int]] = []
    index = 0
    while index < len(clause):
        key = clause[index].key
        following = clause[index + 1].key if index + 1 < len(clause) else None
        if key in TIME_WORDS:
            spans.append((index, index + 1))
        elif key in TIME_MODIFIERS and following in TIME_UNITS:
            spans.append((index, index + 2))
            index += 1
        elif key == "ago":
            floor = spans[-1][1] if spans else 0
            start = index
            if start - 1 >= floor and clause[start - 1].key in AGO_UNITS:
                start -= 1
                previous = clause[start - 1] if start - 1 >= floor else None
                if previous and (previous.kind is TokenKind.NUMBER or previous.key in COUNTING_WORDS):
                    start -= 1
            spans.append((start, index + 1))
        index += 1
    return spans


def _front_time_expressions(clause: list[_Unit]) -> list[_Unit]:
    spans = _time_spans(clause)
    in_span = {position for start, end in spans for position in range(start, end)}
    for position in in_span:
        clause[position].is_time = True
    fronted = [clause[position] for start, end in spans for position in range(start, end)]
    return fronted + [unit for position, unit in enumerate(clause) if position not in in_span]


def _wh_last(units: list[_Unit]) -> list[_Unit]:
    first = next((position for position, unit in enumerate(units) if not unit.is_time), None)
    if first is None or units[first].key not in WH_WORDS:
        return units
    end = first + 1
    if units[first].key == "how" and end < len(units) and units[end].key in HOW_COMPLEMENTS:
        end += 1
    return units[:first] + units[end:] + units[first:end]


def _gloss_sentence(sentence: Sentence, name_flags: list[bool]) -> list[str]:
    tokens = zip(sentence.tokens, name_flags, strict=True)
    units = _place_symbols([unit for token, is_name in tokens for unit in _units(token, is_name)])
    _mark_function_words(units, sentence.is_question)
    _lemmatise(units)
    clauses: dict[int, list[_Unit]] = {}
    for unit in units:
        if unit.keep:
            clauses.setdefault(unit.clause, []).append(unit)
    ordered = [unit for clause in clauses.values() for unit in _front_time_expressions(clause)]
    if sentence.is_question:
        ordered = _wh_last(ordered)
    return [unit.gloss.upper() for unit in ordered]


def rule_gloss(sentence: str) -> str:
    """The pseudo-gloss of one English text (one or more sentences): upper-case words, "" when none is kept."""
    sentences = split_sentences(sentence)
    flags = fingerspelled_flags(sentences)
    return " ".join(
        word for parsed, names in zip(sentences, flags, strict=True) for word in _gloss_sentence(parsed, names)
    )


class RuleGlosser:
    """The default :class:`~signbind_hf.targets.Glosser`: the rules of this module, deterministic and offline."""

    name = "rule"

    def gloss(self, sentence: str) -> str:
        return rule_gloss(sentence)

    def gloss_batch(self, sentences: Sequence[str]) -> list[str]:
        if isinstance(sentences, str):
            raise TypeError("`sentences` must be a sequence of strings, got a single string: use gloss()")
        return [rule_gloss(sentence) for sentence in sentences]
