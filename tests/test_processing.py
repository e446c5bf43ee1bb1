"""SignBindProcessor: every kind of video a user has -> SignBindModel.forward's tensors; CTC streams -> text.

Videos are generated here with PyAV; the real face is matplotlib's photograph of Grace Hopper (matplotlib ships with
mediapipe). Its mouth position was read off the 512x600 photo by eye (as in tests/video/test_face.py).
"""

import copy
import json
import logging
import os
import pickle
import re
import subprocess
import sys
import textwrap
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from matplotlib import cbook
from PIL import Image
from transformers import AutoProcessor

from signbind_hf import (
    SignBindConfig,
    SignBindCTCTokenizer,
    SignBindInputError,
    SignBindModel,
    SignBindOutput,
    SignBindProcessor,
    SignBindVideoProcessor,
)
from signbind_hf.constants import IGNORE_INDEX
from signbind_hf.face_tracking_signbind import MOUTH_CENTRE_IN_FACE_BOX
from signbind_hf.processing_signbind import fill_spelled_words
from signbind_hf.video_transforms_signbind import DINOV2_IMAGE_MEAN, DINOV2_IMAGE_STD

from .video.synthetic import write_garbage_h264, write_video

REPO_ROOT = Path(__file__).resolve().parents[1]
GLOSS_CORPUS = ["HAVE DIFFERENT HERE", "GAIN BALANCE ON TOE", "YOU HAVE CENTER"]
PHOTO_MOUTH = np.array([268.0, 275.0])  # where the lips meet, in the 512x600 photo
MODEL_KEYS = {"pixel_values", "face_pixel_values", "attention_mask", "face_attention_mask"}


@pytest.fixture(scope="module")
def processor():
    processor = SignBindProcessor.from_preset("tiny", glosses=GLOSS_CORPUS)
    yield processor
    processor.video_processor.close()


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB"))


def place(photo: np.ndarray, offset: tuple[int, int], scale: float, canvas_hw=(480, 640)) -> np.ndarray:
    """The photo shrunk by ``scale`` on a grey canvas, its top-left corner at ``offset`` (x, y)."""
    small = np.asarray(Image.fromarray(photo).resize((round(512 * scale), round(600 * scale)), Image.BILINEAR))
    canvas = np.full((*canvas_hw, 3), 128, dtype=np.uint8)
    left, top = offset
    height = min(small.shape[0], canvas_hw[0] - top)
    canvas[top : top + height, left : left + small.shape[1]] = small[:height]
    return canvas


def write_frames(path: Path, frames: np.ndarray, fps: int = 25) -> Path:
    """Encode (T, H, W, 3) uint8 RGB frames as H.264 (near-lossless) with PyAV."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": "10"})
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def write_folder(folder: Path, frames: list[np.ndarray], suffix: str = ".png") -> Path:
    folder.mkdir()
    for index, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / f"{index}{suffix}")
    return folder


def unnormalize(pixel_values: torch.Tensor) -> np.ndarray:
    """(3, h, w) normalised -> (h, w, 3) float 0-255."""
    mean, std = np.asarray(DINOV2_IMAGE_MEAN), np.asarray(DINOV2_IMAGE_STD)
    return (pixel_values.numpy().transpose(1, 2, 0) * std + mean) * 255


def square_centre(box: list[float]) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


# --- the model's inputs -------------------------------------------------------------------------------------------


@pytest.mark.compat
def test_video_file_becomes_exactly_what_the_model_takes(processor, tmp_path):
    video = write_video(tmp_path / "clip.mp4", num_frames=30, fps=25)

    inputs = processor(videos=video)

    assert set(inputs) == MODEL_KEYS
    assert inputs["pixel_values"].shape == (1, 30, 3, 32, 32)
    assert inputs["face_pixel_values"].shape == (1, 30, 3, 32, 32)
    assert inputs["pixel_values"].dtype == inputs["face_pixel_values"].dtype == torch.float32
    assert inputs["attention_mask"].dtype == inputs["face_attention_mask"].dtype == torch.int64
    assert inputs["attention_mask"].tolist() == [[1] * 30]
    assert not inputs["face_attention_mask"].any()  # coloured blocks: no face, and no crash either
    config = SignBindConfig.from_preset("tiny", gloss_vocab_size=len(processor.tokenizer))
    output = SignBindModel(config).eval()(**inputs)
    assert output.gloss_logits.shape[:2] == (1, 30)


def test_batch_of_a_file_and_a_two_frame_folder_is_padded_and_masked(processor, tmp_path):
    video = write_video(tmp_path / "clip.mp4", num_frames=20, fps=25)
    folder = write_folder(tmp_path / "frames", [np.full((48, 64, 3), value, np.uint8) for value in (40, 200)])

    inputs = processor(videos=[video, folder])

    assert inputs["pixel_values"].shape == (2, 20, 3, 32, 32)
    assert inputs["attention_mask"][0].tolist() == [1] * 20
    assert inputs["attention_mask"][1].tolist() == [1, 1] + [0] * 18
    assert not inputs["pixel_values"][1, 2:].any()  # padding is zeros
    assert not inputs["face_attention_mask"][1, 2:].any()
    # The folder's two frames, in file-name order: dark then bright.
    assert inputs["pixel_values"][1, 0].mean() < inputs["pixel_values"][1, 1].mean()


def test_two_frames_alone_are_padded_to_min_frames(processor, tmp_path):
    folder = write_folder(tmp_path / "frames", [np.full((48, 64, 3), 90, np.uint8)] * 2)

    inputs = processor(videos=str(folder))

    assert inputs["pixel_values"].shape[1] == 16  # the paper's minimum clip length
    assert inputs["attention_mask"].tolist() == [[1, 1] + [0] * 14]


def test_folder_fps_says_how_fast_its_frames_were_taken(processor, tmp_path):
    frames = [np.full((48, 64, 3), 20 * index, np.uint8) for index in range(10)]
    folder = write_folder(tmp_path / "frames", frames)

    at_target = processor(videos=folder, return_metadata=True)
    at_50 = processor(videos=folder, fps=50, return_metadata=True)

    assert at_target["attention_mask"].sum() == 10
    assert at_50["attention_mask"].sum() == 5  # 10 frames at 50 fps last 0.2 s: 5 frames at 25 fps
    assert at_50["video_metadata"][0]["timestamps"] == pytest.approx([0.0, 0.04, 0.08, 0.12, 0.16])


def test_long_clip_is_subsampled_uniformly_and_says_so(tmp_path, caplog):
    processor = SignBindProcessor.from_preset("tiny", glosses=GLOSS_CORPUS, max_frames=20, face_cropper=None)
    video = write_video(tmp_path / "long_clip.mp4", num_frames=60, fps=25)

    with caplog.at_level(logging.WARNING):
        inputs = processor(videos=video, return_metadata=True)

    assert inputs["pixel_values"].shape[1] == 20
    metadata = inputs["video_metadata"][0]
    assert metadata["was_subsampled"]
    assert metadata["num_grid_frames"] == 60
    assert metadata["effective_fps"] == pytest.approx(25 * 20 / 60)
    assert "long_clip.mp4" in caplog.text
    assert "subsampled" in caplog.text


@pytest.mark.parametrize(
    "variant",
    ["array", "tensor", "pil_list", "png_folder", "gray", "rgba", "uint16", "float"],
)
def test_every_frame_representation_gives_the_same_tensors(processor, tmp_path, variant):
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (5, 36, 52), dtype=np.uint8)
    rgb = np.repeat(gray[..., None], 3, axis=3)
    sources = {
        "array": rgb,
        "tensor": torch.from_numpy(rgb),
        "pil_list": [Image.fromarray(frame) for frame in rgb],
        "png_folder": lambda: write_folder(tmp_path / "frames", list(rgb)),
        "gray": gray,
        "rgba": np.concatenate([rgb, np.full((5, 36, 52, 1), 7, np.uint8)], axis=3),
        "uint16": rgb.astype(np.uint16) * 257,
        "float": rgb / 255.0,
    }
    source = sources[variant]() if callable(sources[variant]) else sources[variant]

    inputs = processor(videos=source)
    expected = processor(videos=rgb)

    torch.testing.assert_close(inputs["pixel_values"], expected["pixel_values"], rtol=0, atol=1e-6)
    assert inputs["attention_mask"].sum() == 5


def test_sixteen_bit_png_folder_and_grayscale_video_work(processor, tmp_path):
    folder = tmp_path / "deep"
    folder.mkdir()
    for index in range(3):
        Image.fromarray(np.full((40, 40), 257 * 60 * index, np.uint16)).save(folder / f"{index}.png")
    gray_video = write_video(tmp_path / "gray.mkv", codec="ffv1", pix_fmt="gray", input_format="gray", num_frames=4)

    deep = processor(videos=folder)
    gray = processor(videos=gray_video)

    means = [unnormalize(deep["pixel_values"][0, index]).mean() for index in range(3)]
    assert means == pytest.approx([0, 60, 120], abs=1.0)  # scaled to 8 bits, not clipped at 255
    assert gray["attention_mask"].sum() == 4


def test_4k_frame_is_shrunk_before_anything_else(processor):
    frame = np.zeros((1, 2160, 3840, 3), np.uint8)
    frame[:, :, 1920:] = 255  # right half white

    inputs = processor(videos=frame, return_metadata=True)

    metadata = inputs["video_metadata"][0]
    assert metadata["source_size"] == (3840, 2160)
    assert metadata["frame_size"] == (853, 480)
    assert inputs["pixel_values"].shape == (1, 16, 3, 32, 32)
    picture = unnormalize(inputs["pixel_values"][0, 0])
    # The centre crop keeps the middle of the long side: black left half, white right half.
    assert picture[:, :14].max() < 5
    assert picture[:, 18:].min() > 250


def test_folder_with_mixed_image_sizes_works_and_warns(processor, tmp_path, caplog):
    folder = write_folder(
        tmp_path / "mixed", [np.full((48, 64, 3), 100, np.uint8), np.full((60, 60, 3), 100, np.uint8)]
    )

    with caplog.at_level(logging.WARNING):
        inputs = processor(videos=folder)

    assert inputs["attention_mask"].sum() == 2
    assert "mixed" in caplog.text
    assert "differ in size" in caplog.text


def test_webcam_recording_without_a_duration_works(processor, tmp_path):
    # What a browser's MediaRecorder writes (Gradio's webcam input): a live WebM that reports no duration, at 30 fps.
    video = write_video(
        tmp_path / "webcam.webm", codec="libvpx-vp9", num_frames=45, fps=30, container_options={"live": "1"}
    )

    inputs = processor(videos=video, return_metadata=True)

    assert inputs["attention_mask"].sum() == 38  # 1.5 s at 25 fps
    assert inputs["video_metadata"][0]["source_fps"] == pytest.approx(30)


def test_single_frame_video_is_one_real_frame(processor, tmp_path):
    video = write_video(tmp_path / "one.mp4", num_frames=1)

    inputs = processor(videos=video)

    assert inputs["attention_mask"].tolist() == [[1] + [0] * 15]


# --- faces --------------------------------------------------------------------------------------------------------


def test_real_face_in_a_video_is_found_and_the_crop_sits_on_the_mouth(processor, photo, tmp_path):
    scale, offset = 0.6, (150, 40)
    video = write_frames(tmp_path / "grace.mp4", np.stack([place(photo, offset, scale)] * 6))
    blank = write_frames(tmp_path / "empty_room.mp4", np.full((6, 480, 640, 3), 128, np.uint8))

    inputs = processor(videos=[video, blank], return_metadata=True)

    assert inputs["face_attention_mask"][0, :6].tolist() == [1] * 6
    mouth = np.array(offset) + scale * PHOTO_MOUTH
    for box in inputs["video_metadata"][0]["face_crop_boxes"]:
        assert np.abs(square_centre(box) - mouth).max() < 12  # pixels, in a ~70 px crop
    crop = unnormalize(inputs["face_pixel_values"][0, 0])
    assert crop.std() > 20  # a picture of lips and chin, not the grey background
    # No face at all: mask 0, crops empty, nothing raised.
    assert not inputs["face_attention_mask"][1].any()
    assert np.abs(unnormalize(inputs["face_pixel_values"][1, 0])).max() < 1e-3


def test_face_boxes_per_source_frame_are_scaled_to_the_decoded_frames(processor, photo, tmp_path):
    video = write_frames(tmp_path / "big.mp4", np.stack([place(photo, (0, 0), 0.9, canvas_hw=(720, 960))] * 4))
    source_box = np.array([300.0, 150.0, 600.0, 480.0])  # in the 960x720 source

    inputs = processor(videos=video, face_boxes=np.tile(source_box, (4, 1)), return_metadata=True)

    metadata = inputs["video_metadata"][0]
    assert metadata["frame_size"] == (640, 480)
    assert metadata["detector_calls"] == 0
    x0, y0, x1, y1 = source_box * 2 / 3  # the clip was shrunk to 480 px high
    fraction_x, fraction_y = MOUTH_CENTRE_IN_FACE_BOX
    expected = np.array([x0 + fraction_x * (x1 - x0), y0 + fraction_y * (y1 - y0)])
    for box in metadata["face_crop_boxes"]:
        np.testing.assert_allclose(square_centre(box), expected, atol=1e-3)
    assert inputs["face_attention_mask"].sum() == 4


def test_face_boxes_rows_follow_the_source_frames_kept(processor, tmp_path):
    folder = write_folder(tmp_path / "frames", [np.full((48, 64, 3), 100, np.uint8)] * 10)
    boxes = np.array([[2.0 * row, 10.0, 2.0 * row + 20.0, 30.0] for row in range(10)])  # moves 2 px per frame
    boxes[5] = np.nan  # no face on source frame 5 (not kept at 25 fps anyway)

    inputs = processor(videos=folder, fps=50, face_boxes=[boxes], return_metadata=True)

    centres = [square_centre(box)[0] for box in inputs["video_metadata"][0]["face_crop_boxes"]]
    assert centres == pytest.approx([10.0, 14.0, 18.0, 22.0, 26.0])  # source rows 0, 2, 4, 6, 8


@pytest.mark.parametrize(
    ("face_boxes", "message"),
    [
        (np.zeros((3, 4)), r"face_boxes has 3 rows \(one per source frame\) but the clip uses source frame 9"),
        (np.zeros((10, 3)), r"face_boxes must be an \(N, 4\) array"),
        ([np.zeros((10, 4))] * 2, r"face_boxes: expected one value per video \(1 videos\); got 2"),
    ],
)
def test_bad_face_boxes_are_named(processor, tmp_path, face_boxes, message):
    folder = write_folder(tmp_path / "frames", [np.full((48, 64, 3), 100, np.uint8)] * 10)
    with pytest.raises(SignBindInputError, match=message):
        processor(videos=folder, face_boxes=face_boxes)


def test_boxes_only_cropper_needs_boxes_and_none_makes_no_crops(tmp_path):
    video = write_video(tmp_path / "clip.mp4", num_frames=4)
    boxes_only = SignBindProcessor.from_preset("tiny", glosses=GLOSS_CORPUS, face_cropper="boxes")
    with pytest.raises(SignBindInputError, match=r"face_cropper='boxes' needs face_boxes .*clip\.mp4"):
        boxes_only(videos=video)

    no_crops = SignBindProcessor.from_preset("tiny", glosses=GLOSS_CORPUS, face_cropper=None)
    assert set(no_crops(videos=video)) == {"pixel_values", "attention_mask"}


# --- bad input: SignBindInputError naming the file, quickly -----------------------------------------------------


def _missing(folder: Path) -> Path:
    return folder / "missing.mp4"


def _empty(folder: Path) -> Path:
    path = folder / "empty.mp4"
    path.touch()
    return path


def _truncated(folder: Path) -> Path:
    path = write_video(folder / "truncated.mp4", num_frames=30)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])  # the mp4 index is written last: gone
    return path


def _corrupt(folder: Path) -> Path:
    path = folder / "corrupt.mov"
    path.write_bytes(np.random.default_rng(0).bytes(50_000))
    return path


def _audio_only(folder: Path) -> Path:
    path = folder / "audio_only.m4a"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 16000), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 16000, 0, Fraction(1, 16000)
        container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def _no_decodable_frames(folder: Path) -> Path:
    return write_garbage_h264(folder / "no_frames.mp4", num_packets=10)


def _video_stream_without_frames(folder: Path) -> Path:
    path = folder / "silent.mkv"  # a video stream is declared, but only audio packets follow
    with av.open(str(path), "w") as container:
        video = container.add_stream("mpeg4", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = container.add_stream("pcm_s16le", rate=16000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1600), np.int16), format="s16", layout="mono")
        frame.sample_rate = 16000
        container.mux(audio.encode(frame))
        container.mux(audio.encode())
    return path


def _empty_folder(folder: Path) -> Path:
    path = folder / "no_images"
    path.mkdir()
    (path / "notes.txt").write_text("not a frame")
    return path


BAD_INPUTS = [  # (how to make it, what the message must say after the file name)
    (_missing, r"no such file"),
    (_empty, r"the file is empty \(0 bytes\)"),
    (_truncated, r"cannot be opened as a video container"),
    (_corrupt, r"cannot be opened as a video container"),
    (_audio_only, r"the file has no video stream \(streams found: audio\)"),
    (_no_decodable_frames, r"the video is corrupt: \d+ of 10 packets of the video stream could not be decoded"),
    (_video_stream_without_frames, r"the video stream has no decodable frames"),
    (_empty_folder, r"a frame folder must hold image files"),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("make_bad", "reason"), BAD_INPUTS, ids=[make.__name__.strip("_") for make, _ in BAD_INPUTS])
def test_bad_input_raises_quickly_naming_the_file(processor, tmp_path, make_bad, reason):
    bad = make_bad(tmp_path)

    start = time.perf_counter()
    with pytest.raises(SignBindInputError, match=re.escape(bad.name) + r".*: " + reason) as raised:
        processor(videos=bad)

    assert time.perf_counter() - start < 10
    assert isinstance(raised.value, ValueError)


@pytest.mark.timeout(60)
def test_a_batch_with_one_bad_video_returns_nothing(processor, tmp_path):
    good = write_video(tmp_path / "good.mp4", num_frames=8)
    bad = _corrupt(tmp_path)

    with pytest.raises(SignBindInputError, match=r"corrupt\.mov"):
        processor(videos=[good, bad, good])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ({"videos": []}, r"videos: the list is empty"),
        ({"videos": np.zeros((2, 3, 16, 16), np.uint8)}, r"looks channels-first"),
        ({"videos": 42}, r"expected a video path"),
        ({"videos": np.zeros((2, 8, 8, 3), np.uint8), "return_tensors": "tf"}, r"return_tensors must be one of"),
        ({"videos": np.zeros((2, 8, 8, 3), np.uint8), "fps": [25, 25]}, r"fps: expected one value per video"),
        ({"glosses": ["HAVE"], "letters": ["A", "B"]}, r"letters: expected one string per video \(1 videos\)"),
        ({"glosses": [3]}, r"glosses: expected one string per video"),
        ({}, r"give videos="),
    ],
)
def test_bad_arguments_are_named(processor, call, message):
    with pytest.raises(SignBindInputError, match=message):
        processor(**call)


# --- targets and decoding -----------------------------------------------------------------------------------------


def test_targets_become_the_models_label_tensors(processor):
    frames = np.zeros((2, 20, 24, 24, 3), np.uint8)  # a batch of two clips as one array

    inputs = processor(
        videos=frames,
        glosses=["HAVE HERE", "GAIN BALANCE UNSEEN"],
        letters=["", "L A U R A"],
        phonemes=["hh ae v", "g ey1 n"],
        text=["I have it here.", "Gain balance."],
    )

    expected_glosses = processor.tokenizer(["HAVE HERE", "GAIN BALANCE UNSEEN"], return_tensors="pt")["labels"]
    torch.testing.assert_close(inputs["gloss_labels"], expected_glosses)
    assert inputs["letter_labels"][0].tolist() == [IGNORE_INDEX] * 5
    assert processor.letter_tokenizer.batch_decode(inputs["letter_labels"], ctc=False) == ["", "LAURA"]
    assert processor.phoneme_tokenizer.batch_decode(inputs["phoneme_labels"], ctc=False) == ["hh ae v", "g ey n"]
    assert processor.tokenizer.decode(inputs["gloss_labels"][1], ctc=False) == "GAIN BALANCE [UNK]"
    assert inputs["text"] == ["I have it here.", "Gain balance."]  # carried along, never a tensor
    assert "sign_labels" not in inputs  # only when signs= is given
    signs = processor(glosses=["HAVE HERE", "GAIN"], signs=["HAVE", ""])
    assert processor.tokenizer.batch_decode(signs["sign_labels"], ctc=False) == ["HAVE", ""]
    config = SignBindConfig.from_preset("tiny", gloss_vocab_size=len(processor.tokenizer))
    output = SignBindModel(config)(**{key: value for key, value in inputs.items() if key != "text"})
    assert torch.isfinite(output.loss)


def test_batch_decode_turns_every_stream_into_text(processor):
    def one_hot(paths: list[list[int]], vocab_size: int) -> torch.Tensor:
        return torch.nn.functional.one_hot(torch.tensor(paths), vocab_size).float() * 10

    gloss = processor.tokenizer.convert_tokens_to_ids(["HAVE", "HERE", "GAIN"])
    have, here, gain = gloss
    letter = processor.letter_tokenizer.convert_tokens_to_ids(["B", "O"])
    phoneme = processor.phoneme_tokenizer.convert_tokens_to_ids(["hh", "ae"])
    vocab = len(processor.tokenizer)
    gloss_paths = [[have, have, 0, have, here, here], [gain, 0, gain, here, here, here]]
    output = SignBindOutput(
        gloss_logits=one_hot(gloss_paths, vocab),
        sign_logits=one_hot([[here] * 6, [gain] * 6], vocab),
        fingerspelling_logits=one_hot([[letter[0], 0, letter[1], letter[1], 0, 0]] * 2, 28),
        phoneme_logits=one_hot([[phoneme[0], phoneme[1], phoneme[1]]] * 2, 40),
        phoneme_attention_mask=torch.tensor([[1, 1, 1], [1, 0, 0]]),
    )
    attention_mask = torch.tensor([[1] * 6, [1, 1, 1, 0, 0, 0]])  # the second clip's last frames are padding

    decoded = processor.batch_decode(output, attention_mask)

    assert decoded == {
        "gloss": ["HAVE HAVE HERE", "GAIN GAIN"],  # a blank between repeats keeps both
        "sign": ["HERE", "GAIN"],
        "fingerspelling": ["BO", "BO"],
        "phoneme": ["hh ae", "hh"],
    }
    with pytest.raises(SignBindInputError, match=r"expects a SignBindOutput .*processor\.tokenizer"):
        processor.batch_decode(torch.tensor([[have, here]]))


def test_batch_decode_reads_each_spelled_word_from_the_letter_stream(processor):
    def one_hot(paths: list[list[int]], vocab_size: int) -> torch.Tensor:
        return torch.nn.functional.one_hot(torch.tensor(paths), vocab_size).float() * 10

    have, spelled = processor.tokenizer.convert_tokens_to_ids(["HAVE", "[FS]"])
    vocab = len(processor.tokenizer)
    b, o, boundary, z = processor.letter_tokenizer.convert_tokens_to_ids(["B", "O", "|", "Z"])
    output = SignBindOutput(
        gloss_logits=one_hot([[have, 0, spelled, 0, spelled, 0], [spelled, 0, have, 0, spelled, 0]], vocab),
        sign_logits=one_hot([[have] * 6] * 2, vocab),
        fingerspelling_logits=one_hot([[0, b, o, boundary, z, 0], [b, o, 0, 0, 0, 0]], 28),
    )

    decoded = processor.batch_decode(output)

    # The k-th [FS] is the k-th word read from the letters; one with no word read is left out.
    assert decoded["gloss"] == ["HAVE BO Z", "BO HAVE"]
    assert decoded["fingerspelling"] == ["BO Z", "BO"]


def test_spelled_words_are_read_run_by_run_of_the_routers_fingerspelling(processor):
    def one_hot(paths: list[list[int]], vocab_size: int) -> torch.Tensor:
        return torch.nn.functional.one_hot(torch.tensor(paths), vocab_size).float() * 10

    spelled = processor.tokenizer.convert_tokens_to_ids("[FS]")
    b, o, z = processor.letter_tokenizer.convert_tokens_to_ids(["B", "O", "Z"])
    sign, fingerspelling, rest = 0, 1, 2
    output = SignBindOutput(
        gloss_logits=one_hot([[spelled, 0, 0, 0, spelled, 0, 0, 0]], len(processor.tokenizer)),
        sign_logits=one_hot([[0] * 8], len(processor.tokenizer)),
        # "BOZ" without a word boundary: the letter stream alone would give one word for two slots.
        fingerspelling_logits=one_hot([[b, o, 0, 0, z, 0, 0, 0]], 28),
        router_logits=one_hot([[fingerspelling, fingerspelling, rest, rest, fingerspelling, sign, rest, rest]], 3),
    )

    assert processor.spelled_words(output) == ["BO Z"]
    assert processor.batch_decode(output)["gloss"] == ["BO Z"]
    assert processor.batch_decode(output)["fingerspelling"] == ["BOZ"]  # the stream itself is left as read
    # Padding frames are not read.
    assert processor.spelled_words(output, torch.tensor([[1, 1, 1, 1, 0, 0, 0, 0]])) == ["BO"]


@pytest.mark.parametrize(
    ("gloss", "spelled", "expected"),
    [
        ("OUR DOCTOR [FS] [FS]", "OMAR SMITH", "OUR DOCTOR OMAR SMITH"),
        ("MEET [FS] [FS]", "ANNA", "MEET ANNA"),  # the letter stream read one word: the second slot stays empty
        ("MEET [FS]", "ANNA JACK", "MEET ANNA"),  # words past the last slot are not added
        ("I LIKE TEA", "ANNA", "I LIKE TEA"),
        ("", "", ""),
    ],
)
def test_fill_spelled_words(gloss, spelled, expected):
    assert fill_spelled_words(gloss, spelled) == expected


# --- presets, saving, loading, pickling ---------------------------------------------------------------------------


def test_presets_match_the_model_presets():
    paper_processor = SignBindProcessor.from_preset("paper", glosses=GLOSS_CORPUS)
    paper, paper_tokenizer = paper_processor.video_processor, paper_processor.tokenizer
    tiny = SignBindProcessor.from_preset("tiny", glosses=GLOSS_CORPUS).video_processor
    tiny_config = SignBindConfig.from_preset("tiny")

    assert (paper.frame_size, paper.face_size) == (224, SignBindConfig.from_preset("paper").lip_config.image_size)
    assert (tiny.frame_size, tiny.face_size) == (
        tiny_config.backbone_config.image_size,
        tiny_config.lip_config.image_size,
    )
    without_lips = SignBindVideoProcessor.from_model_config(SignBindConfig.from_preset("tiny", use_lip=False))
    assert without_lips.face_cropper is None
    with pytest.raises(SignBindInputError, match=r"give at most one of glosses="):
        SignBindProcessor.from_preset("tiny", glosses=GLOSS_CORPUS, gloss_tokenizer=paper_tokenizer)
    # With no vocabulary it still turns videos into model inputs; every gloss word is [UNK].
    bare = SignBindProcessor.from_preset("tiny")
    assert bare.tokenizer.convert_ids_to_tokens([0, 1]) == ["<blank>", "[UNK]"]
    assert len(bare.tokenizer) == 2
    frames = np.zeros((3, 40, 40, 3), dtype=np.uint8)
    inputs = SignBindProcessor.from_preset("tiny", face_cropper=None)(videos=frames)
    assert inputs["pixel_values"].shape[:2] == (1, 16)
    assert inputs["attention_mask"].sum() == 3
    with pytest.raises(SignBindInputError, match=r"letter_tokenizer must be a SignBindCTCTokenizer for the 'letter'"):
        SignBindProcessor(
            tiny, SignBindCTCTokenizer.for_glosses(GLOSS_CORPUS), *[SignBindCTCTokenizer.for_phonemes()] * 2
        )


@pytest.mark.compat
def test_save_and_load_round_trip_through_auto_processor(processor, tmp_path):
    video = write_video(tmp_path / "clip.mp4", num_frames=12)
    processor.save_pretrained(tmp_path / "saved")

    loaded = AutoProcessor.from_pretrained(tmp_path / "saved")

    assert type(loaded) is SignBindProcessor
    assert loaded.video_processor.to_dict() == processor.video_processor.to_dict()
    for name in ("tokenizer", "letter_tokenizer", "phoneme_tokenizer"):
        assert getattr(loaded, name).get_vocab() == getattr(processor, name).get_vocab()
        assert getattr(loaded, name).stream == getattr(processor, name).stream
    expected, actual = processor(videos=video, glosses="HAVE HERE"), loaded(videos=video, glosses="HAVE HERE")
    for key in expected:
        torch.testing.assert_close(actual[key], expected[key], rtol=0, atol=0)
    settings = json.loads((tmp_path / "saved" / "processor_config.json").read_text())
    assert settings["video_processor"]["face_cropper"] == "mediapipe"
    assert settings["auto_map"]["AutoProcessor"] == "processing_signbind.SignBindProcessor"
    assert (tmp_path / "saved" / "video_processing_signbind.py").is_file()  # remote code travels with it


def test_settings_are_validated_and_saved_ones_reload(tmp_path):
    custom = SignBindVideoProcessor(frame_size=48, max_frames=64, face_crop={"size": 40, "detect_every": 4})
    custom.save_pretrained(tmp_path)
    assert SignBindVideoProcessor.from_pretrained(tmp_path).to_dict() == custom.to_dict()
    with pytest.raises(SignBindInputError, match=r"face_crop has unknown fields \['sise'\]"):
        SignBindVideoProcessor(face_crop={"sise": 40})
    with pytest.raises(SignBindInputError, match=r"face_cropper must be one of"):
        SignBindVideoProcessor(face_cropper="dlib")
    with pytest.raises(SignBindInputError, match=r"max_frames must be an integer >= min_frames"):
        SignBindVideoProcessor(min_frames=16, max_frames=8)
    with pytest.raises(SignBindInputError, match=r"unknown settings \['fps'\]"):
        SignBindVideoProcessor(fps=30)
    with pytest.raises(SignBindInputError, match=r"target_fps must be a positive number"):
        SignBindVideoProcessor(target_fps=0)


def test_processor_pickles_for_multiprocessing_after_use(processor, photo):
    frames = np.stack([place(photo, (150, 40), 0.6)] * 3)
    expected = processor(videos=frames)  # the MediaPipe detector is loaded now
    assert processor.video_processor._cropper is not None

    clone = pickle.loads(pickle.dumps(processor))
    copied = copy.deepcopy(processor)
    try:
        assert clone.video_processor._cropper is None  # rebuilt on first use in the new process
        for other in (clone, copied):
            torch.testing.assert_close(other(videos=frames)["face_pixel_values"], expected["face_pixel_values"])
    finally:
        clone.video_processor.close()
        copied.video_processor.close()


REMOTE_CODE_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    if sys.argv[2] == "without-package":
        sys.modules["signbind_hf"] = None  # as if signbind-hf were not installed
    from transformers import AutoProcessor
    try:
        processor = AutoProcessor.from_pretrained(sys.argv[1], trust_remote_code=True)
    except ImportError as error:
        print("ImportError:", error)
        raise SystemExit(0)
    inputs = processor(videos=np.zeros((3, 40, 40, 3), np.uint8), glosses="HAVE HERE")
    print(type(processor).__module__, {key: tuple(value.shape) for key, value in inputs.items()})
    """
)


@pytest.mark.slow
@pytest.mark.compat
@pytest.mark.timeout(120)
def test_remote_code_copy_loads_with_and_without_the_package(tmp_path):
    SignBindProcessor.from_preset("tiny", glosses=GLOSS_CORPUS, face_cropper=None).save_pretrained(tmp_path / "ckpt")
    script = tmp_path / "load.py"
    script.write_text(REMOTE_CODE_SCRIPT)
    # Run from elsewhere, with the package importable but not imported: only the checkpoint's auto_map finds it.
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_MODULES_CACHE": str(tmp_path / "modules")}

    def run(mode: str) -> str:
        completed = subprocess.run(
            [sys.executable, str(script), str(tmp_path / "ckpt"), mode],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=100,
        )
        assert completed.returncode == 0, completed.stderr[-3000:]
        return completed.stdout

    installed = run("with-package")
    assert installed.startswith("transformers_modules.")  # the checkpoint's copy of processing_signbind.py
    assert "'pixel_values': (1, 16, 3, 32, 32)" in installed
    assert "'gloss_labels': (1, 2)" in installed
    assert run("without-package") == installed  # standalone: the same remote classes and outputs
