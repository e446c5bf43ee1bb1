"""The Space's live tab without a browser: its stream handler on a real StreamingTranslator of a tiny model (frames
stamped as they arrive, sentences kept per visitor), refused models, switching models, and the wiring of the tab."""

from __future__ import annotations

import threading

import gradio as gr
import numpy as np
import pytest

from signbind_hf.live import StreamingTranslator
from signbind_hf.pipeline_signbind import translation_pipeline

from .test_pipeline import save_tiny_model
from .test_space import EXAMPLE


@pytest.fixture(scope="module")
def space():
    from signbind_cli.app import load_space_app

    return load_space_app()


@pytest.fixture(scope="module")
def open_live(tmp_path_factory):
    """A real live translator of a tiny frames-only model (no face detector: fast), with its lock, as the app makes."""
    pipeline = translation_pipeline(save_tiny_model(tmp_path_factory.mktemp("live_space") / "model", use_lip=False))
    opened = []

    def open_translator(model: str):
        opened.append(model)
        return StreamingTranslator(pipeline, min_pause=0.08, hop=0.08), threading.Lock()

    open_translator.opened = opened
    return open_translator


def example_frames(count: int) -> list[np.ndarray]:
    import av

    with av.open(str(EXAMPLE)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    return frames[:count]


def test_the_stream_handler_keeps_a_session_and_shows_the_router_and_sentences(space, open_live, monkeypatch):
    clock = iter(np.arange(0, 100, 0.04))  # frames 40 ms apart, as a 25 fps camera sends them
    monkeypatch.setattr("live_session.time.monotonic", lambda: next(clock))
    stream, end_sentence = space.make_live_handlers(open_live, models=["a", "b"])
    session, glosses = None, []
    for frame in example_frames(60):
        gloss, router, sentences, session = stream(frame, "a", session)
        glosses.append(gloss)
    assert any(glosses)  # the running pseudo-gloss showed while the clip streamed
    assert router.startswith("router: ")
    assert "60 frames received" in router
    assert session.frames == 60
    _gloss, router, sentences, session = end_sentence(session)
    assert sentences  # the random model reads words into the clip; End sentence translates the open one
    assert all(line.startswith("[") and " s] " in line for line in sentences.splitlines())
    # Another model: a new session on it.
    _, _, _, switched = stream(example_frames(1)[0], "b", session)
    assert switched is not session
    assert switched.model == "b"
    assert open_live.opened[-1] == "b"
    switched.close()


def test_a_model_that_is_not_served_is_refused(space, open_live):
    stream, _ = space.make_live_handlers(open_live, models=["a"])
    with pytest.raises(gr.Error, match="only with the models in its model list"):
        stream(np.zeros((48, 64, 3), dtype=np.uint8), "/etc", None)


def test_the_live_tab_streams_the_webcam_unmirrored(space, open_live):
    demo = space.build_demo(
        translate_fn=lambda video, model: None, models=["org/model"], max_seconds=30, open_live=open_live
    )
    (live,) = [fn for fn in demo.fns.values() if fn.name == "stream"]
    (camera,) = [block for block in live.inputs if isinstance(block, gr.Image)]
    assert camera.streaming
    assert camera.sources == ["webcam"]
    assert camera.webcam_options.mirror is False
    assert live.stream_every == space.LIVE_STREAM_EVERY
    without = space.build_demo(translate_fn=lambda video, model: None, models=["org/model"], max_seconds=30)
    assert not [fn for fn in without.fns.values() if fn.name == "stream"]
