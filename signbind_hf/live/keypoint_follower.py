"""The hand and body keypoints of a live stream, found in a thread of their own while the model runs on the caller's.

MediaPipe's hand and body graphs release the GIL while they run, so on two cores the keypoints of the next frames are
found while the caller's thread runs the model and the face thread crops faces: the work of one frame is spread over
the cores instead of queueing on one (the processor's ``KeypointTee`` does the same for a clip).
"""

import queue
import threading
from collections.abc import Callable

import numpy as np

from ..keypoint_extraction_signbind import Keypoints, KeypointTrack

# Frames that may wait for the keypoint thread before ``add`` waits: memory stays bounded when it is the slowest.
MAX_PENDING_FRAMES = 8


class KeypointFollower:
    """Pushes each frame to one ``KeypointTrack`` for the whole stream and hands each batch of finished rows
    (``KeypointTrack.take_finished``) to ``on_rows``, in order, from its thread; ``finish`` hands over the rest."""

    def __init__(self, track: KeypointTrack, on_rows: Callable[[Keypoints], None]) -> None:
        self.track = track
        self._on_rows = on_rows
        self._pending: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=MAX_PENDING_FRAMES)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = threading.Thread(
            target=self._follow, name="signbind-live-keypoints", daemon=True
        )
        self._thread.start()

    def add(self, image: np.ndarray) -> None:
        """The next grid frame (not written to afterwards: the thread reads it later)."""
        self._raise_error()
        self._pending.put(image)

    def finish(self) -> None:
        """No more frames: wait for the thread, then hand over every row left (the track is then closed)."""
        self._stop()
        self._raise_error()
        rest = self.track.take_finished(final=True)
        if rest is not None:
            self._on_rows(rest)
        self.track.close()

    def close(self) -> None:
        """Stop at once (the stream is abandoned)."""
        if self._thread is not None:
            self._error = self._error or RuntimeError("closed")  # the thread drops what is still queued
            self._stop()
        self.track.close()

    def _follow(self) -> None:
        while (image := self._pending.get()) is not None:
            if self._error is not None:
                continue  # only drain the queue, so that add() never blocks on a dead thread
            try:
                self.track.push(image)
                if (finished := self.track.take_finished()) is not None:
                    self._on_rows(finished)
            except BaseException as error:  # raised in the caller's thread by the next add() or finish()
                self._error = error

    def _stop(self) -> None:
        if self._thread is not None:
            self._pending.put(None)
            self._thread.join()
            self._thread = None

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error
