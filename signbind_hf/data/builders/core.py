"""What every real-format builder shares: the example schema, row checks, the prepare report and atomic saving.

A format module (``how2sign``, ``chicagofswild``, ...) only reads its released files and yields
:class:`Candidate` rows (or :class:`Skip` for rows it cannot even read); :func:`build_dataset` checks each candidate
(video present and readable, times inside the video, a sentence), makes its Stage-1 targets, counts every skipped row
by reason in a :class:`PrepareReport`, and saves a ``datasets.DatasetDict`` atomically.

The saved folder holds the data set (``datasets.load_from_disk``), ``prepare_report.json``
(``{"kept": int, "skipped": int, "reasons": {reason: count}}``, plus ``incomplete`` counts of kept rows missing a
target, ``splits`` sizes and ``examples``: the first skipped rows of each reason, named by file and line or id), ``signbind_streams.json`` (which target streams the data set carries: a stream with no source for the
language, such as CMUdict phonemes for a non-English corpus, is ``false`` and its column empty, never junk) and
``signbind_source.json`` (the format, language and inputs it was made from, read by ``signbind push-dataset``).

Video columns hold absolute paths to the user's files (clips are not copied: corpora are hundreds of GB), with
``start``/``end`` in seconds from the first frame; a frame folder (ChicagoFSWild) is a path to the folder.

A corpus file names the media of each row, so it is input like any other: every candidate carries the ``root`` its
media must lie in (``--videos``, ``--frames``, the manifest's folder), and a row whose media resolves outside it
(``../``, an absolute path, a symlink pointing out) is skipped as ``outside_root`` before anything is opened. Rows
that repeat an id or an earlier row's clip, times and text are skipped as ``duplicate``; a row with bytes that are
not UTF-8 as ``not_utf8``.
"""

import json
import logging
import math
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from signbind_hf.constants import SEGMENT_FINGERSPELLING
from signbind_hf.errors import SignBindInputError

from ..saving import save_quietly

logger = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")
REPORT_FILE = "prepare_report.json"
STREAMS_FILE = "signbind_streams.json"
SOURCE_FILE = "signbind_source.json"
ENGLISH = "en"

# Reasons a row is skipped (keys of the report's "reasons").
MISSING_VIDEO = "missing_video"
UNREADABLE_VIDEO = "unreadable_video"
BAD_TIMES = "end_not_after_start"
BAD_TIME = "bad_time"  # a start or end that is negative or not a finite number (NaN, inf)
PAST_VIDEO_END = "past_video_end"
EMPTY_SENTENCE = "empty_sentence"
MALFORMED_ROW = "malformed_row"
NOT_IN_SPLITS = "not_in_split_file"
MISSING_SUBTITLES = "missing_subtitles"  # counted per video: a split file lists it, the subtitle folder lacks it
OUTSIDE_ROOT = "outside_root"  # the row's media resolves outside the folder the user gave for it
DUPLICATE = "duplicate"  # the id of a kept row, or its clip, times and text again
NOT_UTF8 = "not_utf8"  # the row's bytes cannot be decoded as UTF-8
# A kept row that lacks one target (counted under "incomplete", not skipped: the other streams still learn from it).
NO_PHONEMES = "no_phonemes"

# Skipped rows named per reason in the report, so a user can find and fix them without a debug log.
EXAMPLES_PER_REASON = 5
# Timestamps may overshoot the container's duration by rounding (frame or millisecond precision): tolerated.
DURATION_TOLERANCE_S = 0.05


def example_features():
    """The ``datasets.Features`` of every split of every real-format builder (one source of truth for the schema).

    Column names are SynthSign's where they mean the same thing, so training reads either.
    """
    from datasets import Features, List, Value

    return Features(
        {
            "id": Value("string"),
            "video": Value("string"),  # absolute path of a video file or of a folder of frames
            "start": Value("float32"),  # seconds from the first frame; None: from the start
            "end": Value("float32"),  # seconds, exclusive; None: to the end
            "sentence": Value("string"),
            "pseudo_gloss": Value("string"),
            "phonemes": Value("string"),  # "" where the phoneme stream is disabled or the words are unpronounceable
            "letters": Value("string"),
            "fingerspelled_words": List(Value("string")),
            "segment_labels": List(Value("int8")),  # per frame SEGMENT_* where known, else empty
            "signer_id": Value("string"),  # None where the corpus does not say
            "split": Value("string"),
            "source": Value("string"),  # the corpus format (how2sign, chicagofswild, ...)
        }
    )


@dataclass(frozen=True)
class Candidate:
    """One row as a format reads it, before checks and targets.

    ``letters``/``pseudo_gloss``/``segment_labels`` are given by formats that know them (ChicagoFSWild's
    ``label_proc``); otherwise they are made from ``sentence``. ``root`` is the folder ``video`` must resolve inside
    (no default, so no format can forget it); None only where the user named the path outright
    (``--allow-absolute-paths``).
    """

    id: str
    video: Path
    sentence: str
    split: str
    root: Path | None
    start: float | None = None
    end: float | None = None
    signer_id: str | None = None
    pseudo_gloss: str | None = None
    letters: str | None = None
    fingerspelled_words: list[str] | None = None
    whole_clip_fingerspelled: bool = False


@dataclass(frozen=True)
class Skip:
    """A row a format could not read at all (a malformed line): skipped with ``reason``; ``where`` names it."""

    reason: str
    where: str
    detail: str = ""


@dataclass
class PrepareReport:
    """Kept and skipped rows, skipped ones counted by reason; written as ``prepare_report.json``."""

    kept: int = 0
    reasons: Counter = field(default_factory=Counter)
    incomplete: Counter = field(default_factory=Counter)
    split_sizes: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def skipped(self) -> int:
        return sum(self.reasons.values())

    def skip(self, reason: str, where: str, detail: str = "") -> None:
        self.reasons[reason] += 1
        named = self.examples.setdefault(reason, [])
        if len(named) < EXAMPLES_PER_REASON:
            named.append(f"{where}: {detail}" if detail else where)
        logger.debug("skipped %s: %s%s", where, reason, f" ({detail})" if detail else "")

    def keep(self, split: str) -> None:
        self.kept += 1
        self.split_sizes[split] += 1

    def to_dict(self) -> dict:
        return {
            "kept": self.kept,
            "skipped": self.skipped,
            "reasons": dict(sorted(self.reasons.items())),
            "incomplete": dict(sorted(self.incomplete.items())),
            "splits": dict(self.split_sizes),
            "examples": dict(sorted(self.examples.items())),
        }

    def summary(self) -> str:
        lines = [f"kept {self.kept} rows, skipped {self.skipped}"]
        lines += [f"  skipped ({reason}): {count}" for reason, count in sorted(self.reasons.items())]
        lines += [f"  kept without {what.removeprefix('no_')}: {count}" for what, count in self.incomplete.items()]
        lines += [f"  {split}: {count}" for split, count in self.split_sizes.items()]
        return "\n".join(lines)

    @classmethod
    def read(cls, folder: str | os.PathLike) -> "PrepareReport":
        """The report of the data set prepared in ``folder``."""
        saved = json.loads((Path(folder) / REPORT_FILE).read_text())
        return cls(
            kept=saved["kept"],
            reasons=Counter(saved["reasons"]),
            incomplete=Counter(saved.get("incomplete", {})),
            split_sizes=Counter(saved.get("splits", {})),
            examples=saved.get("examples", {}),
        )

    def write(self, folder: Path) -> Path:
        path = folder / REPORT_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path


class VideoDurations:
    """Seconds of each video, read from the container header (no decoding) and cached: How2Sign cuts each raw video
    into dozens of sentences. Raises ``SignBindInputError`` for a file PyAV cannot open or with no video stream."""

    def __init__(self) -> None:
        self._seconds: dict[Path, float | None] = {}

    def __call__(self, path: Path) -> float | None:
        if path not in self._seconds:
            self._seconds[path] = _container_duration(path)
        return self._seconds[path]


def _container_duration(path: Path) -> float | None:
    import av

    if path.stat().st_size == 0:
        raise SignBindInputError(f"{path}: the file is empty (0 bytes)")
    try:
        # Metadata that is not UTF-8 (a damaged or foreign-made file) must not cost the row: it is never used here.
        with av.open(str(path), mode="r", metadata_errors="replace") as container:
            streams = list(container.streams.video)
            if not streams:
                raise SignBindInputError(f"{path}: the file has no video stream")
            stream = streams[0]
            if stream.duration and stream.time_base:
                return float(stream.duration * stream.time_base)
            if container.duration:
                return container.duration / 1_000_000
            return None  # the container does not say: times cannot be checked before decoding
    except av.FFmpegError as error:
        raise SignBindInputError(f"{path}: cannot be opened as a video ({error})") from error


def count_frames(folder: Path) -> int:
    """Frames of a frame folder; raises ``SignBindInputError`` when it holds no images."""
    from signbind_hf.video.image_sequences import list_frame_files

    return len(list_frame_files(folder))


@dataclass(frozen=True)
class Streams:
    """Which Stage-1 targets a data set carries (saved as ``signbind_streams.json``)."""

    pseudo_gloss: bool = True
    phonemes: bool = True
    letters: bool = True
    segment_labels: bool = False

    def to_dict(self) -> dict[str, bool]:
        return {
            "pseudo_gloss": self.pseudo_gloss,
            "phonemes": self.phonemes,
            "letters": self.letters,
            "segment_labels": self.segment_labels,
        }


def english_streams(*, segment_labels: bool = False) -> Streams:
    return Streams(segment_labels=segment_labels)


class TargetMaker:
    """Stage-1 targets of a candidate row, for the streams the data set carries."""

    def __init__(self, streams: Streams, glosser: Callable[[str], str] | None = None) -> None:
        self.streams = streams
        self._glosser = glosser

    def __call__(self, candidate: Candidate, report: PrepareReport) -> dict:
        from signbind_hf.targets import fingerspelled_words, letters, phonemes, pseudo_gloss

        gloss = candidate.pseudo_gloss
        if gloss is None:
            gloss = (self._glosser or pseudo_gloss)(candidate.sentence)
        spelled = candidate.fingerspelled_words
        if spelled is None:
            spelled = fingerspelled_words(candidate.sentence) if self.streams.letters else []
        spelled_letters = candidate.letters
        if spelled_letters is None:
            spelled_letters = letters(" ".join(spelled)) if spelled else ""
        pronunciation = ""
        if self.streams.phonemes and gloss:
            try:
                pronunciation = phonemes(gloss)
            except SignBindInputError as error:
                # Kept: the sign and letter streams still learn from the clip; its lipreading target stays empty.
                report.incomplete[NO_PHONEMES] += 1
                logger.debug("%s: no phonemes (%s)", candidate.id, error)
        return {
            "pseudo_gloss": gloss,
            "phonemes": pronunciation,
            "letters": spelled_letters,
            "fingerspelled_words": list(spelled),
        }


def is_inside(path: Path, root: Path) -> bool:
    """Whether ``path`` lies in ``root`` once both are resolved (``..`` and every symlink followed).

    Raises ``OSError``/``RuntimeError`` on a symlink loop."""
    return path.resolve().is_relative_to(root.resolve())


def _time_problem(start: float | None, end: float | None) -> tuple[str, str] | None:
    for name, value in (("start", start), ("end", end)):
        # NaN compares false with everything: unchecked, it would pass every later comparison.
        if value is not None and not (math.isfinite(value) and value >= 0):
            return BAD_TIME, f"{name} {value} s (expected a finite number of seconds >= 0)"
    if start is not None and end is not None and end <= start:
        return BAD_TIMES, f"start {start} s, end {end} s"
    return None


def check_candidate(candidate: Candidate, durations: VideoDurations) -> tuple[str, str] | tuple[None, dict]:
    """``(reason, detail)`` when ``candidate`` must be skipped, else ``(None, {"start", "end", "segment_labels"})``."""
    video = candidate.video
    if "\x00" in str(video):  # JSON can spell one (\u0000); no file system can look the path up
        return MALFORMED_ROW, "the path holds a NUL byte"
    if candidate.root is not None:
        # First, before the media is even probed for existence: a corpus file must not reach outside its root.
        try:
            if not is_inside(video, candidate.root):
                # The resolved path shows which link or `..` led out (a folder of symlinks to another disk: point the
                # root at the real folder).
                return OUTSIDE_ROOT, f"{video} resolves to {video.resolve()}, outside {candidate.root}"
        except (OSError, RuntimeError) as error:
            return UNREADABLE_VIDEO, f"{video}: {error}"
    if not candidate.sentence.strip():
        return EMPTY_SENTENCE, "no text"
    start, end = candidate.start, candidate.end
    problem = _time_problem(start, end)
    if problem is not None:
        return problem
    if not video.exists():
        return MISSING_VIDEO, str(video)
    segment_labels: list[int] = []
    if video.is_dir():
        try:
            frames = count_frames(video)
        except SignBindInputError as error:
            return UNREADABLE_VIDEO, str(error)
        if candidate.whole_clip_fingerspelled:
            segment_labels = [SEGMENT_FINGERSPELLING] * frames
        return None, {"start": start, "end": end, "segment_labels": segment_labels}
    try:
        duration = durations(video)
    except SignBindInputError as error:
        return UNREADABLE_VIDEO, str(error)
    if duration is not None:
        if start is not None and start >= duration:
            return PAST_VIDEO_END, f"start {start} s, video {duration:.3f} s"
        if end is not None and end > duration + DURATION_TOLERANCE_S:
            return PAST_VIDEO_END, f"end {end} s, video {duration:.3f} s"
        if end is not None:
            end = min(end, duration)
    return None, {"start": start, "end": end, "segment_labels": segment_labels}


def collect_rows(
    items: Iterable[Candidate | Skip], *, source: str, targets: TargetMaker, report: PrepareReport
) -> dict[str, list[dict]]:
    """Check every candidate, make its targets and sort the kept rows by split; every skip goes in ``report``."""
    durations = VideoDurations()
    rows: dict[str, list[dict]] = {}
    duplicates = DuplicateRows()
    for item in items:
        if isinstance(item, Skip):
            report.skip(item.reason, item.where, item.detail)
            continue
        rows.setdefault(item.split, [])
        reason, checked = check_candidate(item, durations)
        if reason is None:
            # After the checks: a repeat of a skipped row may still be kept, so the kept ids stay unique.
            reason, checked = duplicates.check(item, checked)
        if reason is not None:
            report.skip(reason, item.id, checked)
            continue
        row = {
            "id": item.id,
            "video": str(item.video.absolute()),
            "sentence": item.sentence.strip(),
            **checked,
            **targets(item, report),
            "signer_id": item.signer_id,
            "split": item.split,
            "source": source,
        }
        rows[item.split].append(row)
        report.keep(item.split)
    return rows


class DuplicateRows:
    """Remembers the kept rows: a row is a duplicate when it repeats a kept id, or a kept row's clip, times and text
    (the same example twice weighs it double in training, and an id must name one row)."""

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._examples: dict[tuple, str] = {}

    def check(self, candidate: Candidate, checked: dict) -> tuple[str, str] | tuple[None, dict]:
        if candidate.id in self._ids:
            return DUPLICATE, f"id {candidate.id!r} is already kept"
        example = (candidate.video.resolve(), checked["start"], checked["end"], candidate.sentence.strip())
        first = self._examples.get(example)
        if first is not None:
            return DUPLICATE, f"same clip, times and text as {first}"
        self._ids.add(candidate.id)
        self._examples[example] = candidate.id
        return None, checked


def build_dataset(
    items: Iterable[Candidate | Skip],
    out_dir: str | os.PathLike,
    *,
    source: str,
    streams: Streams,
    source_info: dict,
    glosser: Callable[[str], str] | None = None,
    overwrite: bool = False,
):
    """Check, target and save ``items`` as a ``DatasetDict`` in ``out_dir`` and return it (as loaded from disk).

    What was kept and skipped is in ``out_dir/prepare_report.json`` (``PrepareReport.read(out_dir)``).

    The folder is built beside ``out_dir`` under a hidden name and renamed into place when complete, so an
    interrupted build never leaves a half-written data set. Bad rows are skipped and counted, never fatal.
    """
    import datasets

    out_dir = Path(out_dir).absolute()
    if out_dir.exists() and not overwrite:
        raise FileExistsError(f"--out {out_dir} already exists: choose a new folder, or pass --overwrite")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    report = PrepareReport()
    rows = collect_rows(items, source=source, targets=TargetMaker(streams, glosser), report=report)
    if not rows:
        raise SignBindInputError(f"{source}: the inputs hold no rows at all ({source_info.get('inputs')})")
    features = example_features()
    ordered = sorted(rows, key=lambda split: SPLITS.index(split) if split in SPLITS else len(SPLITS))
    dataset = datasets.DatasetDict(
        {
            split: datasets.Dataset.from_dict(
                {name: [row[name] for row in rows[split]] for name in features}, features=features, split=split
            )
            for split in ordered
        }
    )
    staging = out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        save_quietly(dataset, staging)
        report.write(staging)
        (staging / STREAMS_FILE).write_text(json.dumps(streams.to_dict(), indent=2) + "\n")
        (staging / SOURCE_FILE).write_text(json.dumps({"format": source, **source_info}, indent=2) + "\n")
        if out_dir.exists():
            retired = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            out_dir.rename(retired)
            staging.rename(out_dir)
            shutil.rmtree(retired)
        else:
            staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info("%s -> %s: %s", source, out_dir, report.summary().replace("\n", ";"))
    return datasets.load_from_disk(str(out_dir))


def read_text_table(
    path: Path, *, delimiter: str, required: Iterable[str], argument: str
) -> list[dict[str, str] | Skip]:
    """Rows of a delimited text file as dicts, or a ``Skip`` for a row that cannot be used as text (``not_utf8``:
    bytes that are not UTF-8; ``malformed_row``: a NUL byte, a field over the csv module's size limit); raises
    ``SignBindInputError`` naming ``argument`` when a column lacks or the header cannot be read."""
    import csv

    if not path.is_file():
        raise SignBindInputError(f"{argument} {path}: no such file")
    # surrogateescape: an undecodable byte becomes a lone surrogate instead of ending the read, so one latin-1 row
    # is skipped and counted rather than losing the file.
    with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
        # QUOTE_NONE for tabs: How2Sign sentences hold bare double quotes that the csv module would pair up.
        quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
        reader = csv.DictReader(handle, delimiter=delimiter, quoting=quoting)
        try:
            header = reader.fieldnames or []
        except csv.Error as error:  # a header line over the csv module's field size limit
            raise SignBindInputError(f"{argument} {path}: the header cannot be read ({error})") from error
        if undecodable_byte(header):
            raise SignBindInputError(f"{argument} {path}: the header is not UTF-8 ({_first_bad_byte(path)})")
        missing = [name for name in required if name not in (reader.fieldnames or [])]
        if missing:
            raise SignBindInputError(
                f"{argument} {path}: expected the columns {list(required)}; missing {missing}, "
                f"found {reader.fieldnames}"
            )
        rows: list[dict[str, str] | Skip] = []
        line = 1  # a row's line as the formats name it (one line per row)
        while True:
            line += 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as error:  # a field over the csv module's size limit; the reader goes on after it
                rows.append(Skip(MALFORMED_ROW, f"{path.name}:{line}", str(error)))
                continue
            rows.append(_checked_row(row, f"{path.name}:{line}"))
    return rows


def _checked_row(row: dict[str, str], where: str) -> dict[str, str] | Skip:
    """``row``, or a ``Skip`` when it holds bytes that were not UTF-8 or a NUL (no path or text holds one, and a
    path with one cannot even be looked up)."""
    values = list(row.values())  # extra fields are a list under the key None
    bad = undecodable_byte(values)
    if bad is not None:
        return Skip(NOT_UTF8, where, f"byte 0x{bad:02X} is not UTF-8 (save as UTF-8)")
    if any("\x00" in value for value in _strings(values)):
        return Skip(MALFORMED_ROW, where, "a NUL byte")
    return row


def _strings(values: Iterable) -> Iterator[str]:
    for value in values:
        yield from (text for text in (value if isinstance(value, list) else [value]) if text)


def undecodable_byte(values: Iterable) -> int | None:
    """The first byte ``surrogateescape`` stood in for in ``values`` (strings, or lists of them), else None."""
    for text in _strings(values):
        for char in text:
            if "\udc80" <= char <= "\udcff":
                return ord(char) - 0xDC00
    return None


def _first_bad_byte(path: Path) -> str:
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        return f"byte 0x{error.object[error.start]:02X} at offset {error.start}"
    return "no undecodable byte found"


def parse_seconds(text: str | None) -> float | None:
    """A float of seconds, None for an empty cell; raises ValueError for anything else."""
    if text is None or not text.strip():
        return None
    return float(text)
