"""Reading sign-language video: decoding any source, sampling frames on a time grid, backbone transforms.

``decode_video`` reads a file, bytes, a frame folder, an image list or an array into a :class:`DecodedClip`;
``pad_frames`` pads a clip for batching; ``FrameTransform`` makes backbone pixel values. Face cropping lives in
``signbind_hf.video.face`` (MediaPipe, imported on use).
"""

from .clip import DecodedClip
from .decoding import VideoSource, decode_video
from .image_sequences import natural_sort_key
from .pixels import to_rgb_uint8
from .sampling import (
    DEFAULT_MAX_FRAMES,
    DEFAULT_MAX_SHORTEST_EDGE,
    DEFAULT_MIN_FRAMES,
    DEFAULT_TARGET_FPS,
    SamplingOptions,
    pad_frames,
    uniform_indices,
)
from .transforms import DEFAULT_FRAME_SIZE, DINOV2_IMAGE_MEAN, DINOV2_IMAGE_STD, FrameTransform

__all__ = [
    "DEFAULT_FRAME_SIZE",
    "DEFAULT_MAX_FRAMES",
    "DEFAULT_MAX_SHORTEST_EDGE",
    "DEFAULT_MIN_FRAMES",
    "DEFAULT_TARGET_FPS",
    "DINOV2_IMAGE_MEAN",
    "DINOV2_IMAGE_STD",
    "DecodedClip",
    "FrameTransform",
    "SamplingOptions",
    "VideoSource",
    "decode_video",
    "natural_sort_key",
    "pad_frames",
    "to_rgb_uint8",
    "uniform_indices",
]
