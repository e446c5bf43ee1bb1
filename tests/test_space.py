"""The Gradio Space's parts, in process: upload and model checks, the rendered outputs, the click handler (through its
``translate_fn`` test seam), the Space's README and requirements, and `signbind app`'s argument handling.

The real pipeline, a server, gradio_client and a browser are in test_space_server.py.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
import sys
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import av
import gradio as gr
import numpy as np
import pytest
from huggingface_hub import SpaceCard
from packaging.requirements import Requirement

from signbind_cli.app import SPACE_APP, boolean, load_space_app
from signbind_cli.main import main as signbind_main
from signbind_hf import SignBindInputError

SPACE_DIR = SPACE_APP.parent
EXAMPLE = SPACE_DIR / "examples" / "synthsign-test-000000.mp4"


@pytest.fixture(scope="module")
def space():
    return load_space_app()


@pytest.fixture(scope="module")
def space_modules(space):
    # app.py put its folder on sys.path, so its sibling modules import by their plain names (as on a Space).
    import result_views
    import translator
    import video_checks

    return result_views, translator, video_checks


def write_sparse_video(path: Path, seconds_between_frames: list[int]) -> Path:
    """A tiny H.264 file whose few frames are far apart in time: a 30-minute video in about 2 KB."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=1)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, 1)
        for index, pts in enumerate(seconds_between_frames):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), 40 * index, np.uint8), format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 1)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def fake_result(**overrides) -> dict:
    result = {
        "translation": "Our doctor is Omar Smith.",
        "refined": True,
        "pseudo_gloss": "OUR DOCTOR OMAR SMITH",
        "fingerspelling": "OMAR SMITH",
        "phonemes": "aw er d aa k t er",
        "segments": [
            {"label": "rest", "start": 0.0, "end": 0.4},
            {"label": "sign", "start": 0.4, "end": 2.0},
            {"label": "fingerspelling", "start": 2.0, "end": 4.6},
        ],
        "gate": [0.2, 0.6, 0.3],
        "timing": {"video": 0.5, "model": 0.25, "decoding": 0.01, "refiner": 0.0, "total": 0.76},
    }
    return {**result, **overrides}


# --- upload checks ----------------------------------------------------------------------------------------------
def test_check_video_reads_the_length_of_an_example(space_modules):
    _, _, video_checks = space_modules
    facts = video_checks.check_video(EXAMPLE, max_seconds=60)
    assert facts.duration_s == pytest.approx(4.6, abs=0.05)  # 115 frames at 25 fps
    assert (facts.width, facts.height, facts.codec) == (128, 128, "h264")


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("notes.mp4", b"these are words, not frames", "not a video file"),
        ("empty.webm", b"", "the file is empty"),
    ],
)
def test_check_video_refuses_files_that_are_not_videos(space_modules, tmp_path, name, content, expected):
    _, _, video_checks = space_modules
    (tmp_path / name).write_bytes(content)
    with pytest.raises(video_checks.VideoCheckError, match=expected) as error:
        video_checks.check_video(tmp_path / name, max_seconds=60)
    assert str(error.value).startswith(name)


def test_check_video_refuses_a_still_image(space_modules, tmp_path):
    _, _, video_checks = space_modules
    from PIL import Image

    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / "photo.png")
    with pytest.raises(video_checks.VideoCheckError, match=r"photo.png: a single still image \(png\), not a video"):
        video_checks.check_video(tmp_path / "photo.png", max_seconds=60)


def test_check_video_refuses_a_30_minute_video_without_decoding_it(space_modules, tmp_path):
    _, _, video_checks = space_modules
    video = write_sparse_video(tmp_path / "lecture.mp4", [0, 900, 1799])
    with pytest.raises(
        video_checks.VideoCheckError, match=r"lasts 30 min 0 s, longer than this demo's limit of 1 min"
    ):
        video_checks.check_video(video, max_seconds=60)
    assert video_checks.check_video(video, max_seconds=3600).duration_s == pytest.approx(1800)


def test_check_video_measures_a_webcam_recording_without_a_duration_in_its_header(space_modules, tmp_path):
    # Browsers' MediaRecorder writes WebM as a live stream: no duration, no cues. Written here the same way.
    _, _, video_checks = space_modules
    path = tmp_path / "webcam.webm"
    with av.open(str(path), "w", format="webm", options={"live": "1"}) as container:
        stream = container.add_stream("libvpx-vp9", rate=25)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for index in range(50):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), index * 4, np.uint8), format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    with av.open(str(path)) as container:
        assert container.duration is None  # the case under test
    assert video_checks.check_video(path, max_seconds=60).duration_s == pytest.approx(2.0)
    with pytest.raises(
        video_checks.VideoCheckError, match=r"lasts at least 1\.6 s, longer than this demo's limit of 1\.5 s"
    ):
        video_checks.check_video(path, max_seconds=1.5)


# --- model field ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    from .test_pipeline import save_tiny_model

    return save_tiny_model(tmp_path_factory.mktemp("space_model") / "model", use_lip=False)


@pytest.fixture(scope="module")
def broken_models(tiny_model, tmp_path_factory) -> dict[str, Path]:
    from .test_pipeline_errors import broken_model_folders

    return broken_model_folders(tiny_model, tmp_path_factory.mktemp("space_broken"))


def test_check_model_reference_names_what_is_wrong(space_modules, tmp_path, tiny_model, broken_models):
    _, translator, _ = space_modules
    check = translator.check_model_reference
    with pytest.raises(translator.ModelReferenceError, match="no model given"):
        check("  ")
    with pytest.raises(translator.ModelReferenceError, match=r"not a model folder \(no config\.json\)"):
        check(str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(translator.ModelReferenceError, match="a 'bert' model, not a SignBind model"):
        check(str(tmp_path))
    with pytest.raises(translator.ModelReferenceError, match="no such folder, and not a Hub repo id"):
        check(str(tmp_path / "missing" / "model"))
    with pytest.raises(translator.ModelReferenceError, match=r"pickled: its weights are pytorch_model\.bin, a pickle"):
        check(str(broken_models["pickled"]))
    assert check(f" {tiny_model} ") == str(tiny_model)
    assert check("signbind-hf/signbind-synthsign-tiny") == "signbind-hf/signbind-synthsign-tiny"


class _ProcessorReturning:
    """Stands in for a SignBindProcessor: returns given normalised face crops and masks for any video."""

    def __init__(self, face_pixel_values, face_attention_mask, face_cropper="mediapipe"):
        self.video_processor = SimpleNamespace(
            image_mean=[0.5, 0.4, 0.3], image_std=[0.2, 0.25, 0.5], face_cropper=face_cropper
        )
        self.outputs = {
            "face_pixel_values": face_pixel_values,
            "face_attention_mask": face_attention_mask,
            "attention_mask": np.ones_like(face_attention_mask),
        }

    def __call__(self, videos, return_tensors):
        assert return_tensors == "np"
        return self.outputs


def test_face_crop_preview_undoes_the_normalisation_and_spaces_the_crops(space_modules):
    _, translator, _ = space_modules
    num_frames = 20
    rgb = np.arange(num_frames)[:, None] * [10, 5, 1] + [0, 20, 40]  # (T, 3): each frame its own colour, 0-255
    mean, std = np.array([0.5, 0.4, 0.3]), np.array([0.2, 0.25, 0.5])
    normalised = ((rgb / 255 - mean) / std)[:, :, None, None] * np.ones((1, 1, 4, 4))  # (T, 3, 4, 4)
    found = np.zeros((1, num_frames), dtype=np.int64)
    found[0, 5:15] = 1  # a face in frames 5-14 only
    processor = _ProcessorReturning(normalised[None].astype(np.float32), found)
    crops, note = translator._face_crop_preview(processor, "clip.mp4")
    assert crops.shape == (translator.PREVIEW_CROPS, 4, 4, 3)
    assert crops.dtype == np.uint8
    picked = [round(index) for index in np.linspace(5, 14, translator.PREVIEW_CROPS)]
    np.testing.assert_array_equal(crops[:, 0, 0], rgb[picked])
    assert note == "Face found in 10 of 20 frames; 8 crops shown, evenly spaced."


def test_face_crop_preview_says_why_there_are_no_crops(space_modules):
    _, translator, _ = space_modules
    no_face = _ProcessorReturning(np.zeros((1, 6, 3, 4, 4), np.float32), np.zeros((1, 6), np.int64))
    assert translator._face_crop_preview(no_face, "clip.mp4") == (
        None,
        "No face was found in this video: the lipreading expert saw nothing.",
    )
    no_lip_expert = _ProcessorReturning(None, np.zeros((1, 6), np.int64), face_cropper=None)
    assert translator._face_crop_preview(no_lip_expert, "clip.mp4")[0] is None


def test_pipeline_translator_on_a_model_without_lip_expert(space_modules, tmp_path):
    # The real pipeline in process (the lip-reading model is served in test_space_server.py): no face crops, no gate.
    _, translator, _ = space_modules
    import torch

    from signbind_hf import SignBindConfig, SignBindModel, SignBindProcessor

    config = SignBindConfig.from_preset("tiny", use_lip=False)
    processor = SignBindProcessor.from_model_config(config, glosses=["OUR DOCTOR OMAR SMITH"])
    config.gloss_vocab_size = len(processor.tokenizer)
    torch.manual_seed(0)
    SignBindModel(config).save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    translate = translator.PipelineTranslator()
    translation = translate(str(EXAMPLE), str(tmp_path))
    (result,) = translation.results
    assert result["translation"] == result["pseudo_gloss"]
    assert result["gate"] is None
    assert translation.face_crops is None
    assert translation.face_note == "This model has no lipreading expert: no face crops."
    assert translation.has_refiner is False
    (again,) = translate(str(EXAMPLE), str(tmp_path)).results
    assert {**again, "timing": None} == {**result, "timing": None}  # loaded once; the same answer
    assert len(translate._models) == 1


def test_an_unreachable_hub_model_is_a_load_error(space_modules, monkeypatch):
    _, translator, _ = space_modules
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # as on our machines: no Hub
    with pytest.raises(translator.ModelLoadError, match="someorg/no-such-model: cannot load the model"):
        translator.PipelineTranslator()(str(EXAMPLE), "someorg/no-such-model")


def test_served_models_come_from_the_environment_then_the_quickstart_folder(space, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(space.MODEL_ENV, raising=False)
    assert space.configured_models() == []
    with pytest.raises(space.ModelReferenceError, match="no model to serve: pass --model DIR"):
        space.served_models([])
    quickstart = tmp_path / "runs" / "quickstart" / "model"
    quickstart.mkdir(parents=True)
    (quickstart / "config.json").write_text("{}")
    (tmp_path / "runs" / "other" / "model").mkdir(parents=True)  # not served: only what the demo is started with
    assert space.configured_models() == ["runs/quickstart/model"]
    monkeypatch.setenv(space.MODEL_ENV, "org/model, org/other,")
    assert space.configured_models() == ["org/model", "org/other"]
    assert space.served_models(["org/model", " org/model", "org/other"]) == ["org/model", "org/other"]


def test_max_seconds_setting_is_checked(space, monkeypatch):
    monkeypatch.setenv(space.MAX_SECONDS_ENV, "12.5")
    assert space.max_seconds_from_environment() == 12.5
    monkeypatch.setenv(space.MAX_SECONDS_ENV, "ten")
    with pytest.raises(ValueError, match="SIGNBIND_MAX_SECONDS must be a positive number of seconds; got 'ten'"):
        space.max_seconds_from_environment()


# --- rendered outputs -------------------------------------------------------------------------------------------
def test_text_fields_of_one_result_and_of_a_long_video(space_modules):
    result_views, _, _ = space_modules
    assert result_views.text_fields([fake_result()]).translation == "Our doctor is Omar Smith."
    sentences = [
        fake_result(translation="First.", start=0.0, end=4.6),
        fake_result(translation="Second.", start=4.6, end=9.0, segments=[]),
    ]
    fields = result_views.text_fields(sentences)
    assert fields.translation == "[0.0–4.6 s] First.\n[4.6–9.0 s] Second."
    assert fields.pseudo_gloss.count("OUR DOCTOR OMAR SMITH") == 2


def test_router_timeline_draws_one_bar_per_segment_in_its_colour(space_modules):
    result_views, _, _ = space_modules
    figure = result_views.router_timeline_figure([fake_result()])
    (axes,) = figure.axes
    bars = axes.collections
    assert len(bars) == 3
    colours = [tuple(np.round(bar.get_facecolor()[0][:3], 3)) for bar in bars]
    from matplotlib.colors import to_rgb

    assert colours == [
        tuple(np.round(to_rgb(result_views.LABEL_COLOURS[name]), 3)) for name in ("rest", "sign", "fingerspelling")
    ]
    assert axes.get_xlim() == (0.0, 4.6)


def test_lip_gate_plots_each_segment_or_says_there_is_no_lip_stream(space_modules):
    result_views, _, _ = space_modules
    (axes,) = result_views.lip_gate_figure([fake_result()]).axes
    levels = [collection.get_segments()[0][0][1] for collection in axes.collections]
    assert levels == pytest.approx([0.2, 0.6, 0.3])
    (axes,) = result_views.lip_gate_figure([fake_result(gate=None)]).axes
    assert not axes.collections
    assert [text.get_text() for text in axes.texts] == ["this model has no lip stream"]


def test_face_strip_puts_crops_side_by_side(space_modules):
    result_views, _, _ = space_modules
    crops = np.stack([np.full((8, 6, 3), value, np.uint8) for value in (10, 20, 30)])
    crops[0, 0, 1] = 200  # one bright pixel: enlarged to a 12 x 12 block (96 / 8 = 12 times)
    strip = result_views.face_strip(crops)
    assert strip.shape == (96, 3 * 6 * 12 + 2 * 2, 3)
    assert [strip[0, 0, 0], strip[0, 6 * 12, 0], strip[0, -1, 0]] == [10, 255, 30]
    assert (strip[:12, 12:24] == 200).all()
    assert (strip[12:, 12:24] == 10).all()
    assert result_views.face_strip(None) is None
    with pytest.raises(ValueError, match=r"\(N, h, w, 3\) uint8"):
        result_views.face_strip(np.zeros((2, 8, 8), np.uint8))


# --- the click handler, with the translate_fn seam --------------------------------------------------------------
def make_handler(space, translate_fn, max_seconds: float = 60, models=("org/model",), upload_folder=None):
    return space.make_translate_handler(
        translate_fn, max_seconds=max_seconds, models=list(models), upload_folder=upload_folder
    )


@pytest.mark.compat
def test_handler_renders_every_output(space, space_modules, tmp_path):
    _, translator, _ = space_modules
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "signbind"}))
    calls = []

    def translate_fn(video, model):
        calls.append((video, model))
        return translator.Translation(
            results=[fake_result(refined=False)],
            face_crops=np.zeros((4, 32, 32, 3), np.uint8),
            face_note="Face found in 115 of 115 frames",
            seconds=0.1,
            has_refiner=False,
        )

    outputs = make_handler(space, translate_fn, models=[str(tmp_path)])(str(EXAMPLE), str(tmp_path))
    assert calls == [(str(EXAMPLE), str(tmp_path))]
    translation, gloss, letters, phonemes, timeline, gate, faces, face_note, details = outputs
    assert (translation, gloss, letters, phonemes) == (
        "Our doctor is Omar Smith.",
        "OUR DOCTOR OMAR SMITH",
        "OMAR SMITH",
        "aw er d aa k t er",
    )
    assert len(timeline.axes) == len(gate.axes) == 1
    assert faces.shape == (96, 4 * 96 + 3 * 2, 3)
    assert face_note.startswith("Face found")
    for expected in ("video** 4.6 s", "translated in** 0.1 s", "no LLM refiner", "total 0.76"):
        assert expected in details


def _error_message(handler, *arguments) -> str:
    with pytest.raises(gr.Error) as error:
        handler(*arguments)
    return error.value.message


def test_handler_turns_every_failure_into_a_message(space, tmp_path):
    model = "org/model"
    (tmp_path / "slides.mp4").write_bytes(b"%PDF-1.7 not a video")

    def no_person(video, model):
        raise SignBindInputError(f"{video}: no person found: no face was detected in any of the 115 frames read")

    def crashes(video, model):
        raise RuntimeError("shape mismatch in fusion")

    handler = make_handler(space, crashes)
    assert _error_message(handler, None, model) == "Upload a video or record one with the webcam first."
    assert _error_message(handler, str(tmp_path / "slides.mp4"), model).startswith("slides.mp4: not a video file")
    long_video = write_sparse_video(tmp_path / "long.mp4", [0, 1799])
    assert "longer than this demo's limit" in _error_message(handler, str(long_video), model)
    crash = _error_message(handler, str(EXAMPLE), model)
    assert crash == ("Translation failed (RuntimeError: shape mismatch in fusion). The details are in the server log.")
    assert "Traceback" not in crash
    message = _error_message(make_handler(space, no_person), str(EXAMPLE), model)
    assert message == "synthsign-test-000000.mp4: no person found: no face was detected in any of the 115 frames read"


def test_only_the_served_models_are_loaded_and_refusals_say_nothing_else(space, tiny_model, tmp_path):
    calls = []
    handler = make_handler(space, lambda video, model: calls.append(model), models=[str(tiny_model)])
    not_served = tmp_path / "runs" / "quickstart" / "experts"
    shutil.copytree(tiny_model, not_served)  # a real SignBind model folder on the server, just not a served one
    sent = [
        str(not_served),
        "runs/quickstart/experts",  # relative to where the server runs
        str(tmp_path / "missing" / "model"),
        "/etc",
        "../../../../etc/passwd",
        f"{tiny_model}/",  # the served folder, spelled differently
        "someorg/some-model",  # a Hub repo the server would download
        "",
        None,
        ["org/a", "org/b"],
    ]
    messages = {_error_message(handler, str(EXAMPLE), model) for model in sent}
    assert messages == {space.REFUSED_MODEL}  # one message: whether a path exists cannot be told apart
    assert calls == []  # nothing was loaded, nothing downloaded


def test_a_model_that_cannot_load_is_one_plain_line(space, space_modules, broken_models, tiny_model, caplog):
    _, translator, _ = space_modules
    truncated = str(broken_models["truncated"])

    def bold_pickle_error(video, model):  # torch's refusal of a pickle prints part of its message in bold
        raise pickle.UnpicklingError("Weights only load failed.\n\x1b[1mdo those steps only if you trust it\x1b[0m.")

    message = _error_message(make_handler(space, bold_pickle_error), str(EXAMPLE), "org/model")
    assert message == (
        "Translation failed (UnpicklingError: Weights only load failed. do those steps only if you trust it.). "
        "The details are in the server log."
    )
    caplog.clear()  # that unexpected error's traceback went to the log, as it should
    translate = translator.PipelineTranslator()
    message = _error_message(make_handler(space, translate, models=[truncated]), str(EXAMPLE), truncated)
    assert message == space.MODEL_UNAVAILABLE
    assert f"{truncated}: a safetensors weights file is damaged or truncated" in caplog.text
    assert "Traceback" not in caplog.text
    # At the start, the same folder stops the demo with that line; a pickled one is refused before loading.
    with pytest.raises(space.ModelReferenceError, match=r"truncated: a safetensors weights file is damaged"):
        space.build_demo(models=[truncated], max_seconds=30)
    with pytest.raises(space.ModelReferenceError, match=r"pickled: its weights are pytorch_model\.bin, a pickle"):
        space.build_demo(models=[str(broken_models["pickled"])], max_seconds=30)
    assert not (broken_models["pickled"].parent / "pickle_ran").exists()


def _upload(folder: Path, name: str, source: Path | None = None) -> Path:
    """A file as Gradio stores an upload: <upload folder>/<content hash>/<name>."""
    path = folder / f"hash-of-{name}" / name
    path.parent.mkdir(parents=True)
    if source is None:
        from .video.synthetic import write_video

        return write_video(path, num_frames=10)
    shutil.copyfile(source, path)
    return path


def test_uploads_are_deleted_after_translation_but_examples_stay(space, space_modules, tmp_path):
    _, translator, _ = space_modules
    uploads = tmp_path / "gradio"

    def translated(video, model):
        return translator.Translation([fake_result()], None, "no face", 0.1, has_refiner=True)

    def crashes(video, model):
        raise RuntimeError("boom")

    signer = _upload(uploads, "signer.mp4")
    make_handler(space, translated, upload_folder=uploads)(str(signer), "org/model")
    assert not signer.parent.exists()
    refused = _upload(uploads, "refused.mp4")
    _error_message(make_handler(space, crashes, upload_folder=uploads), str(refused), "org/model")
    _error_message(make_handler(space, crashes, upload_folder=uploads), str(_upload(uploads, "x.mp4")), "not/served")
    assert list(uploads.iterdir()) == []  # after a failure or a refusal too
    example_copy = _upload(uploads, "example.mp4", source=EXAMPLE)  # shared by every visitor who clicks it
    elsewhere = _upload(tmp_path / "server_files", "keep.mp4")  # not an upload: a path sent through the API
    for video in (example_copy, elsewhere):
        make_handler(space, translated, upload_folder=uploads)(str(video), "org/model")
        assert video.is_file()


def _recording(translator, calls: list):
    def translate_fn(video, model):
        calls.append(video)
        return translator.Translation([fake_result()], None, "no face", 0.1, has_refiner=True)

    return translate_fn


def test_an_example_is_translated_from_its_own_file_beside_its_sidecar(space, space_modules, tmp_path):
    # Issue 18: Gradio hands over its copy of a clicked example, which has no .pose beside it; the example's own file
    # does, so the demo gives the translation evaluation scored (the renderer's keypoints, not the extractor's).
    _, translator, _ = space_modules
    from signbind_hf.keypoints_signbind import sidecar_pose_path

    uploads = tmp_path / "gradio"
    calls = []
    handler = make_handler(space, _recording(translator, calls), upload_folder=uploads)
    examples = space.example_videos()
    copies = [_upload(uploads, Path(example).name, source=Path(example)) for example in examples]
    signer = _upload(uploads, "signer.mp4")  # not an example
    for video in (*copies, signer):
        handler(str(video), "org/model")
    assert calls == [*examples, str(signer)]  # each copy by its own example, the upload as it is
    assert all(sidecar_pose_path(video).is_file() for video in examples)
    assert not any(sidecar_pose_path(copy).exists() for copy in copies)  # the case under test
    assert all(copy.is_file() for copy in copies)  # the shared copies stay; the upload is deleted as before
    assert not signer.parent.exists()
    edited = _upload(uploads, "edited.mp4", source=EXAMPLE)
    with edited.open("r+b") as file:  # the same size, one byte changed: not the example any more
        file.seek(edited.stat().st_size // 2)
        file.write(bytes([file.read(1)[0] ^ 0xFF]))
    handler(str(edited), "org/model")
    assert calls[-1] == str(edited)


def test_gradios_own_example_copies_reach_the_translation_as_the_examples(space, space_modules, tmp_path, monkeypatch):
    # The same through Gradio itself: the copies gr.Examples caches, read by the video component as a click sends them.
    _, translator, _ = space_modules
    from gradio.data_classes import FileData

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))  # Gradio's upload folder: its example copies go here
    calls = []
    demo = space.build_demo(translate_fn=_recording(translator, calls), models=["org/model"], max_seconds=30)
    (endpoint,) = [fn for fn in demo.fns.values() if fn.api_name == space.API_NAME]
    (video,) = [block for block in endpoint.inputs if isinstance(block, gr.Video)]
    (dataset,) = [block for block in demo.blocks.values() if isinstance(block, gr.Dataset)]
    copies = [video.preprocess(FileData(**sample)) for (sample,) in dataset.samples]
    assert all(Path(copy).parent.parent == tmp_path for copy in copies)
    for copy in copies:
        endpoint.fn(copy, "org/model")
    assert calls == space.example_videos()
    assert all(Path(copy).is_file() for copy in copies)


def test_telemetry_is_off_unless_asked_for_and_uploads_are_swept(space, monkeypatch):
    monkeypatch.delenv(space.ANALYTICS_ENV, raising=False)
    load_space_app()  # what `signbind app` runs: it sets the default for the whole process, gradio included
    assert os.environ[space.ANALYTICS_ENV] == "False"
    import gradio.analytics

    assert gradio.analytics.analytics_enabled() is False
    demo = space.build_demo(translate_fn=lambda video, model: None, models=["org/model"], max_seconds=30)
    assert demo.analytics_enabled is False
    assert demo.delete_cache == space.DELETE_CACHE
    monkeypatch.setenv(space.ANALYTICS_ENV, "True")  # the operator's choice stands
    assert space.build_demo(translate_fn=lambda video, model: None, models=["org/model"]).analytics_enabled


def test_details_tell_a_missing_refiner_from_nothing_recognised(space_modules):
    result_views, _, _ = space_modules
    nothing = fake_result(translation="", pseudo_gloss="", refined=False)
    timing = {"model": "org/model", "video_seconds": 2.0, "wall_seconds": 0.5}
    with_refiner = result_views.details_markdown([nothing], has_refiner=True, **timing)
    assert "no LLM refiner" not in with_refiner
    assert "Nothing was recognised in this video, so the LLM refiner had nothing to translate." in with_refiner
    long_video = result_views.details_markdown([nothing, fake_result()], has_refiner=True, **timing)
    assert "Nothing was recognised in 1 of 2 sentences" in long_video
    assert "no LLM refiner" in result_views.details_markdown([nothing], has_refiner=False, **timing)
    assert "Nothing was recognised" not in result_views.details_markdown([fake_result()], has_refiner=True, **timing)


@pytest.mark.compat
def test_build_demo_wires_the_translate_endpoint(space):
    demo = space.build_demo(translate_fn=lambda video, model: None, models=["org/model"], max_seconds=30)
    (endpoint,) = [fn for fn in demo.fns.values() if fn.api_name == space.API_NAME]
    assert endpoint.concurrency_limit == space.CONCURRENCY_LIMIT
    assert [type(block).__name__ for block in endpoint.inputs] == ["Video", "Dropdown"]
    assert len(endpoint.outputs) == 9
    (video,) = [block for block in endpoint.inputs if isinstance(block, gr.Video)]
    assert video.sources == ["upload", "webcam"]


# --- the Space's own files --------------------------------------------------------------------------------------
def test_space_readme_front_matter_matches_the_app():
    card = SpaceCard.load(SPACE_DIR / "README.md")
    assert card.data.sdk == "gradio"
    assert card.data.sdk_version == gr.__version__  # the version the app is written and tested against
    assert (SPACE_DIR / card.data.app_file).is_file()
    assert card.data.license == "apache-2.0"
    assert "sign-language-translation" in card.data.tags
    assert all(len(repo.split("/")) == 2 for repo in card.data.models)


def test_space_requirements_parse_and_examples_stay_small():
    lines = [line.strip() for line in (SPACE_DIR / "requirements.txt").read_text().splitlines()]
    requirements = [Requirement(line) for line in lines if line and not line.startswith(("#", "--"))]
    assert {requirement.name for requirement in requirements} >= {"signbind-hf", "torch", "matplotlib"}
    examples = sorted((SPACE_DIR / "examples").glob("*.mp4"))
    assert len(examples) >= 3
    assert sum(path.stat().st_size for path in (SPACE_DIR / "examples").iterdir()) < 1_000_000  # clips and sidecars


def test_example_sidecars_read_back_and_cover_every_frame_of_their_clip():
    # SynthSign's own files (the renderer's keypoints), as evaluation reads them: one keypoint frame per video frame.
    from signbind_hf.keypoints_signbind import read_pose_file, sidecar_pose_path

    examples = sorted((SPACE_DIR / "examples").glob("*.mp4"))
    assert sorted((SPACE_DIR / "examples").glob("*.pose")) == [sidecar_pose_path(video) for video in examples]
    for video in examples:
        keypoints = read_pose_file(sidecar_pose_path(video))
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            facts = (stream.width, stream.height, float(stream.average_rate))
            num_frames = sum(1 for _ in container.decode(stream))
        assert keypoints.num_frames == num_frames, video.name
        assert (keypoints.width, keypoints.height, keypoints.fps) == facts
        assert keypoints.pose_found.all()
        assert keypoints.hands_found.any()


# --- `signbind app` ---------------------------------------------------------------------------------------------
def test_signbind_app_refuses_a_folder_that_is_not_a_model(tmp_path, caplog):
    assert signbind_main(["app", "--model", str(tmp_path), "--port", "0"]) == 2
    assert f"--model {tmp_path}: not a model folder" in caplog.text


@pytest.mark.parametrize(
    ("case", "problem"),
    [("truncated", "a safetensors weights file is damaged or truncated"), ("pickled", "a pickle file")],
)
def test_signbind_app_refuses_a_broken_model_in_one_line(broken_models, case, problem, caplog):
    with caplog.at_level(logging.ERROR):
        assert signbind_main(["app", "--model", str(broken_models[case]), "--port", "0"]) == 2
    (line,) = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert str(broken_models[case]) in line
    assert problem in line
    assert "\n" not in line


def test_signbind_app_without_a_model_to_serve_says_how_to_get_one(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)  # no runs/quickstart/model here
    monkeypatch.delenv("SIGNBIND_MODEL", raising=False)
    assert signbind_main(["app", "--port", "0"]) == 2
    assert "no model to serve: pass --model DIR (or several), set SIGNBIND_MODEL" in caplog.text


def test_signbind_app_refuses_a_bad_length_limit(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("SIGNBIND_MAX_SECONDS", "-5")
    assert signbind_main(["app", "--model", "org/model", "--port", "0"]) == 2
    assert "SIGNBIND_MAX_SECONDS must be a positive number of seconds; got '-5'" in caplog.text


@pytest.mark.parametrize(("text", "expected"), [("false", False), ("No", False), ("true", True), ("1", True)])
def test_share_flag_reads_true_and_false(text, expected):
    assert boolean(text) is expected


def test_share_flag_refuses_other_words():
    with pytest.raises(SystemExit):
        signbind_main(["app", "--share", "maybe"])


def test_space_app_loader_says_when_there_is_no_checkout(tmp_path):
    with pytest.raises(FileNotFoundError, match="runs the Space from a source checkout"):
        load_space_app(tmp_path / "app.py")


def test_space_folder_is_on_the_path_only_once(space):
    assert sys.path.count(str(SPACE_DIR)) == 1


def test_check_video_measures_a_video_whose_header_understates_its_length(space_modules, tmp_path):
    # The pipeline reads every frame whatever the header says (issue 19, item 9): the limit must hold on the frames.
    from .video.synthetic import write_video
    from .video.test_hostile_inputs import lying_mp4

    _, _, video_checks = space_modules
    video = lying_mp4(write_video(tmp_path / "clip.mp4", num_frames=60), factor=4)  # 2.4 s; the header says 0.6 s
    with pytest.raises(video_checks.VideoCheckError, match=r"lasts at least 1\.\d s, longer than this demo's limit"):
        video_checks.check_video(video, max_seconds=1.0)
    assert video_checks.check_video(video, max_seconds=60).duration_s == pytest.approx(2.4)
