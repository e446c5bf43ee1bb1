"""Encoding rendered frames as H.264 mp4 with PyAV, reproducibly.

x264 with one thread and fixed settings is deterministic: the same frames give the same bytes, so a data set
regenerated from the same seed is identical down to its video files. One thread per clip costs nothing here, since
clips are encoded in parallel by a process pool instead.
"""

from fractions import Fraction
from pathlib import Path

import numpy as np

# Near-lossless (crf 0 is lossless): the mouth is a few pixels wide and must survive compression.
DEFAULT_CRF = 16


def write_mp4(path: Path, frames: np.ndarray, *, fps: int, crf: int = DEFAULT_CRF) -> None:
    """Write (T, H, W, 3) uint8 RGB ``frames`` to ``path`` as H.264 (yuv420p) at ``fps`` frames per second."""
    import av

    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"{path}: expected (T, H, W, 3) uint8 RGB frames, got {frames.shape} {frames.dtype}")
    height, width = frames.shape[1:3]
    if height % 2 or width % 2:  # yuv420p halves the chroma planes
        raise ValueError(f"{path}: H.264 in yuv420p needs an even width and height, got {width}x{height}")
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.thread_count = 1
        stream.options = {"crf": str(crf), "preset": "veryfast", "threads": "1"}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode(None))
