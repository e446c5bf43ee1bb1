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

Keypoints: the ``pose`` column names the row's ``.pose`` file (``pose-format``; the layout of
``keypoints_signbind``), whose frame 0 is the video's first frame, as for a sidecar ``<video>.pose``. A
user's file (the ``folder`` manifest's ``pose``) is named by its absolute path, like the video; keypoints a corpus
releases in another format (How2Sign's OpenPose JSON) are converted into the data set folder, ``poses/<id>.pose``,
and named relative to it (the folder can move). None: the processor reads the video's sidecar ``.pose``, else runs
its extractor. A pose file that is missing (``missing_pose``), cannot be read as ``.pose`` or JSON
(``unreadable_pose``), or does not last as long as its video, within one frame (``pose_frame_mismatch``), skips the
row: wrong keypoints would teach the manual expert the wrong hands. A row whose corpus releases no keypoints for it
is kept with ``pose`` None and counted as ``no_keypoints`` under ``incomplete``.

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
import re
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from signbind_hf.constants import SEGMENT_FINGERSPELLING
from signbind_hf.errors import SignBindInputError

from ..saving import save_quietly

if TYPE_CHECKING:
    from signbind_hf.keypoints_signbind import Keypoints

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
MISSING_POSE = "missing_pose"  # the row names a .pose file that does not exist
UNREADABLE_POSE = "unreadable_pose"  # a .pose file (or released keypoint files) that cannot be read
POSE_FRAME_MISMATCH = "pose_frame_mismatch"  # keypoints that do not last as long as their video
# A kept row that lacks one target (counted under "incomplete", not skipped: the other streams still learn from it).
NO_PHONEMES = "no_phonemes"
# A kept row of a corpus that releases keypoints, with none for this row: the processor's extractor makes them.
NO_KEYPOINTS = "no_keypoints"

# Skipped rows named per reason in the report, so a user can find and fix them without a debug log.
EXAMPLES_PER_REASON = 5
# Timestamps may overshoot the container's duration by rounding (frame or millisecond precision): tolerated.
DURATION_TOLERANCE_S = 0.05
# Keypoints written by the builder (converted from a corpus's release) go here, inside the data set folder.
POSES_DIR = "poses"


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
            # .pose file of the clip's keypoints: absolute, or relative to the data set folder; None: the video's
            # sidecar .pose, else the processor's extractor (see the module docstring)
            "pose": Value("string"),
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

    Keypoints, at most one of: ``pose``, a ``.pose`` file the row names, which must resolve inside ``pose_root``
    (None: named outright, as for ``root``); ``keypoints``, released keypoints in another format, converted into the
    data set folder.
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
    pose: Path | None = None
    pose_root: Path | None = None
    keypoints: "KeypointSource | None" = None


@dataclass(frozen=True)
class VideoHeader:
    """What a video file's container header says, without decoding: each field None where it does not say."""

    duration: float | None  # seconds
    fps: float | None  # the stream's average frame rate
    width: int | None  # pixels of the coded frames
    height: int | None


class MissingKeypoints(Exception):
    """A corpus that releases keypoints has none for this row: kept, counted as ``no_keypoints``."""


class KeypointSource(Protocol):
    """A row's keypoints as a corpus releases them, in a format other than ``.pose``."""

    def read(self, video: VideoHeader) -> "Keypoints":
        """The row's keypoints, at the video's frame rate and in its pixels. Raises ``MissingKeypoints`` when the
        corpus has none for the row, ``SignBindInputError`` (naming the file) when they cannot be read, ``BadPose``
        to skip the row for another reason."""


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


class VideoHeaders:
    """The header of each video (duration, frame rate, size), read from the container (no decoding) and cached: How2Sign
    cuts each raw video into dozens of sentences. Raises ``SignBindInputError`` for a file PyAV cannot open or with no
    video stream."""

    def __init__(self) -> None:
        self._headers: dict[Path, VideoHeader] = {}

    def __call__(self, path: Path) -> VideoHeader:
        if path not in self._headers:
            self._headers[path] = _container_header(path)
        return self._headers[path]


def _container_header(path: Path) -> VideoHeader:
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
            duration = None  # the container does not say: times cannot be checked before decoding
            if stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            elif container.duration:
                duration = container.duration / 1_000_000
            rate = stream.average_rate
            context = stream.codec_context  # None in a damaged file whose codec FFmpeg does not know
            return VideoHeader(
                duration=duration,
                fps=float(rate) if rate and rate > 0 else None,
                width=(context.width or None) if context is not None else None,
                height=(context.height or None) if context is not None else None,
            )
    except av.FFmpegError as error:
        raise SignBindInputError(f"{path}: cannot be opened as a video ({error})") from error


def count_frames(folder: Path) -> int:
    """Frames of a frame folder; raises ``SignBindInputError`` when it holds no images."""
    from signbind_hf.video_decoding_signbind import list_frame_files

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


def path_problem(path: Path, root: Path | None, unreadable: str) -> tuple[str, str] | None:
    """Why a row's file path cannot be used, before the file is even probed: a NUL byte (JSON can spell one, no file
    system can look it up), or a path reaching outside its corpus ``root`` (``unreadable`` when that cannot be told).
    The resolved path shows which link or ``..`` led out (a folder of symlinks to another disk: point the root at the
    real folder)."""
    if "\x00" in str(path):
        return MALFORMED_ROW, f"the path {str(path)!r} holds a NUL byte"
    if root is None:
        return None
    try:
        if not is_inside(path, root):
            return OUTSIDE_ROOT, f"{path} resolves to {path.resolve()}, outside {root}"
    except (OSError, RuntimeError) as error:
        return unreadable, f"{path}: {error}"
    return None


def check_candidate(candidate: Candidate, headers: VideoHeaders) -> tuple[str, str] | tuple[None, dict]:
    """``(reason, detail)`` when ``candidate`` must be skipped, else ``(None, {"start", "end", "segment_labels"})``."""
    video = candidate.video
    problem = path_problem(video, candidate.root, UNREADABLE_VIDEO)
    if problem is not None:
        return problem
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
        duration = headers(video).duration
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


class BadPose(Exception):
    """A row's keypoints cannot be used: skipped with ``reason`` (``missing_pose``, ``unreadable_pose``, ...)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def in_data_set(path: str | os.PathLike, data_dir: Path) -> Path:
    """A path of a prepared data set's row: absolute as the real formats store videos and users' poses, or relative
    to the data set folder (SynthSign's videos, the poses a builder converted)."""
    path = Path(path)
    return path if path.is_absolute() else data_dir / path


def read_row_pose(path: Path) -> "Keypoints":
    """The keypoints of a row's ``.pose`` file; raises ``BadPose`` (``missing_pose``, ``unreadable_pose``) naming it."""
    from signbind_hf.keypoints_signbind import read_pose_file

    if not path.is_file():
        raise BadPose(MISSING_POSE, f"{path}: no such file")
    try:
        keypoints = read_pose_file(path)
    except SignBindInputError as error:
        raise BadPose(UNREADABLE_POSE, str(error)) from error
    if not (math.isfinite(keypoints.fps) and keypoints.fps > 0):
        raise BadPose(UNREADABLE_POSE, f"{path}: the header's fps is {keypoints.fps} (expected frames per second > 0)")
    return keypoints


def pose_length_problem(keypoints: "Keypoints", video: Path, headers: VideoHeaders) -> str | None:
    """Why ``keypoints`` do not fit ``video`` (a file or a frame folder), or None: they must cover it frame for frame,
    within one frame either way (a decoder may drop or add a last frame)."""
    if video.is_dir():
        frames = count_frames(video)
        if abs(keypoints.num_frames - frames) > 1:
            return f"{keypoints.num_frames} keypoint frames, the frame folder {video} has {frames}"
        return None
    header = headers(video)
    if header.duration is None:
        return None  # the container does not say: nothing to compare with before decoding
    seconds = keypoints.num_frames / keypoints.fps
    one_frame = max(1 / keypoints.fps, 1 / header.fps if header.fps else 0.0)
    # A millisecond more: container durations are often rounded to it.
    if abs(seconds - header.duration) > one_frame + 1e-3:
        return (
            f"{keypoints.num_frames} keypoint frames at {keypoints.fps:g} fps ({seconds:.3f} s), the video {video} "
            f"lasts {header.duration:.3f} s"
        )
    return None


class PoseFiles:
    """Writes the keypoints a builder converts as ``poses/<name>.pose`` in the data set folder being built; the row
    names them relative to the folder, so that it can move. File names are row ids made safe, unique per data set."""

    def __init__(self, dataset_folder: Path) -> None:
        self.dataset_folder = dataset_folder
        self._names: set[str] = set()

    def write(self, keypoints: "Keypoints", row_id: str) -> str:
        from signbind_hf.keypoints_signbind import write_pose_file

        stem = _UNSAFE_IN_FILE_NAME.sub("_", row_id).lstrip(".") or "row"
        name, copy = stem, 1
        while name in self._names:  # two ids made equal by the substitution
            copy += 1
            name = f"{stem}-{copy}"
        self._names.add(name)
        relative = f"{POSES_DIR}/{name}.pose"
        write_pose_file(keypoints, self.dataset_folder / relative)
        return relative


_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def row_pose(
    candidate: Candidate, headers: VideoHeaders, poses: PoseFiles, report: PrepareReport
) -> tuple[str, str] | tuple[None, str | None]:
    """``(reason, detail)`` when the row's keypoints skip it, else ``(None, its "pose" value)`` (see the module
    docstring); a row whose corpus has no keypoints for it is counted in ``report.incomplete``."""
    if candidate.pose is not None:
        return _named_pose(candidate, headers)
    if candidate.keypoints is None:
        return None, None
    video = candidate.video
    try:
        header = VideoHeader(None, None, None, None) if video.is_dir() else headers(video)
        keypoints = candidate.keypoints.read(header)
    except MissingKeypoints as why:
        report.incomplete[NO_KEYPOINTS] += 1
        logger.debug("%s: kept without keypoints (%s)", candidate.id, why)
        return None, None
    except BadPose as bad:
        return bad.reason, bad.detail
    except SignBindInputError as error:
        return UNREADABLE_POSE, str(error)
    problem = pose_length_problem(keypoints, video, headers)
    if problem is not None:
        return POSE_FRAME_MISMATCH, problem
    return None, poses.write(keypoints, candidate.id)


def _named_pose(candidate: Candidate, headers: VideoHeaders) -> tuple[str, str] | tuple[None, str]:
    pose = candidate.pose
    problem = path_problem(pose, candidate.pose_root, UNREADABLE_POSE)
    if problem is not None:
        return problem
    try:
        keypoints = read_row_pose(pose)
    except BadPose as bad:
        return bad.reason, bad.detail
    problem = pose_length_problem(keypoints, candidate.video, headers)
    if problem is not None:
        return POSE_FRAME_MISMATCH, problem
    return None, str(pose.absolute())


def collect_rows(
    items: Iterable[Candidate | Skip],
    *,
    source: str,
    targets: TargetMaker,
    report: PrepareReport,
    poses: PoseFiles,
) -> dict[str, list[dict]]:
    """Check every candidate, make its targets and sort the kept rows by split; every skip goes in ``report``.
    Keypoints a format converts are written through ``poses``."""
    headers = VideoHeaders()
    rows: dict[str, list[dict]] = {}
    duplicates = DuplicateRows()
    for item in items:
        if isinstance(item, Skip):
            report.skip(item.reason, item.where, item.detail)
            continue
        rows.setdefault(item.split, [])
        reason, checked = check_candidate(item, headers)
        if reason is None:
            # After the checks: a repeat of a skipped row may still be kept, so the kept ids stay unique.
            reason, checked = duplicates.check(item, checked)
        if reason is None:
            # Last: converting released keypoints is the costliest check, done for rows that pass the others.
            reason, pose = row_pose(item, headers, poses, report)
            if reason is not None:
                checked = pose
        if reason is not None:
            report.skip(reason, item.id, checked)
            continue
        row = {
            "id": item.id,
            "video": str(item.video.absolute()),
            "pose": pose,
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
    # Made first: the keypoints a format converts are written into it while the rows are checked.
    staging = out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        rows = collect_rows(
            items, source=source, targets=TargetMaker(streams, glosser), report=report, poses=PoseFiles(staging)
        )
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
