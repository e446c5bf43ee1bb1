"""Exceptions raised by signbind-hf."""


class SignBindInputError(ValueError):
    """An input (a video file, a folder of frames, an array) cannot be used.

    The message always names the offending file or argument and the reason, so that a user processing thousands of
    clips can find the one that failed. It subclasses ``ValueError`` so callers that already catch bad values keep
    working.
    """


class SignBindModelError(SignBindInputError):
    """A model folder (or Hub repository) cannot be loaded: missing, damaged or pickled weights, a broken refiner.

    The message names the folder and the problem in one line. A subclass of ``SignBindInputError``: callers that
    already turn bad input into a one-line message handle it unchanged.
    """
