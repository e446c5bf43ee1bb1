"""The streaming translator against the offline pipeline: a whole clip fed frame by frame, each sentence against the
offline processor + model on its span, bounded memory on a long stream, and bad input."""

from __future__ import annotations

import math
import tracemalloc
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from signbind_hf import SignBindInputError, SignBindModel, SignBindProcessor
from signbind_hf.keypoints_signbind import Keypoints, sidecar_keypoints
from signbind_hf.live import FrameGrid, StreamingTranslator
from signbind_hf.pipeline_signbind import translation_pipeline
from signbind_hf.video_decoding_signbind import decode_video

from ..conftest import tiny_config
from ..test_pipeline import GLOSSES
from ..video.synthetic import write_video

# What a live sentence and the offline result share (timing differs; fps, source_fps are the stream's).
COMPARED = ("pseudo_gloss", "fingerspelling", "phonemes", "segments", "gate", "start", "end", "num_frames")


def save_model(folder: Path, max_frames: int = 256, manual_inputs: str = "keypoints", **overrides) -> Path:
    """A tiny random model whose manual expert reads keypoints (or ``manual_inputs``), with a MediaPipe face cropper
    (live has no boxes)."""
    config = tiny_config(manual_inputs=manual_inputs, **overrides)
    processor = SignBindProcessor.from_model_config(config, glosses=GLOSSES, max_frames=max_frames, min_frames=8)
    torch.manual_seed(0)
    model = SignBindModel(
        tiny_config(manual_inputs=manual_inputs, gloss_vocab_size=len(processor.tokenizer), **overrides)
    )
    model.eval().save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def translator(tmp_path_factory):
    return translation_pipeline(save_model(tmp_path_factory.mktemp("live_model") / "model"), refiner=False)


@pytest.fixture(scope="module")
def signer_clip(tmp_path_factory) -> Path:
    """A SynthSign test clip (a drawn signer, ~4 s) with its renderer keypoints in a sidecar .pose."""
    from signbind_hf.data.synthsign import generate_synthsign

    data = tmp_path_factory.mktemp("synthsign") / "data"
    generate_synthsign(data, seed=0, num_train=1, num_validation=1, num_test=1, num_workers=1)
    return next((data / "videos" / "test").glob("*.mp4"))


def decoded_frames(path: Path, until: float = math.inf) -> list[tuple[np.ndarray, float]]:
    """The file's frames as a camera would hand them over: RGB arrays with their timestamps in seconds."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [
            (frame.to_ndarray(format="rgb24"), float(frame.pts * frame.time_base))
            for frame in container.decode(stream)
            if float(frame.pts * frame.time_base) < until
        ]


def feed(live: StreamingTranslator, frames: list[tuple[np.ndarray, float]]) -> list[dict]:
    sentences = []
    for image, seconds in frames:
        sentences += live.push(image, seconds)
    return sentences + live.finish()


def test_a_whole_clip_fed_frame_by_frame_gives_the_offline_result(translator, signer_clip):
    """No pause long enough to end a sentence inside the clip: one sentence, the offline pipeline's, field by field."""
    offline = translator(str(signer_clip))
    live = StreamingTranslator(translator, min_pause=1000.0, keypoints=sidecar_keypoints(signer_clip))
    (sentence,) = feed(live, decoded_frames(signer_clip))
    assert offline["pseudo_gloss"]  # a random model still reads something: the comparison is not of empty strings
    for key in COMPARED:
        assert sentence[key] == offline[key], key
    assert sentence["translation"] == offline["translation"]
    assert sentence["face_frames"] == offline["face_frames"] > 0  # MediaPipe found the drawn face, live as offline


@pytest.fixture(scope="module")
def frames_translator(tmp_path_factory):
    """The paper's kind of model, tiny: whole frames through the backbone, and the lip ViT."""
    folder = tmp_path_factory.mktemp("live_frames_model") / "model"
    return translation_pipeline(save_model(folder, manual_inputs="frames"), refiner=False)


def count_encoded(model) -> dict[str, int]:
    """Frames through the backbone and windows through the lip ViT, counted from now on."""
    encoded = {"frames": 0, "lip windows": 0}

    def count(name):
        def hook(module, args, kwargs, output):
            encoded[name] += kwargs["pixel_values"].shape[0]

        return hook

    model.manual.backbone.register_forward_hook(count("frames"), with_kwargs=True)
    model.lip.vit.register_forward_hook(count("lip windows"), with_kwargs=True)
    return encoded


def test_a_frame_reading_model_encodes_each_frame_once_and_gives_the_offline_result(frames_translator, signer_clip):
    """The model runs on the open window every hop, but each frame and each lip window is encoded once
    (WindowEncoderCache), and the sentence is the offline pipeline's."""
    offline = frames_translator(str(signer_clip))
    encoded = count_encoded(frames_translator.model)
    live = StreamingTranslator(frames_translator, min_pause=1000.0, hop=0.08)
    (sentence,) = feed(live, decoded_frames(signer_clip))
    assert live.model_runs > 10  # the model read the growing window many times...
    assert encoded["frames"] == sentence["num_frames"]  # ...the backbone each frame once
    lip_windows = -(-sentence["num_frames"] // frames_translator.model.lip.window)
    # Each lip window once it is final, and again while its face crops are not all finished (the track's lag).
    assert lip_windows <= encoded["lip windows"] <= 2 * lip_windows
    for key in COMPARED:
        assert sentence[key] == offline[key], key


@pytest.fixture(scope="module")
def frames_and_keypoints_translator(tmp_path_factory):
    """Frames through the backbone plus keypoints: with random weights, the keypoints make the router pause often."""
    folder = tmp_path_factory.mktemp("live_both_model") / "model"
    return translation_pipeline(save_model(folder, manual_inputs="both"), refiner=False)


@pytest.mark.parametrize("stride", [1, 2])
def test_kept_encoder_results_carry_over_to_the_next_sentence(frames_and_keypoints_translator, signer_clip, stride):
    """Short pauses end many sentences: the frames past each cut are added to the next window again, but the backbone
    reads each grid frame once, and every sentence is what the translator reads with nothing kept."""
    translator = frames_and_keypoints_translator
    translator.model.config.backbone_frame_stride = stride
    try:
        frames, keypoints = decoded_frames(signer_clip), sidecar_keypoints(signer_clip)
        uncached = StreamingTranslator(translator, min_pause=0.08, hop=0.08, keypoints=keypoints)
        uncached._encoders.enabled = False
        expected = feed(uncached, frames)
        encoded = count_encoded(translator.model)
        live = StreamingTranslator(translator, min_pause=0.08, hop=0.08, keypoints=keypoints)
        sentences = feed(live, frames)
    finally:
        translator.model.config.backbone_frame_stride = 1
    assert len(sentences) >= 3
    grid_frames = round(live.state.time * live.fps)  # every frame of the stream, on the model's time grid
    if stride == 1:
        assert encoded["frames"] == grid_frames
    else:  # cuts move to an even row (_on_frame_stride): the next window's frames read are those already kept
        assert grid_frames // 2 <= encoded["frames"] <= grid_frames // 2 + 2 * len(sentences)
    assert [sentence["pseudo_gloss"] for sentence in sentences] == [sentence["pseudo_gloss"] for sentence in expected]
    assert [sentence["end"] for sentence in sentences] == [sentence["end"] for sentence in expected]


@pytest.mark.slow
def test_keypoints_extracted_live_are_the_offline_extractors(translator, signer_clip, tmp_path):
    """Without a sidecar both run MediaPipe's hand and body models on the frames: the same sentence (2 s of clip)."""
    bare = tmp_path / "bare.mp4"
    bare.write_bytes(signer_clip.read_bytes())
    offline = translator(str(bare), end=2.0)
    live = StreamingTranslator(translator, min_pause=1000.0)
    (sentence,) = feed(live, decoded_frames(bare, until=2.0))
    for key in COMPARED:
        assert sentence[key] == offline[key], key


@pytest.mark.slow
def test_each_sentence_is_what_the_offline_model_reads_on_its_span(translator, signer_clip):
    """A short pause ends sentences (a random router pauses often): each sentence's text is the offline processor +
    model on the frames it read, its times tile the stream, and sentences come out while the stream goes on."""
    live = StreamingTranslator(translator, min_pause=0.08, hop=0.08, keypoints=sidecar_keypoints(signer_clip))
    frames = decoded_frames(signer_clip)
    sentences = feed(live, frames)
    assert len(sentences) >= 2
    assert any(sentence["emitted_at"] < frames[-1][1] for sentence in sentences)  # not all at the end
    for sentence in sentences:
        assert sentence["start"] < sentence["end"] <= sentence["read_end"] <= sentence["emitted_at"] + 1e-9
        inputs = translator.processor(
            videos=str(signer_clip), start=sentence["start"], end=sentence["read_end"], return_metadata=True
        )
        inputs.pop("video_metadata")
        outputs = translator.forward(dict(inputs))
        read = int(inputs["attention_mask"].sum())
        offline = translator._decode_part(outputs, read, start=sentence["start"], fps=25.0)
        assert sentence["pseudo_gloss"] == offline["pseudo_gloss"]
    ends = [sentence["end"] for sentence in sentences[:-1]]
    starts = [sentence["start"] for sentence in sentences[1:]]
    assert all(end <= start + 1e-6 for end, start in zip(ends, starts, strict=True))  # in order, never overlapping


@pytest.mark.slow
def test_memory_stays_flat_on_a_long_stream(tmp_path):
    """40 s of camera frames through windows of 64 frames: memory after 10 s and after 40 s is the same. (Keypoints
    are given, as from a .pose file, to keep the test fast; the keypoint track's own bound is tested with it.)"""
    translator = translation_pipeline(save_model(tmp_path / "model", max_frames=64), refiner=False)
    rng = np.random.default_rng(0)
    num_frames = 40 * 25
    keypoints = Keypoints(
        pose=rng.uniform(0, 48, (num_frames, 33, 3)).astype(np.float32),
        pose_confidence=rng.uniform(0, 1, (num_frames, 33)).astype(np.float32),
        hands=rng.uniform(0, 48, (num_frames, 2, 21, 3)).astype(np.float32),
        hand_confidence=np.ones((num_frames, 2, 21), dtype=np.float32),
        fps=25.0,
        width=64,
        height=48,
    )
    live = StreamingTranslator(translator, min_pause=0.2, hop=0.4, keypoints=keypoints)
    images = [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(8)]
    tracemalloc.start()
    try:
        held = []
        for index in range(num_frames):
            live.push(images[index % len(images)], index / 25)
            assert live._window_added <= 64
            if index + 1 in (10 * 25, num_frames):
                held.append(tracemalloc.get_traced_memory()[0])
        live.finish()
    finally:
        tracemalloc.stop()
    assert held[-1] - held[0] < 256 * 1024, [f"{value / 2**20:.2f} MiB" for value in held]


def test_frames_come_out_on_the_decoders_time_grid(tmp_path):
    """A variable-frame-rate file: FrameGrid picks, frame by frame, the source frames decode_video keeps."""
    times = np.cumsum(np.random.default_rng(1).uniform(0.01, 0.09, 60))
    times -= times[0]
    path = write_video(tmp_path / "vfr.mkv", times=list(times), codec="libx264")
    clip = decode_video(path, target_fps=25.0)
    grid = FrameGrid(25.0)
    placed = []
    for image, seconds in decoded_frames(path):
        placed += grid.push(seconds, image)
    placed += grid.finish(0.04)
    assert [row for row, _, _ in placed] == list(range(len(placed)))
    np.testing.assert_allclose([seconds for _, seconds, _ in placed], clip.source_timestamps, atol=1e-6)


def test_bad_input_gets_one_line_naming_it(translator, tmp_path):
    for argument in ({"min_pause": 0}, {"hop": float("nan")}, {"overlap": 1.0}, {"keypoints": "clip.pose"}):
        with pytest.raises(SignBindInputError, match=next(iter(argument))):
            StreamingTranslator(translator, **argument)
    live = StreamingTranslator(translator)
    with pytest.raises(SignBindInputError, match="timestamp"):
        live.push(np.zeros((48, 64, 3), dtype=np.uint8), float("nan"))
    with pytest.raises(SignBindInputError, match="live stream"):
        live.push("not an image", 0.0)
    live.close()
    with pytest.raises(SignBindInputError, match="finished"):
        live.push(np.zeros((48, 64, 3), dtype=np.uint8), 0.0)
    boxes_only = translation_pipeline(save_model(tmp_path / "boxes"), refiner=False)
    boxes_only.processor.video_processor.face_cropper = "boxes"
    with pytest.raises(SignBindInputError, match="face_cropper='boxes'"):
        StreamingTranslator(boxes_only)
