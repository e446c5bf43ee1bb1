"""One entry point for every kind of video a user has: :func:`decode_video`, which returns a ``DecodedClip``.

Containers (mp4, webm, mov, avi, mkv, gif, ...; ``decode_container``) are decoded as a stream with PyAV. Frames are
decoded one at a time and handed to a :class:`~.video_frames_signbind.TimeGridSampler`, which converts only the frames
it keeps (FFmpeg's swscale converts any pixel format to RGB and shrinks them in the same pass). Nothing is collected
per decoded frame, so memory does not grow with the length of the video. With ``start`` the container seeks to the
keyframe before it and decoding stops at ``end``.

Garbage input must fail fast, never hang: opening and reading are bounded by a timeout, and a video stream that keeps
yielding packets but no picture, or stops making progress, is rejected. Frames over ``MAX_FRAME_PIXELS`` are refused
from the stream's header, before any is decoded.

Damaged input costs only what is damaged: a packet the decoder rejects is counted and skipped (the frames around it
still decode), and the clip is refused as corrupt only when more than ``MAX_CORRUPT_PACKET_FRACTION`` of the packets
read were bad. The duration a container reports is never trusted to end decoding: a header that understates the
length still gives every frame.

Image sequences, clips given as separate images (a folder of frame files, a list of images, or a (T, H, W, C) array
or tensor: ``decode_frame_folder``, ``decode_image_list``, ``decode_frame_array``), carry no timestamps: frame ``i`` is shown at ``i / fps`` seconds, where ``fps`` is the rate the frames were
extracted at (``SamplingOptions.source_fps``; by default the target rate, i.e. already resampled). Only the frames
that are kept are opened or converted, so a folder of 10,000 JPEGs costs the time and memory of the frames kept.
"""

import io
import itertools
import logging
import math
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import SignBindInputError
from .video_frames_signbind import (
    DEFAULT_MAX_FRAMES,
    DEFAULT_MAX_SHORTEST_EDGE,
    DEFAULT_TARGET_FPS,
    MAX_FRAME_PIXELS,
    DecodedClip,
    FrameSink,
    FrameSizer,
    SamplingOptions,
    TimeGridSampler,
    check_frame_pixels,
    grid_step,
    shrunk_size,
)

if TYPE_CHECKING:
    import av
    import torch

logger = logging.getLogger(__name__)


VideoSource: TypeAlias = (
    "str | os.PathLike[str] | bytes | bytearray | memoryview | np.ndarray | torch.Tensor | "
    "Sequence[Image.Image | np.ndarray]"
)


def decode_video(
    source: VideoSource,
    *,
    target_fps: float = DEFAULT_TARGET_FPS,
    start: float | None = None,
    end: float | None = None,
    max_frames: int = DEFAULT_MAX_FRAMES,
    fps: float | None = None,
    max_shortest_edge: int | None = DEFAULT_MAX_SHORTEST_EDGE,
    name: str | None = None,
    frame_sink: FrameSink | None = None,
) -> DecodedClip:
    """Read a clip and resample it to ``target_fps``, keeping at most ``max_frames`` frames (evenly spaced).

    Args:
        source: A video file path (any container FFmpeg reads: mp4, webm, mov, avi, mkv, gif, ...), the bytes of
            such a file, a folder of frame images (read in natural file-name order: ``9.jpg`` before ``10.jpg``), a
            list of PIL images or (H, W[, C]) arrays, or a (T, H, W[, C]) numpy array or torch tensor (uint8,
            uint16, or floats in [0, 1]; 1, 3 or 4 channels).
        target_fps: Rate of the returned frames (frames are picked by timestamp, so variable frame rates work).
        start: First second to read, from the first video frame; containers seek there instead of decoding from 0.
        end: Second to stop at (exclusive); ``None`` reads to the end.
        max_frames: Most frames to return: longer windows are subsampled uniformly and ``was_subsampled`` is set.
        fps: Frame rate of frame folders, image lists and arrays (they have no timestamps); default ``target_fps``.
            Not allowed for video files, which carry their own timestamps.
        max_shortest_edge: Frames are shrunk while decoding so that their shortest edge is at most this many pixels
            (``None`` keeps the decoded size); this bounds memory for 4K video.
        name: How to name the source in errors and logs (default: the path, or a description of the argument).
        frame_sink: Takes each kept frame as it is decoded (:class:`~.video_frames_signbind.FrameSink`), so the
            clip is never held whole; the returned clip's ``frames`` is then ``None``. Raises
            :class:`~.video_frames_signbind.CannotStream` for a video whose kept frames are known only at its end.

    Returns:
        A :class:`DecodedClip` with unpadded frames; pad batches with :func:`pad_frames`.

    Raises:
        SignBindInputError: The source is missing, empty, corrupt, has no video or no decodable frame, or the
            arguments are invalid (``end <= start``, ``start`` past the end, ...). The message names the source.
            Frames over ``MAX_FRAME_PIXELS`` (8K UHD) are refused from their header, before they are decoded; a
            video with more than ``MAX_CORRUPT_PACKET_FRACTION`` of bad packets is refused as corrupt (fewer are
            skipped and counted in ``corrupt_packets``). A single (H, W, C) image array is refused: pass ``[image]``.
    """
    options = SamplingOptions(
        target_fps=target_fps,
        start=0.0 if start is None else start,
        end=end,
        max_frames=max_frames,
        max_shortest_edge=max_shortest_edge,
        source_fps=fps,
    )
    if isinstance(source, str | os.PathLike):
        if os.fspath(source) == "":  # Path("") is ".": an empty argument would read the current folder as frames
            raise SignBindInputError(f"{name or 'source'}: the path is empty; expected a video file or a frame folder")
        path = Path(source)
        if path.is_dir():
            return decode_frame_folder(path, options=options, name=name, sink=frame_sink)
        return decode_container(path, options=options, name=name or str(path), sink=frame_sink)
    if isinstance(source, bytes | bytearray | memoryview):
        return decode_container(bytes(source), options=options, name=name or "<video bytes>", sink=frame_sink)
    if isinstance(source, np.ndarray) or is_torch_tensor(source):
        return decode_frame_array(source, options=options, name=name or "<frame array>", sink=frame_sink)
    if isinstance(source, Sequence):
        return decode_image_list(source, options=options, name=name or "<frame list>", sink=frame_sink)
    raise SignBindInputError(
        f"{name or 'source'}: expected a video path, the bytes of a video file, a folder of frames, a list of PIL "
        f"images or a (T, H, W, 3) array; got {type(source).__name__}"
    )


# --- containers (PyAV) -----------------------------------------------------------------------------------------------


# Seconds av.open may spend probing, and one read may block for (a stalled network mount, a pipe), before giving up.
OPEN_TIMEOUT_S = 20.0
READ_TIMEOUT_S = 20.0
# A decoder holds back at most a few dozen packets (B-frame reordering, frame threads) before its first picture;
# hundreds of packets without one means the stream is not decodable video.
MAX_PACKETS_WITHOUT_FRAME = 500
# Longest stretch of wall-clock time decoding may go without producing a frame before it is treated as hung.
STALL_TIMEOUT_S = 60.0
# Above this fraction of bad packets (among those read) a clip is refused as corrupt: what is left would be frozen or
# smeared frames between the good ones, and a translation of it would be noise. One bad packet in a long video (a
# scratched download) costs a fraction of a second around it instead of the whole video.
MAX_CORRUPT_PACKET_FRACTION = 0.1
# A decoded video that ends this much (and 5 %) before the duration its container reports is reported as truncated.
_TRUNCATION_WARNING_S = 0.2


@dataclass
class _PacketCounts:
    """Packets of the video stream read, and those the demuxer or the decoder rejected."""

    read: int = 0
    corrupt: int = 0

    def too_corrupt(self) -> bool:
        return self.corrupt > MAX_CORRUPT_PACKET_FRACTION * self.read

    def describe(self) -> str:
        return f"{self.corrupt} of {self.read} packets of the video stream could not be decoded"


@dataclass(frozen=True)
class _TimedFrame:
    time: float  # seconds from the first video frame
    duration: float | None  # seconds the frame is shown, when the container says
    frame: "av.VideoFrame"
    counted: bool  # True when the time was counted from the previous frame (no timestamp), not read from the frame


def import_av() -> Any:
    """The ``av`` module (PyAV), or an ImportError saying which extra installs it."""
    try:
        import av
    except ImportError as error:  # av is an optional dependency (the `video` extra)
        raise ImportError(
            "decoding video files needs PyAV: pip install 'signbind-hf[video]' (or pip install av)"
        ) from error
    return av


def decode_container(
    file: Path | bytes, *, options: SamplingOptions, name: str, sink: FrameSink | None = None
) -> DecodedClip:
    """Decode a video file (a path, or the file's bytes) into a :class:`DecodedClip` on ``options``' time grid (its
    frames handed to ``sink`` as they are decoded, when given)."""
    av = import_av()
    if options.source_fps is not None:
        raise SignBindInputError(
            f"{name}: fps= applies to frame folders, image lists and arrays; a video container carries its own "
            f"timestamps (got fps={options.source_fps})"
        )
    if isinstance(file, Path):
        check_video_file(file)
    elif len(file) == 0:
        raise SignBindInputError(f"{name}: the video bytes are empty (0 bytes)")
    try:
        return _decode(av, file, options=options, name=name, sink=sink)
    except av.FFmpegError as error:
        raise SignBindInputError(f"{name}: cannot decode the video: {error}") from error


def check_video_file(path: Path) -> None:
    """Refuse a missing, non-regular or empty file with a message naming it, before PyAV reads it."""
    if not path.exists():
        raise SignBindInputError(f"{path}: no such file")
    if not path.is_file():
        raise SignBindInputError(f"{path}: not a regular file (expected a video file or a folder of frames)")
    if path.stat().st_size == 0:
        raise SignBindInputError(f"{path}: the file is empty (0 bytes)")


def open_container(av: Any, file: Path | bytes, *, name: str) -> "av.container.InputContainer":
    """Open ``file`` for reading with bounded open and read timeouts, so that a stalled source fails, never hangs."""
    source = str(file) if isinstance(file, Path) else io.BytesIO(file)
    try:
        return av.open(source, mode="r", timeout=(OPEN_TIMEOUT_S, READ_TIMEOUT_S), metadata_errors="replace")
    except av.FFmpegError as error:
        raise SignBindInputError(f"{name}: cannot be opened as a video container ({error})") from error


def first_video_stream(
    av: Any, container: "av.container.InputContainer", *, name: str
) -> "av.video.stream.VideoStream":
    """The container's first real video stream; an error naming ``name`` and the streams found when it has none."""
    for stream in container.streams.video:
        # Cover art in audio files (mp3, m4a) is a one-picture "video" stream: not a video.
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    kinds = sorted({stream.type for stream in container.streams}) or ["none"]
    raise SignBindInputError(f"{name}: the file has no video stream (streams found: {', '.join(kinds)})")


def _reported_duration(
    container: "av.container.InputContainer", stream: "av.video.stream.VideoStream"
) -> float | None:
    """Seconds of video the container claims, or None when it does not say (live WebM, raw H.264, some GIFs)."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:  # the longest stream, in microseconds
        return container.duration / 1_000_000
    if stream.frames and stream.average_rate:
        return stream.frames / float(stream.average_rate)
    return None


def stream_origin(stream: "av.video.stream.VideoStream") -> float:
    """Seconds of the stream's first timestamp: user times (``start``, ``end``) count from there."""
    if stream.start_time is None or not stream.time_base:
        return 0.0
    return float(stream.start_time * stream.time_base)


def _decode(
    av: Any, file: Path | bytes, *, options: SamplingOptions, name: str, sink: FrameSink | None
) -> DecodedClip:
    container = open_container(av, file, name=name)
    try:
        stream = first_video_stream(av, container, name=name)
        _check_coded_size(stream, name=name)
        # Only a plan for which frames to keep: a start past it is checked against the frames actually decoded, since
        # a header may understate the length (a stream cut and remuxed, a recorder that crashed before the end).
        reported = _reported_duration(container, stream)
        counts = _PacketCounts()
        source_fps = float(stream.average_rate or stream.guessed_rate or 0) or None
        frames: Iterator[_TimedFrame] | None = None
        first: _TimedFrame | None = None
        if options.start > 0:
            if _seek(av, container, stream, options.start, name=name):
                frames = _frames_from(av, container, stream, counts, name=name)
                first = next(frames, None)
                if not _seek_landed_in_time(first, options):
                    logger.debug("%s: seeking to %.3f s landed late; decoding from the beginning", name, options.start)
                    frames = None
            if frames is None:
                # A failed or imprecise seek (or a stream without timestamps, where a seek cannot tell where it
                # landed) leaves the demuxer somewhere unknown: reopen and decode from the first frame.
                container.close()
                container = open_container(av, file, name=name)
                stream = first_video_stream(av, container, name=name)
                counts = _PacketCounts()
        if frames is None:
            frames = _frames_from(av, container, stream, counts, name=name)
            first = next(frames, None)
        if first is None:
            if counts.corrupt:
                raise SignBindInputError(f"{name}: the video is corrupt: {counts.describe()}, and no frame decoded")
            raise SignBindInputError(f"{name}: the video stream has no decodable frames")
        clip = _sample(first, frames, options=options, reported=reported, source_fps=source_fps, name=name, sink=sink)
        return _check_corruption(clip, counts, name=name)
    finally:
        container.close()


def _check_coded_size(stream: "av.video.stream.VideoStream", *, name: str) -> None:
    """Refuse a stream whose header claims frames over the pixel limit, before the decoder allocates one."""
    context = stream.codec_context  # None when FFmpeg has no decoder for the stream's codec: decoding says so
    if context is not None and context.width and context.height:
        check_frame_pixels(context.width, context.height, what=name)


def _check_corruption(clip: DecodedClip, counts: _PacketCounts, *, name: str) -> DecodedClip:
    """Refuse a clip with too many bad packets; otherwise say how many were skipped (log and ``corrupt_packets``)."""
    if counts.too_corrupt():
        raise SignBindInputError(
            f"{name}: the video is corrupt: {counts.describe()} (more than {MAX_CORRUPT_PACKET_FRACTION:.0%} allowed)"
        )
    if counts.corrupt:
        logger.warning("%s: %s; the frames around them are approximate", name, counts.describe())
    return replace(clip, corrupt_packets=counts.corrupt)


def _seek(
    av: Any,
    container: "av.container.InputContainer",
    stream: "av.video.stream.VideoStream",
    start: float,
    *,
    name: str,
) -> bool:
    """Seek to the keyframe at or before ``start`` (from which decoding is exact); False if the container cannot."""
    target = math.floor((stream_origin(stream) + start) / stream.time_base)
    try:
        container.seek(target, stream=stream, backward=True)
    except av.FFmpegError as error:
        logger.debug("%s: cannot seek (%s); decoding from the beginning", name, error)
        return False
    return True


def _seek_landed_in_time(first: _TimedFrame | None, options: SamplingOptions) -> bool:
    # Landed in time when the first frame rounds to the first grid step or before: any frame skipped by the seek would
    # have rounded to that step or earlier, and a later frame on the same step replaces it anyway.
    return first is not None and not first.counted and grid_step(first.time - options.start, options.target_fps) <= 0


def _sample(
    first: _TimedFrame,
    frames: Iterator[_TimedFrame],
    *,
    options: SamplingOptions,
    reported: float | None,
    source_fps: float | None,
    name: str,
    sink: FrameSink | None,
) -> DecodedClip:
    converter = _RGBConverter(options.max_shortest_edge)
    sampler: TimeGridSampler[_TimedFrame] = TimeGridSampler(
        options=options, expected_end=reported, load=converter, source_name=name, sink=sink
    )
    last = first
    for timed in itertools.chain([first], frames):
        last = timed
        if not sampler.push(timed.time, timed):
            break  # past `end`: stop decoding
    last_duration = last.duration or (1 / source_fps if source_fps else 1 / options.target_fps)
    sampled = sampler.finish(last_frame_duration=last_duration)
    video_end = last.time + last_duration
    if sampled.num_grid_frames == 0:
        raise SignBindInputError(f"{name}: start={options.start} s is past the end of the video ({video_end:.3f} s)")
    ended_early = options.end is None or video_end < options.end
    if reported is not None and ended_early and video_end < reported - max(_TRUNCATION_WARNING_S, 0.05 * reported):
        logger.warning(
            "%s: the video stream ends at %.3f s but the container reports %.3f s; the file may be truncated",
            name,
            video_end,
            reported,
        )
    return DecodedClip.from_sampled(
        sampled, options=options, source_fps=source_fps, source_name=name, source_size=converter.source_size
    )


def _packets(
    av: Any, container: "av.container.InputContainer", stream: "av.video.stream.VideoStream", counts: _PacketCounts
) -> Iterator["av.Packet"]:
    """The stream's packets; a demuxer error (a truncated or garbled file) ends them instead of losing the clip."""
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.FFmpegError as error:
            counts.corrupt += 1
            logger.debug(
                "reading the container failed after %d packets (%s); decoding what was read", counts.read, error
            )
            return
        counts.read += packet.size > 0  # not the empty packet that flushes the decoder at the end
        yield packet


def _decoded(av: Any, packet: "av.Packet", counts: _PacketCounts) -> list["av.VideoFrame"]:
    """The frames one packet decodes to; none for a packet the decoder rejects (counted: the next ones still decode)."""
    try:
        return packet.decode()
    except av.InvalidDataError:
        counts.corrupt += 1
        return []


def _frames_from(
    av: Any,
    container: "av.container.InputContainer",
    stream: "av.video.stream.VideoStream",
    counts: _PacketCounts,
    *,
    name: str,
) -> Iterator[_TimedFrame]:
    """Decoded frames of ``stream`` in presentation order, with their times, from the container's current position."""
    stream.thread_type = "AUTO"  # frame + slice threads: decoding every frame is the cost that remains
    origin = stream_origin(stream)
    packets_without_frame = 0
    last_progress = time.monotonic()
    previous: _TimedFrame | None = None
    for packet in _packets(av, container, stream, counts):
        decoded = _decoded(av, packet, counts)
        if not decoded:
            packets_without_frame += 1
            if packets_without_frame > MAX_PACKETS_WITHOUT_FRAME:
                raise SignBindInputError(
                    f"{name}: {packets_without_frame} packets of the video stream decoded to no picture; the stream "
                    "is corrupt or not video"
                )
            if time.monotonic() - last_progress > STALL_TIMEOUT_S:
                raise SignBindInputError(f"{name}: decoding made no progress for {STALL_TIMEOUT_S:.0f} s; giving up")
            continue
        packets_without_frame = 0
        last_progress = time.monotonic()
        for frame in decoded:
            # A stream may change size midway (the header's size was checked): each frame is held as decoded.
            check_frame_pixels(frame.width, frame.height, what=name)
            time_base = frame.time_base or stream.time_base
            duration = float(frame.duration * time_base) if frame.duration and time_base else None
            if frame.pts is not None and time_base:
                previous = _TimedFrame(float(frame.pts * time_base) - origin, duration, frame, counted=False)
            elif previous is None:  # raw elementary streams carry no timestamps: count from the first frame
                previous = _TimedFrame(0.0, duration, frame, counted=True)
            else:
                step = previous.duration or (1 / float(stream.average_rate) if stream.average_rate else None)
                if step is None:
                    raise SignBindInputError(f"{name}: frames carry neither timestamps nor a frame rate")
                previous = _TimedFrame(previous.time + step, duration, frame, counted=True)
            yield previous


class _RGBConverter:
    """Converts kept ``av.VideoFrame``s to (H, W, 3) uint8 RGB, shrunk, with the display rotation applied."""

    def __init__(self, max_shortest_edge: int | None) -> None:
        self._max_shortest_edge = max_shortest_edge
        self._size: tuple[int, int] | None = None
        self._quarter_turns = 0
        self._reformatter: Any = None
        self._reformat_options: dict[str, Any] = {"format": "rgb24", "interpolation": "AREA"}
        self.source_size: tuple[int, int] | None = None  # (width, height) as displayed, before shrinking

    def __call__(self, timed: _TimedFrame) -> np.ndarray:
        frame = timed.frame
        if self._size is None:
            import av
            from av.video.reformatter import VideoReformatter

            # One reformatter reuses one swscale context for the whole clip. Later frames take the first frame's
            # size, so a stream that changes resolution midway still stacks into one array.
            self._reformatter = VideoReformatter()
            # PyAV >= 17 splits each conversion across automatic swscale threads. One 640x480 frame is too little
            # work to share: the hand-offs cost ~10 % more CPU for the whole decode (bench_processing.py), and the
            # decoder's own frame threads keep the other cores busy meanwhile. Older PyAV converts in one thread.
            if int(av.__version__.split(".")[0]) >= 17:
                self._reformat_options["threads"] = 1
            self._size = shrunk_size(frame.width, frame.height, self._max_shortest_edge)
            # Phone videos store landscape pictures plus a display matrix; `rotation` is its counter-clockwise angle.
            # It is read once: every frame of a clip must come out in the same orientation to stack.
            self._quarter_turns = round(frame.rotation / 90) % 4
            turned = self._quarter_turns % 2 == 1
            self.source_size = (frame.height, frame.width) if turned else (frame.width, frame.height)
        width, height = self._size
        rgb = self._reformatter.reformat(frame, width=width, height=height, **self._reformat_options)
        image = rgb.to_ndarray()
        if self._quarter_turns:
            image = np.ascontiguousarray(np.rot90(image, k=self._quarter_turns))
        return image


# --- image sequences: frame folders, image lists, arrays -------------------------------------------------------------


# JPEG and PNG are what data sets ship (ChicagoFSWild: one JPEG per frame); the others cost nothing to accept.
FRAME_FILE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


def natural_sort_key(name: str) -> list[Any]:
    """Sort key that orders digit runs by value: ``9.jpg`` < ``10.jpg``, ``img2`` < ``img10``."""
    return [int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", name)]


def list_frame_files(folder: Path) -> list[Path]:
    """The frame images in ``folder`` (not its sub-folders) in natural file-name order; hidden files are ignored."""
    files = [
        path
        for path in folder.iterdir()
        if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in FRAME_FILE_SUFFIXES
    ]
    if not files:
        others = sorted(path.name for path in folder.iterdir())
        found = f"it holds {len(others)} other entries, e.g. {others[:5]}" if others else "it is empty"
        raise SignBindInputError(
            f"{folder}: a frame folder must hold image files ({', '.join(sorted(FRAME_FILE_SUFFIXES))}); {found}"
        )
    return sorted(files, key=lambda path: natural_sort_key(path.name))


def decode_frame_folder(
    folder: Path, *, options: SamplingOptions, name: str | None = None, sink: FrameSink | None = None
) -> DecodedClip:
    """Read a folder of frame images as a clip (see :func:`list_frame_files` for which files and in what order)."""
    files = list_frame_files(folder)
    name = name or str(folder)
    sizer = FrameSizer(max_shortest_edge=options.max_shortest_edge, clip_name=name)

    def load(index: int) -> np.ndarray:
        path = files[index]
        try:
            with Image.open(path) as image:  # reads the header only: the size is known, no pixel decoded yet
                check_frame_pixels(*image.size, what=str(path))
                return sizer(ImageOps.exif_transpose(image), what=str(path))
        except Image.DecompressionBombError as error:  # over twice PIL's own limit: Image.open refuses it itself
            raise SignBindInputError(
                f"{path}: the image is over the limit of {MAX_FRAME_PIXELS:,} pixels per frame ({error})"
            ) from error
        except (UnidentifiedImageError, OSError, SyntaxError) as error:  # PIL raises SyntaxError on some bad PNGs
            raise SignBindInputError(f"{path}: cannot be read as an image ({error})") from error

    return _sample_frames(len(files), load, sizer, options=options, source_name=name, sink=sink)


def decode_image_list(
    images: Sequence[Any], *, options: SamplingOptions, name: str, sink: FrameSink | None = None
) -> DecodedClip:
    """Read a list of PIL images, (H, W[, C]) arrays or tensors as a clip."""
    if len(images) == 0:
        raise SignBindInputError(f"{name}: the list of frames is empty; expected at least one image")
    sizer = FrameSizer(max_shortest_edge=options.max_shortest_edge, clip_name=name)

    def load(index: int) -> np.ndarray:
        image = images[index]
        return sizer(_frame_as_numpy(image) if is_torch_tensor(image) else image, what=f"{name}[{index}]")

    return _sample_frames(len(images), load, sizer, options=options, source_name=name, sink=sink)


def is_torch_tensor(value: Any) -> bool:
    """True for a torch tensor, checked by module name so that reading a file never imports torch."""
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def decode_frame_array(
    array: Any, *, options: SamplingOptions, name: str, sink: FrameSink | None = None
) -> DecodedClip:
    """Read a (T, H, W), (T, H, W, C) numpy array or torch tensor (C in 1-4, channels last) as a clip.

    Frames are converted one by one as they are kept, so a float or 16-bit array is never copied whole.
    """
    shape = tuple(array.shape)
    channels_last = len(shape) == 4 and shape[3] in (1, 2, 3, 4)
    if not (len(shape) == 3 or channels_last):
        hint = ""
        if len(shape) == 4 and shape[1] in (1, 3, 4):
            hint = " (this looks channels-first: permute it to (T, H, W, C))"
        raise SignBindInputError(f"{name}: expected frames shaped (T, H, W, 3) or (T, H, W), got {shape}{hint}")
    if len(shape) == 3 and shape[2] in (1, 2, 3, 4):
        # Read as (T, H, W) it would be a grey clip 1-4 pixels wide, which no camera films: it is one (H, W, C) image.
        # Refused rather than taken as one frame: signs are motion, so a still image is almost always a mistake (a
        # frame passed where its clip was meant), and a translation of it would be noise presented as a result.
        raise SignBindInputError(
            f"{name}: got shape {shape}, which is one image (H, W, C), not a clip; a clip is (T, H, W, 3) (or "
            "(T, H, W) grey). To read a single image as a one-frame clip, wrap it in a list: [image]"
        )
    if shape[0] == 0:
        raise SignBindInputError(f"{name}: the array holds no frames (shape {shape})")
    sizer = FrameSizer(max_shortest_edge=options.max_shortest_edge, clip_name=name)
    return _sample_frames(
        shape[0],
        lambda index: sizer(_frame_as_numpy(array[index]), what=f"{name}[{index}]"),
        sizer,
        options=options,
        source_name=name,
        sink=sink,
    )


def _frame_as_numpy(frame: Any) -> np.ndarray:
    if isinstance(frame, np.ndarray):
        return frame
    # A torch tensor (imported by the caller, not here): numpy has no bfloat16, so widen half floats first.
    frame = frame.detach().cpu()
    if frame.is_floating_point() and frame.element_size() < 4:
        frame = frame.float()
    return frame.numpy()


def _sample_frames(
    num_frames: int,
    load: Callable[[int], np.ndarray],
    sizer: FrameSizer,
    *,
    options: SamplingOptions,
    source_name: str,
    sink: FrameSink | None,
) -> DecodedClip:
    source_fps = options.source_fps if options.source_fps is not None else options.target_fps
    duration = num_frames / source_fps
    if options.start >= duration:
        raise SignBindInputError(
            f"{source_name}: start={options.start} s is past the end of the clip ({num_frames} frames at "
            f"{source_fps:g} fps last {duration:.3f} s)"
        )
    sampler: TimeGridSampler[int] = TimeGridSampler(
        options=options, expected_end=duration, load=load, source_name=source_name, sink=sink
    )
    for index in range(num_frames):
        if not sampler.push(index / source_fps, index):
            break
    sampled = sampler.finish(last_frame_duration=1 / source_fps)
    return DecodedClip.from_sampled(
        sampled,
        options=options,
        source_fps=float(source_fps),
        source_name=source_name,
        source_size=sizer.source_size,
    )
