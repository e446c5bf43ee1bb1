"""The result of reading a video: frames on a regular time grid plus where they came from."""

from dataclasses import dataclass

import numpy as np

from .video_sampling_signbind import SampledFrames, SamplingOptions


@dataclass(frozen=True)
class DecodedClip:
    """Frames of one clip resampled to ``fps``, unpadded (see :func:`~signbind_hf.video.sampling.pad_frames`).

    Attributes:
        frames: (T, H, W, 3) uint8 RGB frames, 1 <= T <= max_frames; ``None`` when they went to a ``frame_sink``
            as they were decoded (:func:`~signbind_hf.video.decode_video`).
        timestamps: (T,) float64 seconds (from the first video frame) of the grid times the frames stand for.
        source_timestamps: (T,) float64 seconds of the source frame shown at each grid time (the same source frame
            appears more than once when the source rate is below ``fps``).
        fps: Rate of the time grid. After subsampling, consecutive frames are further apart than ``1 / fps``: see
            ``was_subsampled`` and ``effective_fps``.
        source_fps: The source's nominal frame rate (the container's average rate, or the ``fps=`` given for
            frames without timestamps); ``None`` when the container does not report one.
        was_subsampled: True when the window had more than ``max_frames`` frames at ``fps`` and was thinned evenly.
        num_source_frames: Source frames whose timestamps fall in the window read.
        num_grid_frames: Frames the window has at ``fps`` before subsampling (``T`` when not subsampled).
        start: First second of the window read.
        end: End of the window read, on the grid: ``start + num_grid_frames / fps`` (the video's end when no ``end``
            was asked for, or when the video ends first).
        source_name: The file, folder or argument the clip came from, for messages and logs.
        source_size: (width, height) of the source's frames as displayed (rotation applied), before ``frames``
            were shrunk to ``max_shortest_edge``; maps coordinates given on the source (face boxes) onto ``frames``.
            ``None`` when no frame was read.
        corrupt_packets: Packets of a video container's stream that could not be read or decoded and were skipped
            (the clip is refused when there are too many: ``MAX_CORRUPT_PACKET_FRACTION``); 0 for other sources.
    """

    frames: np.ndarray | None
    timestamps: np.ndarray
    source_timestamps: np.ndarray
    fps: float
    source_fps: float | None
    was_subsampled: bool
    num_source_frames: int
    num_grid_frames: int
    start: float
    end: float
    source_name: str
    source_size: tuple[int, int] | None = None
    corrupt_packets: int = 0

    @property
    def num_frames(self) -> int:
        return len(self.timestamps)

    @property
    def effective_fps(self) -> float:
        """Frames per second of video actually covered by ``frames`` (``fps`` unless subsampled)."""
        return self.fps * self.num_frames / self.num_grid_frames

    @classmethod
    def from_sampled(
        cls,
        sampled: SampledFrames,
        *,
        options: SamplingOptions,
        source_fps: float | None,
        source_name: str,
        source_size: tuple[int, int] | None = None,
    ) -> "DecodedClip":
        return cls(
            frames=sampled.frames,
            timestamps=sampled.grid_times,
            source_timestamps=sampled.source_times,
            fps=float(options.target_fps),
            source_fps=source_fps,
            was_subsampled=sampled.was_subsampled,
            num_source_frames=sampled.num_source_frames,
            num_grid_frames=sampled.num_grid_frames,
            start=float(options.start),
            end=float(options.start + sampled.num_grid_frames / options.target_fps),
            source_name=source_name,
            source_size=source_size,
        )
