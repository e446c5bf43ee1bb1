"""The refiner's text: (pseudo-gloss, English sentence) pairs read from a prepared data set folder.

Both the local base model (its tokenizer and its pre-training) and the LoRA fine-tuning read their text here, so a
bad row is judged the same way everywhere: skipped, counted and logged, never the end of the run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ..errors import SignBindInputError
from ..refiner import normalize_gloss

logger = logging.getLogger(__name__)

GLOSS_COLUMN = "pseudo_gloss"
SENTENCE_COLUMN = "sentence"


@dataclass(frozen=True)
class TextPairs:
    """The usable rows of one split, and how many rows were skipped (empty or missing gloss or sentence).

    Attributes:
        glosses: pseudo-gloss strings, whitespace-normalised (``"NOW IVAN SCHOOL"``).
        sentences: the English sentences, same order and length as ``glosses``.
        skipped: rows left out because one of the two texts was missing or blank.
    """

    glosses: list[str]
    sentences: list[str]
    skipped: int = 0

    def __len__(self) -> int:
        return len(self.glosses)


def load_text_pairs(data_dir: str | Path, split: str) -> TextPairs:
    """The (pseudo-gloss, sentence) pairs of ``split`` of the ``datasets.DatasetDict`` saved in ``data_dir``.

    Raises:
        SignBindInputError: ``data_dir`` is not a saved data set, has no split ``split``, or lacks a column; or the
            split has no usable pair at all.

    Example:
        >>> pairs = load_text_pairs("data/synthsign", "train")
        >>> pairs.glosses[1], pairs.sentences[1]
        ('NOW IVAN SCHOOL', 'Is Ivan at the school now?')
    """
    import datasets

    data_dir = Path(data_dir)
    try:
        dataset_dict = datasets.load_from_disk(str(data_dir))
    except FileNotFoundError as error:
        raise SignBindInputError(
            f"--data_dir {data_dir}: expected a data set folder saved with DatasetDict.save_to_disk "
            f"(from `signbind synth` or `signbind prepare`), found none ({error})"
        ) from error
    if not isinstance(dataset_dict, datasets.DatasetDict):
        raise SignBindInputError(f"--data_dir {data_dir}: expected a DatasetDict with splits, got a single Dataset")
    if split not in dataset_dict:
        raise SignBindInputError(f"--data_dir {data_dir}: no split {split!r}; it has {sorted(dataset_dict)}")
    table = dataset_dict[split]
    missing = [column for column in (GLOSS_COLUMN, SENTENCE_COLUMN) if column not in table.column_names]
    if missing:
        raise SignBindInputError(
            f"--data_dir {data_dir} split {split!r}: missing column(s) {missing}; it has {table.column_names}"
        )

    glosses, sentences, skipped = [], [], 0
    for gloss, sentence in zip(table[GLOSS_COLUMN], table[SENTENCE_COLUMN], strict=True):
        if not isinstance(gloss, str) or not isinstance(sentence, str) or not gloss.strip() or not sentence.strip():
            skipped += 1
            continue
        glosses.append(normalize_gloss(gloss))
        sentences.append(sentence.strip())
    if skipped:
        logger.warning("%s split %r: skipped %d of %d rows with an empty pseudo-gloss or sentence", data_dir, split,
                       skipped, len(table))  # fmt: skip
    if not glosses:
        raise SignBindInputError(
            f"--data_dir {data_dir} split {split!r}: no row has both a pseudo-gloss and a sentence"
        )
    return TextPairs(glosses=glosses, sentences=sentences, skipped=skipped)
