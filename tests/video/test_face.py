"""Face and mouth cropping: MediaPipe on a real photograph, gap filling, smoothing, given boxes, model paths.

The real face is matplotlib's sample photograph of Grace Hopper (matplotlib ships with mediapipe, which depends on
it). The known positions below were read off that 512x600 photo by eye, independently of any detector.
"""

import pickle
import subprocess
import sys

import numpy as np
import pytest
from matplotlib import cbook
from PIL import Image

from signbind_hf import landmark_models_signbind as landmark_models
from signbind_hf.errors import SignBindInputError
from signbind_hf.face_tracking_signbind import (
    BoxFaceCropper,
    FaceCropConfig,
    box_iou,
    crop_square,
    fill_gaps,
    smooth_runs,
)
from signbind_hf.landmark_models_signbind import FaceMeshLandmarker, MediaPipeFaceCropper, OpenCVFaceCropper

KNOWN_FACE_BOX = np.array([165.0, 125.0, 365.0, 335.0])  # below the cap's brim to the chin, cheek to cheek
KNOWN_MOUTH = np.array([268.0, 275.0])  # where the lips meet
EYE_LINE_Y = 187.0  # pupils


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    return np.asarray(Image.open(path).convert("RGB"))  # (600, 512, 3)


@pytest.fixture
def make_cropper():
    """Build MediaPipe croppers and close them after the test (MediaPipe graphs hold native resources)."""
    croppers = []

    def build(**config_fields) -> MediaPipeFaceCropper:
        use_landmarks = config_fields.pop("use_landmarks", True)
        cropper = MediaPipeFaceCropper(FaceCropConfig(**config_fields), use_landmarks=use_landmarks)
        croppers.append(cropper)
        return cropper

    yield build
    for cropper in croppers:
        cropper.close()


def place(photo: np.ndarray, offset_x: int, offset_y: int, canvas_hw=(480, 640), scale: float = 0.6) -> np.ndarray:
    """The photo shrunk by ``scale`` on a grey canvas with its top-left corner at the offset."""
    small = np.asarray(Image.fromarray(photo).resize((round(512 * scale), round(600 * scale)), Image.BILINEAR))
    canvas = np.full((*canvas_hw, 3), 128, dtype=np.uint8)
    height, width = small.shape[:2]
    canvas[offset_y : offset_y + height, offset_x : offset_x + width] = small[: canvas_hw[0] - offset_y]
    return canvas


def centres(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, :2] + boxes[:, 2:]) / 2  # (T, 2)


# --- MediaPipe on a real face -------------------------------------------------------------------------------------


def test_mediapipe_finds_the_face_in_a_real_photo(photo, make_cropper):
    result = make_cropper(size=64, region="face", face_scale=1.0).crop(photo[None])

    assert result.found.tolist() == [True]
    assert result.face_mask.tolist() == [True]
    assert result.crops.shape == (1, 64, 64, 3)
    assert result.crops.dtype == np.uint8
    assert box_iou(result.boxes[0], KNOWN_FACE_BOX) > 0.6
    assert np.abs(centres(result.boxes)[0] - (KNOWN_FACE_BOX[:2] + KNOWN_FACE_BOX[2:]) / 2).max() < 15


def test_mouth_crop_is_centred_on_the_lips_below_the_eyes(photo, make_cropper):
    with_landmarks = make_cropper(size=96).crop(photo[None])
    keypoint_only = make_cropper(size=96, use_landmarks=False).crop(photo[None])

    assert with_landmarks.landmark_failures == 0
    for result in (with_landmarks, keypoint_only):
        x0, y0, x1, _ = result.boxes[0]
        assert np.abs(centres(result.boxes)[0] - KNOWN_MOUTH).max() < 15
        assert y0 > EYE_LINE_Y - 10  # the crop starts around the eyes at the highest: no forehead, no eyes' centre
        assert 0.45 < (x1 - x0) / (KNOWN_FACE_BOX[2] - KNOWN_FACE_BOX[0]) < 0.8  # sized from the face, not the lips
    # The landmarks place the mouth more precisely than the detector's single mouth keypoint.
    landmark_error = np.abs(centres(with_landmarks.boxes)[0] - KNOWN_MOUTH).max()
    keypoint_error = np.abs(centres(keypoint_only.boxes)[0] - KNOWN_MOUTH).max()
    assert landmark_error <= keypoint_error + 1
    # The crop holds the face's skin, not the blue backdrop or the dark uniform: red dominates.
    mean_colour = with_landmarks.crops[0].reshape(-1, 3).mean(axis=0)
    assert mean_colour[0] > mean_colour[2] + 30


@pytest.mark.parametrize("angle", [-30, 30])
def test_mouth_is_found_on_a_tilted_head(photo, make_cropper, angle):
    import cv2

    rotation = cv2.getRotationMatrix2D((256, 300), angle, 1.0)
    tilted = cv2.warpAffine(photo, rotation, (512, 600), borderMode=cv2.BORDER_REFLECT)
    mouth = rotation[:, :2] @ KNOWN_MOUTH + rotation[:, 2]

    result = make_cropper(size=32).crop(tilted[None])

    assert result.face_mask.all()
    assert result.landmark_failures == 0
    # The landmark region is rotated to level the eyes, as in MediaPipe's own graph, so a tilt costs little.
    assert np.abs(centres(result.boxes)[0] - mouth).max() < 6


@pytest.fixture(scope="module")
def landmarker():
    with FaceMeshLandmarker(landmark_models.FACE_LANDMARK_PATH) as landmarker:
        yield landmarker


def test_facemesh_landmarks_follow_the_face(photo, landmarker):
    face_box = KNOWN_FACE_BOX
    points = landmarker.landmarks(
        photo, face_box, right_eye=np.array([215.0, 187.0]), left_eye=np.array([300.0, 187.0])
    )

    assert points.shape == (468, 2)
    right_corner, left_corner, upper_lip, lower_lip = points[list(FaceMeshLandmarker.MOUTH_LANDMARKS)]
    assert right_corner[0] < KNOWN_MOUTH[0] < left_corner[0]
    assert upper_lip[1] < lower_lip[1]
    assert EYE_LINE_Y < upper_lip[1] < face_box[3]
    # The mesh covers the face: its extent matches the face box within a margin.
    assert box_iou(np.r_[points.min(axis=0), points.max(axis=0)], face_box) > 0.5
    # A region with no face (the flag in the corner) is rejected by the model's own face-presence output.
    assert (
        landmarker.landmarks(photo, np.array([0.0, 0.0, 120.0, 120.0]), np.array([30.0, 60]), np.array([90.0, 60]))
        is None
    )


def test_translated_clip_gives_boxes_that_follow_the_face_smoothly(photo, make_cropper):
    step = 4
    clip = np.stack([place(photo, 100 + step * t, 40) for t in range(16)])  # (16, 480, 640, 3)
    raw = make_cropper(size=32, detect_every=1, smoothing_window=1).crop(clip)
    smooth = make_cropper(size=32, detect_every=1, smoothing_window=5).crop(clip)

    assert smooth.face_mask.all()
    xs, ys = centres(smooth.boxes).T
    slope, intercept = np.polyfit(np.arange(16), xs, 1)
    assert slope == pytest.approx(step, abs=0.5)  # the crop moves with the face, not behind it
    assert np.abs(xs - (slope * np.arange(16) + intercept)).max() < 2.0
    assert ys.std() < 2.0
    # Smoothing removes frame-to-frame jitter: the second difference of the centre shrinks.
    raw_jitter = np.abs(np.diff(centres(raw.boxes), n=2, axis=0)).mean()
    smooth_jitter = np.abs(np.diff(centres(smooth.boxes), n=2, axis=0)).mean()
    assert smooth_jitter < raw_jitter


def test_static_clip_runs_the_detector_only_every_kth_frame(photo, make_cropper):
    clip = np.repeat(place(photo, 150, 40)[None], 12, axis=0)
    results = {}
    for every in (1, 4):
        cropper = make_cropper(size=32, detect_every=every, landmark_tracking=0)
        calls = []
        real_detect = cropper._detector.detect
        cropper._detector.detect = lambda image, real_detect=real_detect, calls=calls: (
            calls.append(1) or real_detect(image)
        )
        results[every] = cropper.crop(clip)
        assert results[every].detector_calls == len(calls)

    assert results[1].detector_calls == 12
    # Keyframes 0, 4, 8 and the last frame (11) agree, so the frames between them are interpolated.
    assert results[4].detector_calls == 4
    assert results[4].face_mask.all()
    np.testing.assert_allclose(results[4].boxes, results[1].boxes, atol=1.0)


def count_detector_calls(cropper: MediaPipeFaceCropper) -> list[int]:
    calls = []
    real_detect = cropper._detector.detect
    cropper._detector.detect = lambda image: calls.append(1) or real_detect(image)
    return calls


def test_landmarks_follow_the_face_between_detections(photo, make_cropper):
    clip = np.stack([place(photo, 120 + 3 * t, 40) for t in range(12)])  # drifting 3 px a frame
    detected = make_cropper(size=32, detect_every=1, smoothing_window=1, landmark_tracking=0).crop(clip)
    cropper = make_cropper(size=32, detect_every=1, smoothing_window=1, landmark_tracking=3)
    calls = count_detector_calls(cropper)

    tracked = cropper.crop(clip)

    assert tracked.detector_calls == len(calls) == 3  # frames 0, 4, 8; the landmarks alone follow the face between
    assert tracked.tracked_frames == 9
    assert tracked.face_mask.all()
    # The squares agree with detecting every frame (a 32 px crop of a ~55 px mouth square, in 640x480 pixels).
    assert np.abs(centres(tracked.boxes) - centres(detected.boxes)).max() < 2.0
    sides = tracked.boxes[:, 2] - tracked.boxes[:, 0]
    np.testing.assert_allclose(sides, detected.boxes[:, 2] - detected.boxes[:, 0], rtol=0.05)


def test_a_face_that_jumps_is_detected_again_not_tracked(photo, make_cropper):
    clip = np.stack([place(photo, 60, 40)] * 3 + [place(photo, 300, 40)] * 3)
    cropper = make_cropper(size=32, detect_every=1, smoothing_window=1, landmark_tracking=5)
    calls = count_detector_calls(cropper)

    result = cropper.crop(clip)

    assert result.detector_calls == len(calls) == 2  # frame 0, and frame 3 where the landmarks lost the face
    assert result.tracked_frames == 4
    xs = centres(result.boxes)[:, 0]
    assert xs[3:] - xs[:3].mean() == pytest.approx(np.full(3, 240.0), abs=3)


def test_detection_runs_downscaled_but_crops_come_from_full_resolution(photo, make_cropper):
    frame = np.asarray(Image.fromarray(place(photo, 150, 40)).resize((1280, 960), Image.BILINEAR))
    downscaled = make_cropper(size=128, detect_max_side=320, detect_every=1)
    seen_shapes = []
    real_detect = downscaled._detector.detect
    downscaled._detector.detect = lambda image: seen_shapes.append((image.height, image.width)) or real_detect(image)
    full = make_cropper(size=128, detect_max_side=None, detect_every=1)

    small_result, full_result = downscaled.crop(frame[None]), full.crop(frame[None])

    assert seen_shapes == [(240, 320)]
    # Boxes are in full-resolution pixels either way and agree to a few percent of the crop side.
    side = full_result.boxes[0, 2] - full_result.boxes[0, 0]
    assert np.abs(small_result.boxes[0] - full_result.boxes[0]).max() < 0.06 * side
    # The crop itself is cut from the 1280x960 frame: it matches a direct cut of that frame.
    direct = BoxFaceCropper(FaceCropConfig(size=128, region="face", face_scale=1.0, smoothing_window=1))
    expected = direct.crop(frame[None], small_result.boxes.astype(np.float64)).crops[0]
    assert np.abs(small_result.crops[0].astype(int) - expected.astype(int)).mean() < 3


def test_frames_without_any_face_get_mask_false_and_never_crash(make_cropper):
    rng = np.random.default_rng(0)
    clip = np.stack(
        [
            rng.integers(0, 256, (240, 320, 3), dtype=np.uint8),  # noise
            np.zeros((240, 320, 3), dtype=np.uint8),  # black
            np.full((240, 320, 3), 255, dtype=np.uint8),  # white
        ]
    )
    result = make_cropper(size=32).crop(clip)
    assert not result.face_mask.any()
    assert not result.found.any()
    assert np.isnan(result.boxes).all()
    assert not result.crops.any()
    assert result.detector_calls == 3
    # A frame far smaller than the detector's input is no problem either.
    assert not make_cropper(size=32).crop(np.zeros((1, 4, 4, 3), dtype=np.uint8)).face_mask.any()


def test_detection_gaps_are_interpolated_up_to_max_gap(photo, make_cropper):
    face_frames = [place(photo, 100 + 6 * t, 40) for t in range(10)]
    blank = np.full_like(face_frames[0], 128)
    clip = np.stack(face_frames[:4] + [blank] * 3 + face_frames[7:])  # frames 4-6 have no face

    bridged = make_cropper(size=32, detect_every=1, max_gap=3, smoothing_window=1).crop(clip)
    assert bridged.found.tolist() == [True] * 4 + [False] * 3 + [True] * 3
    assert bridged.face_mask.all()
    xs = centres(bridged.boxes)[:, 0]
    np.testing.assert_allclose(xs[4:7], xs[3] + (xs[7] - xs[3]) * np.array([1, 2, 3]) / 4, atol=1e-3)
    assert bridged.crops[5].any()

    too_long = make_cropper(size=32, detect_every=1, max_gap=2, smoothing_window=1).crop(clip)
    assert too_long.face_mask.tolist() == [True] * 4 + [False] * 3 + [True] * 3
    assert not too_long.crops[4:7].any()


def test_cropper_survives_pickling(photo, make_cropper):
    cropper = make_cropper(size=32)
    clone = pickle.loads(pickle.dumps(cropper))
    try:
        np.testing.assert_array_equal(clone.crop(photo[None]).crops, cropper.crop(photo[None]).crops)
    finally:
        clone.close()


def test_opencv_fallback_finds_the_face(photo):
    result = OpenCVFaceCropper(FaceCropConfig(size=32, region="face", face_scale=1.0)).crop(photo[None])
    assert result.face_mask.all()
    assert box_iou(result.boxes[0], KNOWN_FACE_BOX) > 0.5


def test_facemesh_in_mediapipe_gives_the_points_of_opencvs_tflite_importer(photo, landmarker):
    # MediaPipe's embedder feeds a float model without metadata its image in [0, 1]; FaceMesh was trained on that
    # range. If a MediaPipe release changed that default, the points would move and this would fail.
    import cv2

    roi = np.ascontiguousarray(cv2.resize(photo[100:400, 110:410], (192, 192), interpolation=cv2.INTER_AREA))
    net = cv2.dnn.readNetFromTFLite(str(landmark_models.FACE_LANDMARK_PATH))
    net.setInput((roi.astype(np.float32) / 255.0).transpose(2, 0, 1)[None])
    expected_points, expected_logit = sorted(net.forward(net.getUnconnectedOutLayersNames()), key=np.size)[::-1]

    points, logit = landmarker._outputs(roi)

    assert float(logit[0]) > 0  # a face
    np.testing.assert_allclose(points, expected_points.reshape(-1), atol=1e-3)  # pixels of the 192 px input
    np.testing.assert_allclose(logit, expected_logit.reshape(-1), atol=1e-3)


def test_landmarker_closes_its_graph_once():
    landmarker = FaceMeshLandmarker(landmark_models.FACE_LANDMARK_PATH)
    landmarker.close()
    landmarker.close()
    assert landmarker._embedder is None


# --- given boxes --------------------------------------------------------------------------------------------------


def test_square_inside_the_frame_is_cut_in_place_with_the_same_pixels(photo):
    import cv2

    square = np.array([250.3, 260.6, 101.2])  # centre x, centre y, side: 101 px from (200, 210)
    out = np.empty((64, 64, 3), dtype=np.uint8)

    cut = crop_square(photo, square, 64, out=out)

    copy = np.ascontiguousarray(photo[210:311, 200:301])
    assert cut is out
    np.testing.assert_array_equal(out, cv2.resize(copy, (64, 64), interpolation=cv2.INTER_AREA))


def test_given_pixel_boxes_are_cropped_exactly_and_nan_rows_are_gaps(photo):
    box = np.array([200.0, 200.0, 264.0, 264.0])
    boxes = np.stack([box, [np.nan] * 4, box + 10, *([[np.nan] * 4] * 4), box])  # (8, 4)
    clip = np.repeat(photo[None], 8, axis=0)
    cropper = BoxFaceCropper(FaceCropConfig(size=64, region="face", face_scale=1.0, max_gap=2, smoothing_window=1))

    result = cropper.crop(clip, boxes)

    assert result.found.tolist() == [True, False, True, False, False, False, False, True]
    assert result.face_mask.tolist() == [True, True, True, False, False, False, False, True]
    np.testing.assert_array_equal(result.crops[0], photo[200:264, 200:264])  # 64 px box -> 64 px crop, untouched
    np.testing.assert_allclose(result.boxes[1], box + 5)  # linear between frames 0 and 2
    assert not result.crops[3:7].any()
    assert result.detector_calls == 0


def test_normalized_boxes_match_pixel_boxes(photo):
    pixel_boxes = np.array([[180.0, 150.0, 340.0, 310.0]])
    normalized = pixel_boxes / np.array([512, 600, 512, 600])
    cropper = BoxFaceCropper(FaceCropConfig(size=48))
    np.testing.assert_array_equal(
        cropper.crop(photo[None], normalized, normalized_boxes=True).crops,
        cropper.crop(photo[None], pixel_boxes).crops,
    )


def test_mouth_crop_from_a_given_face_box_sits_in_its_lower_part(photo):
    result = BoxFaceCropper(FaceCropConfig(size=48)).crop(photo[None], KNOWN_FACE_BOX[None])
    assert np.abs(centres(result.boxes)[0] - KNOWN_MOUTH).max() < 20


def test_box_leaving_the_image_is_zero_padded(photo):
    box = np.array([[-32.0, -32.0, 32.0, 32.0]])  # only the bottom-right quarter lies inside the photo
    result = BoxFaceCropper(FaceCropConfig(size=64, region="face", face_scale=1.0)).crop(photo[None], box)
    assert not result.crops[0, :32].any()
    assert not result.crops[0, :, :32].any()
    np.testing.assert_array_equal(result.crops[0, 32:, 32:], photo[:32, :32])


@pytest.mark.parametrize(
    ("boxes", "message"),
    [
        (np.zeros((2, 4)), r"shape \(T, 4\) = \(1, 4\)"),
        (np.array([[10.0, np.nan, 20.0, 30.0]]), "partly NaN"),
        (np.array([[50.0, 50.0, 40.0, 60.0]]), "x1 > x0"),
        (np.array([[0.1, 0.1, 0.5, 0.5]]), "normalized_boxes=True"),
    ],
)
def test_bad_boxes_are_rejected(photo, boxes, message):
    with pytest.raises(SignBindInputError, match=message):
        BoxFaceCropper().crop(photo[None], boxes)


def test_box_cropper_needs_boxes(photo):
    with pytest.raises(SignBindInputError, match="needs boxes="):
        BoxFaceCropper().crop(photo[None])


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        ([[[[0, 0, 0]]]], "numpy array"),
        (np.zeros((4, 4, 3), dtype=np.uint8), r"\(T, H, W, 3\)"),
        (np.zeros((1, 4, 4, 3), dtype=np.float32), "uint8"),
        (np.zeros((0, 4, 4, 3), dtype=np.uint8), r"\(T, H, W, 3\)"),
    ],
)
def test_bad_frames_are_rejected(frames, message):
    with pytest.raises(SignBindInputError, match=message):
        BoxFaceCropper().crop(frames, np.zeros((1, 4)))


# --- pure helpers -------------------------------------------------------------------------------------------------


def test_fill_gaps_interpolates_inside_holds_at_ends_and_leaves_long_gaps():
    nan = np.nan
    track = np.array([nan, 0.0, nan, nan, 3.0, nan, nan, nan, nan, 8.0, nan])[:, None]
    filled = fill_gaps(track, max_gap=2)[:, 0]
    np.testing.assert_allclose(filled, [0.0, 0.0, 1.0, 2.0, 3.0, nan, nan, nan, nan, 8.0, 8.0])
    assert np.isnan(fill_gaps(np.full((3, 2), nan), max_gap=5)).all()


def test_smoothing_keeps_linear_motion_and_damps_jitter():
    frames = np.arange(20, dtype=np.float64)
    linear = np.stack([3.0 * frames + 1.0, 0.5 * frames], axis=1)  # (20, 2)
    mask = np.ones(20, dtype=bool)
    np.testing.assert_allclose(smooth_runs(linear, mask, window=5), linear)  # no lag, even at the ends

    jitter = np.where(frames % 2 == 0, 1.0, -1.0)[:, None]
    assert np.abs(smooth_runs(jitter, mask, window=5)[2:-2]).max() <= 0.2 + 1e-9
    # Runs are smoothed separately: frames outside the mask are neither used nor changed.
    split = np.r_[np.zeros(5), np.full(5, np.nan), np.full(5, 10.0)][:, None]
    split_mask = ~np.isnan(split[:, 0])
    smoothed = smooth_runs(split, split_mask, window=5)
    np.testing.assert_array_equal(smoothed[split_mask], split[split_mask])


# --- configuration and model files --------------------------------------------------------------------------------


def test_config_rejects_bad_values_naming_the_field():
    with pytest.raises(SignBindInputError, match=r"FaceCropConfig\.smoothing_window"):
        FaceCropConfig(smoothing_window=4)
    with pytest.raises(SignBindInputError, match=r"FaceCropConfig\.region"):
        FaceCropConfig(region="eyes")


def test_missing_model_file_is_named(tmp_path):
    missing = tmp_path / "nowhere.tflite"
    with pytest.raises(SignBindInputError, match=r"nowhere\.tflite \(from argument detector_model_path\)"):
        MediaPipeFaceCropper(detector_model_path=missing)


def test_corrupt_model_file_is_named(tmp_path):
    corrupt = tmp_path / "corrupt.tflite"
    corrupt.write_bytes(b"this is not a flatbuffer at all")
    with pytest.raises(SignBindInputError, match=r"corrupt\.tflite.*not a TFLite model"):
        MediaPipeFaceCropper(landmark_model_path=corrupt)


def test_wrong_kind_of_model_is_named():
    # Valid TFLite files, swapped: MediaPipe and OpenCV would only fail on the first frame (or never).
    with pytest.raises(SignBindInputError, match=r"detector_model_path .*face_landmark\.tflite"):
        MediaPipeFaceCropper(detector_model_path=landmark_models.FACE_LANDMARK_PATH)
    with pytest.raises(SignBindInputError, match=r"landmark_model_path .*short_range\.tflite.*1404"):
        MediaPipeFaceCropper(landmark_model_path=landmark_models.SHORT_RANGE_DETECTOR_PATH)


def test_model_paths_can_come_from_the_environment(photo, monkeypatch):
    monkeypatch.setenv(landmark_models.DETECTOR_MODEL_ENV, str(landmark_models.SHORT_RANGE_DETECTOR_PATH))
    with MediaPipeFaceCropper(FaceCropConfig(size=32)) as cropper:
        assert cropper.detector_model_path == landmark_models.SHORT_RANGE_DETECTOR_PATH
        assert cropper.crop(photo[None]).face_mask.all()  # the short-range model finds a close-up face too
    monkeypatch.setenv(landmark_models.DETECTOR_MODEL_ENV, "/no/such/detector.tflite")
    with pytest.raises(SignBindInputError, match=landmark_models.DETECTOR_MODEL_ENV):
        MediaPipeFaceCropper()


def test_packaged_models_are_present_and_default_to_full_range():
    for name in landmark_models.VENDORED_MODEL_FILES:
        assert (landmark_models.ASSETS_DIR / name).stat().st_size > 100_000
    notice = (landmark_models.ASSETS_DIR / "NOTICE").read_text()
    assert "mediapipe==0.10.21" in notice
    assert "Apache License" in notice
    with MediaPipeFaceCropper(FaceCropConfig(size=32), use_landmarks=False) as cropper:
        assert cropper.detector_model_path == landmark_models.FULL_RANGE_DETECTOR_PATH


@pytest.mark.slow
def test_the_first_processor_call_of_a_process_keeps_nothing_of_its_video_alive():
    # MediaPipe is imported by the first call that crops faces, and it keeps a traceback of that import (through
    # the frames of the call) unless import_mediapipe_tasks drops it. A fresh interpreter, where it is not imported yet.
    script = """
import gc, sys, weakref
import numpy as np
from signbind_hf import SignBindVideoProcessor
assert "mediapipe" not in sys.modules, "importing signbind_hf imported MediaPipe: this test would test nothing"
processor = SignBindVideoProcessor(frame_size=16, face_crop={"size": 16}, min_frames=1)
video = np.zeros((8, 48, 64, 3), dtype=np.uint8)
batch = processor(video, return_tensors="np")
alive = [weakref.ref(video), weakref.ref(batch["pixel_values"]), weakref.ref(batch["face_pixel_values"])]
del video, batch
gc.collect()
print("alive:", [ref() is not None for ref in alive])
processor.close()
"""
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "alive: [False, False, False]" in completed.stdout, completed.stdout


def test_a_collected_processors_detector_is_closed_later_not_by_the_collector():
    """Closing a MediaPipe task submits to a thread pool; from inside the garbage collector (which may run while
    ``ThreadPoolExecutor.submit`` holds its module lock) that deadlocks, so the collector only queues the detector."""
    import gc

    from signbind_hf import video_processing_signbind as video_processing

    processor = video_processing.SignBindVideoProcessor(face_cropper="mediapipe")
    cropper = processor.get_face_cropper()
    assert cropper._detector is not None
    del processor
    gc.collect()
    assert cropper in video_processing._RELEASED_CROPPERS
    assert cropper._detector is not None
    video_processing.SignBindVideoProcessor(face_cropper="mediapipe").get_face_cropper()  # the next safe point
    assert cropper not in video_processing._RELEASED_CROPPERS
    assert cropper._detector is None
