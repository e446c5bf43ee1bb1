"""One entry point for every kind of video a user has: :func:`decode_video`."""

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import numpy as np
from PIL import Image

from .errors import SignBindInputError
from .video_clip_signbind import DecodedClip
from .video_containers_signbind import decode_container
from .video_image_sequences_signbind import decode_frame_array, decode_frame_folder, decode_image_list, is_torch_tensor
from .video_sampling_signbind import (
    DEFAULT_MAX_FRAMES,
    DEFAULT_MAX_SHORTEST_EDGE,
    DEFAULT_TARGET_FPS,
    FrameSink,
    SamplingOptions,
)

if TYPE_CHECKING:
    import torch

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
        frame_sink: Takes each kept frame as it is decoded (:class:`~signbind_hf.video.sampling.FrameSink`), so the
            clip is never held whole; the returned clip's ``frames`` is then ``None``. Raises
            :class:`~signbind_hf.video.sampling.CannotStream` for a video whose kept frames are known only at its end.

    Returns:
        A :class:`DecodedClip` with unpadded frames; pad batches with :func:`~signbind_hf.video.sampling.pad_frames`.

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
