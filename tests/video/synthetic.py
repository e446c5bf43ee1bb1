"""Tiny generated videos whose frames say which source frame they are.

Each frame carries its index as an 8-bit code: a 2 × 4 grid of blocks, block ``b`` coloured when bit ``b`` of the
index is set and black otherwise. Blocks are large and pure-coloured, so the code survives lossy codecs, chroma
subsampling, GIF palettes and downscaling; reading the red channel also catches swapped RGB/BGR channels.
"""

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

RED = (255, 0, 0)
WHITE = (255, 255, 255)
_ROWS, _COLUMNS = 2, 4
MAX_CODE = 2 ** (_ROWS * _COLUMNS) - 1


def coded_frame(index: int, width: int, height: int, colour: tuple[int, int, int] = RED) -> np.ndarray:
    """An (height, width, 3) uint8 RGB frame showing ``index`` (0-255) as coloured blocks."""
    if not 0 <= index <= MAX_CODE:
        raise ValueError(f"index must be in [0, {MAX_CODE}], got {index}")
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    for bit in range(_ROWS * _COLUMNS):
        if index >> bit & 1:
            rows, columns = _block(bit, width, height)
            frame[rows, columns] = colour
    return frame


def read_code(frame: np.ndarray) -> int:
    """The index shown by a (H, W, 3) RGB frame made by :func:`coded_frame` (after any codec and resizing)."""
    height, width = frame.shape[:2]
    code = 0
    for bit in range(_ROWS * _COLUMNS):
        rows, columns = _block(bit, width, height, inner=True)
        if frame[rows, columns, 0].mean() > 128:
            code |= 1 << bit
    return code


def read_codes(frames: np.ndarray) -> list[int]:
    return [read_code(frame) for frame in frames]


def _block(bit: int, width: int, height: int, *, inner: bool = False) -> tuple[slice, slice]:
    row, column = divmod(bit, _COLUMNS)
    top, bottom = row * height // _ROWS, (row + 1) * height // _ROWS
    left, right = column * width // _COLUMNS, (column + 1) * width // _COLUMNS
    if inner:  # the middle half of the block, away from edges blurred by the codec or the resize
        top, bottom = top + (bottom - top) // 4, bottom - (bottom - top) // 4
        left, right = left + (right - left) // 4, right - (right - left) // 4
    return slice(top, max(bottom, top + 1)), slice(left, max(right, left + 1))


def write_video(
    path: Path,
    *,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    width: int = 64,
    height: int = 48,
    num_frames: int = 30,
    fps: int = 25,
    times: Sequence[float] | None = None,
    codes: Sequence[int] | None = None,
    colour: tuple[int, int, int] = RED,
    input_format: str = "rgb24",
    container_format: str | None = None,
    container_options: dict[str, str] | None = None,
    codec_options: dict[str, str] | None = None,
    rotation: int | None = None,
) -> Path:
    """Encode frames showing ``codes`` (default 0, 1, 2, ...) with PyAV and return ``path``.

    ``times`` (seconds, one per frame) gives a variable frame rate; otherwise frames are ``1 / fps`` apart.
    ``input_format`` is the pixel format handed to the encoder: rgb24, gray, gray16le, rgba or rgb48le.
    """
    if times is not None:
        num_frames = len(times)
    codes = list(range(num_frames)) if codes is None else list(codes)
    with av.open(str(path), "w", format=container_format, options=container_options or {}) as container:
        stream = container.add_stream(codec, rate=fps, options=codec_options or {})
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        if times is not None:
            stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for position, code in enumerate(codes):
            frame = av.VideoFrame.from_ndarray(
                _as_input_format(coded_frame(code, width, height, colour), input_format), format=input_format
            )
            if times is not None:
                frame.pts, frame.time_base = round(times[position] * 1000), Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def _as_input_format(rgb: np.ndarray, input_format: str) -> np.ndarray:
    if input_format == "rgb24":
        return rgb
    if input_format == "gray":
        return rgb.max(axis=2)
    if input_format == "gray16le":
        return rgb.max(axis=2).astype(np.uint16) * 257
    if input_format == "rgba":
        return np.concatenate([rgb, np.full((*rgb.shape[:2], 1), 128, dtype=np.uint8)], axis=2)
    if input_format == "rgb48le":
        return rgb.astype(np.uint16) * 257
    raise ValueError(f"unsupported input_format {input_format}")


def ffmpeg_fps_codes(path: Path, fps: float) -> list[int]:
    """Codes of the frames FFmpeg's own ``fps`` filter outputs for ``path``: the reference for resampling."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        graph = av.filter.Graph()
        source = graph.add_buffer(template=stream)
        resample = graph.add("fps", f"fps={fps}")
        sink = graph.add("buffersink")
        source.link_to(resample)
        resample.link_to(sink)
        graph.configure()
        codes: list[int] = []

        def drain() -> None:
            while True:
                try:
                    codes.append(read_code(graph.pull().to_ndarray(format="rgb24")))
                except (av.BlockingIOError, av.EOFError):
                    return

        for frame in container.decode(stream):
            graph.push(frame)
            drain()
        graph.push(None)
        drain()
    return codes


def write_garbage_h264(path: Path, num_packets: int = 20) -> Path:
    """A valid MP4 container whose H.264 packets are random bytes: opens fine, decodes to nothing."""
    rng = np.random.default_rng(1)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("h264", rate=25)
        stream.width, stream.height = 64, 48
        for index in range(num_packets):
            packet = av.Packet(rng.bytes(300))
            packet.stream, packet.time_base, packet.pts, packet.dts = stream, Fraction(1, 25), index, index
            packet.is_keyframe = True
            container.mux(packet)
    return path
