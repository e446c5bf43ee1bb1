"""One visitor's live translation: webcam frames streamed by Gradio -> ``StreamingTranslator`` -> the live tab's text.

Gradio calls the stream handler with the newest webcam frame about every ``stream_every`` seconds and skips frames
while a call is still running (measured in Gradio 6.31: no backlog). Frames carry no capture time, so each is stamped
with its arrival; the translator puts them on the model's frame grid, repeating a frame where the browser sent fewer.
Sentences keep the seconds since the visitor's camera started.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SHOWN_SENTENCES = 8  # the newest sentences listed in the live tab


@dataclass
class LiveSession:
    """A visitor's stream (kept in ``gr.State``): the translator of the model chosen, and the sentences so far."""

    model: str
    # model -> (a StreamingTranslator, the lock of the model it shares with the upload tab and other visitors)
    open_translator: Callable[[str], tuple[Any, Any]]
    translator: Any = None  # started with the first frame, again after "End sentence"
    lock: Any = None
    started: float = field(default_factory=time.monotonic)  # the first frame of the session
    offset: float = 0.0  # seconds of the session when the current translator's first frame came
    sentences: list[str] = field(default_factory=list)
    frames: int = 0

    def push(self, frame: np.ndarray) -> None:
        """Give the translator the newest webcam frame, stamped with the seconds since the session's first frame."""
        now = time.monotonic() - self.started
        if self.translator is None:
            self.translator, self.lock = self.open_translator(self.model)
            self.offset = now
        self.frames += 1
        with self.lock:  # the model and its refiner's tokenizer are shared: one call at a time
            self._keep(self.translator.push(frame, now - self.offset))

    def end_sentence(self) -> None:
        """Translate what was signed since the last sentence now, without waiting for a pause."""
        if self.translator is not None:
            with self.lock:
                self._keep(self.translator.finish())
            self.translator = None

    def close(self) -> None:
        if self.translator is not None:
            self.translator.close()
            self.translator = None

    def _keep(self, sentences: list[dict[str, Any]]) -> None:
        for sentence in sentences:
            start, end = sentence["start"] + self.offset, sentence["end"] + self.offset
            self.sentences.append(f"[{start:.1f}-{end:.1f} s] {sentence['translation']}  ({sentence['pseudo_gloss']})")

    # --- what the live tab shows --------------------------------------------------------------------------------
    @property
    def running_gloss(self) -> str:
        return self.translator.state.pseudo_gloss if self.translator is not None else ""

    @property
    def router_text(self) -> str:
        """The router's decision on the newest frame the model read, and where the open sentence starts."""
        if self.translator is None:
            return "waiting for the camera"
        state = self.translator.state
        route = state.route or "starting"
        return (
            f"router: {route} | sentence open since {state.window_start + self.offset:.1f} s | "
            f"{state.time + self.offset:.1f} s of video, {self.frames} frames received"
        )

    @property
    def sentences_text(self) -> str:
        return "\n".join(self.sentences[-SHOWN_SENTENCES:])


def close_session(session: LiveSession | None) -> None:
    """``gr.State``'s delete callback: stop the session's face and keypoint threads when the visitor leaves."""
    if session is not None:
        session.close()
