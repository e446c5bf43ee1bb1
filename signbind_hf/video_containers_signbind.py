"""Streaming decode of video containers (mp4, webm, mov, avi, mkv, gif, ...) with PyAV.

Frames are decoded one at a time and handed to a :class:`~.sampling.TimeGridSampler`, which converts only the frames
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
"""

import io
import itertools
import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import SignBindInputError
from .video_clip_signbind import DecodedClip
from .video_pixels_signbind import check_frame_pixels, shrunk_size
from .video_sampling_signbind import FrameSink, SamplingOptions, TimeGridSampler, grid_step

if TYPE_CHECKING:
    import av

logger = logging.getLogger(__name__)

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


def _import_av() -> Any:
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
    av = _import_av()
    if options.source_fps is not None:
        raise SignBindInputError(
            f"{name}: fps= applies to frame folders, image lists and arrays; a video container carries its own "
            f"timestamps (got fps={options.source_fps})"
        )
    if isinstance(file, Path):
        _check_file(file)
    elif len(file) == 0:
        raise SignBindInputError(f"{name}: the video bytes are empty (0 bytes)")
    try:
        return _decode(av, file, options=options, name=name, sink=sink)
    except av.FFmpegError as error:
        raise SignBindInputError(f"{name}: cannot decode the video: {error}") from error


def _check_file(path: Path) -> None:
    if not path.exists():
        raise SignBindInputError(f"{path}: no such file")
    if not path.is_file():
        raise SignBindInputError(f"{path}: not a regular file (expected a video file or a folder of frames)")
    if path.stat().st_size == 0:
        raise SignBindInputError(f"{path}: the file is empty (0 bytes)")


def _open(av: Any, file: Path | bytes, *, name: str) -> "av.container.InputContainer":
    source = str(file) if isinstance(file, Path) else io.BytesIO(file)
    try:
        return av.open(source, mode="r", timeout=(OPEN_TIMEOUT_S, READ_TIMEOUT_S), metadata_errors="replace")
    except av.FFmpegError as error:
        raise SignBindInputError(f"{name}: cannot be opened as a video container ({error})") from error


def _video_stream(av: Any, container: "av.container.InputContainer", *, name: str) -> "av.video.stream.VideoStream":
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


def _origin(stream: "av.video.stream.VideoStream") -> float:
    """Seconds of the stream's first timestamp: user times (``start``, ``end``) count from there."""
    if stream.start_time is None or not stream.time_base:
        return 0.0
    return float(stream.start_time * stream.time_base)


def _decode(
    av: Any, file: Path | bytes, *, options: SamplingOptions, name: str, sink: FrameSink | None
) -> DecodedClip:
    container = _open(av, file, name=name)
    try:
        stream = _video_stream(av, container, name=name)
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
                container = _open(av, file, name=name)
                stream = _video_stream(av, container, name=name)
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
    target = math.floor((_origin(stream) + start) / stream.time_base)
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
    origin = _origin(stream)
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
