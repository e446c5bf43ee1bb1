"""Frames that arrive with timestamps -> frames on the model's fixed-rate time grid, as the offline decoder picks them.

The rule is the one ``video_frames_signbind.TimeGridSampler`` applies to a file (FFmpeg's ``fps`` filter,
``round=near``): each source timestamp is rounded to the nearest grid step, and grid step ``k`` shows the last source
frame rounded to a step ``<= k``. So a camera at 30 fps, a browser sending 10 frames a second, or a reader that dropped
frames all come out as one regular sequence at the model's rate (faster sources lose frames, slower ones repeat them),
and a file fed frame by frame gives the frames the offline pipeline reads. A frame is placed once the next one arrives
(until then a later frame may still round to the same step): one source frame of delay.
"""

import logging

import numpy as np

from ..video_frames_signbind import grid_step

logger = logging.getLogger(__name__)


class FrameGrid:
    """Places timestamped frames on the grid ``k / fps`` seconds (``k = 0, 1, ...``), time 0 being the first frame.

    ``push`` and ``finish`` return the ``(grid_row, source_time, image)`` of each grid step that became final; one
    source frame may fill several steps (a slower source), or none (a faster one).
    """

    def __init__(self, fps: float) -> None:
        self.fps = float(fps)
        self._origin: float | None = None  # the first frame's timestamp
        self._held: tuple[float, np.ndarray] | None = None  # the newest frame, waiting for its successor
        self._next_row = 0

    @property
    def rows(self) -> int:
        """Grid steps handed out so far."""
        return self._next_row

    def push(self, timestamp: float, image: np.ndarray) -> list[tuple[int, float, np.ndarray]]:
        if self._origin is None:
            self._origin = timestamp
        time = timestamp - self._origin
        placed = []
        if self._held is not None:
            if time <= self._held[0]:
                # Repeated or backwards timestamps: keep the first frame of a run, as the offline decoder does.
                logger.debug("frame at %.4f s does not follow %.4f s; skipped", time, self._held[0])
                return []
            placed = self._place_held(until=time)
        self._held = (time, image)
        return placed

    def finish(self, last_frame_duration: float) -> list[tuple[int, float, np.ndarray]]:
        """No more frames: the newest one is shown for ``last_frame_duration`` seconds."""
        if self._held is None:
            return []
        placed = self._place_held(until=self._held[0] + last_frame_duration)
        self._held = None
        return placed

    def _place_held(self, until: float) -> list[tuple[int, float, np.ndarray]]:
        time, image = self._held
        stop = grid_step(until, self.fps)
        placed = [(row, time, image) for row in range(self._next_row, stop)]
        self._next_row = max(self._next_row, stop)
        return placed
