"""FrameTransform: DINOv2 statistics, shortest-edge resize + centre crop, exact normalised values."""

import numpy as np
import pytest

from signbind_hf.errors import SignBindInputError
from signbind_hf.video_transforms_signbind import DINOV2_IMAGE_MEAN, DINOV2_IMAGE_STD, FrameTransform


def test_statistics_are_transformers_imagenet_defaults():
    from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

    assert list(DINOV2_IMAGE_MEAN) == list(IMAGENET_DEFAULT_MEAN)
    assert list(DINOV2_IMAGE_STD) == list(IMAGENET_DEFAULT_STD)


@pytest.mark.parametrize(("height", "width", "size"), [(47, 33, 32), (480, 640, 64), (3, 50, 16), (224, 224, 224)])
def test_any_frame_size_becomes_a_square_float32_crop(height, width, size):
    frames = np.random.default_rng(0).integers(0, 256, (3, height, width, 3), dtype=np.uint8)

    pixel_values = FrameTransform(size=size)(frames)

    assert pixel_values.shape == (3, 3, size, size)
    assert pixel_values.dtype == np.float32
    assert pixel_values.flags.c_contiguous


def test_values_are_rescaled_and_normalised_per_channel():
    colour = np.array([10, 128, 250], dtype=np.uint8)
    frames = np.broadcast_to(colour, (2, 40, 60, 3)).copy()

    pixel_values = FrameTransform(size=32)(frames)

    expected = (colour / 255 - np.asarray(DINOV2_IMAGE_MEAN)) / np.asarray(DINOV2_IMAGE_STD)
    np.testing.assert_allclose(pixel_values, np.broadcast_to(expected[None, :, None, None], (2, 3, 32, 32)), atol=1e-5)


def test_centre_crop_keeps_the_middle_of_the_long_side():
    frame = np.zeros((32, 64, 3), dtype=np.uint8)
    frame[:, :16] = (255, 0, 0)  # left quarter red
    frame[:, 16:48] = (0, 255, 0)  # middle half green
    frame[:, 48:] = (0, 0, 255)  # right quarter blue

    pixel_values = FrameTransform(size=32)(frame[None])  # shortest edge already 32: crop only

    unnormalised = (
        pixel_values[0] * np.asarray(DINOV2_IMAGE_STD)[:, None, None] + np.asarray(DINOV2_IMAGE_MEAN)[:, None, None]
    )
    np.testing.assert_allclose(unnormalised[1], 1.0, atol=1e-5)  # all green
    np.testing.assert_allclose(unnormalised[[0, 2]], 0.0, atol=1e-5)


def test_shortest_edge_larger_than_size_crops_tighter():
    frame = np.zeros((64, 64, 3), dtype=np.uint8)
    frame[16:48, 16:48] = 255  # a white centre square, half the side

    loose = FrameTransform(size=32)(frame[None])[0, 0]
    tight = FrameTransform(size=32, shortest_edge=64)(frame[None])[0, 0]

    assert (tight > 2).all()  # the crop is exactly the white square
    assert (loose < 0).any()  # the whole frame, black border included


def test_matches_the_dinov2_image_processor_preset():
    from transformers.models.bit.image_processing_pil_bit import BitImageProcessorPil

    # facebook/dinov2-* ship this preprocessor_config: shortest edge 256, crop 224, bicubic, ImageNet statistics.
    dinov2 = BitImageProcessorPil(
        size={"shortest_edge": 256},
        crop_size={"height": 224, "width": 224},
        resample=3,
        image_mean=list(DINOV2_IMAGE_MEAN),
        image_std=list(DINOV2_IMAGE_STD),
    )
    frames = np.random.default_rng(1).integers(0, 256, (2, 120, 160, 3), dtype=np.uint8)

    ours = FrameTransform(size=224, shortest_edge=256)(frames)

    np.testing.assert_allclose(ours, dinov2(images=list(frames), return_tensors="np")["pixel_values"], atol=1e-6)


def test_no_frames_give_an_empty_batch():
    assert FrameTransform(size=16)(np.zeros((0, 8, 8, 3), np.uint8)).shape == (0, 3, 16, 16)


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        (np.zeros((2, 8, 8, 3), np.float32), r"expected a \(T, H, W, 3\) uint8 RGB array; got a float32 array"),
        (np.zeros((8, 8, 3), np.uint8), r"of shape \(8, 8, 3\)"),
        (np.zeros((2, 8, 8, 4), np.uint8), r"of shape \(2, 8, 8, 4\)"),
        ([np.zeros((8, 8, 3), np.uint8)], r"got a list"),
    ],
)
def test_bad_frames_are_rejected(frames, message):
    with pytest.raises(SignBindInputError, match=message):
        FrameTransform(size=16)(frames)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": 0}, r"size must be a positive integer"),
        ({"size": 32, "shortest_edge": 16}, r"shortest_edge must be an integer >= size \(32\)"),
        ({"image_mean": (0.5, 0.5)}, r"image_mean must hold 3 values"),
        ({"image_std": (0.2, 0.0, 0.2)}, r"image_std must be positive"),
    ],
)
def test_bad_settings_are_rejected(kwargs, message):
    with pytest.raises(SignBindInputError, match=message):
        FrameTransform(**kwargs)


def test_opencv_runs_single_threaded_inside_the_block_and_gets_its_setting_back():
    import cv2

    from signbind_hf.video_transforms_signbind import single_threaded_opencv

    before = cv2.getNumThreads()
    cv2.setNumThreads(3)
    try:
        with single_threaded_opencv():
            assert cv2.getNumThreads() == 1
            with single_threaded_opencv():  # nested (a second processor call in another thread): still 1 after
                assert cv2.getNumThreads() == 1
            assert cv2.getNumThreads() == 1
        assert cv2.getNumThreads() == 3
        with pytest.raises(RuntimeError), single_threaded_opencv():
            raise RuntimeError("a failing call")
        assert cv2.getNumThreads() == 3  # restored on errors too
    finally:
        cv2.setNumThreads(before)


def test_the_processor_runs_opencv_single_threaded_and_restores_it(monkeypatch):
    import cv2

    from signbind_hf import SignBindVideoProcessor

    seen = []
    processor = SignBindVideoProcessor(frame_size=16, face_cropper=None, min_frames=1)
    real_transform = FrameTransform.transform_into
    monkeypatch.setattr(
        FrameTransform,
        "transform_into",
        lambda self, frame, out: seen.append(cv2.getNumThreads()) or real_transform(self, frame, out),
    )
    before = cv2.getNumThreads()

    processor(np.zeros((2, 24, 24, 3), np.uint8))

    assert seen == [1, 1]  # frame by frame, as the clip streams
    assert cv2.getNumThreads() == before
