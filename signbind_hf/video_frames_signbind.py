"""Decoded frames: which frames of a video are kept, how each becomes RGB pixels, and the clip they make.

Every reader of ``video_decoding_signbind`` (containers, frame folders, image lists, arrays) hands its frames to a
:class:`TimeGridSampler` and returns a :class:`DecodedClip`; what they share lives here, so that every kind of
input keeps the same frames by the same rule and arrives in one pixel format.

Sampling: frames are kept on a fixed-rate time grid, long clips subsampled uniformly, short ones padded.

A clip is resampled to ``target_fps`` by timestamps, with the rule of FFmpeg's ``fps`` filter (``round=near``): each
source timestamp is rounded to the nearest grid step ``k`` (grid time ``start + k / target_fps``), and grid step ``k``
shows the last source frame rounded to a step ``<= k``. Faster sources lose frames, slower ones repeat them, and
variable frame rates come out as one regular sequence; data sets prepared with ``ffmpeg -vf fps=25`` get the same
frames. Frames arrive one at a time from a decoder and only the frames that are kept are converted to pixels: memory
holds the kept frames and nothing that grows with the length of the video.

Longer clips than ``max_frames`` grid steps are subsampled uniformly (first and last grid frames kept). Shorter clips
are not padded here: :func:`pad_frames` pads one clip, and the processor pads a batch to its longest clip (at least
``DEFAULT_MIN_FRAMES``) so clips of different lengths batch together with an attention mask.

Pixels: any still image becomes an (H, W, 3) uint8 RGB array of a bounded size.

Frame folders, image lists and arrays arrive as grayscale, grayscale + alpha, RGB, RGBA, palette, 16-bit or float
images. They are all converted here, one frame at a time, so that the rest of the package sees one format. (Container
frames are converted by FFmpeg's swscale in ``video_decoding_signbind``, which handles every pixel format it decodes.)

Alpha is dropped (the colour channels are kept as they are, as PIL's ``convert("RGB")`` and swscale do): sign-language
frames are opaque, and compositing on an arbitrary background would invent content.
"""

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import numpy as np
from PIL import Image

from .errors import SignBindInputError

logger = logging.getLogger(__name__)


# --- pixels: any still image to bounded (H, W, 3) uint8 RGB ----------------------------------------------------------


# Most pixels one frame may have, checked from the header before a frame is decoded (image files: PIL's lazy
# Image.open; video: the stream's coded size). 8K UHD (7680 x 4320, 33 Mpx, ~100 MB as RGB) is the largest frame any
# camera records; a file claiming more is a decompression bomb or a mistake, and PIL's own limit (89 Mpx, with only a
# warning up to 179 Mpx) lets a single frame cost ~2.5 GB while it is decoded and converted.
MAX_FRAME_PIXELS = 7680 * 4320

_SIXTEEN_BIT_PIL_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
_FLOAT_TOLERANCE = 1e-3  # float frames may overshoot [0, 1] by rounding after resizing or normalising back


def check_frame_pixels(width: int, height: int, *, what: str) -> None:
    """Refuse a frame of more than :data:`MAX_FRAME_PIXELS` pixels, before anything decodes it."""
    if width * height > MAX_FRAME_PIXELS:
        raise SignBindInputError(
            f"{what}: a frame of {width}x{height} pixels is over the limit of {MAX_FRAME_PIXELS:,} pixels per frame "
            "(8K UHD, 7680x4320); scale the video or images down"
        )


def to_rgb_uint8(image: Image.Image | np.ndarray, *, what: str) -> np.ndarray:
    """Return ``image`` as a C-contiguous (H, W, 3) uint8 RGB array.

    Accepts PIL images of any mode and arrays shaped (H, W), (H, W, 1), (H, W, 2) (grey + alpha), (H, W, 3) or
    (H, W, 4) holding uint8, uint16 (scaled to 8 bits), other integers in [0, 255], bool, or floats in [0, 1].
    ``what`` names the frame in error messages (e.g. ``"frames/0007.png"`` or ``"frames[3]"``).
    """
    if isinstance(image, Image.Image):
        return _pil_to_rgb_uint8(image, what=what)
    if isinstance(image, np.ndarray):
        return _array_to_rgb_uint8(image, what=what)
    raise SignBindInputError(f"{what}: expected a PIL image or a numpy array, got {type(image).__name__}")


def _pil_to_rgb_uint8(image: Image.Image, *, what: str) -> np.ndarray:
    if image.mode in _SIXTEEN_BIT_PIL_MODES or image.mode == "F":
        # PIL's convert("RGB") clips 16-bit values at 255 instead of scaling them: go through numpy.
        array = np.asarray(image)
        if image.mode == "I":  # 32-bit container of 16-bit PNG samples
            array = np.clip(array, 0, 65535).astype(np.uint16)
        return _array_to_rgb_uint8(array, what=what)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")  # avoids PIL's warning about palette transparency; alpha is dropped next
    if image.mode != "RGB":
        image = image.convert("RGB")
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))


def _array_to_rgb_uint8(array: np.ndarray, *, what: str) -> np.ndarray:
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise SignBindInputError(
            f"{what}: expected an image shaped (H, W) or (H, W, C) with C in 1-4 channels, got shape {array.shape}"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise SignBindInputError(f"{what}: the image is empty (shape {array.shape})")
    channels = array.shape[2]
    if channels in (1, 2):  # grey (+ alpha)
        array = np.repeat(array[:, :, :1], 3, axis=2)
    elif channels == 4:  # RGBA
        array = array[:, :, :3]
    return np.ascontiguousarray(_values_to_uint8(array, what=what))


def _values_to_uint8(array: np.ndarray, *, what: str) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16:
        # Maps 0..65535 onto 0..255 exactly (65535 / 257 = 255), rounding to nearest.
        return ((array.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if np.issubdtype(array.dtype, np.integer):
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > 255:
            raise SignBindInputError(
                f"{what}: {array.dtype} pixel values must lie in [0, 255] (use uint16 for 16-bit images); "
                f"got values in [{low}, {high}]"
            )
        return array.astype(np.uint8)
    if np.issubdtype(array.dtype, np.floating):
        low, high = float(np.min(array)), float(np.max(array))
        if not (np.isfinite(low) and np.isfinite(high)) or low < -_FLOAT_TOLERANCE or high > 1 + _FLOAT_TOLERANCE:
            raise SignBindInputError(
                f"{what}: float pixel values must lie in [0, 1] (pass uint8 for 0-255 images); "
                f"got values in [{low:.4g}, {high:.4g}]"
            )
        return np.round(np.clip(array, 0.0, 1.0) * 255).astype(np.uint8)
    raise SignBindInputError(f"{what}: unsupported pixel type {array.dtype}; expected uint8, uint16, bool or float")


def shrunk_size(width: int, height: int, max_shortest_edge: int | None) -> tuple[int, int]:
    """(width, height) scaled down so that the shortest edge is at most ``max_shortest_edge``; never scaled up."""
    shortest = min(width, height)
    if max_shortest_edge is None or shortest <= max_shortest_edge:
        return width, height
    scale = max_shortest_edge / shortest
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize_rgb(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize an (H, W, 3) uint8 image to exactly (height, width); PIL's filters are antialiased when shrinking."""
    if image.shape[1] == width and image.shape[0] == height:
        return image
    resized = Image.fromarray(image).resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(resized)


def fit_rgb(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale ``image`` to cover (height, width) with its aspect ratio kept, then crop the centre to that size."""
    source_height, source_width = image.shape[:2]
    scale = max(width / source_width, height / source_height)
    scaled_width = max(width, round(source_width * scale))
    scaled_height = max(height, round(source_height * scale))
    scaled = resize_rgb(image, scaled_width, scaled_height)
    top = (scaled_height - height) // 2
    left = (scaled_width - width) // 2
    return np.ascontiguousarray(scaled[top : top + height, left : left + width])


class FrameSizer:
    """Converts the frames of one clip to RGB uint8 of one size: the first frame's, shrunk to ``max_shortest_edge``.

    Frames of another size (a frame folder mixing resolutions) are fitted to that size by :func:`fit_rgb` (no
    distortion; the borders of the longer side are cropped) and a warning names the clip once: a clip must stack
    into one (T, H, W, 3) array, and the frame backbone resizes and centre-crops every frame the same way anyway.
    """

    def __init__(self, *, max_shortest_edge: int | None, clip_name: str) -> None:
        self._max_shortest_edge = max_shortest_edge
        self._clip_name = clip_name
        self._source_size: tuple[int, int] | None = None  # (width, height) of the first frame as given
        self._size: tuple[int, int] | None = None  # (width, height) of every frame returned
        self._warned = False

    @property
    def source_size(self) -> tuple[int, int] | None:
        """(width, height) of the first frame converted, as given (before shrinking); None before any frame."""
        return self._source_size

    def __call__(self, image: Image.Image | np.ndarray, *, what: str) -> np.ndarray:
        # PIL images of a list may still be lazy (Image.open): their size is known before their pixels are decoded.
        if isinstance(image, Image.Image):
            check_frame_pixels(*image.size, what=what)
        elif isinstance(image, np.ndarray) and image.ndim >= 2:
            check_frame_pixels(image.shape[1], image.shape[0], what=what)
        rgb = to_rgb_uint8(image, what=what)
        height, width = rgb.shape[:2]
        if self._size is None or self._source_size is None:
            self._source_size = (width, height)
            self._size = shrunk_size(width, height, self._max_shortest_edge)
            return resize_rgb(rgb, *self._size)
        target_width, target_height = self._size
        first_width, first_height = self._source_size
        if width * first_height == height * first_width:  # the first frame's aspect ratio: a plain resize is exact
            return resize_rgb(rgb, target_width, target_height)
        if not self._warned:
            logger.warning(
                "%s: frames differ in size (%s is %dx%d, the clip is %dx%d); fitting each frame to the clip's size by "
                "resizing and centre-cropping",
                self._clip_name,
                what,
                width,
                height,
                target_width,
                target_height,
            )
            self._warned = True
        return fit_rgb(rgb, target_width, target_height)


# --- sampling: the time grid, uniform subsampling, padding, frame sinks ----------------------------------------------


DEFAULT_TARGET_FPS = 25.0  # the PAL broadcast rate (BOBSL is filmed at it); the paper does not state a rate
DEFAULT_MIN_FRAMES = 16  # paper (training set-up): clips of 16–512 frames; shorter ones are padded and masked
DEFAULT_MAX_FRAMES = 512  # longer ones are subsampled uniformly down to 512
# Frames are shrunk at decode time so that their shortest edge is at most this many pixels: a 4K clip then costs
# ~480×854×3 bytes per kept frame instead of ~25 MB, and a face at conversational distance is still ~100 px tall for
# the face cropper. The frame backbone resizes further (224 px in the paper preset).
DEFAULT_MAX_SHORTEST_EDGE = 480

# Float slack, in grid steps: pts × time_base lands a hair off exact multiples and halves (0.3 s × 25 = 7.4999...),
# where FFmpeg's integer arithmetic is exact.
_GRID_EPSILON = 1e-6


@dataclass(frozen=True)
class SamplingOptions:
    """How to sample one clip; validated here, once, for every kind of source.

    Args:
        target_fps: Rate of the output time grid, in frames per second.
        start: First second of the window to read, measured from the first video frame.
        end: Second at which the window ends (exclusive); ``None`` reads to the end of the video.
        max_frames: Most frames to return; longer windows are subsampled uniformly.
        max_shortest_edge: Frames are shrunk (aspect ratio kept) so that their shortest edge is at most this; ``None``
            keeps the decoded size.
        source_fps: Frame rate of sources without timestamps (frame folders, image lists, arrays); ``None`` means
            they were sampled at ``target_fps`` already.
    """

    target_fps: float = DEFAULT_TARGET_FPS
    start: float = 0.0
    end: float | None = None
    max_frames: int = DEFAULT_MAX_FRAMES
    max_shortest_edge: int | None = DEFAULT_MAX_SHORTEST_EDGE
    source_fps: float | None = None

    def __post_init__(self) -> None:
        _require_positive_number("target_fps", self.target_fps)
        if self.source_fps is not None:
            _require_positive_number("fps", self.source_fps)
        if not _is_number(self.start) or not math.isfinite(self.start) or self.start < 0:
            raise SignBindInputError(f"start must be a number of seconds >= 0; got {self.start!r}")
        if self.end is not None:
            if not _is_number(self.end) or math.isnan(self.end):
                raise SignBindInputError(f"end must be a number of seconds or None; got {self.end!r}")
            if self.end <= self.start:
                raise SignBindInputError(
                    f"end must be after start; got start={self.start!r} s and end={self.end!r} s (an empty window)"
                )
        if not _is_int(self.max_frames) or self.max_frames < 1:
            raise SignBindInputError(f"max_frames must be an integer >= 1; got {self.max_frames!r}")
        if self.max_shortest_edge is not None and (not _is_int(self.max_shortest_edge) or self.max_shortest_edge < 1):
            raise SignBindInputError(
                f"max_shortest_edge must be an integer >= 1 or None; got {self.max_shortest_edge!r}"
            )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _require_positive_number(name: str, value: object) -> None:
    if not _is_number(value) or not math.isfinite(value) or value <= 0:
        raise SignBindInputError(f"{name} must be a positive number of frames per second; got {value!r}")


def grid_length(span: float, fps: float) -> int:
    """Number of grid times ``k / fps`` (k = 0, 1, ...) strictly before ``span`` seconds."""
    if span <= 0:
        return 0
    return max(0, math.ceil(span * fps - _GRID_EPSILON))


def grid_step(span: float, fps: float) -> int:
    """The grid step nearest to ``span`` seconds; halves round up (FFmpeg's AV_ROUND_NEAR_INF for times >= 0)."""
    return math.floor(span * fps + 0.5 + _GRID_EPSILON)


def uniform_indices(num_items: int, num_keep: int) -> np.ndarray:
    """Indices of ``num_keep`` items spread evenly over ``num_items``, first and last included (all if fewer)."""
    if num_items <= num_keep:
        return np.arange(num_items)
    # The spacing (num_items - 1) / (num_keep - 1) is > 1, so rounding never produces a duplicate index.
    return np.round(np.linspace(0, num_items - 1, num_keep)).astype(np.int64)


def pad_frames(frames: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Pad ``frames`` (T, ...) with zeros along axis 0 up to ``length``; return them and a (length,) int64 mask.

    The mask is 1 for real frames and 0 for padding (the ``attention_mask`` convention). Clips longer than ``length``
    are an error: they must be subsampled (``max_frames``) when decoded, not cut here.
    """
    num_frames = frames.shape[0]
    if num_frames > length:
        raise SignBindInputError(f"cannot pad {num_frames} frames to length {length}: the clip is already longer")
    padded = np.zeros((length, *frames.shape[1:]), dtype=frames.dtype)
    padded[:num_frames] = frames
    mask = np.zeros(length, dtype=np.int64)
    mask[:num_frames] = 1
    return padded, mask


@dataclass(frozen=True)
class SampledFrames:
    """What :class:`TimeGridSampler` kept: the frames and where they came from."""

    frames: np.ndarray | None  # (T, H, W, 3) uint8, one image per kept grid time; None: they went to a FrameSink
    grid_times: np.ndarray  # (T,) float64 seconds of the grid times kept
    source_times: np.ndarray  # (T,) float64 seconds of the source frame shown at each kept grid time
    num_grid_frames: int  # frames the window has at target_fps, before subsampling
    num_source_frames: int  # source frames whose timestamps fall in the window
    was_subsampled: bool  # True when fewer frames were kept than the window has at target_fps


class FrameSink(Protocol):
    """Takes the kept frames one at a time as they are decoded, instead of the sampler collecting them.

    The sampler calls ``begin`` once with the most frames it will hand over, then ``add`` for frames 0, 1, 2, ...
    in order. ``image`` is (H, W, 3) uint8 RGB and may be reused or freed once ``add`` returns: keep a copy.
    """

    def begin(self, max_frames: int) -> None: ...

    def add(self, row: int, image: np.ndarray) -> None: ...


class CannotStream(Exception):
    """A ``FrameSink`` was given, but which frames to keep is known only at the end of this video (its container
    reports no duration, or frames run past the one it reports): decode it again without the sink."""


ItemT = TypeVar("ItemT")


class TimeGridSampler(Generic[ItemT]):
    """Picks, from frames pushed one by one in presentation order, the frames shown at the grid times to keep.

    Items are whatever the source yields (a decoded ``av.VideoFrame``, a file path, an array index); ``load`` turns an
    item into an (H, W, 3) uint8 image and is called only for items that are kept, once each.

    Which grid times to keep depends on how many there are, and a decoder tells us that only at the end. So:

    - when the window's end is known up front (the container reports a duration, or the number of images is known),
      the kept grid indices are planned once with :func:`uniform_indices`, and each kept image is copied straight
      into its row of the output array: memory holds the clip once, plus the frame being decoded;
    - when it is not (live-written WebM, raw H.264, some GIFs), every ``stride``-th grid frame is kept and, each time
      the buffer reaches ``2 * max_frames``, every other kept frame is dropped and ``stride`` doubles. Memory stays
      below ``2 * max_frames`` images for any length, the kept frames stay evenly spaced, and the final
      ``max_frames`` are taken evenly from them. (Reservoir sampling would also bound memory, but its random picks
      leave uneven gaps in time, which a CTC model reading a signed sentence cannot afford.)

    A container that under-reports its duration is caught when frames run past the planned end: sampling switches to
    the bounded scheme above rather than dropping the rest of the video.

    With a ``sink`` (:class:`FrameSink`) each kept image goes to it as soon as it is loaded, and nothing is collected:
    only the planned scheme can do that, so the sampler raises :class:`CannotStream` where it would need the bounded
    buffer (before the first frame when the end is unknown, or when frames run past it).
    """

    def __init__(
        self,
        *,
        options: SamplingOptions,
        expected_end: float | None,
        load: Callable[[ItemT], np.ndarray],
        source_name: str,
        sink: FrameSink | None = None,
    ) -> None:
        self._fps = options.target_fps
        self._start = options.start
        self._end = math.inf if options.end is None else options.end
        # grid steps in the window: those whose time is before `end`
        self._window_steps = math.inf if options.end is None else grid_length(self._end - self._start, self._fps)
        self._max_frames = options.max_frames
        self._load = load
        self._source_name = source_name
        self._expected_end = expected_end

        self._plan: np.ndarray | None = None
        self._planned_count = 0
        self._plan_position = 0
        if expected_end is not None:
            self._planned_count = grid_length(min(self._end, expected_end) - self._start, self._fps)
            self._plan = uniform_indices(self._planned_count, self._max_frames)
        self._sink = sink
        if sink is not None:
            if self._plan is None:
                raise CannotStream(f"{source_name}: the video's length is unknown until it is decoded")
            sink.begin(len(self._plan))
        self._stride = 1  # bounded-buffer mode: keep grid index k when k >= _next_wanted
        self._next_wanted = 0

        self._planned_frames: np.ndarray | None = None  # planned mode: (len(plan), H, W, 3), allocated on first keep
        self._kept_images: list[np.ndarray] = []  # bounded-buffer mode
        self._kept_grid_indices: list[int] = []
        self._kept_source_times: list[float] = []
        self._held: tuple[float, ItemT] | None = None  # the last pushed frame, waiting for its successor
        self._next_grid_index = 0  # grid times before this one already have their frame
        self._num_source_frames = 0

    def push(self, time: float, item: ItemT) -> bool:
        """Offer the next frame (``time`` in seconds); return False once later frames cannot matter."""
        if self._held is not None:
            held_time, held_item = self._held
            if time <= held_time:
                # Broken or repeated timestamps: keep the first frame of a run, as players do.
                logger.debug("%s: frame at %.4f s does not follow %.4f s; skipped", self._source_name, time, held_time)
                return True
            # The held frame is shown from its own grid step up to this frame's.
            self._assign(held_time, held_item, until=time)
        if self._start - _GRID_EPSILON / self._fps <= time < self._end:
            self._num_source_frames += 1
        self._held = (time, item)
        # Later frames round to this frame's step or later ones: none of them can matter once it is past the window.
        return grid_step(time - self._start, self._fps) < self._window_steps

    def finish(self, last_frame_duration: float) -> SampledFrames:
        """Close the stream: the last frame is shown for ``last_frame_duration`` seconds. Return what was kept."""
        if self._held is not None:
            held_time, held_item = self._held
            self._assign(held_time, held_item, until=held_time + last_frame_duration)
            self._held = None
        num_kept = len(self._kept_grid_indices)
        if self._plan is not None:  # every kept frame is in its row already (or went to the sink)
            positions = np.arange(num_kept)
            if self._sink is not None:
                frames = None
            else:
                frames = _EMPTY_FRAMES if self._planned_frames is None else self._planned_frames[:num_kept]
        else:
            positions = uniform_indices(num_kept, self._max_frames)
            selected = [self._kept_images[i] for i in positions]
            self._kept_images = []
            frames = _stack_releasing(selected)
        self._planned_frames = None
        grid_indices = np.asarray(self._kept_grid_indices, dtype=np.float64)[positions]
        return SampledFrames(
            frames=frames,
            grid_times=self._start + grid_indices / self._fps,
            source_times=np.asarray(self._kept_source_times, dtype=np.float64)[positions],
            num_grid_frames=self._next_grid_index,
            num_source_frames=self._num_source_frames,
            was_subsampled=self._next_grid_index > len(positions),
        )

    def _assign(self, time: float, item: ItemT, until: float) -> None:
        """Show the frame at ``time`` on the grid steps not yet taken that come before ``until``'s step."""
        stop = min(grid_step(until - self._start, self._fps), self._window_steps)
        image: np.ndarray | None = None
        for grid_index in range(self._next_grid_index, stop):
            if self._wants(grid_index):
                if image is None:
                    image = self._load(item)
                self._keep(grid_index, time, image)
        self._next_grid_index = max(self._next_grid_index, int(stop))

    def _wants(self, grid_index: int) -> bool:
        if self._plan is not None:
            if grid_index < self._planned_count:
                while self._plan_position < len(self._plan) and self._plan[self._plan_position] < grid_index:
                    self._plan_position += 1
                return self._plan_position < len(self._plan) and self._plan[self._plan_position] == grid_index
            self._switch_to_bounded_buffer(grid_index)
        return grid_index >= self._next_wanted

    def _switch_to_bounded_buffer(self, grid_index: int) -> None:
        if self._sink is not None:
            raise CannotStream(
                f"{self._source_name}: frames continue past the {self._expected_end:.3f} s the container reports"
            )
        logger.warning(
            "%s: the container reported %.3f s of video but frames continue past it; sampling the rest with a bounded "
            "buffer (frames stay evenly spaced to within a factor of two)",
            self._source_name,
            self._expected_end,
        )
        self._plan = None
        if self._planned_frames is not None:
            self._kept_images = list(self._planned_frames[: len(self._kept_grid_indices)])
            self._planned_frames = None
        self._stride = max(1, math.ceil(self._planned_count / self._max_frames))
        self._next_wanted = grid_index

    def _keep(self, grid_index: int, source_time: float, image: np.ndarray) -> None:
        self._kept_grid_indices.append(grid_index)
        self._kept_source_times.append(source_time)
        if self._sink is not None:
            self._sink.add(len(self._kept_grid_indices) - 1, image)
            return
        if self._plan is not None:
            # No list of frames to stack at the end, which would hold the clip twice for a moment.
            if self._planned_frames is None:
                self._planned_frames = np.empty((len(self._plan), *image.shape), dtype=image.dtype)
            self._planned_frames[len(self._kept_grid_indices) - 1] = image
            return
        self._kept_images.append(image)
        self._next_wanted = grid_index + self._stride
        if len(self._kept_images) >= 2 * self._max_frames:
            self._kept_images = self._kept_images[::2]
            self._kept_grid_indices = self._kept_grid_indices[::2]
            self._kept_source_times = self._kept_source_times[::2]
            self._stride *= 2
            self._next_wanted = self._kept_grid_indices[-1] + self._stride


_EMPTY_FRAMES = np.zeros((0, 0, 0, 3), dtype=np.uint8)


def _stack_releasing(images: list[np.ndarray]) -> np.ndarray:
    """``np.stack(images)`` that lets go of each image once copied, so memory peaks near one copy of the clip, not two.

    ``images`` must hold the only references (repeated frames may share one array: it is freed after its last copy).
    """
    if not images:
        return _EMPTY_FRAMES
    stacked = np.empty((len(images), *images[0].shape), dtype=images[0].dtype)
    images.reverse()
    for index in range(len(stacked)):
        stacked[index] = images.pop()  # the list's reference goes with the pop
    return stacked


# --- the decoded clip ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecodedClip:
    """Frames of one clip resampled to ``fps``, unpadded (see :func:`pad_frames`).

    Attributes:
        frames: (T, H, W, 3) uint8 RGB frames, 1 <= T <= max_frames; ``None`` when they went to a ``frame_sink``
            as they were decoded (:func:`~.video_decoding_signbind.decode_video`).
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
