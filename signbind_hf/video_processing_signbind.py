"""SignBindVideoProcessor: any video a user has -> the frame and face tensors ``SignBindModel.forward`` takes.

One clip goes through: decode and resample to ``target_fps`` (``video_decoding_signbind.decode_video``: a file, its bytes,
a folder of frames, a list of images, an array or tensor; longer clips than ``max_frames`` are subsampled uniformly),
backbone frames (``FrameTransform``: centre crop, resize to ``frame_size``, normalise), face crops (a ``FaceCropper``:
MediaPipe by default, mouth-centred, ``face_crop["size"]`` pixels) and masks. The frames and crops are made while the
clip decodes (``ClipStream``), so that only a few dozen full-resolution frames are held at a time; with given
``face_boxes``, and for a video whose length is known only at its end, the clip is decoded whole first. A batch is
padded to its longest clip and at least ``min_frames``.

Example:

```python
>>> video_processor = SignBindVideoProcessor.from_preset("tiny")
>>> batch = video_processor(["clip.mp4", "frames_folder/"])  # BatchFeature of torch tensors
>>> batch["pixel_values"].shape, batch["face_pixel_values"].shape  # (2, T, 3, 32, 32), (2, T, 3, 32, 32)
```

Remote code: this file and the video stack it imports (``video_*_signbind.py``, ``face_*_signbind.py``) are flat
modules with relative imports, so ``save_pretrained`` on a registered processor copies them all beside the settings and
``AutoProcessor.from_pretrained(folder, trust_remote_code=True)`` works where signbind-hf is not installed (PyAV,
OpenCV and MediaPipe must be). The face model files travel too: ``SignBindProcessor.save_pretrained`` writes them to
``face_models/`` (:meth:`SignBindVideoProcessor.save_face_models`) and ``from_pretrained`` points the cropper at them.

Keypoints (``keypoints=True``, off by default): hand and body points on the same frames, from a ``keypoints=`` argument,
the video's sidecar ``.pose`` or the hand and body extractor run while the clip decodes, normalised by the shoulders
(``keypoints_signbind``); the extractor's models travel in ``keypoint_models/`` as the face models do.
"""

import atexit
import contextlib
import functools
import logging
import numbers
import os
import shutil
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, TypedDict

import numpy as np
from transformers.feature_extraction_utils import BatchFeature
from transformers.video_processing_utils import VideoProcessorMixin

from .configuration_signbind import SignBindConfig
from .constants import ATTENTION_MASK, FACE_ATTENTION_MASK, FACE_PIXEL_VALUES, KEYPOINT_MASK, KEYPOINTS, PIXEL_VALUES
from .errors import SignBindInputError
from .face_tracking_signbind import BoxFaceCropper, FaceCropConfig, FaceCropper
from .keypoint_extraction_signbind import KeypointConfig, KeypointExtractor, KeypointTee
from .keypoints_signbind import (
    NUM_HAND_POINTS,
    NUM_POSE_POINTS,
    Keypoints,
    clip_keypoint_inputs,
    load_keypoints,
    sidecar_keypoints,
)
from .landmark_models_signbind import (
    ASSETS_DIR,
    DETECTOR_MODEL_ENV,
    FACE_LANDMARK_PATH,
    FACE_MODELS_DIR,
    FULL_RANGE_DETECTOR_PATH,
    HAND_DETECTOR_FILE,
    HAND_LANDMARK_FILE,
    LANDMARK_MODEL_ENV,
    LICENCE_FILES,
    POSE_DETECTOR_FILE,
    POSE_LANDMARK_FILE,
    SAVED_DETECTOR_FILE,
    SAVED_LANDMARK_FILE,
    LandmarkModelPaths,
    resolve_model_path,
)
from .video_decoding_signbind import decode_video
from .video_frames_signbind import (
    DEFAULT_MAX_FRAMES,
    DEFAULT_MAX_SHORTEST_EDGE,
    DEFAULT_MIN_FRAMES,
    DEFAULT_TARGET_FPS,
    CannotStream,
    DecodedClip,
    SamplingOptions,
)
from .video_transforms_signbind import (
    DEFAULT_FRAME_SIZE,
    DINOV2_IMAGE_MEAN,
    DINOV2_IMAGE_STD,
    RESAMPLE_MODES,
    BufferPool,
    ClipStream,
    FrameTransform,
    StreamedFrames,
    normalize_frames,
    single_threaded_opencv,
)

logger = logging.getLogger(__name__)

FACE_CROPPERS = ("mediapipe", "opencv", "boxes", None)
KEYPOINT_EXTRACTORS = ("mediapipe", None)
KEYPOINT_MODELS_DIR = "keypoint_models"  # where a saved processor folder keeps the hand and body models
# The extractor's model arguments and the names their files get in ``keypoint_models/`` (the packaged files' names).
KEYPOINT_MODEL_FILES = {
    "hand_detector_model_path": HAND_DETECTOR_FILE,
    "hand_landmark_model_path": HAND_LANDMARK_FILE,
    "pose_detector_model_path": POSE_DETECTOR_FILE,
    "pose_landmark_model_path": POSE_LANDMARK_FILE,
}
RETURN_TENSORS = ("pt", "np")

# Face detectors whose processor has been garbage collected, closed at the next safe point (the next detector built,
# or interpreter exit) and never by the collector itself: closing a MediaPipe task submits work to a thread pool, and
# a collection can run while a thread pool's module lock is held (inside `ThreadPoolExecutor.submit`), where that
# submit waits for the lock forever.
_RELEASED_CROPPERS: list[Any] = []
_OPEN_CROPPERS: weakref.WeakSet = weakref.WeakSet()


def _close_later(cropper: Any) -> None:
    _RELEASED_CROPPERS.append(cropper)  # a list append takes no lock: safe from inside the collector


def close_released_croppers() -> None:
    """Close the face detectors of processors that have been garbage collected."""
    while _RELEASED_CROPPERS:
        _RELEASED_CROPPERS.pop().close()


@atexit.register
def _close_every_cropper() -> None:
    # Before interpreter exit: MediaPipe's own finaliser prints a traceback when it runs after its thread pool is gone.
    close_released_croppers()
    for cropper in list(_OPEN_CROPPERS):
        cropper.close()


VIDEO_METADATA = "video_metadata"


class SignBindVideoProcessorKwargs(TypedDict, total=False):
    """The settings of ``SignBindVideoProcessor`` (what ``from_pretrained(..., **overrides)`` may override)."""

    frame_size: int
    shortest_edge: int | None
    resample: str
    image_mean: list[float]
    image_std: list[float]
    target_fps: float
    min_frames: int
    max_frames: int
    max_shortest_edge: int | None
    face_cropper: str | None
    face_crop: dict[str, Any]
    keypoints: bool
    keypoint_extractor: str | None
    keypoint_config: dict[str, Any]


@dataclass
class ProcessedClip:
    """One clip, unpadded: what the batch is assembled from (the decoded frames are already released)."""

    pixel_values: np.ndarray | None  # (T, 3, frame_size, frame_size) float32; None once copied into the batch
    face_pixel_values: np.ndarray | None  # (T, 3, face_size, face_size) float32; None without a face cropper
    face_mask: np.ndarray | None  # (T,) bool: a face was found, held or interpolated
    num_frames: int
    metadata: dict[str, Any]
    keypoints: np.ndarray | None = None  # (T, 75, 2) float32 shoulder-normalised x, y; None unless asked for
    keypoint_mask: np.ndarray | None = None  # (T, 75) bool: the point was found


class SignBindVideoProcessor(VideoProcessorMixin):
    """Decodes, samples, resizes, normalises and face-crops sign-language video for ``SignBindModel``.

    Args:
        frame_size (`int`, defaults to 224): side of the square frames fed to the DINOv2 backbone (the paper's 224;
            the tiny preset's 32).
        shortest_edge (`int`, *optional*): the frame's shortest edge is scaled to this before the centre crop;
            default ``frame_size`` (only the long side is cropped, where fingerspelling hands often are).
        resample (`str`, defaults to ``"fast"``): ``"fast"`` (OpenCV area + bilinear, ~15× faster) or ``"bicubic"``
            (DINOv2's own preprocessing, exact); see ``video_transforms_signbind``.
        image_mean, image_std (`list[float]`): per-channel statistics for frames and face crops (ImageNet's, which
            DINOv2 was trained with).
        target_fps (`float`, defaults to 25): every clip is resampled to this rate by timestamp.
        min_frames (`int`, defaults to 16), max_frames (`int`, defaults to 512): the paper's clip lengths. Shorter
            clips are padded (and masked) to ``min_frames``; longer ones are subsampled uniformly to ``max_frames``
            (a warning names the clip; ``return_metadata=True`` reports it per clip).
        max_shortest_edge (`int`, defaults to 480): frames are shrunk at decode time so that their shortest edge is
            at most this; bounds memory for 4K video while keeping faces large enough to crop.
        face_cropper (`str`, defaults to ``"mediapipe"``): how faces are found: ``"mediapipe"`` (BlazeFace full range
            + FaceMesh lips), ``"opencv"`` (Haar cascade, a weaker fallback), ``"boxes"`` (only the ``face_boxes``
            given with each call), or ``None`` (no face crops: for models without the lipreading expert; the output
            then has no ``face_pixel_values`` / ``face_attention_mask``). Given ``face_boxes`` always win.
        face_crop (`dict`): ``FaceCropConfig`` fields (crop size, mouth/face region, gap filling, smoothing, detection
            spacing); its ``size`` is the lipreading expert's input side.
        face_detector_model_path, face_landmark_model_path (`str`, *optional*): the MediaPipe model files (a BlazeFace
            detector and FaceMesh ``face_landmark.tflite``). Default: the environment variables
            ``SIGNBIND_FACE_DETECTOR_MODEL`` / ``SIGNBIND_FACE_LANDMARK_MODEL``, else the files packaged with
            signbind-hf. Not settings (a path belongs to one machine): ``SignBindProcessor.save_pretrained`` copies
            the files into the folder and ``from_pretrained`` passes the copies here.
        keypoints (`bool`, defaults to False): also return hand and body keypoints, ``keypoints`` (B, T, 75, 2)
            float32 and ``keypoint_mask`` (B, T, 75) int64, on the same frames as ``pixel_values``, normalised by the
            shoulders (``keypoints_signbind`` says how, where they come from and what is masked). Off by
            default: models that read frames only get exactly what they got before.
        keypoint_extractor (`str`, defaults to ``"mediapipe"``): how keypoints are found for a video without a
            ``keypoints=`` argument or a sidecar ``.pose``: ``"mediapipe"`` (``KeypointExtractor``, run while the clip
            decodes) or ``None`` (such a video's keypoints are all masked).
        keypoint_config (`dict`): ``KeypointConfig`` fields for the extractor (hands followed, detection / presence /
            tracking thresholds, whether the body is extracted); MediaPipe's defaults unless given.
        hand_detector_model_path, hand_landmark_model_path, pose_detector_model_path, pose_landmark_model_path
            (`str`, *optional*): the extractor's model files (``landmark_models_signbind``); like the face models,
            not settings: ``SignBindProcessor.save_pretrained`` copies them to ``keypoint_models/``.

    Memory: a clip's outputs are written into the memory of the previous clip's once nothing refers to those any more
    (outputs you still hold are never overwritten), which spares the kernel zeroing fresh pages for every clip. So
    between calls the processor may keep one clip's worth of output memory (``max_frames`` frames at most) until
    ``close()``.
    """

    model_input_names: ClassVar[list[str]] = [
        PIXEL_VALUES, FACE_PIXEL_VALUES, ATTENTION_MASK, FACE_ATTENTION_MASK, KEYPOINTS, KEYPOINT_MASK,
    ]  # fmt: skip
    valid_kwargs = SignBindVideoProcessorKwargs

    def __init__(
        self,
        frame_size: int = DEFAULT_FRAME_SIZE,
        shortest_edge: int | None = None,
        resample: str = "fast",
        image_mean: Sequence[float] = DINOV2_IMAGE_MEAN,
        image_std: Sequence[float] = DINOV2_IMAGE_STD,
        target_fps: float = DEFAULT_TARGET_FPS,
        min_frames: int = DEFAULT_MIN_FRAMES,
        max_frames: int = DEFAULT_MAX_FRAMES,
        max_shortest_edge: int | None = DEFAULT_MAX_SHORTEST_EDGE,
        face_cropper: str | None = "mediapipe",
        face_crop: dict[str, Any] | None = None,
        face_detector_model_path: str | os.PathLike | None = None,
        face_landmark_model_path: str | os.PathLike | None = None,
        keypoints: bool = False,
        keypoint_extractor: str | None = "mediapipe",
        keypoint_config: dict[str, Any] | None = None,
        hand_detector_model_path: str | os.PathLike | None = None,
        hand_landmark_model_path: str | os.PathLike | None = None,
        pose_detector_model_path: str | os.PathLike | None = None,
        pose_landmark_model_path: str | os.PathLike | None = None,
        **kwargs: Any,
    ) -> None:
        # What save_pretrained writes beside the settings; anything else is a typo worth hearing about.
        kwargs.pop("video_processor_type", None)
        kwargs.pop("processor_class", None)
        auto_map = kwargs.pop("auto_map", None)
        if kwargs:
            raise SignBindInputError(
                f"SignBindVideoProcessor got unknown settings {sorted(kwargs)}; expected some of "
                f"{list(SignBindVideoProcessorKwargs.__annotations__)}"
            )
        super().__init__()
        if auto_map is not None:
            self.auto_map = auto_map
        if face_cropper not in FACE_CROPPERS:
            raise SignBindInputError(f"face_cropper must be one of {FACE_CROPPERS}; got {face_cropper!r}")
        if not isinstance(keypoints, bool):
            raise SignBindInputError(f"keypoints must be True or False; got {keypoints!r}")
        if keypoint_extractor not in KEYPOINT_EXTRACTORS:
            raise SignBindInputError(
                f"keypoint_extractor must be one of {KEYPOINT_EXTRACTORS}; got {keypoint_extractor!r}"
            )
        if resample not in RESAMPLE_MODES:
            raise SignBindInputError(f"resample must be one of {RESAMPLE_MODES}; got {resample!r}")
        if not isinstance(min_frames, int) or isinstance(min_frames, bool) or min_frames < 1:
            raise SignBindInputError(f"min_frames must be an integer >= 1; got {min_frames!r}")
        if not isinstance(max_frames, int) or isinstance(max_frames, bool) or max_frames < min_frames:
            raise SignBindInputError(f"max_frames must be an integer >= min_frames ({min_frames}); got {max_frames!r}")
        self.frame_size = frame_size
        self.shortest_edge = shortest_edge
        self.resample = resample
        self.image_mean = [float(value) for value in image_mean]
        self.image_std = [float(value) for value in image_std]
        self.target_fps = target_fps
        self.min_frames = min_frames
        self.max_frames = max_frames
        self.max_shortest_edge = max_shortest_edge
        self.face_cropper = face_cropper
        # Validated (and completed with the defaults) by building the config once.
        self.face_crop = asdict(_face_crop_config(face_crop or {}))
        self.frame_transform  # noqa: B018 - builds (and so validates) frame_size, shortest_edge, mean and std now
        SamplingOptions(target_fps=target_fps, max_frames=max_frames, max_shortest_edge=max_shortest_edge)  # checks
        self.face_detector_model_path = None if face_detector_model_path is None else str(face_detector_model_path)
        self.face_landmark_model_path = None if face_landmark_model_path is None else str(face_landmark_model_path)
        self.keypoints = keypoints
        self.keypoint_extractor = keypoint_extractor
        # Validated (and completed with the defaults) by building the config once, as face_crop is.
        self.keypoint_config = asdict(_keypoint_config(keypoint_config or {}))
        paths = (
            hand_detector_model_path,
            hand_landmark_model_path,
            pose_detector_model_path,
            pose_landmark_model_path,
        )
        self.keypoint_model_paths = {
            argument: None if path is None else str(path)
            for argument, path in zip(KEYPOINT_MODEL_FILES, paths, strict=True)
        }
        self._cropper: FaceCropper | None = None  # the detector, built on first use; never serialised
        self._extractor: KeypointExtractor | None = None  # the hand and body models, loaded on first use; ditto
        # The last clip's output and ring arrays, written again by the next clip once the caller has dropped them.
        self._buffers = BufferPool()

    # --- construction ---------------------------------------------------------------------------------------------
    @classmethod
    def from_model_config(cls, config: SignBindConfig, **overrides: Any) -> "SignBindVideoProcessor":
        """The video processor matching a model config: frame and face-crop sizes from its backbone and lip expert,
        and keypoints when its manual expert reads them.

        DINOv2-base's config says ``image_size=518``: that is its position-embedding grid, which Dinov2 interpolates,
        not the size it reads frames at. Frames are fed at ``min(image_size, 224)``: 224 for the paper preset (as in
        the paper), the backbone's own size for smaller ones (32 in the tiny preset).
        """
        face_crop = {"size": config.lip_config.image_size, **(overrides.pop("face_crop", None) or {})}
        settings = {"frame_size": min(config.backbone_config.image_size, DEFAULT_FRAME_SIZE), "face_crop": face_crop}
        if not config.use_lip:
            settings["face_cropper"] = None
        if config.uses_keypoints:
            settings["keypoints"] = True
        return cls(**{**settings, **overrides})

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> "SignBindVideoProcessor":
        """The video processor for ``SignBindConfig.from_preset(name)`` (``"paper"`` or ``"tiny"``)."""
        return cls.from_model_config(SignBindConfig.from_preset(name), **overrides)

    @property
    def frame_transform(self) -> FrameTransform:
        return FrameTransform(
            size=self.frame_size,
            shortest_edge=self.shortest_edge,
            image_mean=tuple(self.image_mean),
            image_std=tuple(self.image_std),
            resample=self.resample,
        )

    @property
    def face_size(self) -> int:
        return int(self.face_crop["size"])

    # --- serialisation: settings only, never the detector ---------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        settings = {name: getattr(self, name) for name in SignBindVideoProcessorKwargs.__annotations__}
        settings["face_crop"] = dict(self.face_crop)
        settings["keypoint_config"] = dict(self.keypoint_config)
        settings["video_processor_type"] = type(self).__name__
        if getattr(self, "auto_map", None) is not None:
            settings["auto_map"] = self.auto_map
        return settings

    def __getstate__(self) -> dict[str, Any]:
        # MediaPipe and OpenCV handles cannot be pickled (datasets.map(num_proc=...) pickles the processor) or deep
        # copied (ProcessorMixin.to_dict deep-copies its parts); each copy builds its own detector on first use.
        state = self.__dict__.copy()
        state["_cropper"] = None
        state["_extractor"] = None
        return state

    def close(self) -> None:
        """Release the face detector and the memory kept for the next clip's outputs now (both are also released
        when the processor is garbage-collected; the detector at exit)."""
        if self._cropper is not None:
            self._cropper.close()
        self._cropper = None
        self._extractor = None  # its MediaPipe graphs live per clip (KeypointTrack); this drops the loaded models
        self._buffers.clear()

    def face_model_files(self) -> dict[str, Path]:
        """The model files the MediaPipe cropper reads, by the name a saved folder gives them (none for other
        croppers). Paths are resolved (argument, environment variable, packaged file) and checked to be TFLite models.
        """
        if self.face_cropper != "mediapipe":
            return {}
        files = {
            SAVED_DETECTOR_FILE: resolve_model_path(
                self.face_detector_model_path,
                argument="face_detector_model_path",
                env_var=DETECTOR_MODEL_ENV,
                default=FULL_RANGE_DETECTOR_PATH,
            )
        }
        if _face_crop_config(self.face_crop).region == "mouth":  # only mouth crops use the lip landmarks
            files[SAVED_LANDMARK_FILE] = resolve_model_path(
                self.face_landmark_model_path,
                argument="face_landmark_model_path",
                env_var=LANDMARK_MODEL_ENV,
                default=FACE_LANDMARK_PATH,
            )
        return files

    def save_face_models(self, save_directory: str | os.PathLike) -> list[str]:
        """Copy the face model files into ``save_directory/face_models/`` so the folder works without signbind-hf.

        The packaged MediaPipe files go with their Apache-2.0 licence and notice. Each file is written beside its
        destination and renamed into place, so an interrupted save never leaves a truncated model. Returns the
        paths written.
        """
        return _copy_model_files(self.face_model_files(), Path(save_directory) / FACE_MODELS_DIR)

    def keypoint_model_files(self) -> dict[str, Path]:
        """The hand and body model files the keypoint extractor reads, by the name a saved folder gives them (none
        unless this processor extracts keypoints). Resolved as ``KeypointExtractor`` resolves them."""
        if not (self.keypoints and self.keypoint_extractor == "mediapipe"):
            return {}
        paths = LandmarkModelPaths.resolve(
            hand_detector=self.keypoint_model_paths["hand_detector_model_path"],
            hand_landmarks=self.keypoint_model_paths["hand_landmark_model_path"],
            pose_detector=self.keypoint_model_paths["pose_detector_model_path"],
            pose_landmarks=self.keypoint_model_paths["pose_landmark_model_path"],
        )
        resolved = (paths.hand_detector, paths.hand_landmarks, paths.pose_detector, paths.pose_landmarks)
        return dict(zip(KEYPOINT_MODEL_FILES.values(), resolved, strict=True))

    def save_keypoint_models(self, save_directory: str | os.PathLike) -> list[str]:
        """Copy the hand and body model files into ``save_directory/keypoint_models/`` (as ``save_face_models``
        does for the face models), so the folder extracts keypoints without signbind-hf. Returns the paths written.
        """
        return _copy_model_files(self.keypoint_model_files(), Path(save_directory) / KEYPOINT_MODELS_DIR)

    def get_face_cropper(self, has_boxes: bool = False) -> FaceCropper:
        """The face cropper this processor crops with: for a clip with given face boxes a detector-free
        ``BoxFaceCropper``, else its detector (built on first use and kept, as loading the models takes a while)."""
        if has_boxes:  # given boxes need no detector: do not load one for them
            return BoxFaceCropper(_face_crop_config(self.face_crop))
        if self._cropper is None:
            from .landmark_models_signbind import MediaPipeFaceCropper, OpenCVFaceCropper

            close_released_croppers()
            if self.face_cropper == "mediapipe":
                self._cropper = MediaPipeFaceCropper(
                    _face_crop_config(self.face_crop),
                    detector_model_path=self.face_detector_model_path,
                    landmark_model_path=self.face_landmark_model_path,
                )
            else:
                self._cropper = OpenCVFaceCropper(_face_crop_config(self.face_crop))
            # Closed once this processor is gone (see _close_later), or at exit.
            _OPEN_CROPPERS.add(self._cropper)
            weakref.finalize(self, _close_later, self._cropper).atexit = False
        return self._cropper

    def get_keypoint_extractor(self) -> KeypointExtractor:
        """The hand and body keypoint extractor (built on first use and kept, with this processor's models)."""
        if self._extractor is None:
            paths = self.keypoint_model_paths
            self._extractor = KeypointExtractor(_keypoint_config(self.keypoint_config), **paths)
        return self._extractor

    # --- processing -----------------------------------------------------------------------------------------------
    def __call__(self, videos: Any, **kwargs: Any) -> BatchFeature:
        return self.preprocess(videos, **kwargs)

    def preprocess(
        self,
        videos: Any,
        *,
        face_boxes: Any = None,
        normalized_face_boxes: bool = False,
        fps: float | Sequence[float | None] | None = None,
        start: float | Sequence[float | None] | None = None,
        end: float | Sequence[float | None] | None = None,
        return_tensors: str | None = "pt",
        return_metadata: bool = False,
        keypoints: Any = None,
    ) -> BatchFeature:
        """Turn one video or a list of videos into a padded batch.

        Args:
            videos: one video or a list of them. A video is a file path (any container FFmpeg reads), the bytes of a
                file, a folder of frame images (read in natural file-name order), a list of PIL images or (H, W, C)
                arrays, or a (T, H, W, C) array / tensor (uint8, uint16 or floats in [0, 1]; 1, 3 or 4 channels).
                A (B, T, H, W, C) array or tensor is a batch.
            face_boxes: per video, ``None`` or a (N, 4) array of face boxes x0, y0, x1, y1, **one row per source
                frame** (frame ``i`` of a file, of a folder or of an array; a row of NaN for a frame without a face),
                in pixels of the source frames as displayed (or fractions of their width and height with
                ``normalized_face_boxes=True``). Row ``i`` is taken to be at ``i / fps`` seconds, so a
                variable-frame-rate file maps approximately. Boxes replace detection for their video.
            normalized_face_boxes: ``face_boxes`` are fractions of the frame width / height instead of pixels.
            fps: frame rate of folders, image lists and arrays (default ``target_fps``: already resampled); not for
                video files, which carry timestamps. One value, or one per video (``None`` for files).
            start, end: seconds of each video to read (one value for all, or one per video).
            return_tensors: ``"pt"`` (torch) or ``"np"``.
            return_metadata: add ``video_metadata``, one dict per clip (source, frames kept, frame rate, whether it
                was subsampled, timestamps, bad packets skipped (``corrupt_packets``), faces found, the squares
                cropped). It is not a model input: drop it before ``model(**batch)``.
            keypoints: with the ``keypoints=True`` setting, per video ``None`` (its sidecar ``<video>.pose``, else the
                extractor), a ``Keypoints`` or the path of a ``.pose`` file, at the video's own frame rate and in its
                own pixels (as ``extract_keypoints`` returns them and ``signbind keypoints`` writes them).

        Returns:
            ``BatchFeature`` with ``pixel_values`` (B, T, 3, S, S) float32, ``face_pixel_values`` (B, T, 3, s, s)
            float32, ``attention_mask`` (B, T) int64 (1 = real frame) and ``face_attention_mask`` (B, T) int64 (1 =
            a face was found or interpolated on a real frame). T = max(longest clip, ``min_frames``). With the
            ``keypoints`` setting also ``keypoints`` (B, T, 75, 2) float32 and ``keypoint_mask`` (B, T, 75) int64.

        Raises:
            SignBindInputError: a video cannot be used (missing, empty, corrupt, no video stream, no frame, ...) or
                an argument is malformed; the message names the video. Nothing is returned for a batch with a bad
                video.
        """
        if return_tensors not in RETURN_TENSORS:
            raise SignBindInputError(f"return_tensors must be one of {RETURN_TENSORS}; got {return_tensors!r}")
        sources = as_video_batch(videos)
        names = [source_name(source, index, len(sources)) for index, source in enumerate(sources)]
        boxes = per_video("face_boxes", face_boxes, len(sources), is_scalar=lambda value: value is None)
        fps_values = per_video("fps", fps, len(sources))
        starts = per_video("start", start, len(sources))
        ends = per_video("end", end, len(sources))
        if self.face_cropper == "boxes":
            missing = [name for name, clip_boxes in zip(names, boxes, strict=True) if clip_boxes is None]
            if missing:
                raise SignBindInputError(
                    f"face_cropper='boxes' needs face_boxes for every video; none given for {missing}. Pass "
                    "face_boxes=[(N, 4) array per video], or use face_cropper='mediapipe' to detect faces."
                )
        if face_boxes is not None and self.face_cropper is None:
            raise SignBindInputError("face_boxes were given but face_cropper is None (this processor makes no crops)")
        if keypoints is not None and not self.keypoints:
            raise SignBindInputError(
                "keypoints were given but this processor returns none: build it with keypoints=True"
            )
        given_keypoints = per_video(
            "keypoints", keypoints, len(sources), is_scalar=lambda value: value is None or _is_keypoints(value)
        )

        with single_threaded_opencv():  # small images: OpenCV's thread pool costs more CPU than it saves time
            processed = [
                self._process_clip(
                    sources[index],
                    name=names[index],
                    boxes=boxes[index],
                    normalized_boxes=normalized_face_boxes,
                    fps=fps_values[index],
                    start=starts[index],
                    end=ends[index],
                    # Only with the setting: subclasses that override _process_clip without keypoints (the training
                    # clip cache) keep working for frames-only processors.
                    **({"keypoints": given_keypoints[index]} if self.keypoints else {}),
                )
                for index in range(len(sources))
            ]
        data = self._assemble(processed)
        if return_metadata:
            data[VIDEO_METADATA] = [item.metadata for item in processed]
        return BatchFeature(data=data, tensor_type=return_tensors, skip_tensor_conversion=[VIDEO_METADATA])

    def _process_clip(
        self,
        source: Any,
        *,
        name: str,
        boxes: Any,
        normalized_boxes: bool,
        fps: float | None,
        start: float | None,
        end: float | None,
        keypoints: Any = None,
    ) -> ProcessedClip:
        given, extract, keypoint_source = None, False, None
        if self.keypoints:  # an argument, else the video's sidecar .pose, else the extractor (if any)
            if keypoints is not None:
                given, keypoint_source = load_keypoints(keypoints, name), "argument"
            elif (given := sidecar_keypoints(source)) is not None:
                keypoint_source = "sidecar"
            elif self.keypoint_extractor is not None:
                extract, keypoint_source = True, "extractor"
            else:
                keypoint_source = "none"
        decode = functools.partial(
            decode_video,
            source,
            target_fps=self.target_fps,
            start=start,
            end=end,
            max_frames=self.max_frames,
            fps=fps,
            max_shortest_edge=self.max_shortest_edge,
            name=name,
        )
        if boxes is None:  # make the model inputs while the video decodes (video_transforms_signbind.ClipStream)
            cropper = None if self.face_cropper is None else self.get_face_cropper(has_boxes=False)
            with contextlib.ExitStack() as stack:
                stream = stack.enter_context(
                    ClipStream(
                        self.frame_transform, cropper, tuple(self.image_mean), tuple(self.image_std), self._buffers
                    )
                )
                tee = None
                if extract:  # the keypoints are made from the same frames, in a thread of their own
                    track = stack.enter_context(self.get_keypoint_extractor().track(self.target_fps))
                    tee = stack.enter_context(KeypointTee(stream, track))
                try:
                    clip = decode(frame_sink=stream if tee is None else tee)
                except CannotStream as reason:
                    logger.debug("%s: decoding the clip whole", reason)
                else:
                    _warn_if_subsampled(clip, self.max_frames)
                    extracted = tee.finish() if tee is not None else None
                    processed = _streamed_clip(clip, stream.finish())
                    return _with_keypoints(processed, keypoint_source, given, extracted, clip.source_timestamps)
        # Given face boxes (and the videos that cannot stream): decode the whole clip, then make the inputs.
        clip = decode()
        _warn_if_subsampled(clip, self.max_frames)
        metadata = clip_metadata(clip, frame_size=(int(clip.frames.shape[2]), int(clip.frames.shape[1])))
        extracted = self.get_keypoint_extractor().extract(clip.frames, self.target_fps) if extract else None
        attach = functools.partial(
            _with_keypoints, source=keypoint_source, given=given, extracted=extracted, times=clip.source_timestamps
        )
        if self.face_cropper is None:
            pixel_values = self.frame_transform(clip.frames)  # (T, 3, S, S)
            return attach(ProcessedClip(pixel_values, None, None, int(pixel_values.shape[0]), metadata))
        frame_boxes = None
        if boxes is not None:
            frame_boxes = boxes_for_clip(boxes, clip, normalized=normalized_boxes, name=name)
        cropper = self.get_face_cropper(frame_boxes is not None)
        # The backbone frames and the face crops read the same decoded frames and nothing of each other: make them at
        # the same time. Both spend their time in native code that releases the GIL (OpenCV's resize and table
        # look-up; MediaPipe's detector and lip landmarks, which wait on their own graph threads), so a second thread
        # overlaps them on a second core (bench_processing.py).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="signbind-frames") as executor:
            backbone = executor.submit(self.frame_transform, clip.frames)
            try:
                faces = cropper.crop(clip.frames, frame_boxes, normalized_boxes=normalized_boxes)
            except SignBindInputError as error:  # bad boxes: say which video they belong to
                backbone.cancel()
                raise SignBindInputError(f"{name}: {error}") from error
            pixel_values = backbone.result()  # (T, 3, S, S)
        # The full-resolution frames (the largest array here) go before the float32 face crops are made: normalising
        # each crop as it is cut would save a little CPU time but hold the frames and both float32 outputs at once
        # (peak memory, benchmarks/RESULTS.md).
        del clip
        face_pixel_values = normalize_frames(faces.crops, tuple(self.image_mean), tuple(self.image_std))
        face_mask = faces.face_mask
        metadata["face_frames"] = int(face_mask.sum())
        metadata["detector_calls"] = faces.detector_calls
        metadata["tracked_frames"] = faces.tracked_frames
        # x0, y0, x1, y1 of the square cut for each frame, in pixels of the decoded frames (frame_size); NaN: none.
        metadata["face_crop_boxes"] = faces.boxes.tolist()
        return attach(ProcessedClip(pixel_values, face_pixel_values, face_mask, int(pixel_values.shape[0]), metadata))

    def _assemble(self, processed: list[ProcessedClip]) -> dict[str, np.ndarray]:
        """Pad every clip to the longest (at least ``min_frames``) and stack; masks mark real frames and faces."""
        length = max(self.min_frames, max(item.num_frames for item in processed))
        attention_mask = np.zeros((len(processed), length), dtype=np.int64)
        for row, item in enumerate(processed):
            attention_mask[row, : item.num_frames] = 1
        data = {PIXEL_VALUES: _pad_stack(processed, "pixel_values", length), ATTENTION_MASK: attention_mask}
        if self.face_cropper is not None:
            face_attention_mask = np.zeros_like(attention_mask)
            for row, item in enumerate(processed):
                face_attention_mask[row, : item.num_frames] = item.face_mask
            data[FACE_PIXEL_VALUES] = _pad_stack(processed, "face_pixel_values", length)
            data[FACE_ATTENTION_MASK] = face_attention_mask
        if self.keypoints:
            data[KEYPOINTS] = _pad_stack(processed, "keypoints", length)
            data[KEYPOINT_MASK] = _pad_stack(processed, "keypoint_mask", length).astype(np.int64)
        return data


def _copy_model_files(files: dict[str, Path], folder: Path) -> list[str]:
    """Copy ``files`` (saved name -> source) into ``folder``, the packaged MediaPipe files with their Apache-2.0
    licence and notice. Each file is written beside its destination and renamed into place, so an interrupted save
    never leaves a truncated model. Returns the paths written."""
    if not files:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    sources = dict(files)
    if any(path.parent == ASSETS_DIR for path in files.values()):
        sources.update({name: ASSETS_DIR / name for name in LICENCE_FILES})
    written = []
    for name, source in sources.items():
        destination = folder / name
        partial = destination.with_name(f".{name}.partial")
        shutil.copyfile(source, partial)
        os.replace(partial, destination)
        written.append(str(destination))
    return written


def _is_keypoints(value: Any) -> bool:
    """One video's ``keypoints=`` value (not a list of them): a ``Keypoints`` or a path."""
    return isinstance(value, Keypoints | str | os.PathLike)


def _with_keypoints(
    processed: ProcessedClip,
    source: str | None,
    given: Keypoints | None,
    extracted: Keypoints | None,
    times: np.ndarray,
) -> ProcessedClip:
    """``processed`` with its keypoint inputs (``keypoints_signbind.clip_keypoint_inputs``), and where they came
    from (``source``: "argument", "sidecar", "extractor" or "none") in its metadata; unchanged if ``source`` is None
    (no keypoints wanted)."""
    if source is None:
        return processed
    processed.keypoints, processed.keypoint_mask = clip_keypoint_inputs(given, extracted, times)
    processed.metadata["keypoint_source"] = source
    hands = processed.keypoint_mask[:, NUM_POSE_POINTS:].reshape(-1, 2, NUM_HAND_POINTS).any(axis=2)  # (T, 2)
    processed.metadata["keypoint_hand_frames"] = hands.sum(axis=0).tolist()  # frames with the left / right hand
    return processed


def _face_crop_config(settings: dict[str, Any]) -> FaceCropConfig:
    known = {field.name for field in fields(FaceCropConfig)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise SignBindInputError(f"face_crop has unknown fields {unknown}; FaceCropConfig fields are {sorted(known)}")
    return FaceCropConfig(**settings)


def _keypoint_config(settings: dict[str, Any]) -> KeypointConfig:
    known = {field.name for field in fields(KeypointConfig)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise SignBindInputError(
            f"keypoint_config has unknown fields {unknown}; KeypointConfig fields are {sorted(known)}"
        )
    return KeypointConfig(**settings)


def _pad_stack(processed: list[ProcessedClip], field: str, length: int) -> np.ndarray:
    """Stack each clip's ``field`` (T_i, ...) into (B, length, ...), zeros after each clip, releasing the clips'
    arrays as they are copied; a lone full-length clip is used as it is.

    ``np.zeros`` takes pages the OS zeroes on first write, so the batch grows in memory as the clips shrink: the peak
    stays near one copy of the outputs instead of two.
    """
    first = getattr(processed[0], field)
    if len(processed) == 1 and first.shape[0] == length:
        setattr(processed[0], field, None)
        return first[None]
    stacked = np.zeros((len(processed), length, *first.shape[1:]), dtype=first.dtype)
    for row, item in enumerate(processed):
        array = getattr(item, field)
        stacked[row, : array.shape[0]] = array
        setattr(item, field, None)
    return stacked


def _warn_if_subsampled(clip: DecodedClip, max_frames: int) -> None:
    if clip.was_subsampled:
        logger.warning(
            "%s: %d frames at %g fps are more than max_frames=%d; subsampled uniformly to %d (%.2f frames per second "
            "of video)",
            clip.source_name,
            clip.num_grid_frames,
            clip.fps,
            max_frames,
            clip.num_frames,
            clip.effective_fps,
        )


def _streamed_clip(clip: DecodedClip, streamed: StreamedFrames) -> ProcessedClip:
    """A clip made by a ``ClipStream``, with its metadata (as ``_process_clip`` makes it for a whole clip)."""
    metadata = clip_metadata(clip, frame_size=streamed.frame_size)
    num_frames = int(streamed.pixel_values.shape[0])
    track = streamed.face_track
    if track is None:
        return ProcessedClip(streamed.pixel_values, None, None, num_frames, metadata)
    face_mask = track.face_mask
    metadata["face_frames"] = int(face_mask.sum())
    metadata["detector_calls"] = track.detector_calls
    metadata["tracked_frames"] = track.tracked_frames
    metadata["face_crop_boxes"] = track.crop_boxes.tolist()
    return ProcessedClip(streamed.pixel_values, streamed.face_pixel_values, face_mask, num_frames, metadata)


# --- argument handling --------------------------------------------------------------------------------------------


def as_video_batch(videos: Any) -> list[Any]:
    """The list of videos in ``videos``: one video, a list of videos, or a (B, T, H, W, C) array / tensor.

    A list whose items are images (PIL images, or 2-D / 3-D arrays or tensors) is one clip given frame by frame; a
    list of paths, bytes, frame lists or 4-D arrays is a batch.
    """
    if videos is None:
        raise SignBindInputError("videos: expected a video (path, bytes, frame folder, frames) or a list of them")
    if hasattr(videos, "shape") and hasattr(videos, "ndim"):  # numpy array or torch tensor
        if videos.ndim == 5:
            return list(videos)
        return [videos]
    if isinstance(videos, str | Path | bytes | bytearray | memoryview) or not isinstance(videos, Sequence):
        return [videos]
    if len(videos) == 0:
        raise SignBindInputError("videos: the list is empty; expected at least one video")
    if all(_is_image(item) for item in videos):
        return [videos]  # the frames of one clip
    return list(videos)


def _is_image(item: Any) -> bool:
    if hasattr(item, "shape") and hasattr(item, "ndim"):
        return item.ndim in (2, 3)
    return type(item).__module__.startswith("PIL.") and hasattr(item, "size") and hasattr(item, "mode")


def source_name(source: Any, index: int, batch_size: int) -> str:
    """How a video is named in errors: its path, else its position in the batch."""
    if isinstance(source, str | Path):
        return str(source)
    described = {bytes: "video bytes", bytearray: "video bytes", memoryview: "video bytes"}.get(type(source), "frames")
    return f"videos[{index}] ({described})" if batch_size > 1 else f"videos ({described})"


def per_video(name: str, value: Any, batch_size: int, is_scalar: Any = None) -> list[Any]:
    """One value per video: a list of ``batch_size`` values as given, or one value repeated."""
    if is_scalar is None:
        is_scalar = lambda item: item is None or isinstance(item, numbers.Real)
    if is_scalar(value):
        return [value] * batch_size
    if isinstance(value, str | bytes) or not (isinstance(value, Sequence) or hasattr(value, "shape")):
        raise SignBindInputError(f"{name}: expected one value per video (a list of {batch_size}); got {value!r:.100}")
    if name == "face_boxes" and batch_size == 1 and _looks_like_boxes(value):
        return [value]  # the (N, 4) boxes of a single video
    if len(value) != batch_size:
        raise SignBindInputError(f"{name}: expected one value per video ({batch_size} videos); got {len(value)}")
    return list(value)


def _looks_like_boxes(value: Any) -> bool:
    try:
        return np.asarray(value, dtype=np.float64).ndim == 2
    except (TypeError, ValueError):
        return False


def boxes_for_clip(boxes: Any, clip: DecodedClip, *, normalized: bool, name: str) -> np.ndarray:
    """The rows of per-source-frame ``boxes`` (N, 4) for the frames ``clip`` kept, in ``clip.frames`` pixels."""
    try:
        boxes = np.array(boxes, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise SignBindInputError(f"{name}: face_boxes must be numbers, an (N, 4) array; {error}") from error
    if boxes.ndim != 2 or boxes.shape[1] != 4 or boxes.shape[0] == 0:
        raise SignBindInputError(
            f"{name}: face_boxes must be an (N, 4) array x0, y0, x1, y1 with one row per source frame; got shape "
            f"{boxes.shape}"
        )
    if clip.source_fps is None:
        raise SignBindInputError(
            f"{name}: cannot line face_boxes up with the frames: the video does not report its frame rate"
        )
    rows = np.floor(clip.source_timestamps * clip.source_fps + 0.5 + 1e-6).astype(np.int64)  # (T,)
    if rows.max() >= len(boxes):
        raise SignBindInputError(
            f"{name}: face_boxes has {len(boxes)} rows (one per source frame) but the clip uses source frame "
            f"{int(rows.max())} (at {clip.source_timestamps[rows.argmax()]:.3f} s, {clip.source_fps:g} fps)"
        )
    chosen = boxes[rows]  # (T, 4)
    if not normalized and clip.source_size is not None:
        # Boxes are in source pixels; frames were shrunk to max_shortest_edge when decoded.
        height, width = clip.frames.shape[1:3]
        source_width, source_height = clip.source_size
        chosen = chosen * np.array([width / source_width, height / source_height] * 2)
    return chosen


def clip_metadata(clip: DecodedClip, frame_size: tuple[int, int]) -> dict[str, Any]:
    """What ``return_metadata=True`` reports about one clip (the face cropper adds its counts and squares);
    ``frame_size`` is (width, height) of the decoded frames."""
    return {
        "source": clip.source_name,
        "num_frames": clip.num_frames,
        "fps": clip.fps,
        "effective_fps": clip.effective_fps,
        "was_subsampled": clip.was_subsampled,
        "num_grid_frames": clip.num_grid_frames,
        "source_fps": clip.source_fps,
        "source_size": clip.source_size,
        "frame_size": frame_size,
        "start": clip.start,
        "end": clip.end,
        "timestamps": clip.timestamps.tolist(),
        "corrupt_packets": clip.corrupt_packets,
    }


__all__ = ["SignBindVideoProcessor"]
