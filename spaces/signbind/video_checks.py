"""Checks an upload before any model sees it: is it a video at all, and is it short enough for a shared demo?

Everything here reads the container's header, its first two packets and, when the header says nothing about the
length (browser webcam recordings in WebM often carry none), the packets' timestamps; no frame is decoded, so refusing
a 30-minute video or a renamed PDF costs milliseconds.

Example:

```python
>>> facts = check_video("examples/synthsign-test-000000.mp4", max_seconds=60)
>>> round(facts.duration_s, 1), facts.width, facts.height
(4.6, 128, 128)
```
"""

from dataclasses import dataclass
from pathlib import Path


class VideoCheckError(ValueError):
    """An upload the demo refuses; the message is meant for the person who uploaded it."""


@dataclass(frozen=True)
class VideoFacts:
    duration_s: float
    width: int
    height: int
    codec: str


def check_video(path: str | Path, *, max_seconds: float) -> VideoFacts:
    """The facts of the video at ``path``; raises ``VideoCheckError`` for non-videos, still images, over-long clips."""
    import av  # PyAV: the same FFmpeg build the model's video decoder reads with

    path = Path(path)
    name = path.name
    if not path.is_file():
        raise VideoCheckError(f"{name}: no such file was received; upload the video again")
    if path.stat().st_size == 0:
        raise VideoCheckError(f"{name}: the file is empty (0 bytes); expected a video such as an .mp4 or .webm")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError) as error:
        raise VideoCheckError(
            f"{name}: not a video file (FFmpeg cannot read it: {error.__class__.__name__}); expected a video such as "
            "an .mp4, .webm or .mov recording of a signer"
        ) from None
    with container:
        if not container.streams.video:
            raise VideoCheckError(
                f"{name}: the file has no video track (only {_stream_kinds(container)}); "
                "expected a recording of a signer"
            )
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        header_duration = _header_duration(container, stream)
        # Two packets tell a video from a still image. The packets' timestamps are read up to the limit even when the
        # header gives a duration: a header may understate the length (webcam WebM gives none), and the pipeline
        # reads every frame there is, so the header alone would let a long video past the limit. Packets are not
        # decoded: reading a minute of them costs milliseconds.
        span, last_start, packets = _packet_span(container, stream, stop_after=max_seconds)
        if packets < 2:
            raise VideoCheckError(
                f"{name}: a single still image ({codec}), not a video; upload a recording of a signer"
            )
        # A header that ends after the last packet read starts is the length; otherwise the span is (a lower bound
        # of it, when reading stopped at the limit).
        header_is_length = header_duration is not None and header_duration > last_start
        duration = header_duration if header_is_length else span
        if duration > max_seconds:
            length = _minutes_and_seconds(duration) if header_is_length else f"at least {duration:.1f} s"
            raise VideoCheckError(
                f"{name}: the video lasts {length}, longer than this demo's limit of "
                f"{_minutes_and_seconds(max_seconds)}; trim it, or translate long videos on your own machine with "
                "`signbind translate VIDEO`"
            )
        return VideoFacts(duration_s=duration, width=stream.width, height=stream.height, codec=codec)


def _header_duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # av.time_base: microseconds
    return None


def _packet_span(container, stream, *, stop_after: float) -> tuple[float, float, int]:
    """(seconds from the first packet's start to the last one's end, seconds to the last one's start, packets read)
    for ``stream``.

    Reading stops once the span passes ``stop_after``. A packet's own
    duration is not trusted (muxers fill it with the gap to the previous frame): the last one lasts one frame period.
    """
    first = last = None
    packets = 0
    for packet in container.demux(stream):
        if packet.pts is None or packet.size == 0:  # the flush packet at the end, or a packet with no timestamp
            continue
        packets += 1
        start = float(packet.pts * packet.time_base)
        first = start if first is None else min(first, start)
        last = start if last is None else max(last, start)
        if last - first > stop_after:
            break
    if first is None:
        return 0.0, 0.0, 0
    frame_period = 1 / float(stream.average_rate) if stream.average_rate else 0.0
    return last - first + frame_period, last - first, packets


def _stream_kinds(container) -> str:
    kinds = sorted({stream.type for stream in container.streams})
    return ", ".join(f"{kind} track" for kind in kinds) or "nothing readable"


def _minutes_and_seconds(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{seconds:.1f} s"
