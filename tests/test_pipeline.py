"""The sign-language-translation pipeline on a tiny random SignBindModel and its processor, saved to disk.

Windows are 24 frames (0.96 s at 25 fps) so that a 3.2 s video is a "long" one; face boxes are given (the processor's
"boxes" cropper), so no face detector runs except in the no-person test.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import pipeline

from signbind_hf import SignBindInputError, SignBindModel, SignBindProcessor, SignBindTranslationPipeline
from signbind_hf.constants import SEGMENT_NAMES
from signbind_hf.pipeline_signbind import TASK, check_model_folder, translation_pipeline

from .conftest import tiny_config
from .video.synthetic import write_video

GLOSSES = ["HAVE DIFFERENT HERE", "GAIN BALANCE ON TOE", "YOU HAVE CENTER"]
WINDOW = 24  # the processor's max_frames in these tests
FPS = 25.0
RESULT_KEYS = {
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
}


def save_tiny_model(folder: Path, *, use_lip: bool = True, face_cropper: str | None = "boxes", seed: int = 1) -> Path:
    processor = SignBindProcessor.from_preset(
        "tiny", glosses=GLOSSES, max_frames=WINDOW, min_frames=8, face_cropper=face_cropper if use_lip else None
    )
    torch.manual_seed(seed)
    model = SignBindModel(tiny_config(gloss_vocab_size=len(processor.tokenizer), use_lip=use_lip)).eval()
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def boxes(num_frames: int) -> np.ndarray:
    return np.tile([[16.0, 8.0, 48.0, 40.0]], (num_frames, 1))  # a face box on every source frame (64x48 video)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def translator(model_dir) -> SignBindTranslationPipeline:
    return pipeline(TASK, model=str(model_dir))


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("videos")
    return {
        "short": write_video(folder / "short.mp4", num_frames=20),  # 0.8 s: one window
        "long": write_video(folder / "long.mp4", num_frames=80),  # 3.2 s: several windows
    }


def assert_segments_tile(result: dict) -> None:
    segments = result["segments"]
    assert segments, "a result without segments"
    assert segments[0]["start"] == pytest.approx(result["start"])
    assert segments[-1]["end"] == pytest.approx(result["end"])
    for before, after in itertools.pairwise(segments):
        assert before["end"] == pytest.approx(after["start"])
        assert before["label"] != after["label"], "adjacent runs must differ (they are merged)"
    assert all(segment["label"] in SEGMENT_NAMES and segment["end"] > segment["start"] for segment in segments)


@pytest.mark.compat
def test_pipeline_is_registered_and_runs_on_cpu(translator):
    assert isinstance(translator, SignBindTranslationPipeline)
    assert translator.device == torch.device("cpu")
    assert translator.refiner is None  # the folder has no refiner/


def test_result_has_every_key_with_sane_types(translator, videos):
    result = translator(str(videos["short"]), face_boxes=boxes(20))
    assert isinstance(result, dict)
    assert set(result) == RESULT_KEYS
    for key in ("translation", "pseudo_gloss", "fingerspelling", "phonemes"):
        assert isinstance(result[key], str)
    assert result["refined"] is False
    assert result["translation"] == result["pseudo_gloss"]
    assert set(result["pseudo_gloss"].split()) <= {word for gloss in GLOSSES for word in gloss.split()}
    assert set(result["phonemes"].split()) <= set(translator.processor.phoneme_tokenizer.get_vocab())
    assert (result["start"], result["end"], result["num_frames"], result["fps"]) == (0.0, 0.8, 20, FPS)
    assert result["duration"] == pytest.approx(0.8)
    assert result["source_fps"] == pytest.approx(FPS)
    assert result["face_frames"] == 20
    assert len(result["gate"]) == len(result["segments"])
    assert all(0.0 <= weight <= 1.0 for weight in result["gate"])
    assert set(result["timing"]) == {"video", "model", "decoding", "refiner", "total"}
    assert all(seconds >= 0 for seconds in result["timing"].values())
    assert result["timing"]["total"] == pytest.approx(sum(v for k, v in result["timing"].items() if k != "total"))
    assert_segments_tile(result)
    json.dumps(result)  # plain Python values only


@pytest.mark.compat
@pytest.mark.parametrize("beam_width", [None, 4])
def test_one_window_matches_the_processor_and_model_run_by_hand(translator, videos, beam_width):
    """The pipeline's streams are exactly processor -> model -> batch_decode when the clip fits one window."""
    result = translator(str(videos["short"]), face_boxes=boxes(20), beam_width=beam_width)
    inputs = translator.processor(videos=str(videos["short"]), face_boxes=boxes(20))
    with torch.no_grad():
        output = translator.model(**inputs)
    decoded = translator.processor.batch_decode(
        output, inputs["attention_mask"], beam_width=beam_width, skip_special_tokens=True
    )
    assert result["pseudo_gloss"] == decoded["gloss"][0]
    assert result["fingerspelling"] == decoded["fingerspelling"][0]
    assert result["phonemes"] == decoded["phoneme"][0]
    labels = output.router_probs[0, :20].argmax(-1)
    first_change = next((i for i in range(1, 20) if labels[i] != labels[0]), 20)
    assert result["segments"][0] == {"label": SEGMENT_NAMES[labels[0]], "start": 0.0, "end": first_change / FPS}
    assert result["gate"][0] == pytest.approx(output.gate[0, :first_change].mean().item(), abs=1e-5)


def test_default_decoding_is_the_models_ctc_beam_width(translator, videos, monkeypatch):
    import signbind_hf.processing_signbind as processing

    widths = []
    decode = processing.decode_streams

    def spy(output, attention_mask, beam_width=None):
        widths.append(beam_width)
        return decode(output, attention_mask, beam_width=beam_width)

    monkeypatch.setattr(processing, "decode_streams", spy)
    monkeypatch.setattr(translator.model.config, "ctc_beam_width", 3)
    translator(str(videos["short"]), face_boxes=boxes(20))
    translator(str(videos["short"]), face_boxes=boxes(20), beam_width=2)  # the caller's choice wins
    monkeypatch.setattr(translator.model.config, "ctc_beam_width", None)
    translator(str(videos["short"]), face_boxes=boxes(20))
    assert widths == [3, 2, None]


def test_long_video_is_split_into_results_with_increasing_times(translator, videos):
    read = []
    results = translator(str(videos["long"]), face_boxes=boxes(80), progress=read.append)
    assert isinstance(results, list)
    assert len(results) >= 3
    assert results[0]["start"] == 0.0
    assert results[-1]["end"] == pytest.approx(3.2)
    for before, after in itertools.pairwise(results):
        assert after["start"] == pytest.approx(before["end"])  # consecutive parts, no gap, no overlap
    search_start = WINDOW - round(0.25 * WINDOW)
    for part in results:
        assert set(part) == RESULT_KEYS
        assert part["num_frames"] <= WINDOW
        assert part["duration"] == pytest.approx(part["num_frames"] / FPS)
        assert_segments_tile(part)
    # Every window but the last is cut in its searched lookahead: a part keeps at least the frames before it.
    assert all(part["num_frames"] >= search_start for part in results[:-1])
    assert read == pytest.approx([part["end"] for part in results])  # progress: seconds read after each window


@pytest.mark.parametrize(
    ("route_bias", "part_frames"),
    [
        # All rest: the lookahead (frames 18-23) is one pause, cut in its middle (frame 21); the last part is the rest.
        ([0.0, 0.0, 10.0], [21, 21, 21, 17]),
        # No rest anywhere and equal rest probabilities: the cut is the first frame of the lookahead.
        ([10.0, 0.0, 0.0], [18, 18, 18, 18, 8]),
    ],
)
def test_windows_are_cut_where_the_router_sees_a_pause(model_dir, videos, route_bias, part_frames):
    translator = translation_pipeline(model_dir)
    last_layer = translator.model.manual.router.mlp[-1]
    with torch.no_grad():  # a router that says the same thing on every frame, whatever it sees
        last_layer.weight.zero_()
        last_layer.bias.copy_(torch.tensor(route_bias))
    results = translator(str(videos["long"]), face_boxes=boxes(80))
    assert [part["num_frames"] for part in results] == part_frames
    assert [part["segments"] for part in results] == [
        [{"label": "rest" if route_bias[2] else "sign", "start": part["start"], "end": part["end"]}]
        for part in results
    ]


def test_start_and_end_limit_the_seconds_translated(translator, videos):
    result = translator(str(videos["long"]), face_boxes=boxes(80), start=1.0, end=1.6)
    assert isinstance(result, dict)
    assert (result["start"], result["end"], result["num_frames"]) == (1.0, 1.6, 15)
    assert_segments_tile(result)


def test_batch_input_gives_one_result_per_video(translator, videos):
    path = str(videos["short"])
    results = translator([path, videos["short"].read_bytes()], face_boxes=boxes(20))
    assert isinstance(results, list)
    assert len(results) == 2
    single = translator(path, face_boxes=boxes(20))
    for result in results:
        assert {**result, "timing": None} == {**single, "timing": None}


def test_frame_arrays_and_frame_lists_are_one_video(translator):
    frames = np.random.default_rng(0).integers(0, 255, (10, 48, 64, 3), dtype=np.uint8)
    from_array = translator(frames, fps=12.5, face_boxes=boxes(10))
    assert (from_array["num_frames"], from_array["end"], from_array["source_fps"]) == (20, 0.8, 12.5)
    from_list = translator(list(frames), fps=12.5, face_boxes=boxes(10))
    assert {**from_list, "timing": None} == {**from_array, "timing": None}


def test_model_without_lip_stream_reports_no_gate(tmp_path, videos):
    translator = translation_pipeline(save_tiny_model(tmp_path / "no_lip", use_lip=False))
    result = translator(str(videos["short"]))
    assert result["gate"] is None
    assert result["face_frames"] is None
    assert result["phonemes"] == ""
    assert_segments_tile(result)


def test_dtype_option_runs_the_model_in_that_dtype(model_dir, videos):
    translator = translation_pipeline(model_dir, dtype=torch.bfloat16)
    assert translator.model.dtype == torch.bfloat16
    result = translator(str(videos["short"]), face_boxes=boxes(20), beam_width=2)
    assert_segments_tile(result)


def test_a_video_without_a_person_is_refused(tmp_path, videos):
    translator = translation_pipeline(save_tiny_model(tmp_path / "detect", face_cropper="opencv"))
    with pytest.raises(SignBindInputError, match=r"short\.mp4: no person found: no face was detected in any of"):
        translator(str(videos["short"]))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"overlap": 1.5}, r"overlap must be a fraction of a window in \(0, 1\); got 1\.5"),
        ({"beam_width": 0}, r"beam_width must be an integer >= 1"),
        ({"window": 3}, r"unknown argument\(s\) \['window'\]"),
        ({"progress": "yes"}, r"progress must be a callable"),
        ({"batch_size": 4}, r"batch_size and num_workers are not supported"),
    ],
)
def test_bad_arguments_are_named(translator, videos, arguments, message):
    with pytest.raises(SignBindInputError, match=message):
        translator(str(videos["short"]), **arguments)


def test_bad_videos_are_named(translator, tmp_path):
    with pytest.raises(SignBindInputError, match=r"missing\.mp4: no such file"):
        translator(str(tmp_path / "missing.mp4"), face_boxes=boxes(20))
    text = tmp_path / "notes.txt"
    text.write_text("not a video")
    with pytest.raises(SignBindInputError, match=r"notes\.txt: cannot be opened as a video"):
        translator(str(text), face_boxes=boxes(20))


def test_check_model_folder_names_what_is_wrong(tmp_path, model_dir):
    assert check_model_folder(model_dir) == model_dir
    with pytest.raises(SignBindInputError, match=r"nowhere: no such model folder"):
        check_model_folder(tmp_path / "nowhere")
    (tmp_path / "file").write_text("x")
    with pytest.raises(SignBindInputError, match=r"file: not a folder"):
        check_model_folder(tmp_path / "file")
    with pytest.raises(SignBindInputError, match=r"not a model folder \(no config\.json\)"):
        check_model_folder(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(SignBindInputError, match=r"a 'bert' model, not a SignBind model"):
        check_model_folder(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "signbind"}))
    with pytest.raises(SignBindInputError, match=r"the model has no processor \(processor_config\.json\)"):
        check_model_folder(tmp_path)


def test_refiner_turns_each_part_into_english(model_dir, videos):
    class RecordingRefiner:
        def __init__(self) -> None:
            self.calls: list[list[str]] = []

        def translate(self, glosses: list[str]) -> list[str]:
            self.calls.append(list(glosses))
            return [f"english for {gloss.lower()}" for gloss in glosses]

    refiner = RecordingRefiner()
    translator = translation_pipeline(model_dir, refiner=refiner)
    results = translator(str(videos["long"]), face_boxes=boxes(80))
    with_gloss = [part for part in results if part["pseudo_gloss"]]
    assert with_gloss, "the tiny model decoded no gloss: pick another seed"
    assert refiner.calls == [[part["pseudo_gloss"]] for part in with_gloss]
    for part in with_gloss:
        assert part["refined"] is True
        assert part["translation"] == f"english for {part['pseudo_gloss'].lower()}"
    with pytest.raises(SignBindInputError, match=r"refiner must have translate"):
        translation_pipeline(model_dir, refiner=object())


def test_refiner_in_the_model_folder_is_loaded(tmp_path, videos):
    """A real (random, tiny) causal LM saved as the folder's merged refiner/ is found, loaded and used."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from signbind_hf.refiner import REFINER_DIR, Refiner, RefinerConfig
    from signbind_hf.training.small_llm import train_tokenizer

    model_dir = save_tiny_model(tmp_path / "model")
    refiner_dir = model_dir / REFINER_DIR
    tokenizer = train_tokenizer([*GLOSSES, "So you have a different one here."], vocab_size=300)
    torch.manual_seed(0)
    llm_config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    LlamaForCausalLM(llm_config).save_pretrained(refiner_dir)
    tokenizer.save_pretrained(refiner_dir)
    RefinerConfig(base_model="random-tiny-llama", merged=True, max_new_tokens=4).save(refiner_dir)

    translator = translation_pipeline(model_dir)
    assert translator.refiner is not None
    result = translator(str(videos["short"]), face_boxes=boxes(20))
    assert result["pseudo_gloss"], "the tiny model decoded no gloss: pick another seed"
    assert result["refined"] is True
    assert result["translation"] == Refiner.from_pretrained(model_dir).translate([result["pseudo_gloss"]])[0]
    assert result["timing"]["refiner"] > 0
    assert not math.isnan(result["timing"]["total"])
