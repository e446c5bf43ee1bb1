"""Frames as a camera delivers them: a video file read at its own pace, or a camera device, in a thread of its own.

``LiveSource`` decodes with PyAV and hands each frame over with its timestamp. From a file it waits until each frame's
time has come on the wall clock, so that a translator reading it must keep up as it would with a camera. Frames wait
in a queue of at most ``max_delay`` seconds of video; a frame that arrives while the queue is full is dropped and
counted (``dropped``), as a camera driver drops frames nobody reads: a translator that falls behind loses frames, it
never drifts further and further behind the signer.

A camera is a Linux video device (``/dev/video0``, read through FFmpeg's ``v4l2`` input). Its frames carry the
device's timestamps; they are delivered as they come (no pacing).
"""

import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SignBindInputError
from ..video_decoding_signbind import check_video_file, first_video_stream, import_av, open_container, stream_origin

logger = logging.getLogger(__name__)

CAMERA_PREFIX = "/dev/video"
DEFAULT_MAX_DELAY = 1.0  # seconds of video that may wait for the translator before frames are dropped


@dataclass
class LiveFrame:
    image: np.ndarray  # (H, W, 3) uint8 RGB
    timestamp: float  # seconds from the source's first frame
    delivered: float  # time.monotonic() when the source handed it over (a camera: when it was captured)


def is_camera(source: str) -> bool:
    return str(source).startswith(CAMERA_PREFIX)


class LiveSource:
    """Iterate over it for ``LiveFrame``s (see the module docstring); ``close()`` stops the reading thread.

    Raises ``SignBindInputError`` (one line naming the source) for a missing, empty or unreadable file, a folder, a
    file without a video stream, and a camera PyAV cannot open; the same messages ``signbind translate`` gives.
    """

    def __init__(self, source: str | Path, *, max_delay: float = DEFAULT_MAX_DELAY) -> None:
        self.name = str(source)
        self.camera = is_camera(self.name)
        av = import_av()
        if self.camera:
            try:
                self._container = av.open(self.name, format="v4l2")
            except (av.FFmpegError, OSError) as error:
                raise SignBindInputError(f"{self.name}: cannot open the camera ({error})") from error
        else:
            path = Path(source)
            if path.is_dir():
                raise SignBindInputError(
                    f"{path}: a folder; live translation reads a video file (at its own pace) or a camera device"
                )
            check_video_file(path)
            self._container = open_container(av, path, name=self.name)
        try:
            self._stream = first_video_stream(av, self._container, name=self.name)
        except SignBindInputError:
            self._container.close()
            raise
        self._stream.thread_type = "AUTO"
        self._origin = stream_origin(self._stream)
        rate = float(self._stream.average_rate or self._stream.guessed_rate or 25)
        self._queue: queue.Queue[LiveFrame | BaseException | None] = queue.Queue(max(1, round(max_delay * rate)))
        self._stop = threading.Event()
        self.dropped = 0  # frames dropped because the translator was behind
        self.delivered = 0  # frames handed over (dropped ones included)
        self.start_time: float | None = None  # time.monotonic() of the first frame
        self._thread: threading.Thread | None = None

    def __iter__(self) -> Iterator[LiveFrame]:
        self._thread = threading.Thread(target=self._read, name="signbind-live-source", daemon=True)
        self._thread.start()
        try:
            while (item := self._queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            while self._thread.is_alive():  # unblock a reader waiting on a full queue
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    self._thread.join(timeout=0.05)
            self._thread = None
        self._container.close()

    def __enter__(self) -> "LiveSource":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the reading thread -------------------------------------------------------------------------------------
    def _read(self) -> None:
        av = import_av()
        try:
            first: float | None = None
            for frame in self._container.decode(self._stream):
                if self._stop.is_set():
                    return
                time_base = frame.time_base or self._stream.time_base
                if frame.pts is None or not time_base:
                    raise SignBindInputError(f"{self.name}: a frame carries no timestamp; cannot read it live")
                seconds = float(frame.pts * time_base) - self._origin
                if first is None:
                    first, self.start_time = seconds, time.monotonic()
                due = self.start_time + (seconds - first)
                if not self.camera and (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)  # a file: the frame's time has not come yet
                self._hand_over(LiveFrame(frame.to_ndarray(format="rgb24"), seconds - first, time.monotonic()))
        except av.FFmpegError as error:
            self._queue.put(SignBindInputError(f"{self.name}: cannot decode the video: {error}"))
        except BaseException as error:  # handed to the consumer, which raises it
            self._queue.put(error)
        self._queue.put(None)

    def _hand_over(self, frame: LiveFrame) -> None:
        self.delivered += 1
        try:
            self._queue.put_nowait(frame)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1:
                logger.warning(
                    "%s: the translator is falling behind real time (frames waited %.1f s): dropping frames",
                    self.name,
                    self._queue.maxsize / float(self._stream.average_rate or 25),
                )
