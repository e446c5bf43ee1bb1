"""The ``sign-language-translation`` pipeline: a video of a signer in, English out.

Steps: ``SignBindProcessor`` (decode, resample, frames, face crops) -> ``SignBindModel`` -> CTC decoding of each stream
-> the LLM refiner kept in the model folder's ``refiner/`` (pseudo-gloss -> English). Without a refiner the
translation is the pseudo-gloss itself and the result says so (``"refined": False``).

Example:

```python
>>> import signbind_hf  # registers the task
>>> from transformers import pipeline
>>> translator = pipeline("sign-language-translation", model="runs/quickstart/model")
>>> result = translator("clip.mp4")
>>> result["translation"], result["pseudo_gloss"], result["segments"][0]
('So to gain that balance on your toe, ...', 'GAIN BALANCE TOE', {'label': 'rest', 'start': 0.0, 'end': 0.36})
>>> translator(["a.mp4", "b.mp4"])  # a batch: one result per video
>>> translator(["a.mp4", "notes.txt"], errors="return")  # [result, {"video": "notes.txt", "error": "..."}]
```

One result is a dict: ``translation``, ``refined``, ``pseudo_gloss``, ``fingerspelling`` (the letters stream, words
separated by spaces), ``phonemes`` (ARPAbet), ``segments`` (router decisions as time ranges in seconds:
``{"label": "sign" | "fingerspelling" | "rest", "start", "end"}``, tiling the clip in order), ``gate`` (mean weight
the fusion gave the lip stream over each segment; ``None`` for a model without a lip stream), ``start`` / ``end`` /
``duration`` (seconds of the video the result covers), ``num_frames`` and ``fps`` (frames used and their rate),
``source_fps`` (the file's own rate), ``face_frames`` (frames with a face crop; ``None`` without face crops) and
``timing`` (seconds per stage: ``video``, ``model``, ``decoding``, ``refiner``, ``total``).

Long videos. The processor reads at most ``max_frames`` frames per clip (it would subsample a longer one uniformly,
losing most of the signing). The pipeline instead reads the video in consecutive windows of ``max_frames`` frames.
Each window's own router output decides where it ends: the last ``overlap`` fraction of the window is searched for
the longest run of "rest" frames (a pause between sentences) and the window is cut in its middle (without any rest
there, at the frame the router finds most like a pause). Frames before the cut are decoded (the CTC streams are
masked at the cut), and the next window starts at the cut, so the frames past it are read twice: they give the fusion
transformer the context after the cut, then start the next window. No extra pass over the video is needed and memory
stays that of one window. Each window's part becomes one result with its ``start`` / ``end`` times, and a video read
in more than one window returns the list of them; a video that fits one window returns one dict. Parts end in pauses,
so each holds whole sentences (one or a few); the ``segments`` show the pauses inside a part.

A video in which no face is found on any frame (for a model that crops faces) is refused with a
``SignBindInputError`` ("no person found"), as are files that are not video (the processor names them).

The module is flat and imports only the standard library, torch, transformers (and huggingface_hub, its dependency) and
flat sibling modules, so it ships as remote code inside a model folder: :func:`add_pipeline_code` makes a folder carry
it, after which ``pipeline("sign-language-translation", model=DIR, trust_remote_code=True)`` works where signbind-hf is
not installed (transformers asks for ``trust_remote_code`` for any folder that names its own pipeline code, even when
this package is imported; :func:`translation_pipeline` passes the class itself and needs no such flag).
"""

import json
import logging
import os
import pickle
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from transformers import AutoModel, Pipeline
from transformers.dynamic_module_utils import get_relative_import_files
from transformers.utils import SAFE_WEIGHTS_INDEX_NAME, SAFE_WEIGHTS_NAME, WEIGHTS_INDEX_NAME, WEIGHTS_NAME

from .configuration_signbind import SignBindConfig
from .constants import ATTENTION_MASK, FACE_ATTENTION_MASK, SEGMENT_REST
from .errors import SignBindInputError, SignBindModelError
from .modeling_signbind import SignBindOutput
from .segments import choose_cut, mean_per_run, time_segments

logger = logging.getLogger(__name__)

TASK = "sign-language-translation"
# The processor's return_metadata key (video_processing_signbind.VIDEO_METADATA), spelled here rather than imported:
# the video processor needs the video stack, and this module must import where only the model's code is present.
VIDEO_METADATA = "video_metadata"
DEFAULT_OVERLAP = 0.25  # fraction of a window searched for the cut: 5.1 s of a 512-frame window at 25 fps
STAGES = ("video", "model", "decoding", "refiner")
PRECISIONS = ("fp32", "bf16", "int8", "openvino")  # see the pipeline's `precision` argument
ERROR_POLICIES = ("raise", "return")  # what a call does with a video it cannot translate (see __call__)
# Terminal escape sequences (torch's pickle refusal prints in bold): a one-line message must not carry them.
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# The streams of a SignBindOutput the pipeline reads (the others are losses or training-only).
_OUTPUT_FIELDS = (
    "gloss_logits",
    "sign_logits",
    "fingerspelling_logits",
    "phoneme_logits",
    "phoneme_attention_mask",
    "router_probs",
    "gate",
)

__all__ = [
    "TASK",
    "SignBindTranslationPipeline",
    "add_pipeline_code",
    "check_model_folder",
    "check_safetensors_weights",
    "one_line",
    "translation_pipeline",
]


class SignBindTranslationPipeline(Pipeline):
    """Sign-language video -> English, with what each expert saw on the way. See the module docstring.

    Args (besides those of ``transformers.Pipeline``; build it with ``pipeline("sign-language-translation", ...)``):
        device: where the model runs; ``"cpu"`` unless given (transformers' default would be the first GPU).
        refiner: the LLM refiner to use: ``None`` loads the one in the model folder's ``refiner/`` if there is one,
            ``False`` uses none (the translation is the pseudo-gloss), or an object with
            ``translate(list[str]) -> list[str]``.
        precision (`str`, defaults to `"fp32"`): how the visual model computes: ``"fp32"`` (as trained), ``"bf16"``
            (``torch.autocast`` to bfloat16: matmuls and convolutions in bf16, faster on CPUs with bf16 instructions,
            avx512_bf16 or AMX) or ``"int8"`` (:func:`quantize_encoders`: the Linear layers of the frame backbone and
            the lip ViT with int8 weights, activations quantized on the fly; CPU only) or ``"openvino"`` (the frame
            backbone and lip ViT exported to OpenVINO by ``signbind export-openvino``, int8 with calibrated
            activations: :mod:`signbind_hf.openvino_encoders`; CPU only, needs ``signbind-hf[openvino]``). Each
            changes the logits a little, so ``"fp32"`` is the default; ``benchmarks/bench_realtime.py`` measures
            their speed and how often the per-frame decision stays the same.
        backbone_frame_stride (`int`, *optional*): run the manual expert's frame encoder on every k-th frame only and
            hold its features in between (the model config's ``backbone_frame_stride``, set on the loaded model): about
            k times less backbone compute, at some cost in accuracy (``benchmarks/RESULTS.md``); default: the model's
            own setting (1, every frame, unless it was saved otherwise).

    Call arguments (also accepted when building the pipeline, as defaults):
        beam_width (`int`, *optional*): CTC prefix beam search with this many beams; by default the model's
            ``config.ctc_beam_width`` (greedy decoding when that is None).
        fps (`float`, *optional*): frame rate of frame folders and arrays (video files carry their own).
        face_boxes, normalized_face_boxes: face boxes per source frame instead of detection (see the processor).
        start, end (`float`, *optional*): the seconds of the video to translate (default: all of it).
        overlap (`float`, defaults to 0.25): fraction of a window searched for the cut to the next window.
        progress (`Callable[[float], None]`, *optional*): called with the seconds of video read so far after each
            window (for progress bars on long videos).
        errors (`str`, defaults to `"raise"`, call only): `"return"` gives a video that cannot be translated an
            entry ``{"video", "error"}`` in place of its result instead of raising (see ``__call__``).
    """

    _load_processor = True
    _load_tokenizer = False
    _load_feature_extractor = False
    _load_image_processor = False
    _load_video_processor = False

    def __init__(
        self,
        *args: Any,
        device: Any = None,
        refiner: Any = None,
        precision: str = "fp32",
        backbone_frame_stride: int | None = None,
        **kwargs: Any,
    ) -> None:
        if precision not in PRECISIONS:
            raise SignBindInputError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
        if backbone_frame_stride is not None and (
            not isinstance(backbone_frame_stride, int)
            or isinstance(backbone_frame_stride, bool)
            or backbone_frame_stride < 1
        ):
            raise SignBindInputError(
                f"backbone_frame_stride must be a positive whole number of frames; got {backbone_frame_stride!r}"
            )
        super().__init__(*args, device="cpu" if device is None else device, **kwargs)
        if backbone_frame_stride is not None:
            self.model.config.backbone_frame_stride = backbone_frame_stride
        self.precision = precision
        if precision in ("int8", "openvino") and self.device.type != "cpu":
            raise SignBindInputError(f"precision={precision!r} runs on the CPU only; got device {self.device}")
        if precision == "int8":
            quantize_encoders(self.model)
        if precision == "openvino":
            from .openvino_encoders import load_openvino_encoders

            load_openvino_encoders(self.model, self.model.name_or_path)
        if self.processor is None:
            raise SignBindInputError(
                "the sign-language-translation pipeline needs the SignBindProcessor saved with the model "
                "(processor_config.json); pass processor= or save one with processor.save_pretrained(model_dir)"
            )
        self.model.eval()
        config = self.model.config
        self.frames_per_lip_step = config.lip_config.tubelet_size * config.lip_temporal_stride if config.use_lip else 1
        self.refiner = self._resolve_refiner(refiner)

    # --- parameters ---------------------------------------------------------------------------------------------
    def _sanitize_parameters(
        self,
        beam_width: int | None = None,
        fps: float | None = None,
        face_boxes: Any = None,
        normalized_face_boxes: bool | None = None,
        start: float | None = None,
        end: float | None = None,
        overlap: float | None = None,
        progress: Callable[[float], None] | None = None,
        **unknown: Any,
    ) -> tuple[dict, dict, dict]:
        if unknown:
            raise SignBindInputError(
                f"unknown argument(s) {sorted(unknown)} for the {TASK} pipeline; expected some of beam_width, fps, "
                "face_boxes, normalized_face_boxes, start, end, overlap, progress"
            )
        preprocess: dict[str, Any] = {}
        for name, value in (("fps", fps), ("face_boxes", face_boxes), ("start", start), ("end", end)):
            if value is not None:
                preprocess[name] = value
        if normalized_face_boxes is not None:
            preprocess["normalized_face_boxes"] = bool(normalized_face_boxes)
        if overlap is not None:
            if not isinstance(overlap, int | float) or not 0 < overlap < 1:
                raise SignBindInputError(f"overlap must be a fraction of a window in (0, 1); got {overlap!r}")
            preprocess["overlap"] = float(overlap)
        if progress is not None:
            if not callable(progress):
                raise SignBindInputError(f"progress must be a callable taking seconds; got {type(progress).__name__}")
            preprocess["progress"] = progress
        postprocess: dict[str, Any] = {}
        if beam_width is not None:
            if not isinstance(beam_width, int) or isinstance(beam_width, bool) or beam_width < 1:
                raise SignBindInputError(f"beam_width must be an integer >= 1 (or None: greedy); got {beam_width!r}")
            postprocess["beam_width"] = beam_width
        return preprocess, {}, postprocess

    # --- calling ------------------------------------------------------------------------------------------------
    def __call__(
        self,
        inputs: Any,
        *args: Any,
        num_workers: int | None = None,
        batch_size: int | None = None,
        errors: str = "raise",
        **kwargs,
    ):
        """Translate one video (-> a dict, or a list of dicts for a long video) or a list of videos (-> a list).

        A video is what the processor reads: a file path, the bytes of a file, a folder of frames, or a (T, H, W, C)
        array or tensor. A list of PIL images or (H, W, C) arrays is one video given frame by frame; any other list
        is a batch. Videos are translated one after another (each may be read in several windows).

        ``errors`` says what happens to a video that cannot be translated (a ``SignBindInputError``: not a video,
        no person found, ...). ``"raise"`` (the default, as every transformers pipeline does) raises it, and a batch
        returns nothing. ``"return"`` puts ``{"video": <the file, or the input's type>, "error": <one line>}`` in
        that video's place and goes on, so that one bad file among thousands keeps every good result; check
        ``"error" in result``. Other exceptions (a bug, out of memory) are raised either way: they are not a
        property of one video, and would fail the next one as well.
        """
        if args:
            raise SignBindInputError(f"the {TASK} pipeline takes the video(s) as its only positional argument")
        if errors not in ERROR_POLICIES:
            raise SignBindInputError(f"errors must be one of {', '.join(map(repr, ERROR_POLICIES))}; got {errors!r}")
        if (batch_size or 1) != 1 or (num_workers or 0) > 1:
            raise SignBindInputError(
                f"batch_size and num_workers are not supported by the {TASK} pipeline (a video is read in windows "
                "one after another); give a list of videos to translate several"
            )
        preprocess_params, forward_params, postprocess_params = self._sanitize_parameters(**kwargs)
        preprocess_params = {**self._preprocess_params, **preprocess_params}
        forward_params = {**self._forward_params, **forward_params}
        postprocess_params = {**self._postprocess_params, **postprocess_params}
        params = (preprocess_params, forward_params, postprocess_params)
        if isinstance(inputs, list | tuple):
            if not inputs:
                raise SignBindInputError("videos: the list is empty; expected at least one video")
            if all(_is_frame(item) for item in inputs):  # the frames of one video
                return self._run_or_report(inputs, errors, *params)
            return [self._run_or_report(video, errors, *params) for video in inputs]
        return self._run_or_report(inputs, errors, *params)

    def _run_or_report(self, video: Any, errors: str, *params: dict) -> dict[str, Any] | list[dict[str, Any]]:
        """``run_single``, or with ``errors="return"`` the error entry of a video that cannot be translated."""
        try:
            return self.run_single(video, *params)
        except SignBindInputError as error:
            if errors == "raise":
                raise
            return {"video": _describe(video), "error": one_line(error)}

    def run_single(
        self, inputs: Any, preprocess_params: dict, forward_params: dict, postprocess_params: dict
    ) -> dict[str, Any] | list[dict[str, Any]]:
        """Read ``inputs`` window by window (see the module docstring), decode each part, then refine and assemble."""
        window_settings = dict(preprocess_params)
        overlap = window_settings.pop("overlap", DEFAULT_OVERLAP)
        progress = window_settings.pop("progress", None)
        start = float(window_settings.pop("start", 0.0))
        stop = window_settings.pop("end", None)
        window_frames = self.processor.video_processor.max_frames
        target_fps = float(self.processor.video_processor.target_fps)
        # The lookahead is searched for the cut; a window always keeps at least one frame before it.
        search_start = max(1, window_frames - round(overlap * window_frames))
        parts = []
        face_frames: int | None = None
        corrupt_packets = 0
        while True:
            timing = dict.fromkeys(STAGES, 0.0)
            tick = time.perf_counter()
            window_end = start + window_frames / target_fps
            model_inputs = self.preprocess(
                inputs, start=start, end=window_end if stop is None else min(window_end, stop), **window_settings
            )
            timing["video"] = time.perf_counter() - tick
            metadata = model_inputs.pop(VIDEO_METADATA)[0]
            tick = time.perf_counter()
            outputs = self.forward(model_inputs, **forward_params)
            timing["model"] = time.perf_counter() - tick
            num_frames = int(metadata["num_frames"])
            reached_end = num_frames < window_frames or (stop is not None and window_end >= stop)
            cut = num_frames if reached_end else self._cut(outputs, search_start)
            tick = time.perf_counter()
            part = self._decode_part(outputs, cut, start=start, fps=target_fps, **postprocess_params)
            timing["decoding"] = time.perf_counter() - tick
            part.update(fps=target_fps, source_fps=metadata.get("source_fps"), timing=timing)
            corrupt_packets += metadata.get("corrupt_packets", 0)
            if "face_frames" in metadata:
                face_frames = (face_frames or 0) + part["face_frames"]
            parts.append(part)
            if progress is not None:
                progress(part["end"])
            if reached_end:
                break
            start += cut / target_fps  # not part["end"], which is rounded for display
        if face_frames == 0 and corrupt_packets:  # damage, not the signer, is the likelier reason: say so first
            raise SignBindInputError(
                f"{_describe(inputs)}: the video is damaged ({corrupt_packets} packets could not be decoded) and no "
                f"face was detected in the {sum(part['num_frames'] for part in parts)} frames that could be read"
            )
        if face_frames == 0:
            raise SignBindInputError(
                f"{_describe(inputs)}: no person found: no face was detected in any of the "
                f"{sum(part['num_frames'] for part in parts)} frames read. Expected a video of a signer facing the "
                "camera (a person's face must be visible)"
            )
        return self.postprocess(parts)

    # --- the Pipeline steps -------------------------------------------------------------------------------------
    def preprocess(self, video: Any, **processor_kwargs: Any) -> dict[str, Any]:
        """One window of one video -> the processor's tensors and the window's metadata (``video_metadata``)."""
        features = self.processor(videos=video, return_metadata=True, **processor_kwargs)
        return dict(features)

    def _forward(self, model_inputs: dict[str, Any]) -> dict[str, Any]:
        inputs = {name: model_inputs[name] for name in self.processor.model_input_names if name in model_inputs}
        dtype = self.model.dtype
        inputs = {name: value.to(dtype) if value.is_floating_point() else value for name, value in inputs.items()}
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            output = self.model(**inputs)
        # Float32 for decoding whatever the model's dtype (beam search reads the scores as numpy, which has no bf16).
        kept = {
            name: value.float() if value.is_floating_point() else value
            for name in _OUTPUT_FIELDS
            if (value := getattr(output, name)) is not None
        }
        kept[ATTENTION_MASK] = inputs[ATTENTION_MASK]
        if FACE_ATTENTION_MASK in inputs:
            kept[FACE_ATTENTION_MASK] = inputs[FACE_ATTENTION_MASK]
        return kept

    def postprocess(self, parts: list[dict[str, Any]]) -> dict[str, Any] | list[dict[str, Any]]:
        """Refine each part's pseudo-gloss into English; one dict, or a list for a video read in several windows."""
        for part in parts:
            tick = time.perf_counter()
            if self.refiner is None or not part["pseudo_gloss"]:
                part["translation"], part["refined"] = part["pseudo_gloss"], False
            else:
                (part["translation"],) = self.refiner.translate([part["pseudo_gloss"]])
                part["refined"] = True
            part["timing"]["refiner"] = time.perf_counter() - tick
            part["timing"] = {stage: round(part["timing"][stage], 6) for stage in STAGES}
            part["timing"]["total"] = round(sum(part["timing"].values()), 6)
        results = [{key: part[key] for key in RESULT_KEYS} for part in parts]
        return results[0] if len(results) == 1 else results

    # --- helpers ------------------------------------------------------------------------------------------------
    def _cut(self, outputs: dict[str, Any], search_start: int) -> int:
        valid = int(outputs[ATTENTION_MASK][0].sum())
        probabilities = outputs["router_probs"][0, :valid].float().numpy()  # (T, 3)
        return choose_cut(probabilities.argmax(-1), probabilities[:, SEGMENT_REST], search_start)

    def _decode_part(
        self, outputs: dict[str, Any], cut: int, *, start: float, fps: float, beam_width: int | None = None
    ) -> dict[str, Any]:
        """Decode frames ``[0, cut)`` of a window: every CTC stream masked at the cut, router runs, lip gate."""
        if beam_width is None:
            beam_width = getattr(self.model.config, "ctc_beam_width", None)
        frame_mask = outputs[ATTENTION_MASK].clone()
        frame_mask[:, cut:] = 0
        phoneme_mask = outputs.get("phoneme_attention_mask")
        if phoneme_mask is not None:
            phoneme_mask = phoneme_mask.clone()
            # A lip step covers frames_per_lip_step frames; keep the steps that start before the cut.
            phoneme_mask[:, -(-cut // self.frames_per_lip_step) :] = 0
        streams = SignBindOutput(
            gloss_logits=outputs["gloss_logits"],
            sign_logits=outputs.get("sign_logits"),
            fingerspelling_logits=outputs.get("fingerspelling_logits"),
            phoneme_logits=outputs.get("phoneme_logits"),
            phoneme_attention_mask=phoneme_mask,
            router_logits=outputs["router_probs"],  # its argmax, the routing, is all that decoding reads
        )
        texts = self.processor.batch_decode(streams, frame_mask, beam_width=beam_width, skip_special_tokens=True)
        labels = outputs["router_probs"][0, :cut].float().argmax(-1).numpy()  # (cut,)
        gate = outputs.get("gate")
        face_mask = outputs.get(FACE_ATTENTION_MASK)
        return {
            "pseudo_gloss": texts["gloss"][0],
            "fingerspelling": texts["fingerspelling"][0] if "fingerspelling" in texts else "",
            "phonemes": texts["phoneme"][0] if "phoneme" in texts else "",
            "segments": time_segments(labels, start=start, fps=fps),
            "gate": None if gate is None else mean_per_run(labels, gate[0, :cut].float().numpy()),
            "start": round(start, 6),
            "end": round(start + cut / fps, 6),
            "duration": round(cut / fps, 6),
            "num_frames": cut,
            "face_frames": None if face_mask is None else int(face_mask[0, :cut].sum()),
        }

    def _resolve_refiner(self, refiner: Any) -> Any:
        if refiner is False:
            return None
        if refiner is not None:
            if not callable(getattr(refiner, "translate", None)):
                raise SignBindInputError(
                    f"refiner must have translate(list[str]) -> list[str] (a signbind Refiner), or be False/None; "
                    f"got {type(refiner).__name__}"
                )
            return refiner
        from .refiner import REFINER_DIR, Refiner, has_refiner

        model_dir = self.model.name_or_path
        if model_dir and not Path(model_dir).is_dir():
            # A Hub repository: the model's own files are cached already; fetch its refiner/ folder beside them.
            from huggingface_hub import snapshot_download

            model_dir = snapshot_download(model_dir, allow_patterns=[f"{REFINER_DIR}/*", f"{REFINER_DIR}/**/*"])
        if not model_dir or not has_refiner(model_dir):
            logger.info("%s has no %s/: translations are the pseudo-gloss (refined: false)", model_dir, REFINER_DIR)
            return None
        return Refiner.from_pretrained(model_dir, device=self.device)


RESULT_KEYS = (
    "translation",
    "refined",
    "pseudo_gloss",
    "fingerspelling",
    "phonemes",
    "segments",
    "gate",
    "start",
    "end",
    "duration",
    "num_frames",
    "fps",
    "source_fps",
    "face_frames",
    "timing",
)


def _is_frame(item: Any) -> bool:
    if hasattr(item, "ndim"):
        return item.ndim in (2, 3)
    return type(item).__module__.startswith("PIL.")


def _describe(video: Any) -> str:
    if isinstance(video, str | os.PathLike):
        return str(video)
    return f"the video ({type(video).__name__})"


def quantize_encoders(model: Any) -> list[str]:
    """Quantize, in place, the ``nn.Linear`` layers of the transformers encoders inside ``model`` (the DINOv2 frame
    backbone, the lip expert's ViT) to int8 weights with dynamic activation quantization (torch's
    ``quantize_dynamic``); returns the parts quantized.

    Those encoders hold nearly all of the paper preset's FLOPs. The model's own heads, router and fusion stay in
    float: their code reads layer weights as tensors (their dtype, the fused attention fast path), which a quantized
    layer keeps packed.
    """
    quantized = []
    for owner, name in ((model.manual, "backbone"), (model.lip, "vit")):
        if owner is not None and getattr(owner, name, None) is not None:
            encoder = torch.ao.quantization.quantize_dynamic(
                getattr(owner, name), {torch.nn.Linear}, dtype=torch.qint8
            )
            setattr(owner, name, encoder)
            quantized.append(f"{'manual' if owner is model.manual else 'lip'}.{name}")
    return quantized


def check_model_folder(model_dir: str | os.PathLike) -> Path:
    """``model_dir`` if it is a saved SignBind model with its processor, else a one-line ``SignBindInputError``."""
    path = Path(model_dir)
    if not path.exists():
        raise SignBindInputError(f"{path}: no such model folder")
    if not path.is_dir():
        raise SignBindInputError(f"{path}: not a folder; expected a model folder written by save_pretrained")
    config_file = path / "config.json"
    if not config_file.is_file():
        raise SignBindInputError(
            f"{path}: not a model folder (no config.json); expected a folder written by SignBindModel.save_pretrained"
        )
    try:
        model_type = json.loads(config_file.read_text(encoding="utf-8")).get("model_type")
    except (OSError, json.JSONDecodeError, AttributeError) as error:
        raise SignBindInputError(f"{config_file}: not a readable model config ({error})") from error
    if model_type != SignBindConfig.model_type:
        raise SignBindInputError(
            f"{path}: a {model_type!r} model, not a SignBind model (config.json model_type must be "
            f"{SignBindConfig.model_type!r})"
        )
    if not (path / "processor_config.json").is_file():
        raise SignBindInputError(
            f"{path}: the model has no processor (processor_config.json); save one beside it with "
            "processor.save_pretrained(model_dir)"
        )
    check_safetensors_weights(path)
    return path


def check_safetensors_weights(path: Path) -> None:
    """A ``SignBindModelError`` unless ``path`` holds safetensors weights; pickled weights are refused by name.

    Unpickling a file can run any code it carries, and torch's ``weights_only`` guard is a filter, not a sandbox:
    like ``signbind push``, every load path of signbind-hf takes safetensors weights only (``use_safetensors=True``
    as well, so that transformers never falls back to a ``pytorch_model.bin``).
    """
    if (path / SAFE_WEIGHTS_NAME).is_file() or (path / SAFE_WEIGHTS_INDEX_NAME).is_file():
        return
    pickled = [name for name in (WEIGHTS_NAME, WEIGHTS_INDEX_NAME) if (path / name).is_file()]
    if pickled:
        raise SignBindModelError(
            f"{path}: its weights are {pickled[0]}, a pickle file; signbind loads safetensors weights only (loading "
            "a pickle can run arbitrary code). Convert it where you trust its origin: load the model and "
            f"save_pretrained it again (transformers writes {SAFE_WEIGHTS_NAME}), then remove {pickled[0]}"
        )
    raise SignBindModelError(
        f"{path}: no model weights ({SAFE_WEIGHTS_NAME}); expected a folder written by SignBindModel.save_pretrained"
    )


def one_line(error: BaseException) -> str:
    """``error`` as one line of plain text: whitespace runs joined, terminal escape sequences removed."""
    text = " ".join(_ANSI_ESCAPE.sub("", str(error)).split())
    return text or type(error).__name__


def translation_pipeline(
    model: str | os.PathLike, *, device: Any = None, dtype: Any = "auto", **kwargs: Any
) -> SignBindTranslationPipeline:
    """``pipeline("sign-language-translation", model=model, ...)`` with this class, for a local signbind-hf install.

    Passing the class skips transformers' remote-code prompt for folders that carry the pipeline code
    (:func:`add_pipeline_code`): the code that runs is this installed package's, not the folder's.

    Raises:
        SignBindInputError: a local folder that is not a SignBind model with its processor (one line).
        SignBindModelError: weights that are pickled, missing, truncated or damaged, or any other loading failure
            (one line naming ``model``; the original exception is its ``__cause__``).
    """
    from transformers import pipeline

    if Path(model).exists():  # a local folder (anything else is taken for a Hub repository id)
        check_model_folder(model)
    # Never a pickle, also for a Hub repository id (see check_safetensors_weights).
    model_kwargs = {"use_safetensors": True, **kwargs.pop("model_kwargs", {})}
    with model_loading_errors(model):
        return pipeline(
            TASK,
            model=str(model),
            pipeline_class=SignBindTranslationPipeline,
            device=device,
            dtype=dtype,
            model_kwargs=model_kwargs,
            **kwargs,
        )


def load_model(model_dir: str | os.PathLike) -> Any:
    """The SignBind model saved in the folder ``model_dir``, from its safetensors weights only.

    For every command that reads a model folder (evaluate, features, ablate): a pickled, missing, truncated or damaged
    weights file is one ``SignBindModelError`` line naming the folder, as in :func:`translation_pipeline`.
    """
    path = Path(model_dir)
    if not (path / "config.json").is_file():
        raise SignBindInputError(
            f"{path}: not a model folder (no config.json); expected a folder written by save_pretrained"
        )
    check_safetensors_weights(path)
    with model_loading_errors(path):
        return AutoModel.from_pretrained(str(path), use_safetensors=True)


@contextmanager
def model_loading_errors(model: str | os.PathLike) -> Iterator[None]:
    """Turns what loading a model can raise into one ``SignBindModelError`` line naming ``model``."""
    try:
        yield
    except SignBindInputError:
        raise  # already one line naming the file (a refiner's problems, a bad argument)
    except SafetensorError as error:
        raise SignBindModelError(
            f"{model}: a safetensors weights file is damaged or truncated ({one_line(error)}); save or download the "
            "model again"
        ) from error
    except pickle.UnpicklingError as error:
        raise SignBindModelError(f"{model}: a pickle weights file was refused ({one_line(error)})") from error
    except (OSError, ValueError) as error:  # transformers' own loading errors: missing files, a broken config
        raise SignBindModelError(f"{model}: cannot load the model: {one_line(error)}") from error


def add_pipeline_code(model_dir: str | os.PathLike) -> list[Path]:
    """Make a saved model folder carry this pipeline as remote code; returns the files written.

    Copies this module and the flat modules it imports (recursively) beside the weights, and adds
    ``custom_pipelines`` to ``config.json`` (what ``Pipeline.save_pretrained`` writes for a registered pipeline), so
    that ``pipeline("sign-language-translation", model=DIR, trust_remote_code=True)`` finds the class without
    signbind-hf installed. ``config.json`` is replaced atomically.

    Meant for a folder to publish (``signbind push``): once config.json names pipeline code, transformers refuses
    ``pipeline("sign-language-translation", model=DIR)`` without ``trust_remote_code=True`` even where this package is
    imported and the task registered; :func:`translation_pipeline` still loads it with the installed class.
    """
    model_dir = Path(model_dir)
    config_file = model_dir / "config.json"
    if not config_file.is_file():
        raise SignBindInputError(f"{model_dir}: not a saved model folder (no config.json); expected a save_pretrained")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise SignBindInputError(f"{config_file}: cannot read it as JSON: {error}") from error
    written = []
    for source in [Path(__file__), *map(Path, get_relative_import_files(__file__))]:
        destination = model_dir / source.name
        shutil.copyfile(source, destination)
        written.append(destination)
    config["custom_pipelines"] = {
        TASK: {
            "impl": f"{Path(__file__).stem}.{SignBindTranslationPipeline.__name__}",
            "pt": [AutoModel.__name__],
            "type": "multimodal",
        }
    }
    temporary = config_file.with_name(config_file.name + ".tmp")
    temporary.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(config_file)
    written.append(config_file)
    return written
