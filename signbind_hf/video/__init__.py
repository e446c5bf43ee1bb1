"""Reading sign-language video: decoding any source, sampling frames on a time grid, backbone transforms, face crops.

``decode_video`` reads a file, bytes, a frame folder, an image list or an array into a :class:`DecodedClip`;
``pad_frames`` pads a clip for batching; ``FrameTransform`` makes backbone pixel values. Face cropping lives in
``signbind_hf.video.face`` (MediaPipe, imported on use); hand and body keypoints in ``signbind_hf.video.keypoints``
(``extract_keypoints``), their ``.pose`` files in ``signbind_hf.video.pose_files`` (``sidecar_pose_path``: a video's
``<video>.pose``), and the processor's keypoint inputs (on its frames, normalised by the shoulders) in
``signbind_hf.video.keypoint_inputs`` (``normalize_keypoints``). A ``FrameSink`` given to
``decode_video`` takes the frames as they are decoded instead (``signbind_hf.video.streaming.ClipStream`` makes the
processor's inputs that way).

The code itself lives in flat modules of ``signbind_hf`` (``video_*_signbind.py``, ``face_*_signbind.py``), because a
processor saved with ``save_pretrained`` carries its code as Hub remote code and transformers copies only flat sibling
modules, never a sub-package. This package is the import path for users: it re-exports the public names, and its
sub-module names (``signbind_hf.video.face``, ``.sampling``, ...) are the flat modules themselves (one module object
under two names, so no code is duplicated and patching either name patches both). The MediaPipe model files stay here,
in ``assets/`` (package data).
"""

import sys

from .. import (
    face_cropping_signbind,
    face_models_signbind,
    keypoint_extraction_signbind,
    keypoint_inputs_signbind,
    keypoint_layout_signbind,
    keypoint_pose_files_signbind,
    landmark_models_signbind,
    video_clip_signbind,
    video_containers_signbind,
    video_decoding_signbind,
    video_image_sequences_signbind,
    video_pixels_signbind,
    video_sampling_signbind,
    video_streaming_signbind,
    video_transforms_signbind,
)
from ..keypoint_extraction_signbind import KeypointConfig, KeypointExtractor, Keypoints, extract_keypoints
from ..keypoint_inputs_signbind import normalize_keypoints
from ..keypoint_pose_files_signbind import read_pose_file, sidecar_pose_path, write_pose_file
from ..video_clip_signbind import DecodedClip
from ..video_containers_signbind import MAX_CORRUPT_PACKET_FRACTION
from ..video_decoding_signbind import VideoSource, decode_video
from ..video_image_sequences_signbind import natural_sort_key
from ..video_pixels_signbind import MAX_FRAME_PIXELS, to_rgb_uint8
from ..video_sampling_signbind import (
    DEFAULT_MAX_FRAMES,
    DEFAULT_MAX_SHORTEST_EDGE,
    DEFAULT_MIN_FRAMES,
    DEFAULT_TARGET_FPS,
    CannotStream,
    FrameSink,
    SamplingOptions,
    pad_frames,
    uniform_indices,
)
from ..video_transforms_signbind import DEFAULT_FRAME_SIZE, DINOV2_IMAGE_MEAN, DINOV2_IMAGE_STD, FrameTransform

# signbind_hf.video.<name> -> the flat module that holds the code.
SUBMODULES = {
    "clip": video_clip_signbind,
    "containers": video_containers_signbind,
    "decoding": video_decoding_signbind,
    "face": face_cropping_signbind,
    "face_models": face_models_signbind,
    "image_sequences": video_image_sequences_signbind,
    "keypoints": keypoint_extraction_signbind,
    "keypoint_inputs": keypoint_inputs_signbind,
    "keypoint_layout": keypoint_layout_signbind,
    "pose_files": keypoint_pose_files_signbind,
    "landmark_models": landmark_models_signbind,
    "pixels": video_pixels_signbind,
    "sampling": video_sampling_signbind,
    "streaming": video_streaming_signbind,
    "transforms": video_transforms_signbind,
}
for _name, _module in SUBMODULES.items():
    sys.modules[f"{__name__}.{_name}"] = _module
    globals()[_name] = _module

__all__ = [
    "DEFAULT_FRAME_SIZE",
    "DEFAULT_MAX_FRAMES",
    "DEFAULT_MAX_SHORTEST_EDGE",
    "DEFAULT_MIN_FRAMES",
    "DEFAULT_TARGET_FPS",
    "DINOV2_IMAGE_MEAN",
    "DINOV2_IMAGE_STD",
    "MAX_CORRUPT_PACKET_FRACTION",
    "MAX_FRAME_PIXELS",
    "CannotStream",
    "DecodedClip",
    "FrameSink",
    "FrameTransform",
    "KeypointConfig",
    "KeypointExtractor",
    "Keypoints",
    "SamplingOptions",
    "VideoSource",
    "decode_video",
    "extract_keypoints",
    "natural_sort_key",
    "normalize_keypoints",
    "pad_frames",
    "read_pose_file",
    "sidecar_pose_path",
    "to_rgb_uint8",
    "uniform_indices",
    "write_pose_file",
]
