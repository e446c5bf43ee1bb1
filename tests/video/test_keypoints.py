"""Hand and body keypoints (keypoint_extraction_signbind) and their .pose files (keypoints_signbind).

Photographs: no package installed here ships a photograph with visible hands (matplotlib's sample data has Grace
Hopper's head-and-shoulders portrait; gradio's media assets show a tree creature, animals, a tower and two videos of a
globe and a title card). So here the portrait is the face-only image (no hands, a body), and frames drawn by
SynthSign's renderer, whose hand positions are known exactly, are where the hands are. Real hands, against established
estimators, are in test_keypoints_real_footage.py (footage vendored under tests/video/data/).
"""

import pickle

import numpy as np
import pytest
from matplotlib import cbook
from PIL import Image

from signbind_hf import keypoints_signbind as layout
from signbind_hf.data.synthsign.config import SynthSignConfig
from signbind_hf.data.synthsign.examples import plan_example
from signbind_hf.data.synthsign.render import make_background, render_frame
from signbind_hf.data.synthsign.space import HAND_REACH
from signbind_hf.data.synthsign.video_writer import write_mp4
from signbind_hf.errors import SignBindInputError
from signbind_hf.keypoint_extraction_signbind import (
    MAX_PENDING_BODIES,
    KeypointConfig,
    KeypointExtractor,
    assign_sides,
    extract_keypoints,
)
from signbind_hf.keypoints_signbind import LEFT, RIGHT, read_pose_file, write_pose_file
from signbind_hf.landmark_models_signbind import ASSETS_DIR, HAND_DETECTOR_ENV, VENDORED_LANDMARK_FILES


@pytest.fixture(scope="module")
def extractor() -> KeypointExtractor:
    return KeypointExtractor()


@pytest.fixture(scope="module")
def portrait() -> np.ndarray:
    """Grace Hopper, head and shoulders (512 x 600): a face and a body, no hands."""
    return np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB"))


@pytest.fixture(scope="module")
def drawn_signer() -> tuple[np.ndarray, np.ndarray]:
    """24 SynthSign frames at 384 px and the drawn palm centres (T, 2, 2) in pixels, with the hand's reach (px)."""
    plan = plan_example(0, "train", 3, SynthSignConfig(frame_size=384))
    appearance, timeline = plan.appearance, plan.timeline
    background = make_background(appearance)
    rows = range(0, 96, 4)
    frames = np.stack([render_frame(appearance, background, timeline, row) for row in rows])
    palms = np.array(
        [
            [appearance.to_pixels(tuple(timeline.hand_positions[row, hand]), hand=hand, frame=row) for hand in (0, 1)]
            for row in rows
        ]
    )
    return frames, palms, HAND_REACH * appearance.unit


def test_layout_is_mediapipes():
    from mediapipe.tasks.python import vision
    from mediapipe.tasks.python.vision import hand_landmarker

    assert tuple(point.name for point in vision.PoseLandmark) == layout.POSE_POINTS
    assert tuple(point.name for point in hand_landmarker.HandLandmark) == layout.HAND_POINTS
    pose_bones = {(c.start, c.end) for c in vision.PoseLandmarksConnections.POSE_LANDMARKS}
    hand_bones = {(c.start, c.end) for c in vision.HandLandmarksConnections.HAND_CONNECTIONS}
    assert set(layout.POSE_LIMBS) == pose_bones
    assert len(layout.POSE_LIMBS) == len(pose_bones)
    assert set(layout.HAND_LIMBS) == hand_bones
    assert len(layout.HAND_LIMBS) == len(hand_bones)


def test_packaged_models_are_present():
    for name in VENDORED_LANDMARK_FILES:
        assert (ASSETS_DIR / name).stat().st_size > 1_000_000
        assert name in (ASSETS_DIR / "NOTICE").read_text()


def test_no_hands_on_a_face_only_photo_and_its_upper_body_in_pixels(extractor, portrait):
    keypoints = extract_keypoints(np.stack([portrait] * 3), fps=10, extractor=extractor)
    assert (keypoints.num_frames, keypoints.width, keypoints.height, keypoints.fps) == (3, 512, 600, 10.0)
    assert keypoints.pose.shape == (3, 33, 3)
    assert keypoints.hands.shape == (3, 2, 21, 3)
    assert keypoints.pose_confidence.shape == (3, 33)
    assert keypoints.hand_confidence.shape == (3, 2, 21)
    assert not keypoints.hands_found.any()
    assert not keypoints.hands.any()
    assert not keypoints.hand_confidence.any()
    assert keypoints.pose_found.all()
    nose, left_shoulder, right_shoulder = (keypoints.pose[0, layout.POSE_POINTS.index(name), :2] for name in (
        "NOSE", "LEFT_SHOULDER", "RIGHT_SHOULDER"
    ))  # fmt: skip
    assert 200 < nose[0] < 340
    assert 150 < nose[1] < 300
    # Her left shoulder is on the image's right (a camera's view), both below the nose, at the photo's edges.
    assert left_shoulder[0] > 400
    assert right_shoulder[0] < 150
    assert min(left_shoulder[1], right_shoulder[1]) > nose[1] + 100
    shoulders = [layout.POSE_POINTS.index(name) for name in ("LEFT_SHOULDER", "RIGHT_SHOULDER")]
    assert (keypoints.pose_confidence[:, shoulders] > 0.5).all()


def test_hands_found_where_they_are_drawn(extractor, drawn_signer):
    frames, palms, reach = drawn_signer
    keypoints = extract_keypoints(frames, fps=25, extractor=extractor)
    found = keypoints.hands_found  # (T, 2)
    assert found.any(axis=1).mean() >= 0.75, found.any(axis=1).mean()
    # Every hand found lies on a drawn hand: its points' centre within the reach of a drawn palm centre.
    for row, side in zip(*np.nonzero(found), strict=True):
        centre = keypoints.hands[row, side, :, :2].mean(axis=0)
        assert np.hypot(*(palms[row] - centre).T).min() < reach, (row, side)
    assert (keypoints.hand_confidence[found] == 1).all()
    assert not keypoints.hand_confidence[~found].any()


def test_sides_follow_the_body_wrists_else_the_classifier():
    def hand_at(x: float) -> np.ndarray:
        return np.full((21, 3), [x, 100.0, 0.0], dtype=np.float32)

    wrists = np.array([[400.0, 300.0], [100.0, 300.0]])  # left wrist on the image's right
    assert assign_sides([hand_at(120), hand_at(390)], [("Left", 0.9), ("Left", 0.9)], wrists) == [RIGHT, LEFT]
    assert assign_sides([hand_at(390)], [("Right", 0.99)], wrists) == [LEFT]
    # No body: the classifier, and of two hands claiming one side the less sure one takes the other.
    assert assign_sides([hand_at(390)], [("Right", 0.99)], None) == [RIGHT]
    assert assign_sides([hand_at(1), hand_at(2)], [("Left", 0.6), ("Left", 0.9)], None) == [RIGHT, LEFT]
    assert assign_sides([], [], wrists) == []


def test_a_video_file_keeps_its_frame_rate_and_size_and_round_trips_through_a_pose_file(extractor, portrait, tmp_path):
    from pose_format import Pose

    video = tmp_path / "portrait.mp4"
    write_mp4(video, np.stack([portrait] * 6), fps=30)
    keypoints = extract_keypoints(video, extractor=extractor)
    assert (keypoints.num_frames, keypoints.fps, keypoints.width, keypoints.height) == (6, 30.0, 512, 600)
    assert keypoints.pose_found.all()

    path = write_pose_file(keypoints, tmp_path / "out" / "portrait.pose")
    assert sorted(p.name for p in path.parent.iterdir()) == ["portrait.pose"]  # no temporary file left
    # As readable as any file written with open() (the umask decides), not private like a temporary file.
    assert path.stat().st_mode & 0o777 == video.stat().st_mode & 0o777
    pose = Pose.read(path.read_bytes())
    header = pose.header
    assert [c.name for c in header.components] == ["POSE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"]
    assert [len(c.points) for c in header.components] == [33, 21, 21]
    assert header.components[0].points == list(layout.POSE_POINTS)
    assert header.components[1].points == list(layout.HAND_POINTS)
    assert all(c.format == "XYZC" for c in header.components)
    assert (header.dimensions.width, header.dimensions.height) == (512, 600)
    assert pose.body.fps == 30.0
    assert pose.body.data.shape == (6, 1, 75, 3)
    assert pose.body.confidence.shape == (6, 1, 75)
    assert not pose.body.confidence[:, 0, 33:].any()  # no hand in the portrait: confidence 0
    assert pose.body.data.mask[:, 0, 33:].all()  # which pose-format reads as "not found"
    np.testing.assert_allclose(pose.body.data[:, 0, :33].filled(0), keypoints.pose, rtol=1e-6)

    back = read_pose_file(path)
    np.testing.assert_array_equal(back.pose, keypoints.pose)
    np.testing.assert_array_equal(back.hands, keypoints.hands)
    np.testing.assert_array_equal(back.pose_confidence, keypoints.pose_confidence)
    assert (back.fps, back.width, back.height) == (30.0, 512, 600)


def test_bad_inputs_fail_with_messages_naming_them(extractor, tmp_path):
    with pytest.raises(SignBindInputError, match=r"gone\.mp4"):
        extract_keypoints(tmp_path / "gone.mp4", extractor=extractor)
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"not a video at all" * 10)
    with pytest.raises(SignBindInputError, match=r"corrupt\.mp4"):
        extract_keypoints(corrupt, extractor=extractor)
    with pytest.raises(SignBindInputError, match="fps"):
        extract_keypoints(corrupt, fps=25, extractor=extractor)
    with pytest.raises(SignBindInputError, match="frame 1: size"):
        extractor.extract([np.zeros((64, 64, 3), np.uint8), np.zeros((32, 64, 3), np.uint8)], fps=25)
    with pytest.raises(SignBindInputError, match="fps"):
        extractor.track(fps=0)
    with pytest.raises(SignBindInputError, match="num_hands"):
        KeypointConfig(num_hands=3)
    with pytest.raises(SignBindInputError, match=r"not a readable \.pose file"):
        read_pose_file(corrupt)


def test_a_wrong_model_file_fails_at_construction(tmp_path, monkeypatch):
    not_a_model = tmp_path / "palm.tflite"
    not_a_model.write_bytes(b"\0" * 64)
    monkeypatch.setenv(HAND_DETECTOR_ENV, str(not_a_model))
    with pytest.raises(SignBindInputError, match=f"hand detector model file .*palm.tflite.*{HAND_DETECTOR_ENV}"):
        KeypointExtractor()


def test_extractor_pickles(extractor, portrait):
    copy = pickle.loads(pickle.dumps(extractor))
    assert copy.extract([portrait], fps=25).pose_found.all()


def test_bodies_between_the_frames_the_body_models_saw_are_interpolated_else_held():
    from signbind_hf.keypoint_extraction_signbind import fill_between_bodies

    pose = np.zeros((8, 33, 3), dtype=np.float32)
    confidence = np.zeros((8, 33), dtype=np.float32)
    for row, value in ((0, 1.0), (2, 3.0), (6, 7.0)):  # rows 0, 2, 4, 6 measured; no body found on row 4
        pose[row], confidence[row] = value, 0.5 + value / 100
    fill_between_bodies(pose, confidence, np.array([0, 2, 4, 6]))
    # 1: between two bodies; 3: before the frame without one (held); 5: after it (nothing); 7: after the last (held).
    np.testing.assert_allclose(pose[:, 0, 0], [1, 2, 3, 3, 0, 0, 7, 7])
    np.testing.assert_allclose(confidence[:, 0], [0.51, 0.52, 0.53, 0.53, 0, 0, 0.57, 0.57], rtol=1e-6)


def test_body_every_other_frame_is_near_the_body_on_every_frame(portrait):
    every = KeypointExtractor(KeypointConfig(pose_every=1)).extract([portrait] * 5, fps=25)
    other = KeypointExtractor(KeypointConfig(pose_every=2)).extract([portrait] * 5, fps=25)
    assert other.pose_found.all()
    # The points the photo shows (face and shoulders; the arms are out of view and guessed anew on every frame).
    seen = (every.pose_confidence > 0.5).all(axis=0) & (other.pose_confidence > 0.5).all(axis=0)  # (33,)
    assert seen.sum() >= 13
    np.testing.assert_allclose(other.pose[:, seen, :2], every.pose[:, seen, :2], atol=6.0)  # pixels of 512 x 600


def test_frame_strides_are_checked():
    for name in ("pose_every", "hand_search_every"):
        for value in (0, 1.5, True):
            with pytest.raises(SignBindInputError, match=name):
                KeypointConfig(**{name: value})


def test_taking_finished_frames_as_they_come_gives_the_whole_clips_keypoints_and_forgets_them(extractor, drawn_signer):
    """A live stream takes each frame's keypoints once final (take_finished) and the track forgets them: the rows,
    put together, are what result() gives for the whole clip, and the track holds a bounded number of rows."""
    frames, _, _ = drawn_signer
    with extractor.track(fps=25) as whole:
        for frame in frames:
            whole.push(frame)
        expected = whole.result()
    taken, held = [], []
    with extractor.track(fps=25) as live:
        for frame in frames:
            live.push(frame)
            if (keypoints := live.take_finished()) is not None:
                taken.append(keypoints)
            held.append(len(live._hands_found) + len(live._bodies))
        taken.append(live.take_finished(final=True))
        assert live.take_finished(final=True) is None  # nothing left
        with pytest.raises(RuntimeError, match="take_finished"):
            live.result()
    assert len(taken) > 2  # rows came out while the clip was still arriving, not only at its end
    for field in ("pose", "pose_confidence", "hands", "hand_confidence"):
        np.testing.assert_array_equal(
            np.concatenate([getattr(part, field) for part in taken]), getattr(expected, field)
        )
    # Bounded, whatever the length of the stream: the frames since the last body found, with the bodies the body
    # thread may still owe (at most MAX_PENDING_BODIES, however loaded the machine).
    assert max(held) <= (MAX_PENDING_BODIES + 2) * (extractor.config.pose_every + 1)
    assert expected.hands_found.any()  # the comparison covers found hands, not only empty rows
