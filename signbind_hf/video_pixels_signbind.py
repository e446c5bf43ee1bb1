"""Turning any still image into an (H, W, 3) uint8 RGB array of a bounded size.

Frame folders, image lists and arrays arrive as grayscale, grayscale + alpha, RGB, RGBA, palette, 16-bit or float
images. They are all converted here, one frame at a time, so that the rest of the package sees one format. (Container
frames are converted by FFmpeg's swscale in :mod:`.containers`, which handles every pixel format it decodes.)

Alpha is dropped (the colour channels are kept as they are, as PIL's ``convert("RGB")`` and swscale do): sign-language
frames are opaque, and compositing on an arbitrary background would invent content.
"""

import logging

import numpy as np
from PIL import Image

from .errors import SignBindInputError

logger = logging.getLogger(__name__)

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
