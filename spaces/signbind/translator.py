"""The demo's one way to translate: the ``sign-language-translation`` pipeline of a model folder or Hub repo.

``PipelineTranslator`` loads a model once (a few are kept, least recently used first out), runs the pipeline on a
video and, for the face-crop preview, asks the pipeline's processor (the one saved with the model) for the crops the
lipreading expert reads, undoing their normalisation. The pipeline's result does not carry the crops, so the preview
reads the video a second time; on the tiny preset that costs about as much as the translation itself.

Example:

```python
>>> translate = PipelineTranslator()
>>> translation = translate("examples/synthsign-test-000000.mp4", "runs/quickstart/model")
>>> translation.results[0]["translation"], translation.face_crops.shape  # (8, 32, 32, 3) for the tiny preset
```
"""

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

PREVIEW_CROPS = 8  # face crops in the preview strip, evenly spaced over the frames where a face was found


class ModelReferenceError(ValueError):
    """A model the demo was told to serve is not a usable SignBind model; the message is meant for its operator."""


class ModelLoadError(RuntimeError):
    """A served model failed to load (damaged weights, an unreachable Hub); one line, meant for the server log."""


@dataclass
class Translation:
    """What the demo shows: the pipeline's result(s) and, when the model reads lips, the face crops it saw."""

    results: list[dict[str, Any]]  # one per sentence (a long video is split)
    face_crops: np.ndarray | None  # (N, h, w, 3) uint8, or None (no lip expert, or no face found)
    face_note: str  # why there are no crops, or how many frames had a face
    seconds: float
    # Whether the model has an LLM refiner: a result's "refined" is also false when nothing was recognised.
    has_refiner: bool


@dataclass
class _LoadedModel:
    pipeline: Any  # SignBindTranslationPipeline; its .processor also gives the face-crop preview
    lock: threading.Lock  # one translation at a time per model: the face detector and torch modules are shared state


def check_model_reference(reference: str) -> str:
    """``reference`` stripped, if it can name a SignBind model: a local model folder (checked as the pipeline checks
    it: config, processor, safetensors weights) or an ``org/name`` Hub repo id; ``ModelReferenceError`` otherwise.

    This checks the models the demo is started with; what a visitor sends is only compared with that list.
    """
    reference = (reference or "").strip()
    if not reference:
        raise ModelReferenceError(
            "no model given: pass a model folder (for example runs/quickstart/model, made by `make demo`) or a Hub "
            "repo id (org/name)"
        )
    path = Path(reference).expanduser()
    if path.exists():
        from signbind_hf.errors import SignBindInputError
        from signbind_hf.pipeline_signbind import check_model_folder

        try:
            return str(check_model_folder(path))
        except SignBindInputError as error:
            raise ModelReferenceError(str(error)) from None
    parts = reference.split("/")
    if len(parts) != 2 or not all(parts) or reference.startswith((".", "~")):
        raise ModelReferenceError(
            f"{reference}: no such folder, and not a Hub repo id (org/name); give the folder of a trained model"
        )
    return reference


class PipelineTranslator:
    """Callable ``(video_path, model) -> Translation`` backed by the real pipeline; keeps ``max_models`` loaded."""

    def __init__(self, *, max_models: int = 2, device: str | None = None) -> None:
        self.max_models = max_models
        self.device = device
        self._models: OrderedDict[str, _LoadedModel] = OrderedDict()
        self._loading = threading.Lock()

    def __call__(self, video: str, model: str) -> Translation:
        loaded = self.load(model)
        started = time.perf_counter()
        with loaded.lock:
            output = loaded.pipeline(video)
            results = output if isinstance(output, list) else [output]
            face_crops, face_note = _face_crop_preview(loaded.pipeline.processor, video)
        return Translation(
            results=results,
            face_crops=face_crops,
            face_note=face_note,
            seconds=time.perf_counter() - started,
            has_refiner=loaded.pipeline.refiner is not None,
        )

    def load(self, model: str) -> _LoadedModel:
        """The pipeline of ``model`` (a checked reference), loaded once; ``ModelLoadError`` in one line if it fails."""
        with self._loading:
            if model in self._models:
                self._models.move_to_end(model)
                return self._models[model]

            from signbind_hf.errors import SignBindInputError
            from signbind_hf.pipeline_signbind import one_line, translation_pipeline

            started = time.perf_counter()
            try:
                # The installed package's pipeline class (the task's own), so a folder carrying the pipeline as
                # remote code needs no trust_remote_code here: the code that runs is this install's.
                translator = translation_pipeline(model, device=self.device)
            except (SignBindInputError, OSError) as error:  # damaged or missing weights, an unreachable Hub
                raise ModelLoadError(one_line(error)) from None
            loaded = _LoadedModel(pipeline=translator, lock=threading.Lock())
            logger.info("loaded %s in %.1f s", model, time.perf_counter() - started)
            self._models[model] = loaded
            while len(self._models) > self.max_models:
                self._models.popitem(last=False)
            return loaded


def _face_crop_preview(processor: Any, video: str) -> tuple[np.ndarray | None, str]:
    """Up to ``PREVIEW_CROPS`` face crops, as the lip expert received them (denormalised to uint8 RGB)."""
    video_processor = processor.video_processor
    if video_processor.face_cropper is None:
        return None, "This model has no lipreading expert: no face crops."
    inputs = processor(videos=[video], return_tensors="np")
    crops = inputs["face_pixel_values"][0]  # (T, 3, h, w), normalised
    found = np.flatnonzero(inputs["face_attention_mask"][0])
    if found.size == 0:
        return None, "No face was found in this video: the lipreading expert saw nothing."
    picked = found[np.linspace(0, found.size - 1, num=min(PREVIEW_CROPS, found.size)).round().astype(int)]
    mean = np.asarray(video_processor.image_mean, dtype=np.float32)[:, None, None]
    std = np.asarray(video_processor.image_std, dtype=np.float32)[:, None, None]
    pixels = (crops[picked] * std + mean).clip(0.0, 1.0)  # (N, 3, h, w) in [0, 1]
    strip = (pixels.transpose(0, 2, 3, 1) * 255).round().astype(np.uint8)  # (N, h, w, 3)
    total = int(inputs["attention_mask"][0].sum())
    return strip, f"Face found in {found.size} of {total} frames; {len(picked)} crops shown, evenly spaced."
