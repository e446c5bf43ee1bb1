"""decode_video on frame folders, image lists and arrays: order, rate, conversion and bad input."""

import logging

import numpy as np
import pytest
import torch
from PIL import Image

from signbind_hf.errors import SignBindInputError
from signbind_hf.video_decoding_signbind import decode_video, natural_sort_key

from .synthetic import WHITE, coded_frame, read_codes


def _write_folder(folder, num_frames, *, width=40, height=30, name="{}.png", colour=(255, 0, 0)):
    folder.mkdir(exist_ok=True)
    for index in range(num_frames):
        Image.fromarray(coded_frame(index, width, height, colour)).save(folder / name.format(index))
    return folder


def test_folder_frames_are_read_in_natural_order(tmp_path):
    folder = _write_folder(tmp_path / "clip", 12)  # 0.png ... 11.png: plain sorting would put 10 and 11 after 1

    clip = decode_video(folder)

    assert read_codes(clip.frames) == list(range(12))
    assert clip.frames.shape == (12, 30, 40, 3)
    assert clip.source_fps == 25
    assert clip.source_name == str(folder)


def test_natural_sort_key_orders_numbers_by_value():
    names = ["frame10.jpg", "frame9.jpg", "Frame1.jpg", "frame100.jpg", "frame0010b.jpg"]
    assert sorted(names, key=natural_sort_key) == [
        "Frame1.jpg",
        "frame9.jpg",
        "frame10.jpg",
        "frame0010b.jpg",
        "frame100.jpg",
    ]


def test_folder_ignores_hidden_and_non_image_files(tmp_path):
    folder = _write_folder(tmp_path / "clip", 3, name="{:04d}.jpg", colour=WHITE)
    (folder / "labels.csv").write_text("a,b\n")
    (folder / ".DS_Store").write_bytes(b"\0\1")
    (folder / "sub").mkdir()

    assert read_codes(decode_video(folder).frames) == [0, 1, 2]


def test_folder_fps_resamples_to_the_target_rate(tmp_path):
    folder = _write_folder(tmp_path / "clip", 10)

    slower = decode_video(folder, fps=12.5)  # each frame shown for two grid steps
    faster = decode_video(folder, fps=50)  # every other frame

    assert read_codes(slower.frames) == [index // 2 for index in range(20)]
    assert read_codes(faster.frames) == [0, 2, 4, 6, 8]


def test_folder_with_mixed_sizes_fits_every_frame_to_the_first(tmp_path, caplog):
    folder = tmp_path / "mixed"
    folder.mkdir()
    Image.fromarray(coded_frame(0, 40, 30)).save(folder / "0.png")
    Image.fromarray(coded_frame(1, 80, 60)).save(folder / "1.png")  # same aspect: resized
    Image.fromarray(coded_frame(2, 60, 30)).save(folder / "2.png")  # wider: resized and centre-cropped

    with caplog.at_level(logging.WARNING, logger="signbind_hf"):
        clip = decode_video(folder)

    assert clip.frames.shape == (3, 30, 40, 3)
    assert read_codes(clip.frames[:2]) == [0, 1]
    assert "frames differ in size" in caplog.text
    assert "2.png is 60x30" in caplog.text
    # the wide frame lost its outer sixths: its central blocks (bit 1 lit in code 2) survive
    assert clip.frames[2, 5:10, 10:15, 0].mean() > 200


def test_only_the_kept_frames_are_opened(tmp_path):
    folder = _write_folder(tmp_path / "long", 40)
    (folder / "7.png").write_bytes(b"not a png")  # never opened: frame 7 is not among the kept ones

    clip = decode_video(folder, max_frames=4)

    assert read_codes(clip.frames) == [0, 13, 26, 39]
    assert clip.was_subsampled


def test_unreadable_kept_frame_is_named(tmp_path):
    folder = _write_folder(tmp_path / "clip", 4)
    (folder / "2.png").write_bytes(b"not a png")

    with pytest.raises(SignBindInputError, match=r"2\.png: cannot be read as an image"):
        decode_video(folder)


def test_empty_folder_is_rejected(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SignBindInputError, match=r"empty: a frame folder must hold image files.*it is empty"):
        decode_video(tmp_path / "empty")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("hi")
    with pytest.raises(SignBindInputError, match=r"notes: a frame folder must hold image files.*readme\.txt"):
        decode_video(tmp_path / "notes")


def test_folder_start_and_end(tmp_path):
    folder = _write_folder(tmp_path / "clip", 20)

    assert read_codes(decode_video(folder, start=0.2, end=0.4).frames) == [5, 6, 7, 8, 9]
    with pytest.raises(SignBindInputError, match=r"clip: start=1\.0 s is past the end of the clip"):
        decode_video(folder, start=1.0)


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA", "I;16", "I", "1"])
def test_folder_images_of_any_mode_become_rgb(tmp_path, mode):
    folder = tmp_path / mode.replace(";", "_")
    folder.mkdir()
    for index in range(3):
        grey = coded_frame(index, 40, 30, WHITE)[:, :, 0]
        if mode == "I;16":
            image = Image.fromarray(grey.astype(np.uint16) * 257)  # 16-bit grayscale PNG
        elif mode == "I":
            image = Image.fromarray(grey.astype(np.int32) * 257)  # 32-bit integer image holding 16-bit samples
        else:
            image = Image.fromarray(grey).convert(mode)
        image.save(folder / f"{index}.{'tif' if mode == 'I' else 'png'}")  # Pillow 13 drops mode I from PNG

    clip = decode_video(folder)

    assert clip.frames.dtype == np.uint8
    assert read_codes(clip.frames) == [0, 1, 2]
    assert clip.frames.max() == 255  # 16-bit white maps to 255, not clipped or shifted


def test_list_of_pil_images_and_arrays(tmp_path):
    images = [Image.fromarray(coded_frame(index, 40, 30)) for index in range(6)]
    arrays = [coded_frame(index, 40, 30) for index in range(6)]

    assert read_codes(decode_video(images).frames) == list(range(6))
    assert read_codes(decode_video(arrays, fps=50).frames) == [0, 2, 4]
    with pytest.raises(SignBindInputError, match=r"<frame list>: the list of frames is empty"):
        decode_video([])
    with pytest.raises(SignBindInputError, match=r"<frame list>\[1\]: expected a PIL image or a numpy array, got str"):
        decode_video([arrays[0], "frame.png"])


def test_uint8_array_matches_its_frames():
    frames = np.stack([coded_frame(index, 40, 30) for index in range(30)])

    clip = decode_video(frames, max_frames=5)

    assert read_codes(clip.frames) == [0, 7, 14, 22, 29]
    np.testing.assert_array_equal(clip.frames[0], frames[0])  # no resize, no colour change


@pytest.mark.parametrize("kind", ["uint16", "float32", "bool", "grey", "grey1", "rgba", "int64"])
def test_array_dtypes_and_channels_are_converted(kind):
    rgb = np.stack([coded_frame(index, 40, 30, WHITE) for index in range(4)])
    arrays = {
        "uint16": rgb.astype(np.uint16) * 257,
        "float32": rgb.astype(np.float32) / 255,
        "bool": rgb > 0,
        "grey": rgb[..., 0],
        "grey1": rgb[..., :1],
        "rgba": np.concatenate([rgb, np.zeros_like(rgb[..., :1])], axis=-1),
        "int64": rgb.astype(np.int64),
    }

    clip = decode_video(arrays[kind])

    np.testing.assert_array_equal(clip.frames, rgb)


def test_torch_tensors_are_read_frame_by_frame():
    rgb = np.stack([coded_frame(index, 40, 30) for index in range(4)])

    assert read_codes(decode_video(torch.from_numpy(rgb)).frames) == [0, 1, 2, 3]
    half = torch.from_numpy(rgb).to(torch.bfloat16) / 255  # numpy has no bfloat16
    assert read_codes(decode_video(half).frames) == [0, 1, 2, 3]
    assert read_codes(decode_video(list(torch.from_numpy(rgb))).frames) == [0, 1, 2, 3]  # a list of tensors


def test_4k_array_frames_are_shrunk():
    frames = np.stack([coded_frame(index, 3840, 2160) for index in range(2)])

    clip = decode_video(frames, max_shortest_edge=240)

    assert clip.frames.shape == (2, 240, 427, 3)
    assert read_codes(clip.frames) == [0, 1]


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((4, 3, 30, 40), np.uint8), r"got \(4, 3, 30, 40\) \(this looks channels-first"),
        (np.zeros((0, 30, 40, 3), np.uint8), r"the array holds no frames"),
        (np.zeros((30, 40), np.uint8), r"expected frames shaped \(T, H, W, 3\)"),
        (np.full((2, 30, 40, 3), 2.0, np.float32), r"<frame array>\[0\]: float pixel values must lie in \[0, 1\]"),
        (np.full((2, 30, 40, 3), 300, np.int32), r"int32 pixel values must lie in \[0, 255\]"),
        (np.full((2, 30, 40, 3), np.nan, np.float32), r"float pixel values must lie in \[0, 1\]"),
        (np.zeros((2, 30, 40, 3), np.complex64), r"unsupported pixel type complex64"),
    ],
)
def test_bad_arrays_are_rejected(array, message):
    with pytest.raises(SignBindInputError, match=message):
        decode_video(array)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_fps": 0}, r"target_fps must be a positive number"),
        ({"fps": -5}, r"fps must be a positive number"),
        ({"start": -1}, r"start must be a number of seconds >= 0"),
        ({"end": float("nan")}, r"end must be a number of seconds"),
        ({"max_frames": 0}, r"max_frames must be an integer >= 1"),
        ({"max_frames": 2.5}, r"max_frames must be an integer >= 1"),
        ({"max_shortest_edge": 0}, r"max_shortest_edge must be an integer >= 1 or None"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, message):
    with pytest.raises(SignBindInputError, match=message):
        decode_video(np.zeros((2, 30, 40, 3), np.uint8), **kwargs)
