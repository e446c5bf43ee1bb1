"""Pixel conversion helpers: exact 16-bit and float mapping, sizes, fitting mixed sizes."""

import logging

import numpy as np
import pytest
from PIL import Image

from signbind_hf.errors import SignBindInputError
from signbind_hf.video_frames_signbind import FrameSizer, fit_rgb, shrunk_size, to_rgb_uint8


def test_sixteen_bit_values_map_onto_eight_bits_exactly():
    samples = np.array([[0, 128, 129, 257, 32896, 65535]], dtype=np.uint16)

    rgb = to_rgb_uint8(samples, what="frame")

    assert rgb.shape == (1, 6, 3)
    assert rgb[0, :, 0].tolist() == [0, 0, 1, 1, 128, 255]  # round(value / 257)


def test_float_values_round_to_the_nearest_level():
    rgb = to_rgb_uint8(np.array([[0.0, 0.5, 1.0, 1.0004]], dtype=np.float64), what="frame")
    assert rgb[0, :, 0].tolist() == [0, 128, 255, 255]


def test_palette_image_with_transparency_becomes_rgb_without_warnings(recwarn):
    image = Image.new("P", (4, 4), 1)
    image.putpalette([0, 0, 0, 200, 100, 50] + [0] * 762)
    image.info["transparency"] = b"\x00\xff" + b"\xff" * 254

    rgb = to_rgb_uint8(image, what="frame")

    assert rgb[0, 0].tolist() == [200, 100, 50]
    assert not [warning for warning in recwarn if "Palette" in str(warning.message)]


def test_bad_images_are_named():
    with pytest.raises(SignBindInputError, match=r"frames\[2\]: the image is empty"):
        to_rgb_uint8(np.zeros((0, 4, 3), np.uint8), what="frames[2]")
    with pytest.raises(SignBindInputError, match=r"frames\[2\]: expected an image shaped .* got shape \(4, 4, 5\)"):
        to_rgb_uint8(np.zeros((4, 4, 5), np.uint8), what="frames[2]")


@pytest.mark.parametrize(
    ("size", "limit", "expected"),
    [
        ((3840, 2160), 480, (853, 480)),
        ((2160, 3840), 480, (480, 853)),
        ((640, 480), 480, (640, 480)),  # never scaled up
        ((33, 47), 480, (33, 47)),
        ((3840, 2160), None, (3840, 2160)),
        ((5000, 1), 1, (5000, 1)),
    ],
)
def test_shrunk_size_bounds_the_shortest_edge(size, limit, expected):
    assert shrunk_size(*size, limit) == expected


def test_fit_rgb_scales_to_cover_then_crops_the_centre():
    image = np.zeros((30, 90, 3), np.uint8)
    image[:, 30:60] = 255  # the middle third is white

    fitted = fit_rgb(image, 20, 20)  # scaled to 20 x 60, centre 20 columns kept

    assert fitted.shape == (20, 20, 3)
    assert fitted[:, 1:-1].min() == 255  # the outer columns blend a little black in, from the antialiased resize
    assert fitted.min() > 200


def test_frame_sizer_fixes_the_size_on_the_first_frame_and_warns_once(caplog):
    sizer = FrameSizer(max_shortest_edge=24, clip_name="clip")

    with caplog.at_level(logging.WARNING, logger="signbind_hf"):
        first = sizer(np.zeros((48, 64, 3), np.uint8), what="a")
        same_aspect = sizer(np.zeros((96, 128, 3), np.uint8), what="b")
        other = sizer(np.zeros((50, 50, 3), np.uint8), what="c")
        sizer(np.zeros((10, 50, 3), np.uint8), what="d")

    assert first.shape == same_aspect.shape == other.shape == (24, 32, 3)
    assert caplog.text.count("frames differ in size") == 1
    assert "c is 50x50" in caplog.text
