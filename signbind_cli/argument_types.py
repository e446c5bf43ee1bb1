"""argparse `type=` converters shared by the sub-commands (stdlib only: imported while building `--help`)."""

import argparse
from collections.abc import Callable


def int_at_least(minimum: int) -> Callable[[str], int]:
    """A converter accepting integers >= `minimum`, with an error that says the bound and the value given."""

    def convert(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text}")
        return value

    convert.__name__ = f"integer >= {minimum}"  # argparse names the type in "invalid ... value" messages
    return convert


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value
