"""The MediaPipe landmark models: where their files come from, and the backends that run them on frames.

Face: ``MediaPipeFaceCropper`` (BlazeFace detector + FaceMesh lip landmarks) and ``OpenCVFaceCropper`` (a Haar
cascade fallback) are the detectors behind ``face_tracking_signbind.FaceCropper``. Hands and body: the
``LandmarkModelPaths`` and Tasks bundles that ``keypoint_extraction_signbind.KeypointExtractor`` runs. MediaPipe
and OpenCV are imported inside the code that uses them, so importing this module stays light.

Face model files: the MediaPipe files packaged with signbind-hf, a saved processor's copies, or a user's own.

MediaPipe 1.x ships no model files, so signbind-hf carries three small Apache-2.0 files taken from the
mediapipe==0.10.21 wheel (``signbind_hf/assets/``, see its ``NOTICE``; ``scripts/vendor_mediapipe_models.py``
rebuilds them). A path is chosen in this order: the constructor argument (a saved processor passes the files saved
beside it, see ``SignBindVideoProcessor.save_face_models``), then the environment variable, then the packaged file.
Where this module runs as a checkpoint's remote code, without signbind-hf installed, there is no packaged file: the
checkpoint's own copy (or the environment variable) must provide the models.

Hand and body model files, and the MediaPipe Tasks bundles made of them.

signbind-hf carries four Apache-2.0 files from the mediapipe==0.10.21 wheel next to the face models
(``signbind_hf/assets/``, see its ``NOTICE``; ``scripts/vendor_mediapipe_models.py`` rebuilds them): BlazePalm
and the 21-point hand landmark model, BlazePose's detector and its 33-point landmark model. MediaPipe 1.x's Tasks
``HandLandmarker`` and ``PoseLandmarker`` take a ``.task`` bundle (a zip of a detector and a landmark model under fixed
names), which this module builds in memory from those files; nothing is written next to them. A path is chosen as for
the face models (``resolve_model_path`` above): the argument, then the environment variable, then the
packaged file.

The "full" variants: signs are read from the hands, and the hand landmark model is what the manual channel sees, so
its most accurate variant is worth its size (``hand_landmark_full`` 5.5 MB against 2.1 MB for ``lite``; the wheel
holds no lite pose landmark model). The four files are the largest part of the package wheel (they compress little).

TFLite metadata: ``with_image_normalization`` gives a float TFLite image model the input-normalisation metadata
MediaPipe Tasks needs to run it.

MediaPipe's Tasks graphs turn an image into a float input tensor with the ``NormalizationOptions`` (mean, std) found in
the model's TFLite metadata, and refuse a float model that has none ("Input tensor has type float32: it requires
specifying NormalizationOptions metadata"). The pose models of the mediapipe==0.10.21 wheel (the only offline source)
were made for the legacy graphs, which set the input range in the graph instead,
so they carry no metadata. Adding it is what Google's own ``metadata_writers`` do, but those need a compiled module
missing from the mediapipe 1.x wheel; the flatbuffer schemas they write with do ship with it (``mediapipe.tasks.metadata``),
so this module writes the same minimal metadata with them: one RGB image input, its mean and std, an empty entry per
output. The model's bytes are otherwise unchanged, and the result lives in memory only (the vendored files stay exactly
the wheel's, checksums and all).
"""

import contextlib
import io
import math
import os
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import SignBindInputError
from .face_tracking_signbind import FaceCropConfig, FaceCropper, FaceObservation, pick_face

# --- face model files ------------------------------------------------------------------------------------------------


# Package data of signbind_hf (pyproject.toml); absent from a checkpoint's remote-code copy of this module.
ASSETS_DIR = Path(__file__).parent / "assets"

# BlazeFace full range (sparse): finds faces up to ~5 m away, which is where signers filmed at conversational
# distance are; the short-range model (faces within ~2 m, selfie framing) missed them in 90-95 % of frames.
FULL_RANGE_DETECTOR_FILE = "face_detection_full_range_sparse.tflite"
SHORT_RANGE_DETECTOR_FILE = "face_detection_short_range.tflite"
# FaceMesh: 468 3-D landmarks from a 192x192 face crop; the lip points give the mouth centre.
FACE_LANDMARK_FILE = "face_landmark.tflite"
VENDORED_MODEL_FILES = (FULL_RANGE_DETECTOR_FILE, SHORT_RANGE_DETECTOR_FILE, FACE_LANDMARK_FILE)

FULL_RANGE_DETECTOR_PATH = ASSETS_DIR / FULL_RANGE_DETECTOR_FILE
SHORT_RANGE_DETECTOR_PATH = ASSETS_DIR / SHORT_RANGE_DETECTOR_FILE
FACE_LANDMARK_PATH = ASSETS_DIR / FACE_LANDMARK_FILE

# A saved processor folder holds the models it was used with under these names (any detector file is saved as
# face_detector.tflite), with the MediaPipe licence and notice when they are the packaged files.
FACE_MODELS_DIR = "face_models"
SAVED_DETECTOR_FILE = "face_detector.tflite"
SAVED_LANDMARK_FILE = FACE_LANDMARK_FILE
LICENCE_FILES = ("LICENSE.mediapipe", "NOTICE")

DETECTOR_MODEL_ENV = "SIGNBIND_FACE_DETECTOR_MODEL"
LANDMARK_MODEL_ENV = "SIGNBIND_FACE_LANDMARK_MODEL"

# A TFLite model is a FlatBuffer whose file identifier (bytes 4..8) is "TFL3".
_TFLITE_IDENTIFIER = b"TFL3"


def resolve_model_path(
    path: str | os.PathLike | None, *, argument: str, env_var: str, default: Path, what: str = "face model"
) -> Path:
    """Pick a model file (argument, then ``env_var``, then ``default``) and check that it is a TFLite model.

    Raises ``SignBindInputError`` naming the path and where it came from when the file is missing, unreadable or
    not a TFLite model, so that a wrong path fails here rather than deep inside MediaPipe or OpenCV. ``what`` names
    the kind of model in those messages (the hand and pose models of ``landmark_models_signbind.py`` use it too).
    """
    if path is not None:
        chosen, source = Path(path), f"argument {argument}"
    elif os.environ.get(env_var):
        chosen, source = Path(os.environ[env_var]), f"environment variable {env_var}"
    else:
        chosen, source = default, "the packaged default"
    chosen = chosen.expanduser()
    if not chosen.is_file():
        hint = ""
        if path is None and not os.environ.get(env_var):
            saved = (
                f"load a processor folder saved with its face models ({FACE_MODELS_DIR}/, written by "
                f"SignBindProcessor.save_pretrained) or "
                if what == "face model"
                else ""
            )
            hint = (
                f" scripts/vendor_mediapipe_models.py restores the packaged files. Where signbind-hf is not installed "
                f"there are none: {saved}set {env_var}."
            )
        raise SignBindInputError(f"{what} file {chosen} (from {source}) does not exist or is not a file.{hint}")
    try:
        with chosen.open("rb") as handle:
            header = handle.read(8)
    except OSError as error:
        raise SignBindInputError(f"{what} file {chosen} (from {source}) cannot be read: {error}.") from error
    if header[4:8] != _TFLITE_IDENTIFIER:
        raise SignBindInputError(
            f"{what} file {chosen} (from {source}) is not a TFLite model: expected the identifier "
            f"{_TFLITE_IDENTIFIER!r} at bytes 4-8, found {header[4:8]!r}. Point it to a .tflite file such as "
            f"{default.name}."
        )
    return chosen


# --- hand and body model files and their Tasks bundles ---------------------------------------------------------------


# BlazePalm (full): palms from a 192x192 view of the whole frame; runs only when tracking has lost a hand.
HAND_DETECTOR_FILE = "palm_detection_full.tflite"
# 21 hand landmarks (MediaPipe hand order), handedness and presence from a 224x224 crop around the hand.
HAND_LANDMARK_FILE = "hand_landmark_full.tflite"
# BlazePose detector: the body's centre, scale and rotation from a 224x224 view of the frame (input in [-1, 1]).
POSE_DETECTOR_FILE = "pose_detection.tflite"
# BlazePose GHUM full: 33 body landmarks with visibility from a 256x256 crop around the body (input in [0, 1]).
POSE_LANDMARK_FILE = "pose_landmark_full.tflite"
VENDORED_LANDMARK_FILES = (HAND_DETECTOR_FILE, HAND_LANDMARK_FILE, POSE_DETECTOR_FILE, POSE_LANDMARK_FILE)

HAND_DETECTOR_ENV = "SIGNBIND_HAND_DETECTOR_MODEL"
HAND_LANDMARK_ENV = "SIGNBIND_HAND_LANDMARK_MODEL"
POSE_DETECTOR_ENV = "SIGNBIND_POSE_DETECTOR_MODEL"
POSE_LANDMARK_ENV = "SIGNBIND_POSE_LANDMARK_MODEL"

# The names the Tasks graphs look for inside a .task bundle (MediaPipe's hand_landmarker.task / pose_landmarker.task).
HAND_BUNDLE_NAMES = ("hand_detector.tflite", "hand_landmarks_detector.tflite")
POSE_BUNDLE_NAMES = ("pose_detector.tflite", "pose_landmarks_detector.tflite")

# Input ranges of the pose models, as MediaPipe's legacy pose graphs set them (pose_detection_cpu.pbtxt: [-1, 1];
# pose_landmark_by_roi_cpu.pbtxt: [0, 1]), written into the bundle as (mean, std) normalisation metadata.
POSE_DETECTOR_NORMALIZATION = (127.5, 127.5)
POSE_LANDMARK_NORMALIZATION = (0.0, 255.0)


@dataclass(frozen=True)
class LandmarkModelPaths:
    """The four model files one extractor uses, each checked to be a TFLite model."""

    hand_detector: Path
    hand_landmarks: Path
    pose_detector: Path
    pose_landmarks: Path

    @classmethod
    def resolve(
        cls,
        *,
        hand_detector: str | os.PathLike | None = None,
        hand_landmarks: str | os.PathLike | None = None,
        pose_detector: str | os.PathLike | None = None,
        pose_landmarks: str | os.PathLike | None = None,
    ) -> "LandmarkModelPaths":
        """Each path from its argument, else its environment variable, else the packaged file."""
        return cls(
            hand_detector=resolve_model_path(
                hand_detector,
                argument="hand_detector_model_path",
                env_var=HAND_DETECTOR_ENV,
                default=ASSETS_DIR / HAND_DETECTOR_FILE,
                what="hand detector model",
            ),
            hand_landmarks=resolve_model_path(
                hand_landmarks,
                argument="hand_landmark_model_path",
                env_var=HAND_LANDMARK_ENV,
                default=ASSETS_DIR / HAND_LANDMARK_FILE,
                what="hand landmark model",
            ),
            pose_detector=resolve_model_path(
                pose_detector,
                argument="pose_detector_model_path",
                env_var=POSE_DETECTOR_ENV,
                default=ASSETS_DIR / POSE_DETECTOR_FILE,
                what="pose detector model",
            ),
            pose_landmarks=resolve_model_path(
                pose_landmarks,
                argument="pose_landmark_model_path",
                env_var=POSE_LANDMARK_ENV,
                default=ASSETS_DIR / POSE_LANDMARK_FILE,
                what="pose landmark model",
            ),
        )

    def hand_bundle(self) -> bytes:
        """A ``hand_landmarker.task`` (zip) for the Tasks ``HandLandmarker``: the two files as they are."""
        detector_name, landmark_name = HAND_BUNDLE_NAMES
        return _zip({detector_name: self.hand_detector.read_bytes(), landmark_name: self.hand_landmarks.read_bytes()})

    def pose_bundle(self) -> bytes:
        """A ``pose_landmarker.task`` (zip) for the Tasks ``PoseLandmarker``, each model given its input range.

        The 0.10.21 pose models carry no metadata, and without ``NormalizationOptions`` the Tasks graph refuses them
        ("Input tensor has type float32: it requires specifying NormalizationOptions metadata").
        """
        detector_mean, detector_std = POSE_DETECTOR_NORMALIZATION
        landmark_mean, landmark_std = POSE_LANDMARK_NORMALIZATION
        detector = with_image_normalization(self.pose_detector.read_bytes(), mean=detector_mean, std=detector_std)
        landmarks = with_image_normalization(self.pose_landmarks.read_bytes(), mean=landmark_mean, std=landmark_std)
        detector_name, landmark_name = POSE_BUNDLE_NAMES
        return _zip({detector_name: detector, landmark_name: landmarks})


def _zip(members: dict[str, bytes]) -> bytes:
    # Stored, not deflated: MediaPipe maps the models straight out of the bundle's bytes.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --- TFLite input-normalisation metadata -----------------------------------------------------------------------------


# Where TFLite (and MediaPipe) look for metadata: a model-level metadata entry of this name pointing to a buffer.
METADATA_NAME = "TFLITE_METADATA"
_METADATA_IDENTIFIER = b"M001"  # file identifier of the metadata flatbuffer (metadata_schema.fbs)
_MODEL_IDENTIFIER = b"TFL3"  # file identifier of a TFLite model flatbuffer (schema.fbs)
# The oldest metadata parser that reads image properties and normalisation options (metadata_schema.fbs: 1.0.0).
_MIN_PARSER_VERSION = "1.0.0"


def with_image_normalization(model: bytes, *, mean: float, std: float) -> bytes:
    """``model`` (a TFLite flatbuffer with one image input) with metadata saying its input is ``(pixel - mean) / std``.

    MediaPipe feeds such a model RGB pixels in 0..255 normalised that way: ``mean=127.5, std=127.5`` gives [-1, 1],
    ``mean=0, std=255`` gives [0, 1]. Any metadata the model already had is replaced.
    """
    from mediapipe.tasks.metadata import metadata_schema_py_generated as metadata_fb
    from mediapipe.tasks.metadata import schema_py_generated as model_fb

    tflite = model_fb.ModelT.InitFromPackedBuf(bytearray(model), 0)

    normalization = metadata_fb.NormalizationOptionsT()
    normalization.mean, normalization.std = [float(mean)], [float(std)]
    process_unit = metadata_fb.ProcessUnitT()
    process_unit.optionsType = metadata_fb.ProcessUnitOptions.NormalizationOptions
    process_unit.options = normalization
    image_properties = metadata_fb.ImagePropertiesT()
    image_properties.colorSpace = metadata_fb.ColorSpaceType.RGB
    content = metadata_fb.ContentT()
    content.contentPropertiesType = metadata_fb.ContentProperties.ImageProperties
    content.contentProperties = image_properties
    image = metadata_fb.TensorMetadataT()
    image.name = "image"
    image.content = content
    image.processUnits = [process_unit]

    subgraph = metadata_fb.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [image]
    subgraph.outputTensorMetadata = [metadata_fb.TensorMetadataT() for _ in tflite.subgraphs[0].outputs]
    metadata = metadata_fb.ModelMetadataT()
    metadata.name = "signbind-hf normalisation"
    metadata.subgraphMetadata = [subgraph]
    metadata.minParserVersion = _MIN_PARSER_VERSION
    metadata_bytes = _finish(metadata, _METADATA_IDENTIFIER)

    entries = [entry for entry in (tflite.metadata or []) if _name(entry) != METADATA_NAME]
    buffer = model_fb.BufferT()
    buffer.data = np.frombuffer(metadata_bytes, dtype=np.uint8)
    tflite.buffers.append(buffer)
    entry = model_fb.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(tflite.buffers) - 1
    tflite.metadata = [*entries, entry]
    return _finish(tflite, _MODEL_IDENTIFIER)


def _finish(table, identifier: bytes) -> bytes:
    import flatbuffers

    builder = flatbuffers.Builder(1024)
    builder.Finish(table.Pack(builder), identifier)
    return bytes(builder.Output())


def _name(entry) -> str:
    return entry.name.decode() if isinstance(entry.name, bytes) else str(entry.name)


# --- face detectors: MediaPipe (BlazeFace + FaceMesh) and OpenCV -----------------------------------------------------


class MediaPipeFaceCropper(FaceCropper):
    """MediaPipe Tasks ``FaceDetector`` (BlazeFace, full range by default) + FaceMesh lip landmarks.

    Args:
        config: cropping settings (``FaceCropConfig``).
        detector_model_path: a BlazeFace ``.tflite`` for the Tasks FaceDetector. Default: the environment variable
            ``SIGNBIND_FACE_DETECTOR_MODEL``, else the packaged full-range model (``face_models.py``).
        landmark_model_path: a FaceMesh ``face_landmark.tflite`` (468 points from a 192x192 crop). Default: the
            environment variable ``SIGNBIND_FACE_LANDMARK_MODEL``, else the packaged file.
        use_landmarks: place mouth crops with the lip landmarks. Without them (or when the landmarker finds no face
            in a detection) the detector's mouth keypoint is used, which is coarser.

    The landmarks come from the FaceMesh model run by ``FaceMeshLandmarker``, not from the Tasks
    ``FaceLandmarker``: the Tasks landmarker only takes a ``.task`` bundle, and one built from the model files
    available offline (mediapipe 0.10.21) loads but returns misplaced points (checked against the image).
    """

    def __init__(
        self,
        config: FaceCropConfig | None = None,
        *,
        detector_model_path: str | os.PathLike | None = None,
        landmark_model_path: str | os.PathLike | None = None,
        use_landmarks: bool = True,
    ) -> None:
        super().__init__(config)
        self.detector_model_path = resolve_model_path(
            detector_model_path,
            argument="detector_model_path",
            env_var=DETECTOR_MODEL_ENV,
            default=FULL_RANGE_DETECTOR_PATH,
        )
        self.use_landmarks = use_landmarks and self.config.region == "mouth"
        self.landmark_model_path = (
            resolve_model_path(
                landmark_model_path,
                argument="landmark_model_path",
                env_var=LANDMARK_MODEL_ENV,
                default=FACE_LANDMARK_PATH,
            )
            if self.use_landmarks
            else None
        )
        self._detector = None
        self._landmarker: FaceMeshLandmarker | None = None
        self._load_models()  # now, so that a wrong model file fails at construction, not on the first clip

    def _load_models(self) -> None:
        tasks = import_mediapipe_tasks()
        import mediapipe as mp

        BaseOptions, vision = tasks.BaseOptions, tasks.vision

        # The landmarker first: a wrong file fails before the detector's graph is started (a wrong detector file
        # closes the landmarker's graph below).
        if self.landmark_model_path is not None:
            self._landmarker = FaceMeshLandmarker(self.landmark_model_path)

        options = vision.FaceDetectorOptions(
            base_options=BaseOptions(model_asset_path=str(self.detector_model_path)),
            running_mode=vision.RunningMode.IMAGE,
            min_detection_confidence=self.config.min_confidence,
        )
        detector = None
        try:
            detector = vision.FaceDetector.create_from_options(options)
            # MediaPipe accepts any TFLite file at creation and fails only on the first image: run one now.
            detector.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.zeros((64, 64, 3), dtype=np.uint8)))
        except (RuntimeError, ValueError, OSError) as error:
            if detector is not None:
                _discard_failed_task(detector)
            if self._landmarker is not None:  # its graph is running already
                self._landmarker.close()
                self._landmarker = None
            raise SignBindInputError(
                f"detector_model_path {self.detector_model_path}: MediaPipe's FaceDetector cannot use this model "
                f"({error}). Expected a BlazeFace face detection .tflite such as the packaged "
                f"{FULL_RANGE_DETECTOR_PATH.name}."
            ) from error
        self._detector = detector

    def _observe(self, frame, small_frame, scale, previous):
        import mediapipe as mp

        if self._detector is None:
            self._load_models()
        if (
            self._landmarker is not None
            and previous is not None
            and previous.landmarks is not None
            and previous.tracked_steps < self.config.landmark_tracking
        ):
            tracked = self._track(frame, previous)
            if tracked is not None:
                return tracked, False
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(small_frame))
        detections = self._detector.detect(image).detections
        if not detections:
            return None, False
        small_height, small_width = small_frame.shape[:2]
        scale_x, scale_y = scale
        boxes = np.array(
            [
                [
                    d.bounding_box.origin_x * scale_x,
                    d.bounding_box.origin_y * scale_y,
                    (d.bounding_box.origin_x + d.bounding_box.width) * scale_x,
                    (d.bounding_box.origin_y + d.bounding_box.height) * scale_y,
                ]
                for d in detections
            ]
        )
        chosen = pick_face(boxes, None if previous is None else previous.face_box)
        detection = detections[chosen]
        # BlazeFace keypoints (normalized to the image): right eye, left eye, nose tip, mouth centre, right ear, left ear.
        keypoints = np.array(
            [[k.x * small_width * scale_x, k.y * small_height * scale_y] for k in detection.keypoints]
        )
        if len(keypoints) < 4:  # a user's detector without BlazeFace keypoints: the face box places the mouth
            return FaceObservation(face_box=boxes[chosen], score=float(detection.categories[0].score)), False
        mouth_centre, points = keypoints[3], None
        landmarks_failed = False
        if self._landmarker is not None:
            points = self._landmarker.landmarks(frame, boxes[chosen], right_eye=keypoints[0], left_eye=keypoints[1])
            landmarks_failed = points is None
            if points is not None:
                mouth_centre = self._landmarker.mouth_of(points)
        observation = FaceObservation(
            face_box=boxes[chosen],
            mouth_centre=mouth_centre,
            score=float(detection.categories[0].score),
            landmarks=points,
        )
        return observation, landmarks_failed

    def _track(self, frame: np.ndarray, previous: FaceObservation) -> FaceObservation | None:
        """Follow ``previous`` into ``frame`` with the landmarks alone; None when they lose the face or it jumps.

        The landmarker reads the region of the previous face box (rotated by the previous eye line). The new box is
        the previous one moved by the shift of the landmarks' centroid and scaled by the change of their spread, so
        it keeps the detector's framing (the mouth crop's size is a multiple of it).
        """
        landmarker = self._landmarker
        before = previous.landmarks
        points = landmarker.landmarks(frame, previous.face_box, *landmarker.eyes_of(before))
        if points is None:
            return None
        shift = points.mean(axis=0) - before.mean(axis=0)
        growth = _spread(points) / max(_spread(before), 1e-6)
        box = previous.face_box
        side = max(box[2] - box[0], box[3] - box[1])
        # Beyond these the region read was not where the face is: the landmarks are a guess, detect instead.
        if not 0.8 <= growth <= 1.25 or float(np.hypot(*shift)) > 0.25 * side:
            return None
        centre = (box[:2] + box[2:]) / 2 + shift
        half = (box[2:] - box[:2]) / 2 * growth
        return FaceObservation(
            face_box=np.concatenate([centre - half, centre + half]),
            mouth_centre=landmarker.mouth_of(points),
            score=previous.score,
            landmarks=points,
            tracked_steps=previous.tracked_steps + 1,
        )

    def close(self) -> None:
        # Close explicitly (or use ``with``): a detector left open until interpreter exit makes MediaPipe 1.2's
        # own __del__ print a harmless traceback, because its worker thread pool is already shut down by then.
        if self._detector is not None:
            self._detector.close()
        if self._landmarker is not None:
            self._landmarker.close()
        self._detector = None
        self._landmarker = None

    def __getstate__(self) -> dict:
        # MediaPipe and OpenCV handles cannot be pickled (datasets.map with num_proc pickles the processor); they
        # are rebuilt from the model paths on first use in the new process.
        state = self.__dict__.copy()
        state["_detector"] = None
        state["_landmarker"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


def import_mediapipe_tasks():
    """``mediapipe.tasks.python``, imported so that MediaPipe keeps none of the importing code's variables alive.

    MediaPipe's audio module, which its task package imports, keeps the error of its optional ``sounddevice`` import
    at module level (``audio_record.sd_error``: "PortAudio library not found" wherever PortAudio is missing), and with
    it the error's traceback: every frame of the stack that first imported MediaPipe, with its local variables. The
    processor builds its face cropper inside the first call, so that was the first call's input video and output
    tensors, held until the process ended (a weak reference to the outputs never died). Dropping the traceback
    releases them; the error itself stays, for MediaPipe's audio recorder to raise.
    """
    from mediapipe.tasks import python as tasks

    error = getattr(sys.modules.get("mediapipe.tasks.python.audio.core.audio_record"), "sd_error", None)
    seen = set()
    while isinstance(error, BaseException) and id(error) not in seen:  # the error and those it was raised during
        seen.add(id(error))
        error.__traceback__ = None
        error = error.__cause__ or error.__context__
    return tasks


def _discard_failed_task(task) -> None:
    """Release a MediaPipe Tasks object (a FaceDetector, an ImageEmbedder) whose graph failed.

    Its ``close()`` re-raises the graph's error before releasing the worker thread, so ``__del__`` would retry
    later and, at interpreter exit, hang or corrupt the interpreter's state. Finish the release by hand (MediaPipe
    1.2 attribute names; skipped if a later version renames them).
    """
    with contextlib.suppress(RuntimeError, ValueError):
        task.close()
    if getattr(task, "_handle", None) is None:
        return
    task._handle = None
    for resource in (getattr(task, "_dispatcher", None), getattr(task, "_lib", None)):
        if resource is not None:
            with contextlib.suppress(RuntimeError, ValueError):
                resource.close()


class FaceMeshLandmarker:
    """MediaPipe FaceMesh (``face_landmark.tflite``) run by MediaPipe's own TFLite runtime; gives the mouth centre.

    It follows MediaPipe's own face_landmark graph: the face box is enlarged 1.5x into a square, rotated so that the
    eyes are level, resized to 192x192 RGB in [0, 1]; the model returns 468 (x, y, z) points in that square and a
    face-presence logit.

    The model runs in a MediaPipe Tasks ``ImageEmbedder`` with L2 normalisation and quantisation off, which hands
    back a model's raw output tensors: MediaPipe's XNNPACK runtime takes 1.7 ms of CPU per pass where OpenCV's TFLite
    importer (used before) took 2.3 ms, and the landmark pass runs on every keyframe of every clip
    (benchmarks/bench_processing.py). The embedder feeds a float model without metadata its image in [0, 1], FaceMesh's
    input range; ``tests/video/test_face.py`` checks its points against OpenCV's DNN module running the same file.
    (The Tasks ``FaceLandmarker`` is no option: it only takes a ``.task`` bundle, and one built from the model files
    available offline, mediapipe 0.10.21's, loads but returns misplaced points.) Close it (or use ``with``) to stop
    its MediaPipe graph.
    """

    INPUT_SIDE = 192
    ROI_SCALE = 1.5
    # Outer-lip points: right corner, left corner, top of the upper lip, bottom of the lower lip.
    MOUTH_LANDMARKS = (61, 291, 0, 17)
    # Eye corners (outer, inner) of the subject's right eye (image left) and left eye.
    RIGHT_EYE_LANDMARKS = (33, 133)
    LEFT_EYE_LANDMARKS = (263, 362)
    NUM_LANDMARKS = 468

    def __init__(self, model_path: str | os.PathLike) -> None:
        tasks = import_mediapipe_tasks()
        BaseOptions, vision = tasks.BaseOptions, tasks.vision

        self.model_path = model_path
        options = vision.ImageEmbedderOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)), l2_normalize=False, quantize=False
        )
        self._embedder = None
        try:
            self._embedder = vision.ImageEmbedder.create_from_options(options)
            # MediaPipe accepts any TFLite file at creation and fails only on the first image: run one now.
            outputs = self._outputs(np.zeros((self.INPUT_SIDE, self.INPUT_SIDE, 3), dtype=np.uint8))
        except (RuntimeError, ValueError, OSError) as error:
            if self._embedder is not None:
                _discard_failed_task(self._embedder)
            self._embedder = None
            raise SignBindInputError(
                f"landmark_model_path {model_path}: MediaPipe cannot run this model as a FaceMesh landmarker "
                f"({error}). Expected MediaPipe's face_landmark.tflite."
            ) from error
        sizes = [output.size for output in outputs]
        if len(outputs) != 2 or sizes[0] != self.NUM_LANDMARKS * 3 or sizes[1] != 1:
            self.close()
            raise SignBindInputError(
                f"landmark_model_path {model_path}: expected a FaceMesh model with {self.NUM_LANDMARKS * 3} landmark "
                f"outputs (468 x, y, z) and a face-presence logit, got outputs of sizes {sizes}."
            )

    def _outputs(self, image: np.ndarray) -> list[np.ndarray]:
        """The model's output tensors for one (192, 192, 3) uint8 RGB image, largest first."""
        import mediapipe as mp

        heads = self._embedder.embed(mp.Image(image_format=mp.ImageFormat.SRGB, data=image)).embeddings
        # Two outputs whose order depends on the converter: the landmarks are the big one, the logit the scalar.
        return sorted((head.embedding for head in heads), key=np.size, reverse=True)

    def close(self) -> None:
        """Stop the MediaPipe graph running the model (it is rebuilt only by a new landmarker)."""
        if self._embedder is not None:
            self._embedder.close()
        self._embedder = None

    def __enter__(self) -> "FaceMeshLandmarker":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def landmarks(
        self, frame: np.ndarray, face_box: np.ndarray, right_eye: np.ndarray, left_eye: np.ndarray
    ) -> np.ndarray | None:
        """The 468 landmarks ``(468, 2)`` in ``frame`` pixel coordinates, or None when the model sees no face."""
        import cv2

        x0, y0, x1, y1 = face_box
        centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        half = self.ROI_SCALE * max(x1 - x0, y1 - y0) / 2
        # The subject's right eye is on the image's left: the vector right->left eye points along the face's x axis.
        angle = math.atan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0])
        axis_x = np.array([math.cos(angle), math.sin(angle)]) * half
        axis_y = np.array([-math.sin(angle), math.cos(angle)]) * half
        corners = np.float32([centre - axis_x - axis_y, centre + axis_x - axis_y, centre - axis_x + axis_y])
        side = self.INPUT_SIDE
        to_input = cv2.getAffineTransform(corners, np.float32([[0, 0], [side, 0], [0, side]]))
        roi = cv2.warpAffine(frame, to_input, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        landmarks, logit = self._outputs(roi)  # (1404,), (1,)
        if float(logit[0]) < 0.0:  # sigmoid(logit) < 0.5: no face in the region
            return None
        points = landmarks.reshape(self.NUM_LANDMARKS, 3)[:, :2]  # (468, 2) in input pixels
        to_frame = cv2.invertAffineTransform(to_input)
        return points @ to_frame[:, :2].T + to_frame[:, 2]

    def mouth_centre(
        self, frame: np.ndarray, face_box: np.ndarray, right_eye: np.ndarray, left_eye: np.ndarray
    ) -> np.ndarray | None:
        """Mean of the outer-lip landmarks ``(2,)`` in frame pixels, or None when the model sees no face."""
        points = self.landmarks(frame, face_box, right_eye, left_eye)
        return None if points is None else self.mouth_of(points)

    def mouth_of(self, points: np.ndarray) -> np.ndarray:
        """The mouth centre ``(2,)``: the mean of the outer-lip points of ``points`` (468, 2)."""
        return points[list(self.MOUTH_LANDMARKS)].mean(axis=0)

    def eyes_of(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(subject's right eye, left eye) centres from ``points`` (468, 2): what the next region is rotated by."""
        return points[list(self.RIGHT_EYE_LANDMARKS)].mean(axis=0), points[list(self.LEFT_EYE_LANDMARKS)].mean(axis=0)


class OpenCVFaceCropper(FaceCropper):
    """OpenCV Haar cascade (shipped with cv2): a weaker fallback without landmarks or mouth keypoints.

    It misses profile and tilted faces and gives boxes that jitter more than MediaPipe's; prefer
    ``MediaPipeFaceCropper``.
    """

    # Haar boxes start higher on the forehead than BlazeFace boxes, so the mouth sits lower in them.
    mouth_centre_in_face_box = (0.5, 0.75)

    def __init__(self, config: FaceCropConfig | None = None, *, cascade_path: str | os.PathLike | None = None) -> None:
        import cv2

        super().__init__(config)
        self.cascade_path = str(
            cascade_path or os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_default.xml")
        )
        self._cascade = cv2.CascadeClassifier(self.cascade_path)
        if self._cascade.empty():
            raise SignBindInputError(f"cascade_path {self.cascade_path}: OpenCV cannot load a Haar cascade from it.")

    def _observe(self, frame, small_frame, scale, previous):
        import cv2

        gray = cv2.cvtColor(small_frame, cv2.COLOR_RGB2GRAY)
        found = self._cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
        if len(found) == 0:
            return None, False
        scale_x, scale_y = scale
        boxes = np.array([[x * scale_x, y * scale_y, (x + w) * scale_x, (y + h) * scale_y] for x, y, w, h in found])
        chosen = pick_face(boxes, None if previous is None else previous.face_box)
        return FaceObservation(face_box=boxes[chosen]), False

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_cascade"]
        return state

    def __setstate__(self, state: dict) -> None:
        import cv2

        self.__dict__.update(state)
        self._cascade = cv2.CascadeClassifier(self.cascade_path)


def _spread(points: np.ndarray) -> float:
    """Root-mean-square distance of ``points`` (N, 2) from their centroid: their size, whatever their rotation."""
    return float(np.sqrt(((points - points.mean(axis=0)) ** 2).sum(axis=1).mean()))
