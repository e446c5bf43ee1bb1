"""StreamingTranslator: frames of a signer in as they arrive, each English sentence out as soon as its signing ends.

One class serves every live use (``signbind translate --live``, the Space's live tab, the real-time benchmark):

```python
>>> from signbind_hf.live import StreamingTranslator
>>> from signbind_hf.pipeline_signbind import translation_pipeline
>>> live = StreamingTranslator(translation_pipeline("runs/quickstart/model"))
>>> for frame, seconds in camera:  # (H, W, 3) uint8 RGB and its timestamp
...     for sentence in live.push(frame, seconds):
...         print(sentence["translation"], sentence["start"], sentence["end"])
>>> live.finish()  # the sentence still open when the stream ends
>>> live.state  # running pseudo-gloss, the router's decision on the newest frame, the open window
```

A sentence is the pipeline's result for its part of the stream (``translation``, ``refined``, ``pseudo_gloss``,
``fingerspelling``, ``phonemes``, ``segments``, ``gate``, ``start``, ``end``, ``duration``, ``num_frames``,
``face_frames``, ``fps``; seconds from the stream's first frame) and: ``read_end`` (the model read the window up to
there for the text: the pause past ``end`` included), ``emitted_at`` (seconds of video seen when it was returned) and
``timing`` (``model_and_decoding``, ``refiner``: seconds of compute spent finishing it).

How. Frames go on the model's time grid (``FrameGrid``: the offline decoder's rule). Each grid frame is added to the
open window's ``ClipStream`` (the processor's own: backbone frame at once, face crop from its ``FaceTrack`` thread) and
to one ``KeypointTrack`` that follows the hands and body for the whole stream in a thread of its own
(``KeypointFollower``), or its keypoints are looked up in given ones (a video's sidecar ``.pose``). Every ``hop``
seconds of video the model runs on the open window (the frame backbone's and lip ViT's results on frames it has already
read are kept, ``WindowEncoderCache``: each frame is encoded once, the layers across frames run on the whole window):
its router labels each frame sign / fingerspelling / rest. When the window holds signing followed by a run of rest at
least ``min_pause`` long, the window is cut in the middle of that run (``segments.choose_cut``, the rule the offline
pipeline cuts long videos with): the face track is finished, the model runs once more on the whole window, frames
before the cut are decoded (``SignBindTranslationPipeline._decode_part``) and refined by the LLM refiner, and the
sentence is returned. The next window starts at the cut, with the frames past it added again, as the offline pipeline
reads them twice. A window that reaches the processor's ``max_frames`` without a pause is cut as the offline pipeline
cuts it; a window of rest only is trimmed to its last ``min_pause`` without a sentence.

Memory is bounded for an endless stream: one window (at most ``max_frames`` frames of model inputs, the
``ClipStream``'s few dozen full-resolution frames, the encoders' kept results: a vector a frame), a ring of the last
full-resolution frames to add again after a cut, a ring of keypoint rows, and the keypoint track hands out and forgets
its finished rows (``KeypointTrack.take_finished``). Nothing grows with the length of the stream.

Compared with the offline pipeline on the same video (``tests/live/test_translator.py``): each window's model inputs
are those the processor makes of that span of the video (same grid frames, same face track from the window's start,
same keypoints), the model reads the window up to the newest frame whose keypoints are final, and decoding, beam
search and the refiner are the pipeline's. Sentences may differ where: (1) the live translator cuts at a pause the
offline pipeline reads through (a clip shorter than ``max_frames`` is one offline window; live, a long enough pause
inside it ends a sentence); (2) the fusion transformer attends over the whole window, which live ends a fraction of a
second after the cut rather than at the video's end; (3) hand and body tracking continue across windows live, while
offline restarts them per window (MediaPipe's tracking state); (4) frames are shrunk (``max_shortest_edge``) with
OpenCV instead of FFmpeg's scaler, which differs by a grey level here and there on videos larger than that; (5) the
encoders' kept results were computed in batches of other sizes than offline, which rounds differently in the last bits.
"""

import copy
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..constants import (
    ATTENTION_MASK,
    FACE_ATTENTION_MASK,
    FACE_PIXEL_VALUES,
    KEYPOINT_MASK,
    KEYPOINTS,
    PIXEL_VALUES,
    SEGMENT_NAMES,
    SEGMENT_REST,
)
from ..errors import SignBindInputError
from ..keypoint_extraction_signbind import KeypointFollower
from ..keypoints_signbind import NUM_KEYPOINTS, Keypoints, flat_points, keypoints_at, normalize_keypoints
from ..pipeline_signbind import DEFAULT_OVERLAP, SignBindTranslationPipeline
from ..segments import choose_cut, label_runs, mean_per_run, time_segments
from ..video_frames_signbind import FrameSizer
from ..video_transforms_signbind import BufferPool, ClipStream, StreamSnapshot
from .encoder_cache import WindowEncoderCache
from .frame_grid import FrameGrid

logger = logging.getLogger(__name__)

DEFAULT_MIN_PAUSE = 0.4  # seconds of rest that end a sentence: SynthSign's pauses between signs are <= 0.2 s
DEFAULT_HOP = 0.2  # seconds of video between two runs of the model on the open window
# The model re-reads the whole open window at each run, so its cost grows with the window: runs are spaced by at least
# this fraction of the window, which keeps the model's work per second of video bounded whatever the window's length.
HOP_FRACTION_OF_WINDOW = 0.1
STREAM_NAME = "the live stream"


@dataclass
class LiveState:
    """What the translator sees now (for a live display)."""

    time: float  # seconds of video on the grid so far
    window_start: float  # where the open window (the sentence being signed) starts, seconds
    route: str | None  # the router's decision on the newest frame the model read: sign / fingerspelling / rest
    pseudo_gloss: str  # greedy pseudo-gloss of the open window so far
    sentences: int  # sentences emitted so far


class StreamingTranslator:
    """Translates a stream of frames sentence by sentence (see the module docstring).

    Threads: the model runs on the caller's thread beside the face and keypoint threads. On a small CPU set
    ``torch.set_num_threads(1)`` (``signbind translate --live`` does): torch's OpenMP threads waiting for a core that
    the video threads hold slow a small model down many times (``benchmarks/RESULTS.md``).

    Args:
        translator: a ``SignBindTranslationPipeline`` (``translation_pipeline(model_dir)``): its model, processor,
            decoding and refiner are used as they are.
        min_pause: seconds of rest after signing that end a sentence.
        hop: seconds of video between two runs of the model on the open window (at least
            ``HOP_FRACTION_OF_WINDOW`` of the window).
        beam_width: CTC beam width of a sentence's decoding; default the model's ``config.ctc_beam_width``.
        keypoints: the stream's hand and body keypoints when known beforehand (a video's ``.pose`` file, as the
            processor reads a sidecar), looked up by time; default: extracted from the frames as they come.
        overlap: fraction of a full window searched for its cut (the pipeline's ``overlap``).
    """

    def __init__(
        self,
        translator: SignBindTranslationPipeline,
        *,
        min_pause: float = DEFAULT_MIN_PAUSE,
        hop: float = DEFAULT_HOP,
        beam_width: int | None = None,
        keypoints: Keypoints | None = None,
        overlap: float = DEFAULT_OVERLAP,
    ) -> None:
        for name, value in (("min_pause", min_pause), ("hop", hop)):
            if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
                raise SignBindInputError(f"{name} must be a positive number of seconds; got {value!r}")
        if not isinstance(overlap, int | float) or not 0 < overlap < 1:
            raise SignBindInputError(f"overlap must be a fraction of a window in (0, 1); got {overlap!r}")
        if translator.processor.video_processor.face_cropper == "boxes":
            raise SignBindInputError(
                "the model's processor crops faces from given boxes (face_cropper='boxes'), which a live stream does "
                "not have; load it with a face detector, e.g. SignBindProcessor.from_pretrained(dir, "
                "face_cropper='mediapipe')"
            )
        if keypoints is not None and not isinstance(keypoints, Keypoints):
            raise SignBindInputError(f"keypoints must be a Keypoints (read_pose_file); got {type(keypoints).__name__}")
        self.translator = translator
        # A copy of the video processor: its own face detector and hand and body models (built on first use), so
        # that several live streams (visitors of the Space) and the pipeline itself never share a MediaPipe graph.
        video = copy.copy(translator.processor.video_processor)
        video._buffers = BufferPool()
        self._video = video
        self.fps = float(video.target_fps)
        self.window_frames = int(video.max_frames)
        self.search_start = max(1, self.window_frames - round(overlap * self.window_frames))
        self.min_pause_frames = max(1, round(min_pause * self.fps))
        self.hop_frames = max(1, round(hop * self.fps))
        self.beam_width = beam_width
        self._sizer = FrameSizer(max_shortest_edge=video.max_shortest_edge, clip_name=STREAM_NAME)
        self._grid = FrameGrid(self.fps)
        self._cropper = video.get_face_cropper(False) if video.face_cropper is not None else None
        self._buffers = BufferPool()
        # Keypoints: given (looked up by time), extracted (one track for the whole stream), or none (all masked).
        self._given_keypoints = keypoints if video.keypoints else None
        self._keypoint_follower: KeypointFollower | None = None
        if video.keypoints and keypoints is None and video.keypoint_extractor is not None:
            track = video.get_keypoint_extractor().track(self.fps)
            self._keypoint_follower = KeypointFollower(
                track, self._store_found_keypoints, name="signbind-live-keypoints"
            )
        # Rings indexed by grid row modulo their length. Keypoint rows: a whole window plus the track's lag.
        self._keypoint_ring_rows = self.window_frames + 64
        self._points = np.zeros((self._keypoint_ring_rows, NUM_KEYPOINTS, 2), dtype=np.float32)
        self._confidence = np.zeros((self._keypoint_ring_rows, NUM_KEYPOINTS), dtype=np.float32)
        self._keypoint_size: tuple[int, int] | None = None  # (width, height) of the frames the points are in
        self._keypoint_rows = 0  # rows whose keypoints are final
        # Full-resolution frames added again to the next window after a cut: at most the part of a full window past
        # its cut, or half a pause as long as min_pause plus a run's spacing; and the frames whose keypoints lag.
        spacing = max(self.hop_frames, math.ceil(HOP_FRACTION_OF_WINDOW * self.window_frames))
        self._frame_ring_rows = max(self.window_frames - self.search_start, self.min_pause_frames + spacing) + 32
        self._frames: np.ndarray | None = None  # (ring rows, H, W, 3) uint8, allocated with the first frame
        self._source_times = np.zeros(self._frame_ring_rows, dtype=np.float64)
        # The open window: grid rows [window_start, window_start + window_added).
        self._stream: ClipStream | None = None
        self._window_start = 0
        self._window_added = 0
        self._rows_at_last_run = 0
        self._last_frame_interval: float | None = None
        self._last_timestamp: float | None = None
        self._state = LiveState(time=0.0, window_start=0.0, route=None, pseudo_gloss="", sentences=0)
        self.model_seconds = 0.0  # time spent running the model (all runs), for benchmarks
        self.model_runs = 0
        self._encoders = WindowEncoderCache(translator.model)
        self.face_frames = 0  # frames of the finished windows (up to their cuts) in which a face was found
        self._finished = False

    # --- the stream ---------------------------------------------------------------------------------------------
    @property
    def state(self) -> LiveState:
        return self._state

    def push(self, frame: Any, timestamp: float) -> list[dict[str, Any]]:
        """Take the next frame ((H, W, 3) uint8 RGB, or any image the processor reads) shown at ``timestamp`` seconds
        (any origin; increasing); return the sentences it completed (usually none)."""
        if self._finished:
            raise SignBindInputError("this StreamingTranslator has finished; start a new one for a new stream")
        if not isinstance(timestamp, int | float) or not math.isfinite(timestamp):
            raise SignBindInputError(f"timestamp must be a finite number of seconds; got {timestamp!r}")
        image = self._sizer(frame, what=f"{STREAM_NAME} (frame at {timestamp:.3f} s)")
        if image is frame:
            image = image.copy()  # held until the next frame arrives: the caller may reuse its buffer
        if self._last_timestamp is not None and timestamp > self._last_timestamp:
            self._last_frame_interval = timestamp - self._last_timestamp
        self._last_timestamp = timestamp
        sentences = []
        for row, source_time, grid_image in self._grid.push(float(timestamp), image):
            sentences += self._add(row, source_time, grid_image)
        return sentences

    def finish(self) -> list[dict[str, Any]]:
        """End of the stream: the sentence still open, if any (then the translator is closed)."""
        if self._finished:
            return []
        sentences = []
        try:
            last = self._last_frame_interval or 1 / self.fps
            for row, source_time, image in self._grid.finish(last):
                sentences += self._add(row, source_time, image)
            if self._window_added:
                sentence = self._close_window(final=True)
                sentences += [sentence] if sentence is not None else []
        finally:
            self.close()
        return sentences

    def warm_up(self) -> None:
        """Run the model and the refiner once on nothing, so that the first sentence does not pay their first-call
        costs (allocations, the refiner's generation set-up), which make a first call several times slower."""
        length = self._video.min_frames  # frames of black, every one real: the shapes a short window has
        frames = np.zeros((length, 3, self._video.frame_size, self._video.frame_size), dtype=np.float32)
        faces = face_mask = None
        if self._cropper is not None:
            faces = np.zeros((length, 3, self._video.face_size, self._video.face_size), dtype=np.float32)
            face_mask = np.zeros(length, dtype=bool)
        self._run_model(StreamSnapshot(frames, faces, face_mask), length)
        self._encoders.clear()  # what it kept of the black frames is no window's
        self.model_seconds, self.model_runs = 0.0, 0
        if self.translator.refiner is not None:
            self.translator.refiner.translate(["HELLO"])

    def close(self) -> None:
        """Stop the face and keypoint threads and the MediaPipe graphs (``finish`` does it; or call it to abandon a
        stream)."""
        self._finished = True
        if self._stream is not None:
            self._stream.__exit__(None, None, None)
            self._stream = None
        if self._keypoint_follower is not None:
            self._keypoint_follower.close()
            self._keypoint_follower = None
        self._video.close()  # this translator's face detector

    def __enter__(self) -> "StreamingTranslator":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- one grid frame -----------------------------------------------------------------------------------------
    def _add(self, row: int, source_time: float, image: np.ndarray) -> list[dict[str, Any]]:
        if self._frames is None:
            self._frames = np.empty((self._frame_ring_rows, *image.shape), dtype=np.uint8)
        slot = row % self._frame_ring_rows
        self._frames[slot] = image
        self._source_times[slot] = source_time
        self._state.time = (row + 1) / self.fps
        self._add_keypoints(row, source_time, image)
        sentences = []
        if self._window_added == self.window_frames:  # full without a pause, and the keypoints lagged: cut it now
            cut = self._full_window_cut()
            sentence = self._close_window(final=False, cut=cut, read_to=cut)
            sentences += [sentence] if sentence is not None else []
        self._add_to_window(row)
        usable = self._usable_rows()
        if usable - self._rows_at_last_run >= max(self.hop_frames, round(HOP_FRACTION_OF_WINDOW * usable)):
            sentence = self._step()
            sentences += [sentence] if sentence is not None else []
        return sentences

    def _add_to_window(self, row: int) -> None:
        if self._stream is None:
            self._stream = ClipStream(
                self._video.frame_transform,
                self._cropper,
                tuple(self._video.image_mean),
                tuple(self._video.image_std),
                buffers=self._buffers,
            )
            self._stream.begin(self.window_frames)
        self._stream.add(row - self._window_start, self._frames[row % self._frame_ring_rows])
        self._window_added += 1

    def _add_keypoints(self, row: int, source_time: float, image: np.ndarray) -> None:
        if self._given_keypoints is not None:
            points, confidence = keypoints_at(self._given_keypoints, np.array([source_time]))
            self._store_keypoints(points, confidence)
            self._keypoint_size = (self._given_keypoints.width, self._given_keypoints.height)
        elif self._keypoint_follower is not None:
            self._keypoint_follower.add(image)  # found in the follower's thread, stored by _store_found_keypoints
        else:
            self._keypoint_rows = row + 1  # no keypoints at all (a frames-only model): nothing to wait for

    def _store_found_keypoints(self, found: Keypoints) -> None:
        """Rows the keypoint follower finished (its thread): stored, then counted, so the rows counted are complete."""
        self._keypoint_size = (found.width, found.height)
        self._store_keypoints(*flat_points(found))

    def _store_keypoints(self, points: np.ndarray, confidence: np.ndarray) -> None:
        for offset in range(len(points)):
            slot = (self._keypoint_rows + offset) % self._keypoint_ring_rows
            self._points[slot], self._confidence[slot] = points[offset], confidence[offset]
        self._keypoint_rows += len(points)

    def _usable_rows(self) -> int:
        """Frames of the open window the model can read: added, with final keypoints."""
        return max(0, min(self._window_added, self._keypoint_rows - self._window_start))

    # --- the model on the open window ---------------------------------------------------------------------------
    def _step(self) -> dict[str, Any] | None:
        """Run the model on the open window; end a sentence there if the router shows signing, then a long pause."""
        usable = self._usable_rows()
        self._rows_at_last_run = usable
        outputs = self._run_model(self._stream.snapshot(), usable)
        labels = outputs["router_probs"][0, :usable].argmax(-1).numpy()  # (usable,)
        greedy = self.translator._decode_part(outputs, usable, start=0.0, fps=self.fps, beam_width=1)
        self._state.pseudo_gloss = greedy["pseudo_gloss"]
        self._state.route = SEGMENT_NAMES[int(labels[-1])]
        pause = self._pause(labels, outputs)
        if pause is None and not (labels != SEGMENT_REST).any() and usable >= 2 * self.min_pause_frames:
            cut = usable - self.min_pause_frames  # nobody signing: keep only the last pause as the next context
            pause = (cut, cut)
        if pause is None:
            return None
        return self._close_window(final=False, cut=pause[0], read_to=pause[1])

    def _pause(self, labels: np.ndarray, outputs: dict[str, Any]) -> tuple[int, int] | None:
        """``(cut, end)`` of the first run of rest at least ``min_pause`` long that follows signing: its middle, where
        the sentence ends, and its end, up to which the sentence's text is read; None without one.

        The first such run, not only one at the window's end: the router's labels near the newest frames can change
        from one run of the model to the next, and a pause it labels only once signing has resumed still ends the
        sentence before it (when the frames past its middle still fit in the ring of frames to add again).
        """
        signed = False
        for label, first, end in label_runs(labels):
            if label != SEGMENT_REST:
                signed = True
            elif signed and end - first >= self.min_pause_frames:
                rest_probability = outputs["router_probs"][0, :end, SEGMENT_REST].numpy()
                cut = choose_cut(labels[:end], rest_probability, first)  # the middle of the run
                if self._window_added - cut <= self._frame_ring_rows:
                    return cut, end
                logger.warning(
                    "a pause at %.2f s was seen too late to end a sentence there (%d frames past it); the signing "
                    "before and after it is read as one sentence",
                    (self._window_start + cut) / self.fps,
                    self._window_added - cut,
                )
        return None

    def _full_window_cut(self) -> int:
        """Where the offline pipeline cuts a full window: in the longest pause of its last ``overlap``."""
        usable = self._usable_rows()
        if usable <= self.search_start:  # the keypoints lag a whole overlap behind: cut where they end
            return max(1, usable)
        outputs = self._run_model(self._stream.snapshot(), usable)
        probabilities = outputs["router_probs"][0, :usable].numpy()  # (usable, 3)
        return choose_cut(probabilities.argmax(-1), probabilities[:, SEGMENT_REST], self.search_start)

    def _close_window(self, *, final: bool, cut: int = 0, read_to: int = 0) -> dict[str, Any] | None:
        """End the open window at ``cut`` (all of it when ``final``), its text read up to ``read_to``: the sentence
        before the cut (None when nothing was recognised there), and a new window from the cut with the frames past
        it."""
        tick = time.perf_counter()
        # The face track finishes every frame added, as offline at the end of a clip.
        finished = self._stream.finish()
        self._stream = None
        face_mask = None if finished.face_track is None else finished.face_track.face_mask
        streamed = StreamSnapshot(finished.pixel_values, finished.face_pixel_values, face_mask)
        if final and self._keypoint_follower is not None:
            self._keypoint_follower.finish()  # every row left, after the follower's thread has taken its last frame
            self._keypoint_follower = None
        usable = self._window_added if final else self._usable_rows()
        outputs = self._run_model(streamed, usable)
        if final:
            cut = read_to = usable
        else:
            labels = outputs["router_probs"][0, :usable].argmax(-1).numpy()
            # The whole window read with final face crops: take its pause if it still shows one (it usually does).
            cut, read_to = self._pause(labels, outputs) or (min(cut, usable), min(read_to, usable))
            cut = self._on_frame_stride(cut)
        start = self._window_start / self.fps
        # The text is read through the whole pause, not only up to the cut: CTC emits a sign's word a few frames
        # after the sign, often past the middle of a short pause, and offline a clip's text is read to its end. The
        # frames past the cut are rest; the next window reads them again without the sign before them.
        part = self.translator._decode_part(outputs, read_to, start=start, fps=self.fps, beam_width=self.beam_width)
        part["read_end"] = part["end"]
        if cut < read_to:
            _end_part_at(part, outputs, cut, start=start, fps=self.fps)
        self.face_frames += part["face_frames"] or 0
        decoded = time.perf_counter()
        sentence = None
        if part["pseudo_gloss"]:
            refiner = self.translator.refiner
            if refiner is None:
                part["translation"], part["refined"] = part["pseudo_gloss"], False
            else:
                (part["translation"],) = refiner.translate([part["pseudo_gloss"]])
                part["refined"] = True
            part.update(
                fps=self.fps,
                emitted_at=round(self._state.time, 6),  # seconds of video seen when the sentence was returned
                timing={
                    "model_and_decoding": round(decoded - tick, 6),
                    "refiner": round(time.perf_counter() - decoded, 6),
                },
            )
            sentence = part
            self._state.sentences += 1
        self._start_window(self._window_start + cut, final=final)
        return sentence

    def _on_frame_stride(self, cut: int) -> int:
        """``cut`` moved back to a frame the backbone reads (``backbone_frame_stride``), so that the next window's
        frames read are those already encoded and kept. At most ``stride - 1`` frames: a cut lies inside a pause at
        least ``min_pause`` long, or ends a full window's search span, where a frame earlier changes nothing read."""
        stride = self.translator.model.config.backbone_frame_stride
        return cut - cut % stride if cut > stride else cut

    def _start_window(self, first_row: int, *, final: bool) -> None:
        """The next window starts at grid row ``first_row``: the frames already seen from there are added again."""
        end = self._window_start + self._window_added
        self._encoders.start_window_at(first_row - self._window_start)
        self._window_start, self._window_added, self._rows_at_last_run = first_row, 0, 0
        self._state.window_start = first_row / self.fps
        self._state.pseudo_gloss, self._state.route = "", None
        if final:
            return
        if end - first_row > self._frame_ring_rows:  # the ring is sized for this never to happen
            raise RuntimeError(f"{end - first_row} frames past the cut, the ring holds {self._frame_ring_rows}")
        for row in range(first_row, end):
            self._add_to_window(row)

    def _run_model(self, streamed: StreamSnapshot, usable: int) -> dict[str, Any]:
        """The model's outputs (the pipeline's ``forward``) on the first ``usable`` frames of the open window, padded
        to the processor's ``min_frames`` as the processor pads a short clip."""
        tick = time.perf_counter()
        length = max(usable, self._video.min_frames)
        attention_mask = np.zeros((1, length), dtype=np.int64)
        attention_mask[0, :usable] = 1
        inputs = {ATTENTION_MASK: attention_mask, PIXEL_VALUES: _padded(streamed.pixel_values[:usable], length)}
        if streamed.face_pixel_values is not None:
            finished = min(usable, len(streamed.face_pixel_values))  # crops of frames the face track has finished
            face_mask = np.zeros((1, length), dtype=np.int64)
            face_mask[0, :finished] = streamed.face_mask[:finished]
            inputs[FACE_PIXEL_VALUES] = _padded(streamed.face_pixel_values[:finished], length)
            inputs[FACE_ATTENTION_MASK] = face_mask
        if self._video.keypoints:
            inputs[KEYPOINTS], inputs[KEYPOINT_MASK] = self._window_keypoints(usable, length)
        tensors = {name: torch.from_numpy(value) for name, value in inputs.items()}
        final_face_rows = 0 if streamed.face_pixel_values is None else finished
        with self._encoders.reading(final_face_rows):
            outputs = self.translator.forward(tensors)
        self.model_seconds += time.perf_counter() - tick
        self.model_runs += 1
        return outputs

    def _window_keypoints(self, usable: int, length: int) -> tuple[np.ndarray, np.ndarray]:
        """(1, length, 75, 2) points normalised over the window (as the processor normalises a clip) and the mask."""
        rows = (self._window_start + np.arange(usable)) % self._keypoint_ring_rows
        points = np.zeros((1, length, NUM_KEYPOINTS, 2), dtype=np.float32)
        mask = np.zeros((1, length, NUM_KEYPOINTS), dtype=np.int64)
        if self._keypoint_size is None:  # no keypoints at all yet: all masked
            return points, mask
        normalised, found = normalize_keypoints(self._points[rows], self._confidence[rows], *self._keypoint_size)
        points[0, :usable], mask[0, :usable] = normalised, found
        return points, mask


def _end_part_at(part: dict[str, Any], outputs: dict[str, Any], cut: int, *, start: float, fps: float) -> None:
    """Make a decoded part end at frame ``cut`` (its times, router segments, lip gate and counts), keeping its text."""
    labels = outputs["router_probs"][0, :cut].argmax(-1).numpy()  # (cut,)
    part["segments"] = time_segments(labels, start=start, fps=fps)
    gate = outputs.get("gate")
    part["gate"] = None if gate is None else mean_per_run(labels, gate[0, :cut].float().numpy())
    part["end"], part["duration"], part["num_frames"] = round(start + cut / fps, 6), round(cut / fps, 6), cut
    face_mask = outputs.get(FACE_ATTENTION_MASK)
    part["face_frames"] = None if face_mask is None else int(face_mask[0, :cut].sum())


def _padded(rows: np.ndarray, length: int) -> np.ndarray:
    """(1, length, ...) float32: ``rows`` then zeros (padding the attention mask hides)."""
    padded = np.zeros((1, length, *rows.shape[1:]), dtype=np.float32)
    padded[0, : len(rows)] = rows
    return padded
