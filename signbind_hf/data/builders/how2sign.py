"""How2Sign (https://how2sign.github.io): the realigned per-sentence CSVs and their clips.

Inputs, as released:
- ``how2sign_realigned_{train,val,test}.csv``: TAB-separated, columns ``VIDEO_ID, VIDEO_NAME, SENTENCE_ID,
  SENTENCE_NAME, START_REALIGNED, END_REALIGNED, SENTENCE``; the split comes from the file name (val -> validation).
- a folder of clips, either the per-sentence clips ``SENTENCE_NAME.mp4`` (each row is then a whole clip) or the raw
  videos ``VIDEO_NAME.mp4``, cut by ``START_REALIGNED``/``END_REALIGNED`` seconds. A per-sentence clip wins when both
  exist. Some released timestamps run past the end of their video: those rows are skipped (``past_video_end``).
  A name that leads outside the folder (``../``, an absolute path, a symlink pointing out) is skipped
  (``outside_root``); a second row with the same ``SENTENCE_NAME`` is skipped (``duplicate``).
- optionally (``keypoints``, ``--keypoints DIR``) the released 2-D keypoints ("B-F-H 2D Keypoints clips"): OpenPose
  JSON, one folder per sentence clip, ``SENTENCE_NAME/SENTENCE_NAME_<frame:012d>_keypoints.json``, in ``DIR`` or in
  ``DIR/openpose_output/json`` (as the archives unpack). Each clip's folder is converted (``openpose``: BODY_25 and
  the hands onto MediaPipe's layout) into ``poses/SENTENCE_NAME.pose`` in the data set folder, named by the row's
  ``pose`` column. A folder that cannot be read is skipped (``unreadable_pose``), one whose frames do not last as
  long as the clip, within a frame, too (``pose_frame_mismatch``). A sentence with no folder (the release lacks a few)
  is kept with ``pose`` None and counted as ``no_keypoints``: the clip and its text still teach every stream, and
  the processor's extractor makes its keypoints. So are rows cut from raw videos: the released keypoints are the
  sentence clip's, starting at the sentence, while a row's keypoints must start at its video's first frame.

How2Sign does not name its signers per sentence: ``signer_id`` is None.
"""

import logging
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from signbind_hf.errors import SignBindInputError

from .core import (
    MALFORMED_ROW,
    OUTSIDE_ROOT,
    BadPose,
    Candidate,
    MissingKeypoints,
    Skip,
    VideoHeader,
    build_dataset,
    english_streams,
    is_inside,
    parse_seconds,
    read_text_table,
)

logger = logging.getLogger(__name__)

SOURCE = "how2sign"
COLUMNS = (
    "VIDEO_ID", "VIDEO_NAME", "SENTENCE_ID", "SENTENCE_NAME", "START_REALIGNED", "END_REALIGNED", "SENTENCE",
)  # fmt: skip
VIDEO_SUFFIX = ".mp4"
_SPLIT_IN_NAME = re.compile(r"(?:^|[_\-.])(train|val|validation|test)(?:[_\-.]|$)", re.IGNORECASE)
_SPLIT_NAMES = {"train": "train", "val": "validation", "validation": "validation", "test": "test"}
LICENSE = "cc-by-nc-4.0"
# Where the released keypoint archives (train_2D_keypoints.tar.gz, ...) put the per-sentence folders.
RELEASED_KEYPOINTS_SUBFOLDER = Path("openpose_output") / "json"


def keypoint_folders(keypoints: Path) -> Path:
    """The folder holding one OpenPose folder per sentence: ``keypoints`` or its ``openpose_output/json``."""
    if not keypoints.is_dir():
        raise SignBindInputError(
            f"--keypoints {keypoints}: not a folder (expected How2Sign's 2D keypoints: "
            "openpose_output/json/SENTENCE_NAME/ folders of OpenPose JSON files)"
        )
    unpacked = keypoints / RELEASED_KEYPOINTS_SUBFOLDER
    return unpacked if unpacked.is_dir() else keypoints


@dataclass(frozen=True)
class SentenceKeypoints:
    """The released OpenPose folder of one sentence clip (a ``KeypointSource``)."""

    folder: Path
    root: Path  # the --keypoints folder it must resolve inside

    def read(self, video: VideoHeader):
        from .openpose import read_openpose_folder

        try:
            inside = is_inside(self.folder, self.root)
        except (OSError, RuntimeError) as error:
            raise SignBindInputError(f"{self.folder}: {error}") from error
        if not inside:
            raise BadPose(OUTSIDE_ROOT, f"{self.folder} resolves to {self.folder.resolve()}, outside {self.root}")
        if not self.folder.is_dir():
            raise MissingKeypoints(f"no folder {self.folder}")
        if video.fps is None or video.width is None or video.height is None:
            raise SignBindInputError(
                f"{self.folder}: the clip's container does not give its frame rate and size, which place the keypoints"
            )
        return read_openpose_folder(self.folder, fps=video.fps, width=video.width, height=video.height)


class CutFromRawVideo:
    """A row cut from a raw video (a ``KeypointSource`` with none): the released keypoints start at the sentence, the
    row's must start at its video's first frame (``core``'s module docstring)."""

    def read(self, video: VideoHeader):
        raise MissingKeypoints("cut from a raw video; the released keypoints cover the sentence clip only")


def split_of(csv_path: Path) -> str:
    """The split a How2Sign CSV holds, from its file name (``how2sign_realigned_val.csv`` -> ``validation``)."""
    found = _SPLIT_IN_NAME.findall(csv_path.stem)
    if not found:
        raise SignBindInputError(
            f"--csv {csv_path}: cannot tell the split from the file name; expected how2sign_realigned_train.csv, "
            "_val.csv or _test.csv (the released names)"
        )
    return _SPLIT_NAMES[found[-1].lower()]


def read_how2sign(
    csv_paths: Sequence[Path], videos: Path, keypoints: Path | None = None
) -> Iterator[Candidate | Skip]:
    """Candidate rows of the How2Sign CSVs, each with its clip under ``videos`` and, given ``keypoints``, its
    released keypoint folder."""
    if not videos.is_dir():
        raise SignBindInputError(f"--videos {videos}: not a folder (expected the How2Sign clips or raw videos)")
    folders = None if keypoints is None else keypoint_folders(keypoints)
    for csv_path in csv_paths:
        split = split_of(csv_path)
        for line, row in enumerate(read_text_table(csv_path, delimiter="\t", required=COLUMNS, argument="--csv"), 2):
            if isinstance(row, Skip):
                yield row
                continue
            where = f"{csv_path.name}:{line}"
            name = (row.get("SENTENCE_NAME") or "").strip()
            if not name or None in row or any(row.get(column) is None for column in COLUMNS):
                yield Skip(MALFORMED_ROW, where, "wrong number of fields")
                continue
            sentence = row["SENTENCE"] or ""
            clip = videos / f"{name}{VIDEO_SUFFIX}"
            # A SENTENCE_NAME leading outside --videos is never probed: handed on whole, it is skipped as outside_root.
            if not is_inside(clip, videos) or clip.exists():
                released = None if folders is None else SentenceKeypoints(folders / name, folders)
                yield Candidate(id=name, video=clip, sentence=sentence, split=split, root=videos, keypoints=released)
                continue
            try:
                start, end = parse_seconds(row["START_REALIGNED"]), parse_seconds(row["END_REALIGNED"])
            except ValueError as error:
                yield Skip(MALFORMED_ROW, where, f"timestamps: {error}")
                continue
            if start is None or end is None:
                yield Skip(MALFORMED_ROW, where, "empty timestamp")
                continue
            raw = videos / f"{row['VIDEO_NAME'].strip()}{VIDEO_SUFFIX}"
            yield Candidate(
                id=name,
                video=raw,
                sentence=sentence,
                split=split,
                root=videos,
                start=start,
                end=end,
                keypoints=None if folders is None else CutFromRawVideo(),
            )


def prepare_how2sign(
    csv_paths: Sequence[str | os.PathLike],
    videos: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    keypoints: str | os.PathLike | None = None,
    **kwargs,
):
    """Build How2Sign into ``out_dir``; returns the ``DatasetDict`` (report: ``PrepareReport.read(out_dir)``). See the module docstring.

    ``keypoints``: the released 2-D keypoint folders (OpenPose JSON), converted into ``out_dir/poses/``."""
    csv_paths = [Path(path) for path in csv_paths]
    inputs = {"csv": [str(path) for path in csv_paths], "videos": str(videos)}
    if keypoints is not None:
        inputs["keypoints"] = str(keypoints)
    return build_dataset(
        read_how2sign(csv_paths, Path(videos), None if keypoints is None else Path(keypoints)),
        out_dir,
        source=SOURCE,
        streams=english_streams(),
        source_info={
            "language": "en",
            "sign_language": "ase",
            "license": LICENSE,
            "inputs": inputs,
        },
        **kwargs,
    )
