"""Checks every metric runs on its inputs first, so that a bad call fails with a message naming the argument."""

from collections.abc import Sequence


def check_pairs(predictions: Sequence[str], references: Sequence[str]) -> tuple[list[str], list[str]]:
    """Return ``predictions`` and ``references`` as lists after checking they pair up one string to one string.

    Raises ``ValueError`` for an empty ``predictions``, lengths that differ, or a ``None`` entry (a decoder that
    produced nothing should give ``""``, which scores as an empty output), and ``TypeError`` for a single string
    passed where a list is expected or an entry that is not a string.
    """
    checked = []
    for name, texts in (("predictions", predictions), ("references", references)):
        if isinstance(texts, str | bytes) or not isinstance(texts, Sequence):
            raise TypeError(
                f"`{name}` must be a list of strings (one per clip), got {type(texts).__name__}: {texts!r:.100}"
            )
        for position, text in enumerate(texts):
            if text is None:
                raise ValueError(f'`{name}[{position}]` is None; expected a string ("" for an empty output)')
            if not isinstance(text, str):
                raise TypeError(f"`{name}[{position}]` must be a string, got {type(text).__name__}: {text!r:.100}")
        checked.append(list(texts))
    predictions, references = checked
    if not predictions:
        raise ValueError("`predictions` is empty: a metric needs at least one (prediction, reference) pair")
    if len(predictions) != len(references):
        raise ValueError(
            f"`predictions` has {len(predictions)} entries but `references` has {len(references)}: "
            "pass one reference per prediction, in the same order"
        )
    return predictions, references
