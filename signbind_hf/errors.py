"""Exceptions raised by signbind-hf."""


class SignBindInputError(ValueError):
    """An input (a video file, a folder of frames, an array) cannot be used.

    The message always names the offending file or argument and the reason, so that a user processing thousands of
    clips can find the one that failed. It subclasses ``ValueError`` so callers that already catch bad values keep
    working.
    """
