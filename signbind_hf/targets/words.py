"""The English word classes the Stage-1 rules name: one list per class, lower case, shared by every module that needs it.

The pseudo-glosser (``rule_glosser``) decides from these classes which words are dropped, kept or moved; the
fingerspelling detector reads ``TITLE_CASE_MARKERS`` to tell a title-case caption from a name, and ``WEEKDAYS`` to
leave out days that have signs. Which class is dropped, and why, is said in ``rule_glosser``'s docstring.
"""

ARTICLES = frozenset({"a", "an", "the"})
BE_FORMS = frozenset({"am", "is", "are", "was", "were", "be", "been", "being"})
# Future and conditional markers: ASL shows time with time signs and context, not with a tense word.
TENSE_MODALS = frozenset({"will", "would", "shall", "'ll", "'d"})
# Modals with a meaning of their own (ability, obligation, possibility): ASL has signs CAN, MUST, SHOULD, MAYBE.
CONTENT_MODALS = frozenset({"can", "could", "should", "must", "might", "may"})
# Prepositions that only mark grammatical relations; the signer shows them by placement and order, if at all.
GRAMMATICAL_PREPOSITIONS = frozenset(
    {"of", "to", "at", "by", "as", "than", "for", "with", "in", "into", "onto", "about", "during", "per", "via"}
)
# Spatial and directional prepositions and particles are signs (``ON TOE``, ``LOOK UP``, ``COME FROM WHERE``,
# ``TAKE OUT`` in the paper's glosses); they are kept. Listed for the tests and the docstring, not for a rule.
SPATIAL_PREPOSITIONS = frozenset(
    {"on", "under", "up", "down", "out", "from", "over", "off", "behind", "near", "around", "inside", "outside",
     "between", "through", "across", "back", "away", "above", "below", "before", "after", "without"}
)  # fmt: skip
# Conjunctions without a sign of their own; "but", "or", "because" and "if" carry logic and are kept.
DROPPED_CONJUNCTIONS = frozenset({"and", "nor", "so", "whether"})
FILLERS = frozenset({"um", "umm", "uh", "uhm", "erm", "er", "ah", "hmm", "mm", "oh"})
# Stance adverbs of spoken English that How2Sign's speakers scatter through sentences; no sign corresponds.
DISCOURSE_ADVERBS = frozenset({"obviously", "basically", "actually", "literally"})
OTHER_DROPPED = frozenset({"ones", "let's", "etc", "e.g.", "i.e."})

DO_FORMS = frozenset({"do", "does", "did"})
HAVE_FORMS = frozenset({"have", "has", "had", "having", "'ve"})

SUBJECT_PRONOUNS = frozenset({"i", "you", "he", "she", "it", "we", "they", "who"})
POSSESSIVES = frozenset({"my", "your", "his", "her", "its", "our", "their"})

NUMBER_WORDS = frozenset(
    {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "twenty",
     "thirty", "forty", "fifty", "hundred", "thousand", "million"}
)  # fmt: skip
# Words after which a noun is counted, so a plural: "two glasses", "many minutes".
COUNTING_WORDS = NUMBER_WORDS | frozenset({"few", "several", "many", "couple", "dozen"})

DETERMINERS = (
    ARTICLES
    | POSSESSIVES
    | COUNTING_WORDS
    | frozenset({"this", "that", "these", "those", "some", "any", "all", "every", "no", "other", "both", "each"})
)

WEEKDAYS = frozenset({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"})
WH_WORDS = frozenset({"what", "where", "when", "who", "whom", "whose", "why", "which", "how"})

# A function word capitalised mid-sentence marks a title-case text, whose capitals say nothing about names.
# Modals are left out: "Will", "May" and "Can" are names more often than title-case function words.
TITLE_CASE_MARKERS = ARTICLES | BE_FORMS | GRAMMATICAL_PREPOSITIONS | DROPPED_CONJUNCTIONS
