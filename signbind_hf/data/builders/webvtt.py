"""A small WebVTT reader: the cues (start, end, text) of a caption or subtitle file.

It handles what YouTube and broadcast subtitle files hold: the ``WEBVTT`` header, ``NOTE``/``STYLE``/``REGION``
blocks, optional cue identifiers, cue settings after the times, ``HH:MM:SS.mmm`` and ``MM:SS.mmm`` times, inline
tags (``<c>``, ``<v Speaker>``, ``<00:00:01.000>``) and HTML entities. A block whose timing line cannot be read is
returned as a :class:`BadCue`, so the caller can count it and keep going.
"""

import html
import re
from dataclasses import dataclass
from pathlib import Path

from signbind_hf.errors import SignBindInputError

_TIME = r"(?:(\d+):)?([0-5]\d):([0-5]\d)[.,](\d{3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s+-->\s+{_TIME}(?:\s+.*)?$")
_TAG = re.compile(r"<[^>]*>")
_BLOCK_KEYWORDS = ("NOTE", "STYLE", "REGION")


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str
    line: int  # line of the timing in the file, to name the cue in the report


@dataclass(frozen=True)
class BadCue:
    line: int
    detail: str


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def _clean(text_lines: list[str]) -> str:
    return " ".join(html.unescape(_TAG.sub("", line)).strip() for line in text_lines if line.strip()).strip()


def read_cues(path: Path) -> list[Cue | BadCue]:
    """The cues of the WebVTT file ``path`` in file order; raises ``SignBindInputError`` if it is not WebVTT."""
    # surrogateescape keeps an undecodable byte visible in the cue's text, so the caller can skip that cue as
    # not UTF-8 instead of training on replacement characters.
    lines = path.read_text(encoding="utf-8-sig", errors="surrogateescape").splitlines()
    if not lines or not lines[0].startswith("WEBVTT"):
        raise SignBindInputError(f"{path}: not a WebVTT file (its first line must start with WEBVTT)")
    cues: list[Cue | BadCue] = []
    block: list[tuple[int, str]] = []
    for number, line in enumerate([*lines[1:], ""], 2):
        if line.strip():
            block.append((number, line))
            continue
        if block:
            cue = _parse_block(block)
            if cue is not None:
                cues.append(cue)
            block = []
    return cues


def _parse_block(block: list[tuple[int, str]]) -> Cue | BadCue | None:
    first = block[0][1]
    if first.split(maxsplit=1)[0] in _BLOCK_KEYWORDS and "-->" not in first:
        return None
    timing_at = next((index for index, (_, line) in enumerate(block) if "-->" in line), None)
    if timing_at is None or timing_at > 1:  # at most one identifier line before the timing
        if timing_at is None and block[0][0] == 2:
            return None  # header metadata right after WEBVTT (Kind:, Language:)
        return BadCue(block[0][0], "no timing line")
    number, timing = block[timing_at]
    match = _TIMING.match(timing)
    if match is None:
        return BadCue(number, f"cannot read the timing {timing.strip()!r}")
    start, end = _seconds(*match.groups()[:4]), _seconds(*match.groups()[4:])
    return Cue(start, end, _clean([line for _, line in block[timing_at + 1 :]]), number)
