"""SignBind-LLM demo (Gradio Space): a sign-language video in, English out, with what each expert saw.

Upload a video or record one with the webcam, pick one of the models the demo serves, and read the English
translation, the pseudo-gloss, the fingerspelled words, the phonemes read from the lips, the router's timeline, the
lip gate over time and the face crops the lipreading expert saw. Everything goes through the
``sign-language-translation`` pipeline of ``signbind_hf``.

The "Live" tab streams the webcam to the server (Gradio's streaming events, about ten frames a second) into a
``StreamingTranslator`` (``signbind_hf.live``) per visitor: the running pseudo-gloss and the router's decision show as
the visitor signs, and each sentence appears when the signer pauses ("End sentence" translates the open one at once).

Run it:
    python spaces/signbind/app.py                     # models: $SIGNBIND_MODEL, else runs/quickstart/model
    signbind app --model runs/quickstart/model --port 7860

The demo serves the models it is started with and nothing else: a visitor picks one of them, and any other value
(a path on the server, another Hub repo) gets one message that says nothing about it. Uploaded videos are deleted
after translation, and Gradio's usage telemetry is off unless GRADIO_ANALYTICS_ENABLED=True.

Settings (environment): SIGNBIND_MODEL (the model(s) served, separated by commas; the first is pre-selected),
SIGNBIND_MAX_SECONDS (longest video accepted, default 60), GRADIO_ANALYTICS_ENABLED (default here: False).
"""

import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

ANALYTICS_ENV = "GRADIO_ANALYTICS_ENABLED"
# Before gradio is imported, and for the whole process: Gradio sends usage telemetry unless this says False (its
# analytics functions read it on every call), and a signer's video tool should send nothing anywhere by default.
os.environ.setdefault(ANALYTICS_ENV, "False")

import gradio as gr  # noqa: E402

APP_DIR = Path(__file__).resolve().parent
if str(APP_DIR) not in sys.path:  # the sibling modules, also when this file is loaded by path (`signbind app`)
    sys.path.insert(0, str(APP_DIR))

from live_session import LiveSession, close_session  # noqa: E402
from result_views import (  # noqa: E402
    details_markdown,
    face_strip,
    lip_gate_figure,
    router_timeline_figure,
    text_fields,
)
from translator import (  # noqa: E402
    ModelLoadError,
    ModelReferenceError,
    PipelineTranslator,
    Translation,
    check_model_reference,
)
from uploads import discard_upload, example_files, find_example  # noqa: E402
from video_checks import VideoCheckError, check_video  # noqa: E402

logger = logging.getLogger(__name__)

EXAMPLES_DIR = APP_DIR / "examples"
MODEL_ENV = "SIGNBIND_MODEL"
MAX_SECONDS_ENV = "SIGNBIND_MAX_SECONDS"
QUICKSTART_MODEL = Path("runs/quickstart/model")  # what `make demo` trains; relative to where the app is started
# A visitor waits for the whole video, and everyone queued behind waits too: a minute keeps both waits bounded on a
# shared CPU Space. Longer videos are what `signbind translate` on one's own machine is for.
DEFAULT_MAX_SECONDS = 60.0
MAX_UPLOAD_SIZE = "50mb"  # a minute of video at up to 6.7 Mbit/s (typical 720p phone recordings: 4-8 Mbit/s)
CONCURRENCY_LIMIT = 2  # translations running at once; the rest wait in the queue, seeing their place in it
QUEUE_MAX_SIZE = 32  # beyond this, a visitor is told the queue is full instead of waiting for minutes
# Gradio's sweep of its upload folder, (every, older than) in seconds: removes what was uploaded but never translated
# (translated uploads are deleted at once). An hour is far above the longest wait: 32 queued videos of at most a
# minute, two at a time.
DELETE_CACHE = (600, 3600)
API_NAME = "translate"
# The same words whatever was sent (a folder that exists or not, a Hub repo): nothing about the server leaks.
REFUSED_MODEL = "This demo translates only with the models in its model list; pick one of them."
MODEL_UNAVAILABLE = "This model cannot be loaded at the moment; the server log says why."

# The live tab: how often Gradio sends the newest webcam frame (it skips frames while the handler runs), how long one
# stream request lasts before the page reconnects by itself, and how long an idle visitor's session is kept.
LIVE_STREAM_EVERY = 0.1
LIVE_TIME_LIMIT = 600
LIVE_SESSION_SECONDS = 900

TranslateFn = Callable[[str, str], Translation]
OpenLiveFn = Callable[[str], tuple]  # model -> (StreamingTranslator, the model's lock)


def configured_models() -> list[str]:
    """``$SIGNBIND_MODEL`` (comma-separated), else ``runs/quickstart/model`` when it exists, else none."""
    if os.environ.get(MODEL_ENV, "").strip():
        return [name.strip() for name in os.environ[MODEL_ENV].split(",") if name.strip()]
    return [str(QUICKSTART_MODEL)] if (QUICKSTART_MODEL / "config.json").is_file() else []


def served_models(models: Sequence[str]) -> list[str]:
    """``models`` checked and without duplicates: the only models the demo loads. ``ModelReferenceError`` names the
    first that is not a SignBind model folder (with safetensors weights and its processor) or an ``org/name`` id."""
    checked = list(dict.fromkeys(check_model_reference(model) for model in models))
    if not checked:
        raise ModelReferenceError(
            f"no model to serve: pass --model DIR (or several), set {MODEL_ENV}, or train runs/quickstart/model with "
            "`make demo`"
        )
    return checked


def analytics_from_environment() -> bool:
    """Gradio's telemetry only when the operator asks for it: ``GRADIO_ANALYTICS_ENABLED=True``."""
    return os.environ.get(ANALYTICS_ENV) == "True"


def max_seconds_from_environment() -> float:
    text = os.environ.get(MAX_SECONDS_ENV)
    if text is None:
        return DEFAULT_MAX_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise ValueError(f"{MAX_SECONDS_ENV} must be a positive number of seconds; got {text!r}")
    return value


def example_videos() -> list[str]:
    return sorted(str(path) for path in EXAMPLES_DIR.glob("*.mp4"))


def make_translate_handler(
    translate_fn: TranslateFn,
    *,
    max_seconds: float,
    models: Sequence[str],
    upload_folder: Path | None = None,
) -> Callable:
    """The click handler: checks the model and the upload, translates, renders the nine outputs, deletes the upload.

    Every failure reaches the visitor as a ``gr.Error`` message of one line (never a stack trace or terminal escape
    codes): a model not in ``models`` gets :data:`REFUSED_MODEL`, the upload's problems are told as they are,
    anything unexpected is one line while its traceback goes to the server log. The upload is deleted either way
    (see uploads.py); ``upload_folder`` is Gradio's unless given (tests). A video byte-identical to an example clip
    is translated from the example's own file.
    """
    served = frozenset(models)
    upload_folder = Path(upload_folder or gr.utils.get_upload_folder())
    examples = example_files(example_videos())

    def translate(video: str | None, model_reference: str | None):
        try:
            # A clicked example reaches us as Gradio's cached copy in its upload folder, away from the example's
            # sidecar keypoints (examples/<name>.pose), so the processor would run its keypoint extractor on it. The
            # example's own file gives the translation that evaluation scored on that SynthSign clip and its sidecar.
            example = find_example(video, examples)
            source = str(example) if example else video
            return _translate(translate_fn, source, model_reference, served=served, max_seconds=max_seconds)
        finally:
            discard_upload(video, upload_folder=upload_folder, keep=examples)

    return translate


def _translate(translate_fn: TranslateFn, video: str | None, model: str | None, *, served, max_seconds: float):
    from signbind_hf.pipeline_signbind import one_line

    if not video:
        raise gr.Error("Upload a video or record one with the webcam first.", title="No video", print_exception=False)
    if (
        not isinstance(model, str) or model not in served
    ):  # compared, never opened: a visitor's text reaches no file system and no Hub
        logger.warning("refused a model that is not served")
        raise gr.Error(REFUSED_MODEL, title="Model", print_exception=False)
    try:
        facts = check_video(video, max_seconds=max_seconds)
        translation = translate_fn(video, model)
    except VideoCheckError as error:
        raise gr.Error(str(error), title="Video refused", print_exception=False) from None
    except ModelLoadError as error:
        logger.error("%s", error)
        raise gr.Error(MODEL_UNAVAILABLE, title="Model", print_exception=False) from None
    except ValueError as error:  # SignBindInputError and friends: bad input the pipeline names precisely
        logger.warning("translation refused: %s", one_line(error))
        # The pipeline names the file by its path, which is the server's upload folder: the visitor knows it by
        # its name.
        message = one_line(error).replace(video, Path(video).name)
        raise gr.Error(message, title="Cannot translate this video", print_exception=False) from None
    except Exception as error:
        # The full traceback goes to the server log; the visitor gets one line, never a stack trace.
        logger.exception("translation failed for %s with model %s", video, model)
        raise gr.Error(
            f"Translation failed ({type(error).__name__}: {one_line(error)}). The details are in the server log.",
            title="Translation failed",
            print_exception=False,
        ) from None
    fields = text_fields(translation.results)
    if translation.face_crops is None:
        gr.Warning(translation.face_note, title="Face crops")
    return (
        fields.translation,
        fields.pseudo_gloss,
        fields.fingerspelling,
        fields.phonemes,
        router_timeline_figure(translation.results),
        lip_gate_figure(translation.results),
        face_strip(translation.face_crops),
        translation.face_note,
        details_markdown(
            translation.results,
            model=model,
            video_seconds=facts.duration_s,
            wall_seconds=translation.seconds,
            has_refiner=translation.has_refiner,
        ),
    )


def make_live_handlers(open_live: OpenLiveFn, *, models: Sequence[str]) -> tuple[Callable, Callable]:
    """The live tab's stream handler ``(frame, model, session) -> (gloss, router, sentences, session)`` and its "End
    sentence" handler. A model not in ``models`` gets :data:`REFUSED_MODEL`, as in the upload tab; switching models
    ends the open sentence and starts a session with the new one."""
    from signbind_hf.pipeline_signbind import one_line

    served = frozenset(models)

    def shown(session: LiveSession) -> tuple:
        return session.running_gloss, session.router_text, session.sentences_text, session

    def stream(frame, model: str | None, session: LiveSession | None):
        if not isinstance(model, str) or model not in served:
            raise gr.Error(REFUSED_MODEL, title="Model", print_exception=False)
        if session is not None and session.model != model:
            session.end_sentence()
            session.close()
            session = None
        if session is None:
            session = LiveSession(model=model, open_translator=open_live)
        if frame is None:
            return shown(session)
        try:
            session.push(frame)
        except ModelLoadError as error:
            logger.error("%s", error)
            raise gr.Error(MODEL_UNAVAILABLE, title="Model", print_exception=False) from None
        except ValueError as error:  # SignBindInputError: a frame the translator cannot read
            logger.warning("live frame refused: %s", one_line(error))
            raise gr.Error(one_line(error), title="Camera", print_exception=False) from None
        return shown(session)

    def end_sentence(session: LiveSession | None):
        if session is None:
            return "", "waiting for the camera", "", None
        session.end_sentence()
        return shown(session)

    return stream, end_sentence


def pipeline_live_opener(pipelines: PipelineTranslator) -> OpenLiveFn:
    """Live translators on the pipelines the upload tab uses (loaded once per model, shared with their lock)."""

    def open_live(model: str) -> tuple:
        from signbind_hf.live import StreamingTranslator

        loaded = pipelines.load(model)
        with loaded.lock:
            translator = StreamingTranslator(loaded.pipeline)
            translator.warm_up()
        return translator, loaded.lock

    return open_live


def build_demo(
    *,
    translate_fn: TranslateFn | None = None,
    models: Sequence[str] | None = None,
    max_seconds: float | None = None,
    open_live: OpenLiveFn | None = None,
) -> gr.Blocks:
    """The demo's Blocks, queued. ``translate_fn`` is the test seam: by default the real pipeline translates.

    Args:
        translate_fn: ``(video_path, model) -> Translation``; default ``PipelineTranslator()``, with the first model
            loaded here, so that a damaged one stops the start (one line) rather than the first visitor.
        models: the models served, the first pre-selected; default :func:`configured_models`. Checked here
            (``ModelReferenceError``); a visitor can pick only these.
        max_seconds: longest video accepted; default ``$SIGNBIND_MAX_SECONDS`` or 60.
        open_live: ``model -> (StreamingTranslator, lock)`` for the live tab; default: on the pipelines of the default
            ``translate_fn``. With another ``translate_fn`` and no ``open_live`` the demo has no live tab.
    """
    max_seconds = max_seconds_from_environment() if max_seconds is None else max_seconds
    models = served_models(configured_models() if models is None else models)
    if translate_fn is None:
        translate_fn = PipelineTranslator()
        try:
            translate_fn.load(models[0])
        except ModelLoadError as error:
            raise ModelReferenceError(str(error)) from None
        if open_live is None:
            open_live = pipeline_live_opener(translate_fn)
    translate = make_translate_handler(translate_fn, max_seconds=max_seconds, models=models)

    with gr.Blocks(
        title="SignBind-LLM: sign language to English",
        analytics_enabled=analytics_from_environment(),
        delete_cache=DELETE_CACHE,
    ) as demo:
        gr.Markdown(
            "# SignBind-LLM\nSign-language video in, English out. The router splits the video into signing, "
            "fingerspelling and rest; a lipreading expert reads the mouth; a gated fusion writes pseudo-gloss; an "
            "LLM turns it into English. "
            f"Videos up to {max_seconds:g} s."
        )
        with gr.Tab("Translate a video", id="upload-tab"):
            with gr.Row():
                with gr.Column():
                    video = gr.Video(sources=["upload", "webcam"], label="Sign-language video", elem_id="video-input")
                    model_field = gr.Dropdown(
                        choices=models,
                        value=models[0],
                        allow_custom_value=False,  # the handler refuses other values too: the API bypasses the page
                        label="Model",
                        elem_id="model-input",
                    )
                    button = gr.Button("Translate", variant="primary", elem_id="translate-button")
                with gr.Column():
                    translation = gr.Textbox(label="English translation", lines=2, elem_id="translation")
                    pseudo_gloss = gr.Textbox(label="Pseudo-gloss", elem_id="pseudo-gloss")
                    fingerspelling = gr.Textbox(label="Fingerspelled words", elem_id="fingerspelling")
                    phonemes = gr.Textbox(label="Phonemes read from the lips (ARPAbet)", elem_id="phonemes")
            with gr.Row():
                timeline = gr.Plot(label="Router timeline", elem_id="router-timeline")
                gate = gr.Plot(label="Lip gate over time", elem_id="lip-gate")
            faces = gr.Image(label="Face crops the lipreading expert saw", type="numpy", elem_id="face-crops")
            face_note = gr.Markdown(elem_id="face-note")
            details = gr.Markdown(elem_id="details")
            examples = example_videos()
            if examples:
                gr.Examples(examples=[[path] for path in examples], inputs=[video], label="SynthSign examples")
        button.click(
            translate,
            inputs=[video, model_field],
            outputs=[translation, pseudo_gloss, fingerspelling, phonemes, timeline, gate, faces, face_note, details],
            api_name=API_NAME,
            concurrency_limit=CONCURRENCY_LIMIT,
        )
        if open_live is not None:
            _live_tab(open_live, models=models, model_field=model_field)
    return demo.queue(max_size=QUEUE_MAX_SIZE)


def _live_tab(open_live: OpenLiveFn, *, models: Sequence[str], model_field: gr.Dropdown) -> None:
    """The live tab: the webcam streamed to a per-visitor ``LiveSession`` (the model chosen in the upload tab)."""
    stream, end_sentence = make_live_handlers(open_live, models=models)
    with gr.Tab("Live (webcam)", id="live-tab"):
        gr.Markdown(
            "Sign to the webcam: the running pseudo-gloss and the router's decision update as you sign, and each "
            "sentence appears when you pause (with the model chosen in the first tab)."
        )
        with gr.Row():
            with gr.Column():
                # Not mirrored: a selfie view would swap the signer's hands (the dominant hand matters).
                camera = gr.Image(
                    sources=["webcam"],
                    streaming=True,
                    type="numpy",
                    webcam_options=gr.WebcamOptions(mirror=False),
                    label="Webcam",
                    elem_id="live-camera",
                )
                end_button = gr.Button("End sentence", elem_id="live-end-sentence")
            with gr.Column():
                router = gr.Textbox(label="Router now", elem_id="live-router")
                gloss = gr.Textbox(label="Pseudo-gloss so far", elem_id="live-pseudo-gloss")
                sentences = gr.Textbox(label="Sentences", lines=8, elem_id="live-sentences")
        session = gr.State(None, time_to_live=LIVE_SESSION_SECONDS, delete_callback=close_session)
        camera.stream(
            stream,
            inputs=[camera, model_field, session],
            outputs=[gloss, router, sentences, session],
            stream_every=LIVE_STREAM_EVERY,
            time_limit=LIVE_TIME_LIMIT,
            concurrency_limit=CONCURRENCY_LIMIT,
            show_progress="hidden",
            api_visibility="private",
        )
        end_button.click(end_sentence, inputs=[session], outputs=[gloss, router, sentences, session])


def launch(demo: gr.Blocks, *, host: str = "127.0.0.1", port: int | None = None, share: bool = False, **kwargs):
    """Serve ``demo`` with the upload limit; extra ``kwargs`` go to ``Blocks.launch`` (e.g. prevent_thread_lock)."""
    return demo.launch(
        server_name=host,
        server_port=port,
        share=share,
        max_file_size=MAX_UPLOAD_SIZE,
        allowed_paths=[str(EXAMPLES_DIR)],
        **kwargs,
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # A Space sets GRADIO_SERVER_NAME=0.0.0.0; anywhere else the demo stays on this machine unless asked otherwise.
    launch(build_demo(), host=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
