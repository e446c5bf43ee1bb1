"""Live translation: a stream of frames in, each English sentence out when its signing ends.

``StreamingTranslator`` (one class for ``signbind translate --live``, the Space's live tab and the real-time
benchmark); ``FrameGrid`` puts timestamped frames on the model's frame grid; a stream's hand and body keypoints
are found in a thread of its own (``keypoint_extraction_signbind.KeypointFollower``); ``sources.LiveSource`` reads a
video file at its own pace, as a camera delivers it, or a camera device. Not part of a saved model's remote code.
"""

from .frame_grid import FrameGrid
from .translator import DEFAULT_HOP, DEFAULT_MIN_PAUSE, LiveState, StreamingTranslator

__all__ = ["DEFAULT_HOP", "DEFAULT_MIN_PAUSE", "FrameGrid", "LiveState", "StreamingTranslator"]
