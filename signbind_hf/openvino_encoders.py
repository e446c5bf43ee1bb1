"""The model's visual encoders as OpenVINO models: export (int8 by NNCF's post-training quantization) and load.

The frame backbone (DINOv2) and the lip ViT hold nearly all of the model's compute. OpenVINO runs them with its own
CPU kernels; NNCF quantizes their weights and activations to int8 after measuring the activations' ranges on frames of
real clips (calibration), which needs no training and keeps the per-frame decisions (benchmarks/RESULTS.md compares it
with torch's dynamic int8 and bf16). The rest of the model (router, heads, lip alignment, fusion) stays in torch: a
small share of the compute, and the code that reads masks and variable lengths.

```python
>>> from signbind_hf.openvino_encoders import export_openvino_encoders
>>> export_openvino_encoders(model, calibration_batches, "runs/quickstart/model")  # writes .../openvino/
>>> translator = translation_pipeline("runs/quickstart/model", precision="openvino")
```

or ``signbind export-openvino --model DIR VIDEO...``. The export is tied to the weights it was made from (a
fingerprint of the encoders' tensors): loading it into a model with other weights is an error, never a silent mix.

Hugging Face's ``optimum-intel`` wraps the same two libraries for Hub architectures; it does not install beside this
package's transformers and torch (README, "Fast paths on a CPU"), so they are called directly.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers.modeling_outputs import BaseModelOutputWithPooling

from .errors import SignBindInputError

OPENVINO_FOLDER = "openvino"
EXPORT_FILE = "openvino_export.json"
# (owner attribute on the model, encoder attribute on the owner, the output field the model reads, file stem)
ENCODERS = (
    ("manual", "backbone", "pooler_output", "frame_backbone"),
    ("lip", "vit", "last_hidden_state", "lip_vit"),
)
MAX_CALIBRATION_BATCHES = 300  # NNCF's default subset size: more batches measure the ranges no better


def require_openvino() -> tuple[Any, Any]:
    """``(openvino, nncf)``, or a one-line error saying how to install them."""
    try:
        import nncf
        import openvino
    except ImportError as error:
        raise SignBindInputError(
            f"the OpenVINO fast path needs the openvino and nncf packages ({error}); "
            "install them with `pip install 'signbind-hf[openvino]'`"
        ) from error
    return openvino, nncf


def encoders_of(model: nn.Module) -> dict[str, tuple[nn.Module, str, str, str]]:
    """``{stem: (owner, attribute, output field, stem)}`` for each visual encoder the model has."""
    found = {}
    for owner_name, attribute, field, stem in ENCODERS:
        owner = getattr(model, owner_name, None)
        if owner is not None and getattr(owner, attribute, None) is not None:
            found[stem] = (owner, attribute, field, stem)
    return found


def weights_fingerprint(encoder: nn.Module) -> str:
    """SHA-256 of an encoder's tensors (names, shapes, dtypes and values), so an export knows its weights."""
    digest = hashlib.sha256()
    for name, tensor in sorted(encoder.state_dict().items()):
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype};".encode())
        digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


class _OutputOf(nn.Module):
    """An encoder returning one tensor (the field the model reads): what OpenVINO converts."""

    def __init__(self, encoder: nn.Module, field: str):
        super().__init__()
        self.encoder, self.field = encoder, field

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return getattr(self.encoder(pixel_values=pixel_values), self.field)


def calibration_inputs(model: nn.Module, batches: Iterable[Mapping[str, Any]]) -> dict[str, list[torch.Tensor]]:
    """The pixel values each visual encoder receives while ``model`` (in eval mode) reads ``batches`` of its inputs:
    after the model's own preprocessing (centring, padding into lip windows, chunking), exactly what the exported
    encoder will be given."""
    captured: dict[str, list[torch.Tensor]] = {stem: [] for stem in encoders_of(model)}
    hooks = []
    for stem, (owner, attribute, _, _) in encoders_of(model).items():

        def keep(module, args, kwargs, stem=stem):
            if len(captured[stem]) < MAX_CALIBRATION_BATCHES:
                captured[stem].append(kwargs["pixel_values"].detach().float().clone())

        hooks.append(getattr(owner, attribute).register_forward_pre_hook(keep, with_kwargs=True))
    model.eval()
    try:
        with torch.inference_mode():
            for batch in batches:
                model(**batch)
    finally:
        for hook in hooks:
            hook.remove()
    return captured


def export_openvino_encoders(
    model: nn.Module,
    batches: Iterable[Mapping[str, Any]],
    model_dir: str | os.PathLike,
    *,
    quantize: bool = True,
) -> Path:
    """Convert the model's frame backbone and lip ViT to OpenVINO and write them to ``model_dir/openvino/``.

    Args:
        model: a ``SignBindModel`` (its encoders are converted as they are now).
        batches: model inputs (the processor's output, as a batch) to calibrate on: clips like those the model will
            read. Every batch is run through the model once; the encoders' inputs are the calibration set.
        model_dir: the model folder (usually where the model was saved); the export goes to its ``openvino/``.
        quantize: int8 weights and activations (NNCF post-training quantization); False keeps float32.

    Returns the export folder. Written to a temporary folder first and moved in place: an interrupted export
    leaves no half-written ``openvino/``.
    """
    openvino, nncf = require_openvino()
    inputs = calibration_inputs(model, batches)
    empty = [stem for stem, items in inputs.items() if not items]
    if empty:
        raise SignBindInputError(
            f"no calibration frames reached {', '.join(empty)}: pass at least one clip with frames (and a face for the "
            "lip ViT)"
        )
    folder = Path(model_dir) / OPENVINO_FOLDER
    staging = folder.with_name(f".{OPENVINO_FOLDER}.partial")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        record = {"quantization": "int8" if quantize else "none", "openvino": openvino.__version__, "encoders": {}}
        for stem, (owner, attribute, field, _) in encoders_of(model).items():
            encoder = getattr(owner, attribute)
            with torch.inference_mode():
                converted = openvino.convert_model(_OutputOf(encoder, field).eval(), example_input=inputs[stem][0])
            if quantize:
                converted = nncf.quantize(
                    converted,
                    nncf.Dataset([item.numpy() for item in inputs[stem]]),
                    model_type=nncf.ModelType.TRANSFORMER,
                    subset_size=len(inputs[stem]),
                )
            openvino.save_model(converted, staging / f"{stem}.xml")
            record["encoders"][stem] = {
                "output": field,
                "weights_sha256": weights_fingerprint(encoder),
                "calibration_batches": len(inputs[stem]),
                "calibration_frames": sum(len(item) for item in inputs[stem]),
            }
        (staging / EXPORT_FILE).write_text(json.dumps(record, indent=2) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


class OpenVINOEncoder(nn.Module):
    """Stands in for a transformers encoder: ``(pixel_values=...)`` in, an output with the one field the model reads.

    Compiled on first use with torch's thread count at that moment, so that ``torch.set_num_threads`` (which
    ``signbind translate --live`` calls after loading) also sets OpenVINO's.
    """

    def __init__(self, exported: Any, field: str, name: str):
        super().__init__()
        self.exported, self.field, self.name = exported, field, name
        self.compiled = None
        self.eval()

    def forward(self, pixel_values: torch.Tensor, bool_masked_pos: torch.Tensor | None = None) -> Any:
        if bool_masked_pos is not None or self.training:
            raise RuntimeError(f"the OpenVINO {self.name} runs inference only: it cannot be trained or masked")
        if self.compiled is None:
            openvino, _ = require_openvino()
            self.compiled = openvino.Core().compile_model(
                self.exported,
                "CPU",
                # float32 outside the int8 layers: OpenVINO would pick bf16 on CPUs that have it, another change of
                # the numbers than the one the export was asked for.
                {"INFERENCE_NUM_THREADS": torch.get_num_threads(), "INFERENCE_PRECISION_HINT": "f32"},
            )
        result = self.compiled(pixel_values.detach().float().cpu().numpy())[0]
        output = torch.from_numpy(result.copy()).to(pixel_values.dtype)  # the request's buffer is reused next call
        return BaseModelOutputWithPooling(**{self.field: output})


def load_openvino_encoders(model: nn.Module, model_dir: str | os.PathLike) -> list[str]:
    """Replace, in place, the model's frame backbone and lip ViT with their OpenVINO export in ``model_dir/openvino/``;
    returns the encoders replaced.

    Raises:
        SignBindInputError: no export there, one made from other weights, or one missing an encoder the model has.
    """
    openvino, _ = require_openvino()
    folder = Path(model_dir) / OPENVINO_FOLDER
    record_file = folder / EXPORT_FILE
    if not record_file.is_file():
        raise SignBindInputError(
            f"{model_dir}: no OpenVINO export ({record_file} not found); make one with "
            f"`signbind export-openvino --model {model_dir} VIDEO...`"
        )
    record = json.loads(record_file.read_text())["encoders"]
    replaced = []
    for stem, (owner, attribute, field, _) in encoders_of(model).items():
        if stem not in record:
            raise SignBindInputError(f"{folder}: the export has no {stem}, which this model has; export it again")
        if record[stem]["weights_sha256"] != weights_fingerprint(getattr(owner, attribute)):
            raise SignBindInputError(
                f"{folder}: the {stem} was exported from other weights than this model's; export it again with "
                f"`signbind export-openvino --model {model_dir} VIDEO...`"
            )
        exported = openvino.Core().read_model(folder / f"{stem}.xml")
        setattr(owner, attribute, OpenVINOEncoder(exported, field, stem))
        replaced.append(stem)
    return replaced
