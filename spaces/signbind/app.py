"""SignBind-LLM demo (Gradio Space): a sign-language video in, English out, with what each expert saw.

Upload a video or record one with the webcam, pick a model (a local folder or a Hub repo id), and read the English
translation, the pseudo-gloss, the fingerspelled words, the phonemes read from the lips, the router's timeline, the
lip gate over time and the face crops the lipreading expert saw. Everything goes through the
``sign-language-translation`` pipeline of ``signbind_hf``.

Run it:
    python spaces/signbind/app.py                     # model: $SIGNBIND_MODEL, else runs/quickstart/model
    signbind app --model runs/quickstart/model --port 7860

Settings (environment): SIGNBIND_MODEL (default model), SIGNBIND_MAX_SECONDS (longest video accepted, default 60).
"""

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

import gradio as gr

APP_DIR = Path(__file__).resolve().parent
if str(APP_DIR) not in sys.path:  # the sibling modules, also when this file is loaded by path (`signbind app`)
    sys.path.insert(0, str(APP_DIR))

from result_views import (  # noqa: E402
    details_markdown,
    face_strip,
    lip_gate_figure,
    router_timeline_figure,
    text_fields,
)
from translator import ModelReferenceError, PipelineTranslator, Translation, check_model_reference  # noqa: E402
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
API_NAME = "translate"

TranslateFn = Callable[[str, str], Translation]


def default_model() -> str:
    """``$SIGNBIND_MODEL``, else ``runs/quickstart/model`` when it exists, else empty (the user must type one)."""
    if os.environ.get(MODEL_ENV):
        return os.environ[MODEL_ENV]
    return str(QUICKSTART_MODEL) if (QUICKSTART_MODEL / "config.json").is_file() else ""


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


def local_model_choices(default: str) -> list[str]:
    """The default model plus every trained model folder under ``runs/`` (``runs/*/model``)."""
    found = sorted(str(config.parent) for config in Path("runs").glob("*/model/config.json"))
    return list(dict.fromkeys([default, *found] if default else found))


def example_videos() -> list[str]:
    return sorted(str(path) for path in EXAMPLES_DIR.glob("*.mp4"))


def make_translate_handler(translate_fn: TranslateFn, *, max_seconds: float) -> Callable:
    """The click handler: checks the upload and the model, translates, and renders the nine outputs.

    Every failure reaches the visitor as a ``gr.Error`` message (never a stack trace): the upload's and the model
    field's problems as they are, anything unexpected as one line while its traceback goes to the server log.
    """

    def translate(video: str | None, model_reference: str | None):
        if not video:
            raise gr.Error(
                "Upload a video or record one with the webcam first.", title="No video", print_exception=False
            )
        try:
            facts = check_video(video, max_seconds=max_seconds)
            reference = check_model_reference(model_reference or "")
            translation = translate_fn(video, reference)
        except VideoCheckError as error:
            raise gr.Error(str(error), title="Video refused", print_exception=False) from None
        except ModelReferenceError as error:
            raise gr.Error(str(error), title="Model", print_exception=False) from None
        except ValueError as error:  # SignBindInputError and friends: bad input the pipeline names precisely
            logger.warning("translation refused: %s", error)
            # The pipeline names the file by its path, which is the server's upload folder: the visitor knows it by
            # its name.
            message = str(error).replace(video, Path(video).name)
            raise gr.Error(message, title="Cannot translate this video", print_exception=False) from None
        except Exception as error:
            # The full traceback goes to the server log; the visitor gets one line, never a stack trace.
            logger.exception("translation failed for %s with model %s", video, model_reference)
            raise gr.Error(
                f"Translation failed ({type(error).__name__}: {error}). The details are in the server log.",
                title="Translation failed",
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
                model=reference,
                video_seconds=facts.duration_s,
                wall_seconds=translation.seconds,
            ),
        )

    return translate


def build_demo(
    *, translate_fn: TranslateFn | None = None, model: str | None = None, max_seconds: float | None = None
) -> gr.Blocks:
    """The demo's Blocks, queued. ``translate_fn`` is the test seam: by default the real pipeline translates.

    Args:
        translate_fn: ``(video_path, model) -> Translation``; default ``PipelineTranslator()``.
        model: the model pre-selected in the model field; default :func:`default_model`.
        max_seconds: longest video accepted; default ``$SIGNBIND_MAX_SECONDS`` or 60.
    """
    translate_fn = translate_fn or PipelineTranslator()
    model = default_model() if model is None else model
    max_seconds = max_seconds_from_environment() if max_seconds is None else max_seconds
    translate = make_translate_handler(translate_fn, max_seconds=max_seconds)

    with gr.Blocks(title="SignBind-LLM: sign language to English") as demo:
        gr.Markdown(
            "# SignBind-LLM\nSign-language video in, English out. The router splits the video into signing, "
            "fingerspelling and rest; a lipreading expert reads the mouth; a gated fusion writes pseudo-gloss; an "
            "LLM turns it into English. "
            f"Videos up to {max_seconds:g} s."
        )
        with gr.Row():
            with gr.Column():
                video = gr.Video(sources=["upload", "webcam"], label="Sign-language video", elem_id="video-input")
                model_field = gr.Dropdown(
                    choices=local_model_choices(model),
                    value=model or None,
                    allow_custom_value=True,
                    label="Model folder or Hub repo id",
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
    return demo.queue(max_size=QUEUE_MAX_SIZE)


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
