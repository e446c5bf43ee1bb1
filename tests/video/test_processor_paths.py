"""The video-stack paths the processor's speed and face boxes rest on: OpenCV frame resizing and normalisation,
keyframe face detection with bisection, and the source frame size recorded by every decoder.
"""

import numpy as np
import pytest
from matplotlib import cbook
from PIL import Image

from signbind_hf.errors import SignBindInputError
from signbind_hf.face_tracking_signbind import FaceCropConfig, FaceObservation, interpolate_observation
from signbind_hf.landmark_models_signbind import MediaPipeFaceCropper
from signbind_hf.video_decoding_signbind import decode_video
from signbind_hf.video_transforms_signbind import DINOV2_IMAGE_MEAN, DINOV2_IMAGE_STD, FrameTransform, normalize_frames


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB"))


def on_canvas(photo: np.ndarray, left: int, top: int = 40, scale: float = 0.6) -> np.ndarray:
    small = np.asarray(Image.fromarray(photo).resize((round(512 * scale), round(600 * scale)), Image.BILINEAR))
    canvas = np.full((480, 640, 3), 128, dtype=np.uint8)
    canvas[top : top + 360 - top // 2, left : left + small.shape[1]] = small[: 360 - top // 2]
    return canvas


# --- frames -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("height", "width", "size", "shortest_edge"), [(480, 640, 224, None), (1080, 1920, 224, 256)])
def test_fast_resize_stays_within_a_few_grey_levels_of_dinov2_bicubic(photo, height, width, size, shortest_edge):
    frames = np.asarray(Image.fromarray(photo).resize((width, height), Image.BILINEAR))[None]

    exact = FrameTransform(size=size, shortest_edge=shortest_edge)(frames)
    fast = FrameTransform(size=size, shortest_edge=shortest_edge, resample="fast")(frames)

    assert fast.shape == exact.shape == (1, 3, size, size)
    grey_levels = np.abs(fast - exact) * np.asarray(DINOV2_IMAGE_STD)[:, None, None] * 255
    assert grey_levels.mean() < 6  # bicubic sharpens a little more; the picture is the same
    assert np.corrcoef(fast.ravel(), exact.ravel())[0, 1] > 0.99


def test_fast_resize_keeps_the_centre_of_the_long_side():
    frame = np.zeros((32, 64, 3), dtype=np.uint8)
    frame[:, 16:48] = (0, 255, 0)  # the middle half green, the sides black

    pixel_values = FrameTransform(size=16, resample="fast")(frame[None])[0]

    green = pixel_values[1] * DINOV2_IMAGE_STD[1] + DINOV2_IMAGE_MEAN[1]
    np.testing.assert_allclose(green, 1.0, atol=1e-5)


def test_normalize_frames_is_the_dinov2_formula_channels_first():
    frames = np.random.default_rng(0).integers(0, 256, (3, 5, 7, 3), dtype=np.uint8)

    normalized = normalize_frames(frames)

    expected = ((frames / 255 - np.asarray(DINOV2_IMAGE_MEAN)) / np.asarray(DINOV2_IMAGE_STD)).transpose(0, 3, 1, 2)
    assert normalized.dtype == np.float32
    assert normalized.flags.c_contiguous
    np.testing.assert_allclose(normalized, expected, rtol=0, atol=1e-6)
    assert normalize_frames(np.zeros((0, 4, 4, 3), np.uint8)).shape == (0, 3, 4, 4)


@pytest.mark.parametrize(
    ("mean", "std"),
    [(DINOV2_IMAGE_MEAN, DINOV2_IMAGE_STD), ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)), ((0.1, 0.9, 0.33), (0.05, 1.7, 0.3))],
)
def test_every_uint8_value_normalises_to_the_float64_formula(mean, std):
    values = np.arange(256, dtype=np.uint8)
    one_row = np.repeat(values[None, None, :, None], 3, axis=-1)  # (1, 1, 256, 3): OpenCV's vectorised loop
    narrow = np.repeat(values[:, None, None, None], 3, axis=-1).repeat(7, axis=2)  # (256, 1, 7, 3): its scalar tail
    for frames in (one_row, narrow):
        normalized = normalize_frames(frames, mean, std)  # (N, 3, 1, W)

        expected = (frames / 255 - np.asarray(mean)) / np.asarray(std)  # float64 (N, 1, W, 3)
        # Float32 precision: OpenCV's vectorised path computes in float32, about one ulp (1.9e-6 at 16) from the
        # float64 value for a std as small as 0.05 (the fresh-clone CI run saw 1.5e-6 where atol=1e-6 alone failed).
        np.testing.assert_allclose(normalized, expected.transpose(0, 3, 1, 2), rtol=2.4e-7, atol=1e-6)


def test_unknown_resample_is_rejected():
    with pytest.raises(SignBindInputError, match=r"resample must be one of \('bicubic', 'fast'\); got 'lanczos'"):
        FrameTransform(resample="lanczos")


# --- keyframe face detection --------------------------------------------------------------------------------------


@pytest.fixture
def cropper():
    # Detection alone (no landmark tracking): these tests count the keyframe and halving logic's detector calls.
    cropper = MediaPipeFaceCropper(FaceCropConfig(size=32, detect_every=8, smoothing_window=1, landmark_tracking=0))
    yield cropper
    cropper.close()


def test_still_face_is_detected_on_keyframes_only_and_interpolated(photo, cropper):
    clip = np.stack([on_canvas(photo, 150)] * 17)

    result = cropper.crop(clip)

    assert result.detector_calls == 3  # frames 0, 8, 16
    assert result.found.all()
    assert np.ptp(result.boxes, axis=0).max() < 1e-3


def test_a_face_that_jumps_between_keyframes_is_found_where_it_jumped(photo, cropper):
    clip = np.stack([on_canvas(photo, 60)] * 5 + [on_canvas(photo, 260)] * 4)  # keyframes 0 and 8 disagree

    result = cropper.crop(clip)

    centres = (result.boxes[:, 0] + result.boxes[:, 2]) / 2
    assert result.detector_calls == 5  # keyframes 0 and 8, then halving towards the jump: 4, 6, 5
    assert np.abs(centres[:5] - centres[0]).max() < 3  # no smearing across the jump
    assert np.abs(centres[5:] - centres[8]).max() < 3
    assert centres[8] - centres[0] == pytest.approx(200, abs=6)


def test_interpolated_faces_move_linearly_and_keep_the_mouth_in_place():
    before = FaceObservation(face_box=np.array([0.0, 0.0, 100.0, 100.0]), mouth_centre=np.array([50.0, 70.0]))
    after = FaceObservation(face_box=np.array([100.0, 20.0, 300.0, 220.0]), mouth_centre=None)

    middle = interpolate_observation(before, after, 0.5)

    np.testing.assert_allclose(middle.face_box, [50.0, 10.0, 200.0, 160.0])
    # The end without a mouth point borrows the other's place in the box (half across, 70 % down).
    np.testing.assert_allclose(middle.mouth_centre, [125.0, 115.0])


# --- source size --------------------------------------------------------------------------------------------------


def test_source_size_is_recorded_before_shrinking(tmp_path):
    from .synthetic import write_video

    video = write_video(tmp_path / "wide.mp4", width=960, height=720, num_frames=2)
    phone = write_video(tmp_path / "phone.mp4", width=64, height=48, num_frames=2, rotation=90)
    folder = tmp_path / "frames"
    folder.mkdir()
    Image.fromarray(np.zeros((600, 800, 3), np.uint8)).save(folder / "0.png")

    wide_clip = decode_video(video)
    assert wide_clip.source_size == (960, 720)
    assert wide_clip.frames.shape[1:3] == (480, 640)
    assert decode_video(phone).source_size == (48, 64)  # as displayed: portrait
    assert decode_video(folder).source_size == (800, 600)
    assert decode_video(np.zeros((2, 1000, 500, 3), np.uint8)).source_size == (500, 1000)
