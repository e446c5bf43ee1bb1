"""`signbind translate VIDEO --live`: translate as a camera would deliver the video, printing each sentence as it ends.

A video file is read at its own pace (frame by frame, on the wall clock), a camera device (`/dev/video0`) as it
films; the `StreamingTranslator` (`signbind_hf.live`) ends a sentence when the signer pauses. Each sentence is printed
as soon as it is translated; `--json` prints one JSON object per line: `translation`, `pseudo_gloss`, `start`, `end`
(seconds in the video) and `latency` (seconds from the sentence's `end` in the video to its printing). A summary line
on standard error gives the real-time factor (compute time over video time) and the frames dropped if the translator
fell behind (it then says so at once, and never falls further behind: frames more than a second late are dropped).

Examples:
    signbind translate clip.mp4 --live --model runs/quickstart/model
    signbind translate /dev/video0 --live --json --model runs/quickstart/model
"""

import json
import logging
import statistics
import sys
import time
from typing import Any

logger = logging.getLogger(__name__)


def translate_live(translator: Any, video: str, *, beam_width: int | None, as_json: bool) -> int:
    """Translate ``video`` live with the loaded pipeline ``translator``; returns the exit status (0, or 2 when the
    video cannot be read or shows nobody)."""
    from signbind_hf.keypoints_signbind import sidecar_keypoints
    from signbind_hf.live import StreamingTranslator
    from signbind_hf.live.sources import LiveSource, is_camera

    # A video that cannot be read raises SignBindInputError, here or while streaming: signbind_cli.main reports it.
    source = LiveSource(video)
    # A file's sidecar .pose is read as the offline processor reads it; a camera's keypoints are extracted.
    keypoints = None
    if translator.processor.video_processor.keypoints and not is_camera(video):
        keypoints = sidecar_keypoints(video)
    live = StreamingTranslator(translator, beam_width=beam_width, keypoints=keypoints)
    live.warm_up()
    latencies: list[float] = []
    compute = 0.0
    cpu_start = time.process_time()
    video_seconds = 0.0
    with source, live:
        for frame in source:
            tick = time.perf_counter()
            sentences = live.push(frame.image, frame.timestamp)
            compute += time.perf_counter() - tick
            video_seconds = frame.timestamp
            for sentence in sentences:
                latencies.append(_report(sentence, source.start_time, as_json=as_json))
        tick = time.perf_counter()
        sentences = live.finish()
        compute += time.perf_counter() - tick
        video_seconds = max(video_seconds, live.state.time)
        for sentence in sentences:
            latencies.append(_report(sentence, source.start_time, as_json=as_json))
    if live._cropper is not None and live.face_frames == 0:
        logger.error(
            "%s: no person found: no face was detected in any of the frames read. Expected a video of a signer facing "
            "the camera (a person's face must be visible)",
            video,
        )
        return 2
    cpu = time.process_time() - cpu_start
    median = f"{statistics.median(latencies):.2f} s" if latencies else "-"
    summary = (
        f"live: {video_seconds:.1f} s of video, {len(latencies)} sentence(s); compute {compute:.1f} s: real-time "
        f"factor {compute / max(video_seconds, 1e-9):.2f} (CPU time {cpu / max(video_seconds, 1e-9):.2f}x the video); "
        f"median latency {median}; frames dropped {source.dropped} of {source.delivered}"
    )
    print(summary, file=sys.stderr, flush=True)
    if source.dropped:
        logger.warning(
            "%s: fell behind real time: %d of %d frames were dropped (the translator could not keep up)",
            video,
            source.dropped,
            source.delivered,
        )
    return 0


def _report(sentence: dict[str, Any], start_time: float, *, as_json: bool) -> float:
    """Print one sentence now; return its latency (seconds from its end in the video to now)."""
    latency = time.monotonic() - (start_time + sentence["end"])
    if as_json:
        fields = {key: sentence[key] for key in ("translation", "pseudo_gloss", "start", "end")}
        print(json.dumps({**fields, "latency": round(latency, 3)}, ensure_ascii=False), flush=True)
    else:
        print(
            f"[{sentence['start']:.2f}-{sentence['end']:.2f} s] {sentence['translation']}   "
            f"({sentence['pseudo_gloss']}; +{latency:.2f} s)",
            flush=True,
        )
    return latency


__all__ = ["translate_live"]
