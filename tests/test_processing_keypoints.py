"""The processor's keypoints: from a sidecar .pose, an argument or the extractor, on the processor's own frames,
normalised by the shoulders, masked where nothing was found; off by default and saved with the processor."""

import json
import os
import pickle
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from transformers import AutoProcessor

from signbind_hf import SignBindProcessor, SignBindVideoProcessor
from signbind_hf.constants import KEYPOINT_MASK, KEYPOINTS
from signbind_hf.data.synthsign.config import SynthSignConfig
from signbind_hf.data.synthsign.examples import plan_example, render_example
from signbind_hf.errors import SignBindInputError
from signbind_hf.keypoint_extraction_signbind import KeypointExtractor
from signbind_hf.keypoints_signbind import (
    LEFT,
    NUM_KEYPOINTS,
    NUM_POSE_POINTS,
    POSE_POINTS,
    SHOULDERS,
    Keypoints,
    normalize_keypoints,
    read_pose_file,
    sidecar_pose_path,
    write_pose_file,
)
from signbind_hf.landmark_models_signbind import VENDORED_LANDMARK_FILES
from signbind_hf.video_decoding_signbind import decode_video

from .video.synthetic import write_video

GLOSS_CORPUS = ["HAVE DIFFERENT HERE", "GAIN BALANCE"]
MODEL_KEYS = {"pixel_values", "face_pixel_values", "attention_mask", "face_attention_mask"}


@pytest.fixture(scope="module")
def synthsign_clip(tmp_path_factory):
    """A SynthSign clip as SynthSign writes it: ``clip.mp4`` with its renderer's keypoints in ``clip.pose``."""
    config = SynthSignConfig()
    plan = plan_example(0, "test", 0, config)
    root = tmp_path_factory.mktemp("synthsign")
    render_example(plan, root, fps=config.fps, crf=config.crf)
    return root / plan.row["video"]


def _sidecar_only(**settings) -> SignBindVideoProcessor:
    """A tiny processor reading keypoints from sidecars or arguments only (no extractor, no face crops: fast)."""
    return SignBindVideoProcessor.from_preset(
        "tiny", face_cropper=None, keypoints=True, keypoint_extractor=None, **settings
    )


def _expected(keypoints: Keypoints, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shoulder-normalised points of ``rows`` written out here, independently of the processor's code."""
    points = np.concatenate([keypoints.pose[..., :2], keypoints.hands[..., :2].reshape(-1, 42, 2)], axis=1)[rows]
    found = np.concatenate([keypoints.pose_confidence, keypoints.hand_confidence.reshape(-1, 42)], axis=1)[rows] > 0
    left, right = points[:, POSE_POINTS.index("LEFT_SHOULDER")], points[:, POSE_POINTS.index("RIGHT_SHOULDER")]
    centre, width = (left + right) / 2, np.linalg.norm(left - right, axis=1)
    return np.where(found[..., None], (points - centre[:, None]) / width[:, None, None], 0.0), found


def test_a_clip_with_a_sidecar_gives_exactly_its_normalised_points(synthsign_clip):
    sidecar = read_pose_file(sidecar_pose_path(synthsign_clip))
    batch = _sidecar_only()(synthsign_clip, return_tensors="np", return_metadata=True)

    num_frames = sidecar.num_frames
    assert batch[KEYPOINTS].shape == (1, num_frames, NUM_KEYPOINTS, 2)
    assert batch[KEYPOINT_MASK].shape == (1, num_frames, NUM_KEYPOINTS)
    assert batch[KEYPOINT_MASK].dtype == np.int64
    assert batch["video_metadata"][0]["keypoint_source"] == "sidecar"
    expected, found = _expected(sidecar, np.arange(num_frames))
    np.testing.assert_allclose(batch[KEYPOINTS][0], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(batch[KEYPOINT_MASK][0], found)
    # The drawn shoulders land at (+-0.5, 0) in every frame: centred and scaled by them.
    np.testing.assert_allclose(batch[KEYPOINTS][0][:, SHOULDERS], [[[0.5, 0.0], [-0.5, 0.0]]] * num_frames, atol=1e-5)


def test_sidecar_frames_are_taken_at_the_processors_frame_times(synthsign_clip):
    sidecar = read_pose_file(sidecar_pose_path(synthsign_clip))
    batch = _sidecar_only(target_fps=10.0, min_frames=1)(synthsign_clip, return_tensors="np", return_metadata=True)

    # The 25 fps frames the processor kept for its 10 fps frames: their keypoints go with their pixels.
    kept = decode_video(synthsign_clip, target_fps=10.0).source_timestamps
    rows = np.round(kept * sidecar.fps).astype(int)
    assert len(set(rows)) == len(rows) < sidecar.num_frames
    expected, found = _expected(sidecar, rows)
    np.testing.assert_allclose(batch[KEYPOINTS][0, : len(rows)], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(batch[KEYPOINT_MASK][0, : len(rows)], found)


def test_an_argument_wins_over_the_sidecar_and_padding_is_masked(synthsign_clip, tmp_path):
    sidecar = read_pose_file(sidecar_pose_path(synthsign_clip))
    no_hands = Keypoints(**{**vars(sidecar), "hand_confidence": np.zeros_like(sidecar.hand_confidence)})
    path = write_pose_file(no_hands, tmp_path / "other.pose")
    processor = _sidecar_only(min_frames=sidecar.num_frames + 5)

    for given in (no_hands, path, str(path)):
        batch = processor(synthsign_clip, keypoints=given, return_tensors="np", return_metadata=True)
        assert batch["video_metadata"][0]["keypoint_source"] == "argument"
        mask = batch[KEYPOINT_MASK][0]
        assert not mask[:, NUM_POSE_POINTS:].any()  # the argument's hands are missing: masked, not an error
        assert mask[: sidecar.num_frames, SHOULDERS].all()
        assert not mask[sidecar.num_frames :].any()  # padding frames
        assert not batch[KEYPOINTS][0, sidecar.num_frames :].any()


def test_keypoints_with_nan_where_found_are_refused_where_they_enter(synthsign_clip, tmp_path):
    sidecar = read_pose_file(sidecar_pose_path(synthsign_clip))
    hands = sidecar.hands.copy()
    found = np.argwhere(sidecar.hand_confidence > 0)[0]  # a hand point marked found
    hands[tuple(found)] = np.nan
    broken = Keypoints(**{**vars(sidecar), "hands": hands})
    path = write_pose_file(broken, tmp_path / "broken.pose")
    processor = _sidecar_only()
    for given, named in ((broken, "the keypoints given"), (path, str(path))):
        with pytest.raises(SignBindInputError, match=f"{named}: NaN or infinite coordinates at hand points"):
            processor(synthsign_clip, keypoints=given, return_tensors="np")
    # Where no point is found, the coordinates are not read (they become 0, masked).
    lost = np.where(sidecar.hand_confidence[..., None] > 0, sidecar.hands, np.nan)
    processor(synthsign_clip, keypoints=Keypoints(**{**vars(sidecar), "hands": lost}), return_tensors="np")


def test_a_clip_without_a_signer_gives_masks_not_an_error(tmp_path):
    video = write_video(tmp_path / "empty.mp4", num_frames=6)  # moving shapes, nobody in view
    processor = SignBindVideoProcessor.from_preset("tiny", face_cropper=None, keypoints=True, min_frames=1)
    batch = processor(video, return_tensors="np", return_metadata=True)

    assert batch["video_metadata"][0]["keypoint_source"] == "extractor"
    assert batch["video_metadata"][0]["keypoint_hand_frames"] == [0, 0]
    assert batch[KEYPOINTS].shape == (1, 6, NUM_KEYPOINTS, 2)
    assert not batch[KEYPOINT_MASK].any()
    assert not batch[KEYPOINTS].any()


@pytest.mark.slow
def test_extracted_keypoints_are_those_of_the_processors_own_frames(synthsign_clip, tmp_path):
    bare = tmp_path / synthsign_clip.name  # the clip without its sidecar: the extractor runs while it decodes
    shutil.copyfile(synthsign_clip, bare)
    processor = SignBindVideoProcessor.from_preset("tiny", keypoints=True, min_frames=1)
    batch = processor(bare, end=1.0, return_tensors="np", return_metadata=True)

    assert batch["video_metadata"][0]["keypoint_source"] == "extractor"
    frames = decode_video(bare, end=1.0, max_shortest_edge=processor.max_shortest_edge).frames
    extracted = KeypointExtractor().extract(frames, fps=processor.target_fps)
    expected, found = _expected_with_borrowed_shoulders(extracted)
    np.testing.assert_allclose(batch[KEYPOINTS][0], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(batch[KEYPOINT_MASK][0], found)
    assert batch[KEYPOINT_MASK][0, :, NUM_POSE_POINTS:].any()  # hands were found on the drawn signer


def _expected_with_borrowed_shoulders(keypoints: Keypoints) -> tuple[np.ndarray, np.ndarray]:
    points = np.concatenate([keypoints.pose[..., :2], keypoints.hands[..., :2].reshape(-1, 42, 2)], axis=1)
    found = np.concatenate([keypoints.pose_confidence, keypoints.hand_confidence.reshape(-1, 42)], axis=1) > 0
    return normalize_keypoints(points, found.astype(np.float32), keypoints.width, keypoints.height)


def test_frames_without_shoulders_borrow_the_nearest_frames_and_none_at_all_use_the_frame():
    points = np.zeros((4, NUM_KEYPOINTS, 2), dtype=np.float32)
    confidence = np.zeros((4, NUM_KEYPOINTS), dtype=np.float32)
    points[:, SHOULDERS] = [[100.0, 50.0], [60.0, 50.0]]  # centre (80, 50), width 40
    points[3, SHOULDERS] = [[200.0, 50.0], [100.0, 50.0]]  # centre (150, 50), width 100
    confidence[0, list(SHOULDERS)] = confidence[3, list(SHOULDERS)] = 1.0
    wrist = NUM_POSE_POINTS + LEFT * 21  # the left hand's wrist, found in every frame
    points[:, wrist], confidence[:, wrist] = [120.0, 90.0], 1.0

    normalised, found = normalize_keypoints(points, confidence, width=320, height=240)
    # Frame 1 borrows frame 0's shoulders, frame 2 frame 3's (nearest in time).
    np.testing.assert_allclose(normalised[:, wrist], [[1.0, 1.0], [1.0, 1.0], [-0.3, 0.4], [-0.3, 0.4]], rtol=1e-6)
    assert found[:, wrist].all()
    assert not found[1, SHOULDERS[0]]

    confidence[:, list(SHOULDERS)] = 0.0  # no shoulders anywhere: the frame's centre, a third of its width
    normalised, _ = normalize_keypoints(points, confidence, width=300, height=240)
    np.testing.assert_allclose(normalised[0, wrist], [(120 - 150) / 100, (90 - 120) / 100], rtol=1e-6)


def test_keypoints_are_off_by_default_and_change_nothing_else(synthsign_clip):
    default = SignBindVideoProcessor.from_preset("tiny")
    assert default.keypoints is False
    plain = default(synthsign_clip, return_tensors="np")
    assert set(plain) == MODEL_KEYS
    with_keypoints = SignBindVideoProcessor.from_preset("tiny", keypoints=True, keypoint_extractor=None)
    batch = with_keypoints(synthsign_clip, return_tensors="np")
    assert set(batch) == MODEL_KEYS | {KEYPOINTS, KEYPOINT_MASK}
    for key in MODEL_KEYS:
        np.testing.assert_array_equal(batch[key], plain[key], err_msg=key)
    with pytest.raises(SignBindInputError, match="build it with keypoints=True"):
        default(synthsign_clip, keypoints=sidecar_pose_path(synthsign_clip))
    with pytest.raises(SignBindInputError, match="keypoint_extractor must be one of"):
        SignBindVideoProcessor(keypoint_extractor="openpose")
    with pytest.raises(SignBindInputError, match=r"keypoint_config has unknown fields \['min_hand'\]"):
        SignBindVideoProcessor(keypoint_config={"min_hand": 0.1})
    with pytest.raises(SignBindInputError, match=r"KeypointConfig.num_hands must be 0, 1 or 2"):
        SignBindVideoProcessor(keypoint_config={"num_hands": 3})
    with pytest.raises(SignBindInputError, match=r"keypoints file .* does not exist"):
        with_keypoints(synthsign_clip, keypoints="missing.pose")


def test_the_setting_and_the_hand_and_body_models_round_trip(synthsign_clip, tmp_path):
    thresholds = {"min_hand_detection_confidence": 0.3, "min_hand_presence_confidence": 0.3}
    processor = SignBindProcessor.from_preset(
        "tiny", glosses=GLOSS_CORPUS, face_cropper=None, keypoints=True, keypoint_config=thresholds
    )
    processor.save_pretrained(tmp_path / "saved")

    settings = json.loads((tmp_path / "saved" / "processor_config.json").read_text())["video_processor"]
    assert (settings["keypoints"], settings["keypoint_extractor"]) == (True, "mediapipe")
    assert settings["keypoint_config"]["min_hand_presence_confidence"] == 0.3
    assert settings["keypoint_config"]["min_pose_presence_confidence"] == 0.5  # the defaults are written out
    saved_models = tmp_path / "saved" / "keypoint_models"
    assert sorted(path.name for path in saved_models.glob("*.tflite")) == sorted(VENDORED_LANDMARK_FILES)
    assert (saved_models / "LICENSE.mediapipe").is_file()
    for loaded in (
        SignBindProcessor.from_pretrained(tmp_path / "saved"),
        AutoProcessor.from_pretrained(tmp_path / "saved"),
    ):
        assert type(loaded) is SignBindProcessor
        assert loaded.video_processor.to_dict() == processor.video_processor.to_dict()
        assert {
            path and str(saved_models) in path for path in loaded.video_processor.keypoint_model_paths.values()
        } == {True}
        expected, actual = processor(videos=synthsign_clip), loaded(videos=synthsign_clip)
        for key in expected:
            torch.testing.assert_close(actual[key], expected[key], rtol=0, atol=0)

    # Without extraction (or without keypoints) no model files are saved.
    SignBindProcessor.from_preset("tiny", glosses=GLOSS_CORPUS, face_cropper=None).save_pretrained(tmp_path / "plain")
    assert not (tmp_path / "plain" / "keypoint_models").exists()
    assert (
        json.loads((tmp_path / "plain" / "processor_config.json").read_text())["video_processor"]["keypoints"] is False
    )


REMOTE_KEYPOINTS = textwrap.dedent(
    """
    import json
    import sys

    import numpy as np

    sys.modules["signbind_hf"] = None  # `import signbind_hf` raises, as on a machine without the package
    from transformers import AutoProcessor

    checkpoint, out, *videos = sys.argv[1:]
    processor = AutoProcessor.from_pretrained(checkpoint, trust_remote_code=True)
    inputs = processor(videos=videos, end=1.0, return_tensors="np", return_metadata=True)
    np.savez(out, **{key: value for key, value in inputs.items() if isinstance(value, np.ndarray)})
    paths = processor.video_processor.keypoint_model_paths
    sources = [clip["keypoint_source"] for clip in inputs["video_metadata"]]
    print(json.dumps({"model_folders": sorted({path.split("/")[-2] for path in paths.values()}), "sources": sources}))
    """
)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_saved_keypoint_processor_runs_as_remote_code_without_signbind_hf(synthsign_clip, tmp_path):
    processor = SignBindProcessor.from_preset("tiny", glosses=GLOSS_CORPUS, face_cropper=None, keypoints=True)
    processor.save_pretrained(tmp_path / "checkpoint")
    without_sidecar = tmp_path / "bare" / synthsign_clip.name  # the same clip, for the extractor
    without_sidecar.parent.mkdir()
    shutil.copyfile(synthsign_clip, without_sidecar)
    videos = [str(without_sidecar), str(synthsign_clip)]

    environment = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "modules"), "HF_HUB_OFFLINE": "1"}
    environment.pop("PYTHONPATH", None)
    command = [sys.executable, "-c", REMOTE_KEYPOINTS, str(tmp_path / "checkpoint"), str(tmp_path / "remote.npz")]
    completed = subprocess.run(
        [*command, *videos], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=200
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])

    assert report == {"model_folders": ["keypoint_models"], "sources": ["extractor", "sidecar"]}
    expected = processor(videos=videos, end=1.0, return_tensors="np")
    remote = np.load(tmp_path / "remote.npz")
    assert set(remote.files) == set(expected)
    for key in remote.files:
        np.testing.assert_array_equal(remote[key], expected[key], err_msg=key)


class _Sink:
    def __init__(self) -> None:
        self.rows: list[int] = []

    def begin(self, max_frames: int) -> None:
        pass

    def add(self, row: int, image: np.ndarray) -> None:
        self.rows.append(row)


class _FailingTrack:
    """A KeypointTrack stand-in whose third frame fails."""

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []

    def push(self, frame: np.ndarray) -> None:
        if len(self.frames) == 2:
            raise RuntimeError("graph failed")
        self.frames.append(frame)


def test_the_keypoint_thread_sees_copies_of_every_frame_and_its_error_reaches_the_decoder():
    from signbind_hf.keypoint_extraction_signbind import KeypointTee

    sink, track = _Sink(), _FailingTrack()
    image = np.zeros((4, 4, 3), dtype=np.uint8)

    def decode() -> None:
        with KeypointTee(sink, track, max_pending=1) as tee:
            for row in range(50):  # the decoder reuses its image: the track must get copies
                image[:] = row
                tee.add(row, image)
            tee.finish()

    with pytest.raises(RuntimeError, match="graph failed"):
        decode()
    assert [int(frame[0, 0, 0]) for frame in track.frames] == [0, 1]
    assert sink.rows[:3] == [0, 1, 2]


@pytest.mark.slow
def test_whole_clip_decoding_gives_the_same_keypoints_and_a_used_processor_pickles(synthsign_clip, tmp_path):
    bare = tmp_path / synthsign_clip.name
    shutil.copyfile(synthsign_clip, bare)
    face_boxes = plan_example(0, "test", 0, SynthSignConfig()).row["face_boxes"]  # given boxes: decoded whole
    processor = SignBindVideoProcessor.from_preset("tiny", keypoints=True, min_frames=1)
    streamed = processor(bare, end=0.6, return_tensors="np")
    whole = processor(bare, end=0.6, face_boxes=np.asarray(face_boxes), return_tensors="np")
    for key in (KEYPOINTS, KEYPOINT_MASK):
        np.testing.assert_array_equal(whole[key], streamed[key], err_msg=key)

    copy = pickle.loads(pickle.dumps(processor))
    assert copy.keypoints is True
    np.testing.assert_array_equal(copy(bare, end=0.6, return_tensors="np")[KEYPOINTS], streamed[KEYPOINTS])
