"""Videos with subtitle tracks (YouTube-ASL, BOBSL): one example per WebVTT cue, cut from its video by the cue's
times. A video is matched to its subtitle file by id: ``ID.vtt`` or ``ID.LANG.vtt`` (yt-dlp names caption tracks
``ID.en.vtt``) beside ``ID.mp4`` (or ``.mkv``, ``.webm``, ``.mov``)."""

import json
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

from signbind_hf.errors import SignBindInputError

from .core import (
    MALFORMED_ROW,
    MISSING_SUBTITLES,
    MISSING_VIDEO,
    NOT_IN_SPLITS,
    NOT_UTF8,
    SPLITS,
    Candidate,
    Skip,
    undecodable_byte,
)
from .webvtt import BadCue, read_cues

VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".mov")
SUBTITLE_SUFFIX = ".vtt"
# Split names accepted in a split file, with the names corpora use for them (BOBSL: val, public_test).
SPLIT_ALIASES = {
    "train": "train",
    "val": "validation",
    "validation": "validation",
    "dev": "validation",
    "test": "test",
    "public_test": "test",
}


def subtitle_files(captions: Path) -> dict[str, Path]:
    """Video id -> subtitle file, for every ``.vtt`` in ``captions`` (``ID.vtt`` or ``ID.LANG.vtt``)."""
    if not captions.is_dir():
        raise SignBindInputError(f"{captions}: not a folder (expected WebVTT subtitle files, ID.vtt or ID.en.vtt)")
    files = sorted(path for path in captions.iterdir() if path.suffix == SUBTITLE_SUFFIX and path.is_file())
    found: dict[str, Path] = {}
    for path in files:
        video_id = path.name.split(".", 1)[0]
        if video_id in found:
            raise SignBindInputError(
                f"{captions}: two subtitle files for video {video_id!r} ({found[video_id].name}, {path.name}); "
                "keep one caption track per video"
            )
        found[video_id] = path
    return found


def find_video(videos: Path, video_id: str) -> Path:
    for suffix in VIDEO_SUFFIXES:
        path = videos / f"{video_id}{suffix}"
        if path.exists():
            return path
    return videos / f"{video_id}{VIDEO_SUFFIXES[0]}"  # absent: the row is skipped as missing_video


def read_split_file(path: Path) -> dict[str, str]:
    """Video id -> split from a JSON object ``{split: [ids]}`` (split names: see ``SPLIT_ALIASES``)."""
    if not path.is_file():
        raise SignBindInputError(f"--splits {path}: no such file")
    try:
        listing = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise SignBindInputError(
            f"--splits {path}: not UTF-8 (byte 0x{error.object[error.start]:02X} at offset {error.start})"
        ) from error
    except json.JSONDecodeError as error:
        raise SignBindInputError(f"--splits {path}: not JSON ({error})") from error
    if not isinstance(listing, dict) or not all(isinstance(ids, list) for ids in listing.values()):
        raise SignBindInputError(f'--splits {path}: expected a JSON object {{"train": [ids], "val": [ids], ...}}')
    unknown = sorted(set(listing) - set(SPLIT_ALIASES))
    if unknown:
        raise SignBindInputError(f"--splits {path}: unknown split names {unknown}; expected {sorted(SPLIT_ALIASES)}")
    split_of: dict[str, str] = {}
    for name, ids in listing.items():
        for video_id in map(str, ids):
            if split_of.get(video_id, SPLIT_ALIASES[name]) != SPLIT_ALIASES[name]:
                raise SignBindInputError(f"--splits {path}: {video_id!r} is listed in two splits")
            split_of[video_id] = SPLIT_ALIASES[name]
    return split_of


def read_subtitled(
    videos: Path, captions: Path, split_of: Callable[[str], str | None], listed: Collection[str] = ()
) -> Iterator[Candidate | Skip]:
    """One candidate per cue of every subtitle file; a video's cues are skipped when ``split_of`` gives None.

    ``listed``: the video ids a split file names; each one without a subtitle file is counted (``missing_subtitles``,
    once per video: it has no cues to count).
    """
    if not videos.is_dir():
        raise SignBindInputError(f"--videos {videos}: not a folder")
    tracks = subtitle_files(captions)
    for video_id in sorted(set(listed) - set(tracks)):
        yield Skip(MISSING_SUBTITLES, video_id, f"no {video_id}.vtt in {captions}")
    for video_id, subtitles in tracks.items():
        video = find_video(videos, video_id)
        split = split_of(video_id)
        for index, cue in enumerate(read_cues(subtitles)):
            where = f"{subtitles.name}:{cue.line}"
            if isinstance(cue, BadCue):
                yield Skip(MALFORMED_ROW, where, cue.detail)
            elif (bad := undecodable_byte([cue.text])) is not None:
                yield Skip(NOT_UTF8, where, f"byte 0x{bad:02X} is not UTF-8 (save as UTF-8)")
            elif split is None:
                yield Skip(NOT_IN_SPLITS, where, video_id)
            elif not video.exists():
                yield Skip(MISSING_VIDEO, where, str(video))
            else:
                yield Candidate(
                    id=f"{video_id}-{index:05d}", video=video, sentence=cue.text, split=split, root=videos,
                    start=cue.start, end=cue.end,
                )  # fmt: skip


__all__ = ["SPLITS", "read_split_file", "read_subtitled", "subtitle_files"]
