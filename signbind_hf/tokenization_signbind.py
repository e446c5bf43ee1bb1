"""CTC tokenizer for SignBind's three label streams: pseudo-gloss words, fingerspelled letters, ARPAbet phonemes.

One class, three instances; the stream (``"gloss"``, ``"letter"`` or ``"phoneme"``) is stored in
``tokenizer_config.json`` so ``from_pretrained`` rebuilds the right one. Id 0 is both the CTC blank and the padding
token in every stream (the wav2vec2 convention), so the model's CTC heads use ``blank=BLANK_ID``.

- ``gloss``: blank, ``[UNK]``, ``[FS]``, then the words of a corpus (sorted); ``HAVE DIFFERENT HERE`` decodes to
  itself.
- ``letter``: blank, ``A``..``Z``, ``|`` (word boundary); ``L A U R E N E | S I M M S`` (or ``laurene simms``)
  decodes to ``LAURENE SIMMS``.
- ``phoneme``: blank, then the 39 CMUdict phonemes, lower-case; ``hh ae v m ay ow v er f l ow`` decodes to itself.

Example:

```python
>>> tok = SignBindCTCTokenizer.for_letters()
>>> batch = tok(["L A U R E N E | S I M M S", "bo"], return_tensors="pt")
>>> labels = batch["labels"]  # (B, L), IGNORE_INDEX-padded: ready for the CTC loss
>>> tok.batch_decode(labels, ctc=False)  # labels: keep real repeats (the MM of SIMMS)
['LAURENE SIMMS', 'BO']
>>> tok.batch_decode(logits.argmax(-1))  # model output: merge repeats, drop blanks
```

This file is exported as Hub remote code, so it imports only transformers and sibling modules (relatively).
"""

import json
import numbers
import os
import unicodedata
from collections import Counter
from collections.abc import Iterable
from itertools import groupby

from transformers import BatchEncoding, PreTrainedTokenizer

from .constants import (
    BLANK_ID,
    BLANK_TOKEN,
    IGNORE_INDEX,
    LETTERS,
    PHONEMES,
    SPELLED_WORD_TOKEN,
    UNK_TOKEN,
    WORD_BOUNDARY_TOKEN,
)
from .errors import SignBindInputError

GLOSS_STREAM = "gloss"
LETTER_STREAM = "letter"
PHONEME_STREAM = "phoneme"
STREAMS = (GLOSS_STREAM, LETTER_STREAM, PHONEME_STREAM)

VOCAB_FILES_NAMES = {"vocab_file": "vocab.json"}

_LETTER_SET = frozenset(LETTERS)
_PHONEME_SET = frozenset(PHONEMES)
_ARPABET_STRESS_MARKS = "012"  # CMUdict writes stress as a trailing digit on vowels: AH0, EY1, ER2


def letter_vocab() -> dict[str, int]:
    """The fixed fingerspelling vocabulary: blank, A..Z, word boundary."""
    return {token: index for index, token in enumerate((BLANK_TOKEN, *LETTERS, WORD_BOUNDARY_TOKEN))}


def phoneme_vocab() -> dict[str, int]:
    """The fixed lipreading vocabulary: blank, then the 39 ARPAbet phonemes in ``PHONEMES`` order."""
    return {token: index for index, token in enumerate((BLANK_TOKEN, *PHONEMES))}


def gloss_vocab(texts: Iterable[str], min_count: int = 1) -> dict[str, int]:
    """Build the pseudo-gloss vocabulary from target texts: blank, ``[UNK]``, ``[FS]`` (a fingerspelled word, in the
    fusion module's output), then every word seen at least ``min_count`` times, sorted so the same corpus always gives
    the same ids.

    Words are upper-cased, the form every pseudo-gloss target takes, so a stray lower-case word in a corpus does not
    become a second entry.
    """
    if isinstance(texts, str):
        raise TypeError("`texts` must be an iterable of target texts (one string per clip), got a single string")
    if min_count < 1:
        raise ValueError(f"`min_count` must be at least 1, got {min_count}")
    counts: Counter[str] = Counter()
    for position, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"`texts[{position}]` must be a string, got {type(text).__name__}: {text!r}")
        counts.update(text.upper().split())
    reserved = {BLANK_TOKEN, UNK_TOKEN, SPELLED_WORD_TOKEN}
    words = sorted(word for word, count in counts.items() if count >= min_count and word not in reserved)
    if not words:
        raise ValueError(
            f"no gloss word occurs at least min_count={min_count} times in the {sum(counts.values())} words given: "
            "pass the targets of a data set (e.g. 'HAVE DIFFERENT HERE') or lower `min_count`"
        )
    reserved_ids = {BLANK_TOKEN: BLANK_ID, UNK_TOKEN: 1, SPELLED_WORD_TOKEN: 2}
    return {**reserved_ids, **{word: index for index, word in enumerate(words, start=len(reserved_ids))}}


def _read_vocab(vocab_file: str | os.PathLike) -> dict[str, int]:
    with open(vocab_file, encoding="utf-8") as handle:
        try:
            vocab = json.load(handle)
        except json.JSONDecodeError as error:
            raise SignBindInputError(f"{vocab_file}: not valid JSON ({error}); expected {{token: id}}") from error
    return vocab


def _check_vocab(vocab: object, stream: str, source: str) -> None:
    """Reject a vocabulary the CTC heads cannot use, naming ``source`` (the file or argument it came from)."""
    if not isinstance(vocab, dict) or not all(
        isinstance(token, str) and isinstance(index, int) and not isinstance(index, bool)
        for token, index in vocab.items()
    ):
        raise SignBindInputError(f"{source}: expected a JSON object {{token: integer id}}, got {vocab!r:.200}")
    if sorted(vocab.values()) != list(range(len(vocab))):
        raise SignBindInputError(f"{source}: ids must be 0..{len(vocab) - 1}, each used once")
    if vocab.get(BLANK_TOKEN) != BLANK_ID:
        raise SignBindInputError(
            f"{source}: the CTC blank {BLANK_TOKEN!r} must have id {BLANK_ID}, got {vocab.get(BLANK_TOKEN)}"
        )
    expected = {LETTER_STREAM: letter_vocab, PHONEME_STREAM: phoneme_vocab}.get(stream)
    if expected is not None and vocab != expected():
        missing = sorted(set(expected()) - set(vocab))
        extra = sorted(set(vocab) - set(expected()))
        raise SignBindInputError(
            f"{source}: not the fixed {stream} vocabulary of {len(expected())} ids (missing {missing}, unexpected "
            f"{extra}, or ids in another order); build it with SignBindCTCTokenizer.for_{stream}s()"
        )
    if stream == GLOSS_STREAM and UNK_TOKEN not in vocab:
        raise SignBindInputError(f"{source}: a gloss vocabulary needs {UNK_TOKEN!r} for words it has not seen")


def _spelled_words(text: str) -> list[str]:
    """Split a fingerspelling target into upper-case words of A..Z only.

    Accepts the spaced-letter form (``L A U R E N E | S I M M S``: ``|`` separates words) and raw text
    (``laurene simms``: whitespace separates words). A text without ``|`` whose whitespace-separated pieces are all
    single characters is read as the letters of one word (``S I M M S``), the way fingerspelling data sets write it.
    Accents are removed (``José`` -> ``JOSE``, as it is fingerspelled) and every other character that is not a letter
    (digits, apostrophes, hyphens, other scripts) is dropped, as ChicagoFSWild's label processing does.
    """
    if WORD_BOUNDARY_TOKEN in text:
        raw_words = [word.replace(" ", "") for word in text.split(WORD_BOUNDARY_TOKEN)]
    else:
        pieces = text.split()
        raw_words = ["".join(pieces)] if all(len(piece) == 1 for piece in pieces) else pieces
    words = []
    for raw_word in raw_words:
        # NFKD splits "é" into "e" + a combining accent, which the letter filter then drops.
        normalized = unicodedata.normalize("NFKD", raw_word).upper()
        word = "".join(char for char in normalized if char in _LETTER_SET)
        if word:
            words.append(word)
    return words


class SignBindCTCTokenizer(PreTrainedTokenizer):
    """Word-, letter- or phoneme-level CTC tokenizer for one SignBind output stream.

    Build one with :meth:`for_glosses` (vocabulary from a data set's targets), :meth:`for_letters` or
    :meth:`for_phonemes` (fixed inventories from ``constants.py``), or load one with ``from_pretrained`` (reads
    ``vocab.json`` and ``tokenizer_config.json``).

    Tokenisation per stream:

    - ``gloss``: whitespace split, upper-cased; a word outside the vocabulary becomes ``[UNK]``.
    - ``letter``: one token per letter, ``|`` between words; see :func:`_spelled_words` for the accepted forms and
      which characters are dropped.
    - ``phoneme``: whitespace split, lower-cased, stress digits removed (``AH0`` -> ``ah``); a symbol outside the 39
      phonemes raises :class:`SignBindInputError` (a closed inventory has no ``[UNK]``).

    Args:
        vocab_file (`str`, *optional*):
            Path to a ``vocab.json`` holding ``{token: id}``. Give this or ``vocab``.
        stream (`str`, *optional*, defaults to ``"gloss"``):
            Which output stream this tokenizer serves: ``"gloss"``, ``"letter"`` or ``"phoneme"``.
        vocab (`dict[str, int]`, *optional*):
            The vocabulary itself, for building a tokenizer in memory. Give this or ``vocab_file``.
        kwargs:
            Passed to `PreTrainedTokenizer` (``pad_token`` must stay the blank; ``unk_token`` exists for glosses only).
    """

    vocab_files_names = VOCAB_FILES_NAMES

    def __init__(
        self,
        vocab_file: str | None = None,
        stream: str = GLOSS_STREAM,
        *,
        vocab: dict[str, int] | None = None,
        **kwargs,
    ):
        if stream not in STREAMS:
            raise ValueError(f"`stream` must be one of {STREAMS}, got {stream!r}")
        if (vocab_file is None) == (vocab is None):
            raise ValueError("give exactly one of `vocab_file` (a vocab.json path) and `vocab` (a {token: id} dict)")
        if vocab_file is not None:
            vocab, source = _read_vocab(vocab_file), str(vocab_file)
        else:
            source = "the `vocab` argument"
        _check_vocab(vocab, stream, source)
        self.stream = stream
        self.encoder: dict[str, int] = dict(vocab)
        self.decoder: dict[int, str] = {index: token for token, index in vocab.items()}

        pad_token = str(kwargs.setdefault("pad_token", BLANK_TOKEN))
        if pad_token != BLANK_TOKEN:
            raise ValueError(f"`pad_token` must be the CTC blank {BLANK_TOKEN!r} (id {BLANK_ID}), got {pad_token!r}")
        if stream == GLOSS_STREAM:
            kwargs.setdefault("unk_token", UNK_TOKEN)
        elif kwargs.get("unk_token") is not None:
            raise ValueError(
                f"the {stream} stream has a closed inventory and no `unk_token`, got {kwargs['unk_token']!r}"
            )
        # special_tokens_pattern="none": CTC targets carry no BOS/EOS/CLS tokens.
        super().__init__(stream=stream, special_tokens_pattern="none", **kwargs)

    @classmethod
    def for_glosses(cls, texts: Iterable[str], min_count: int = 1, **kwargs) -> "SignBindCTCTokenizer":
        """A pseudo-gloss tokenizer whose vocabulary is every word seen ``min_count`` times in ``texts``."""
        return cls(vocab=gloss_vocab(texts, min_count=min_count), stream=GLOSS_STREAM, **kwargs)

    @classmethod
    def for_letters(cls, **kwargs) -> "SignBindCTCTokenizer":
        """The fingerspelling tokenizer (``LETTER_VOCAB_SIZE`` ids)."""
        return cls(vocab=letter_vocab(), stream=LETTER_STREAM, **kwargs)

    @classmethod
    def for_phonemes(cls, **kwargs) -> "SignBindCTCTokenizer":
        """The lipreading tokenizer (``PHONEME_VOCAB_SIZE`` ids)."""
        return cls(vocab=phoneme_vocab(), stream=PHONEME_STREAM, **kwargs)

    # --- vocabulary -----------------------------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return len(self.encoder)

    def get_vocab(self) -> dict[str, int]:
        return dict(self.encoder)

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str]:
        if not os.path.isdir(save_directory):
            raise NotADirectoryError(f"vocabulary directory {save_directory!r} does not exist")
        prefix = f"{filename_prefix}-" if filename_prefix else ""
        vocab_file = os.path.join(save_directory, prefix + VOCAB_FILES_NAMES["vocab_file"])
        # Written in id order (blank first) rather than sorted by token, so the file reads like the output layer.
        ordered = dict(sorted(self.encoder.items(), key=lambda item: item[1]))
        with open(vocab_file, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(ordered, indent=2, ensure_ascii=False) + "\n")
        return (vocab_file,)

    # --- encoding -------------------------------------------------------------------------------------------------
    def tokenize(self, text: str, **kwargs) -> list[str]:
        """Split one target text into this stream's tokens (see the class docstring).

        Overrides the base method on purpose: targets are plain words, letters or phonemes, so the text is never
        searched for special-token strings (a literal ``<blank>`` in a target must not become the blank id).
        """
        if not isinstance(text, str):
            raise TypeError(f"a {self.stream} target must be a string, got {type(text).__name__}: {text!r}")
        if self.stream == GLOSS_STREAM:
            return text.upper().split()
        if self.stream == LETTER_STREAM:
            tokens: list[str] = []
            for word in _spelled_words(text):
                if tokens:
                    tokens.append(WORD_BOUNDARY_TOKEN)
                tokens.extend(word)
            return tokens
        phonemes = [symbol.lower().rstrip(_ARPABET_STRESS_MARKS) for symbol in text.split()]
        unknown = sorted({symbol for symbol in phonemes if symbol not in _PHONEME_SET})
        if unknown:
            raise SignBindInputError(
                f"unknown ARPAbet phoneme(s) {unknown} in phoneme target {text!r}; expected the 39 CMUdict phonemes "
                f"{' '.join(PHONEMES)} (stress digits are removed)"
            )
        return phonemes

    def _convert_token_to_id(self, token: str) -> int:
        if token in self.encoder:
            return self.encoder[token]
        if self.stream == GLOSS_STREAM:
            return self.encoder[UNK_TOKEN]
        raise SignBindInputError(f"token {token!r} is not in the {self.stream} vocabulary {list(self.encoder)}")

    def __call__(self, text: str | list[str], *, padding: bool | str = "longest", **kwargs) -> BatchEncoding:
        """Encode one target text or a batch of them as CTC labels.

        Returns a `BatchEncoding` with ``labels``, the token ids padded with ``IGNORE_INDEX`` (-100) to the longest
        text (what the CTC losses and ``Trainer`` expect; target lengths are ``(labels != -100).sum(-1)``), and
        ``attention_mask`` (1 on real ids). There is no ``input_ids`` field on purpose: these ids are targets, never
        model inputs, and a blank-padded copy would be one careless step away from training on blank targets. Use
        ``encode()`` for the unpadded ids of one text. ``return_tensors="pt"`` gives ``(B, L)`` tensors (``(1, L)``
        for a single text); the other arguments of the base `__call__` (``max_length``, ``truncation``, ...) work.
        """
        if kwargs.get("is_split_into_words") and self.stream == LETTER_STREAM:
            raise ValueError(
                "is_split_into_words=True would lose the word boundaries of fingerspelled targets: pass each target "
                "as one string ('LAURENE SIMMS' or 'L A U R E N E | S I M M S')"
            )
        if isinstance(text, (list, tuple)) and not text:
            raise ValueError("`text` is an empty batch: give at least one target text (an empty string is fine)")
        return_tensors = kwargs.pop("return_tensors", None)
        return_attention_mask = kwargs.pop("return_attention_mask", True)
        encoding = super().__call__(text, padding=padding, return_attention_mask=True, **kwargs)
        input_ids, attention_mask = encoding.pop("input_ids"), encoding["attention_mask"]
        is_single = not input_ids or not isinstance(input_ids[0], list)  # a batch is never empty (checked above)
        rows, masks = ([input_ids], [attention_mask]) if is_single else (input_ids, attention_mask)
        labels = [
            [index if keep else IGNORE_INDEX for index, keep in zip(row, mask, strict=True)]
            for row, mask in zip(rows, masks, strict=True)
        ]
        encoding["labels"] = labels[0] if is_single else labels
        if not return_attention_mask:
            del encoding["attention_mask"]
        return BatchEncoding(encoding.data, tensor_type=return_tensors, prepend_batch_axis=is_single)

    # --- decoding -------------------------------------------------------------------------------------------------
    def _convert_id_to_token(self, index: int) -> str:
        if index not in self.decoder:
            raise SignBindInputError(
                f"token id {index} is outside the {self.stream} vocabulary (ids 0..{self.vocab_size - 1})"
            )
        return self.decoder[index]

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        """Glosses and phonemes are joined with spaces; letters are joined into words, ``|`` becoming a space."""
        if self.stream == LETTER_STREAM:
            return " ".join("".join(" " if token == WORD_BOUNDARY_TOKEN else token for token in tokens).split())
        return " ".join(tokens)

    def _decode(
        self,
        token_ids: int | list[int],
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        ctc: bool = True,
    ) -> str:
        """Ids to text, reached through ``decode`` and ``batch_decode``.

        ``ctc=True`` (the default, for greedy model output such as ``logits.argmax(-1)``) applies the CTC collapse:
        runs of the same id merge into one, then blanks are dropped, so ``A A <blank> A`` reads ``A A``.
        ``ctc=False`` is for label ids, whose repeats are real (the ``M M`` of ``SIMMS``). Either way ``IGNORE_INDEX``
        padding and blanks are dropped; ``skip_special_tokens=True`` also drops ``[UNK]``.
        """
        token_ids = [token_ids] if isinstance(token_ids, numbers.Integral) else list(token_ids)
        for token_id in token_ids:
            if not isinstance(token_id, numbers.Integral) or isinstance(token_id, bool):
                raise TypeError(
                    f"expected integer token ids, got {type(token_id).__name__} {token_id!r}: "
                    "decode the argmax of the logits over the vocabulary axis, not the logits"
                )
        token_ids = [int(token_id) for token_id in token_ids if token_id != IGNORE_INDEX]
        if ctc:
            token_ids = [token_id for token_id, _ in groupby(token_ids)]
        token_ids = [token_id for token_id in token_ids if token_id != BLANK_ID]
        text = self.convert_tokens_to_string(self.convert_ids_to_tokens(token_ids, skip_special_tokens))
        if clean_up_tokenization_spaces:
            text = self.clean_up_tokenization(text)
        return text


__all__ = [
    "GLOSS_STREAM",
    "LETTER_STREAM",
    "PHONEME_STREAM",
    "STREAMS",
    "SignBindCTCTokenizer",
    "gloss_vocab",
    "letter_vocab",
    "phoneme_vocab",
]
