"""Clips given as separate images: a folder of frame files, a list of images, or a (T, H, W, C) array or tensor.

These carry no timestamps: frame ``i`` is shown at ``i / fps`` seconds, where ``fps`` is the rate the frames were
extracted at (``SamplingOptions.source_fps``; by default the target rate, i.e. already resampled). Only the frames
that are kept are opened or converted, so a folder of 10,000 JPEGs costs the time and memory of the frames kept.
"""

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import SignBindInputError
from .video_clip_signbind import DecodedClip
from .video_pixels_signbind import MAX_FRAME_PIXELS, FrameSizer, check_frame_pixels
from .video_sampling_signbind import FrameSink, SamplingOptions, TimeGridSampler

# JPEG and PNG are what data sets ship (ChicagoFSWild: one JPEG per frame); the others cost nothing to accept.
FRAME_FILE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


def natural_sort_key(name: str) -> list[Any]:
    """Sort key that orders digit runs by value: ``9.jpg`` < ``10.jpg``, ``img2`` < ``img10``."""
    return [int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", name)]


def list_frame_files(folder: Path) -> list[Path]:
    """The frame images in ``folder`` (not its sub-folders) in natural file-name order; hidden files are ignored."""
    files = [
        path
        for path in folder.iterdir()
        if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in FRAME_FILE_SUFFIXES
    ]
    if not files:
        others = sorted(path.name for path in folder.iterdir())
        found = f"it holds {len(others)} other entries, e.g. {others[:5]}" if others else "it is empty"
        raise SignBindInputError(
            f"{folder}: a frame folder must hold image files ({', '.join(sorted(FRAME_FILE_SUFFIXES))}); {found}"
        )
    return sorted(files, key=lambda path: natural_sort_key(path.name))


def decode_frame_folder(
    folder: Path, *, options: SamplingOptions, name: str | None = None, sink: FrameSink | None = None
) -> DecodedClip:
    """Read a folder of frame images as a clip (see :func:`list_frame_files` for which files and in what order)."""
    files = list_frame_files(folder)
    name = name or str(folder)
    sizer = FrameSizer(max_shortest_edge=options.max_shortest_edge, clip_name=name)

    def load(index: int) -> np.ndarray:
        path = files[index]
        try:
            with Image.open(path) as image:  # reads the header only: the size is known, no pixel decoded yet
                check_frame_pixels(*image.size, what=str(path))
                return sizer(ImageOps.exif_transpose(image), what=str(path))
        except Image.DecompressionBombError as error:  # over twice PIL's own limit: Image.open refuses it itself
            raise SignBindInputError(
                f"{path}: the image is over the limit of {MAX_FRAME_PIXELS:,} pixels per frame ({error})"
            ) from error
        except (UnidentifiedImageError, OSError, SyntaxError) as error:  # PIL raises SyntaxError on some bad PNGs
            raise SignBindInputError(f"{path}: cannot be read as an image ({error})") from error

    return _sample_frames(len(files), load, sizer, options=options, source_name=name, sink=sink)


def decode_image_list(
    images: Sequence[Any], *, options: SamplingOptions, name: str, sink: FrameSink | None = None
) -> DecodedClip:
    """Read a list of PIL images, (H, W[, C]) arrays or tensors as a clip."""
    if len(images) == 0:
        raise SignBindInputError(f"{name}: the list of frames is empty; expected at least one image")
    sizer = FrameSizer(max_shortest_edge=options.max_shortest_edge, clip_name=name)

    def load(index: int) -> np.ndarray:
        image = images[index]
        return sizer(_frame_as_numpy(image) if is_torch_tensor(image) else image, what=f"{name}[{index}]")

    return _sample_frames(len(images), load, sizer, options=options, source_name=name, sink=sink)


def is_torch_tensor(value: Any) -> bool:
    """True for a torch tensor, checked by module name so that reading a file never imports torch."""
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def decode_frame_array(
    array: Any, *, options: SamplingOptions, name: str, sink: FrameSink | None = None
) -> DecodedClip:
    """Read a (T, H, W), (T, H, W, C) numpy array or torch tensor (C in 1-4, channels last) as a clip.

    Frames are converted one by one as they are kept, so a float or 16-bit array is never copied whole.
    """
    shape = tuple(array.shape)
    channels_last = len(shape) == 4 and shape[3] in (1, 2, 3, 4)
    if not (len(shape) == 3 or channels_last):
        hint = ""
        if len(shape) == 4 and shape[1] in (1, 3, 4):
            hint = " (this looks channels-first: permute it to (T, H, W, C))"
        raise SignBindInputError(f"{name}: expected frames shaped (T, H, W, 3) or (T, H, W), got {shape}{hint}")
    if len(shape) == 3 and shape[2] in (1, 2, 3, 4):
        # Read as (T, H, W) it would be a grey clip 1-4 pixels wide, which no camera films: it is one (H, W, C) image.
        # Refused rather than taken as one frame: signs are motion, so a still image is almost always a mistake (a
        # frame passed where its clip was meant), and a translation of it would be noise presented as a result.
        raise SignBindInputError(
            f"{name}: got shape {shape}, which is one image (H, W, C), not a clip; a clip is (T, H, W, 3) (or "
            "(T, H, W) grey). To read a single image as a one-frame clip, wrap it in a list: [image]"
        )
    if shape[0] == 0:
        raise SignBindInputError(f"{name}: the array holds no frames (shape {shape})")
    sizer = FrameSizer(max_shortest_edge=options.max_shortest_edge, clip_name=name)
    return _sample_frames(
        shape[0],
        lambda index: sizer(_frame_as_numpy(array[index]), what=f"{name}[{index}]"),
        sizer,
        options=options,
        source_name=name,
        sink=sink,
    )


def _frame_as_numpy(frame: Any) -> np.ndarray:
    if isinstance(frame, np.ndarray):
        return frame
    # A torch tensor (imported by the caller, not here): numpy has no bfloat16, so widen half floats first.
    frame = frame.detach().cpu()
    if frame.is_floating_point() and frame.element_size() < 4:
        frame = frame.float()
    return frame.numpy()


def _sample_frames(
    num_frames: int,
    load: Callable[[int], np.ndarray],
    sizer: FrameSizer,
    *,
    options: SamplingOptions,
    source_name: str,
    sink: FrameSink | None,
) -> DecodedClip:
    source_fps = options.source_fps if options.source_fps is not None else options.target_fps
    duration = num_frames / source_fps
    if options.start >= duration:
        raise SignBindInputError(
            f"{source_name}: start={options.start} s is past the end of the clip ({num_frames} frames at "
            f"{source_fps:g} fps last {duration:.3f} s)"
        )
    sampler: TimeGridSampler[int] = TimeGridSampler(
        options=options, expected_end=duration, load=load, source_name=source_name, sink=sink
    )
    for index in range(num_frames):
        if not sampler.push(index / source_fps, index):
            break
    sampled = sampler.finish(last_frame_duration=1 / source_fps)
    return DecodedClip.from_sampled(
        sampled,
        options=options,
        source_fps=float(source_fps),
        source_name=source_name,
        source_size=sizer.source_size,
    )
