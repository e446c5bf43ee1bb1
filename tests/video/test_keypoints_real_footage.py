"""The hand and body extractor on real footage, against established estimators' keypoints of the same frames.

``tests/video/data/real_signing/``: a real signer filmed by a phone's front camera, with the keypoints MediaPipe
Holistic (as ``pose-format``'s ``video_to_pose`` runs it) and the legacy MediaPipe Hands solution found on every frame;
``tests/video/data/hand_photos/``: fifteen people showing a left or a right hand (or both), with the same two
references. Their READMEs say where the footage and the references come from. The issue-18 criterion, per hand: on at
least 85 % of the frames where a reference has a hand, our hand on the same side lies within a quarter of the reference
hand's size, the size being the diagonal of the bounding box of its 21 points and the distance the mean over the 21
points.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from signbind_hf import keypoints_signbind as layout
from signbind_hf.keypoint_extraction_signbind import KeypointConfig, KeypointExtractor, extract_keypoints
from signbind_hf.keypoints_signbind import LEFT, RIGHT, Keypoints, read_pose_file, write_pose_file

DATA = Path(__file__).parent / "data" / "real_signing"
VIDEO = DATA / "signer_selfie.mp4"
PHOTOS = Path(__file__).parent / "data" / "hand_photos"
MIN_MATCHED_FRACTION = 0.85
MAX_ERROR_OF_HAND_SIZE = 0.25
# The legacy Hands solution assumes a mirrored (selfie) image: its "Left" is the hand at the body's right wrist in an
# image that was not flipped (README). MediaPipe's Tasks swapped the labels in 2023 (commit ed0c8d8, "Swap left and
# right hand labels"); the extractor's sides are the body's as it appears, as Holistic's are.
LEGACY_HANDS_LABEL_SIDE = {"Left": RIGHT, "Right": LEFT}


@pytest.fixture(scope="module")
def holistic() -> Keypoints:
    return read_pose_file(DATA / "signer_selfie.holistic.pose")


@pytest.fixture(scope="module")
def legacy_hands() -> list[list[dict]]:
    """Per frame, the hands of the legacy Hands solution: {"label", "score", "points": 21 [x, y]}."""
    return json.loads((DATA / "signer_selfie.hands.json").read_text())["frames"]


@pytest.fixture(scope="module")
def ours() -> Keypoints:
    return extract_keypoints(VIDEO)


def hand_size(points: np.ndarray) -> float:
    """The diagonal of the bounding box of a hand's (21, 2) points, in pixels."""
    return float(np.hypot(*(points.max(axis=0) - points.min(axis=0))))


def hand_error(found: np.ndarray, reference: np.ndarray) -> float:
    """Mean distance of (21, 2) ``found`` points from the ``reference``'s, as a fraction of the reference's size."""
    return float(np.linalg.norm(found - reference, axis=1).mean()) / hand_size(reference)


def matched_fraction(ours: Keypoints, references: list[tuple[int, int, np.ndarray]]) -> float:
    """The fraction of reference hands ``(frame, side, (21, 2) points)`` that our hand on that side matches."""
    matched = [
        ours.hands_found[row, side] and hand_error(ours.hands[row, side, :, :2], points) <= MAX_ERROR_OF_HAND_SIZE
        for row, side, points in references
    ]
    return float(np.mean(matched))


def holistic_hands(holistic: Keypoints, side: int) -> list[tuple[int, int, np.ndarray]]:
    return [(row, side, holistic.hands[row, side, :, :2]) for row in np.flatnonzero(holistic.hands_found[:, side])]


def test_the_references_cover_the_clip(ours, holistic, legacy_hands):
    assert (ours.num_frames, ours.width, ours.height) == (holistic.num_frames, holistic.width, holistic.height)
    assert ours.fps == pytest.approx(holistic.fps)
    assert len(legacy_hands) == ours.num_frames == 58
    assert holistic.hands_found[:, RIGHT].sum() >= 15  # the signing hand, on a third of the frames
    assert holistic.pose_found.all()


@pytest.mark.parametrize("side", [LEFT, RIGHT])
def test_hands_agree_with_holistic_on_their_side(ours, holistic, side):
    references = holistic_hands(holistic, side)
    if references:
        assert matched_fraction(ours, references) >= MIN_MATCHED_FRACTION
    # Left and right: none of Holistic's hands of the other side is ours on this side.
    swapped = [(row, side, points) for row, _, points in holistic_hands(holistic, 1 - side)]
    assert not swapped or matched_fraction(ours, swapped) == 0


def test_hands_agree_with_the_legacy_hands_solution_and_its_handedness(ours, legacy_hands):
    references = [
        (row, LEGACY_HANDS_LABEL_SIDE[hand["label"]], np.array(hand["points"]))
        for row, hands in enumerate(legacy_hands)
        for hand in hands
    ]
    assert len(references) >= 15
    assert matched_fraction(ours, references) >= MIN_MATCHED_FRACTION


def test_without_a_body_the_handedness_classifier_mostly_gets_the_side(holistic):
    no_body = extract_keypoints(VIDEO, extractor=KeypointExtractor(KeypointConfig(pose=False)))
    assert not no_body.pose_found.any()
    # The classifier alone puts 2 of the 18 hands found here on the wrong side: the body's wrists decide by default.
    assert matched_fraction(no_body, holistic_hands(holistic, RIGHT)) >= 0.75


def test_the_body_agrees_with_holistic(ours, holistic):
    shoulders = [layout.POSE_POINTS.index(name) for name in ("LEFT_SHOULDER", "RIGHT_SHOULDER")]
    shoulder_width = np.linalg.norm(np.diff(holistic.pose[:, shoulders, :2], axis=1)[:, 0], axis=1)  # (T,)
    for names, limit in ((("LEFT_SHOULDER", "RIGHT_SHOULDER", "NOSE"), 0.05), (("RIGHT_ELBOW", "RIGHT_WRIST"), 0.15)):
        points = [layout.POSE_POINTS.index(name) for name in names]
        distance = np.linalg.norm(ours.pose[:, points, :2] - holistic.pose[:, points, :2], axis=2)  # (T, P)
        error = distance / shoulder_width[:, None]
        assert np.median(error) < limit, (names, np.median(error))


def test_the_pose_file_reads_back_the_same_points(ours, tmp_path):
    back = read_pose_file(write_pose_file(ours, tmp_path / "signer_selfie.pose"))
    np.testing.assert_array_equal(back.hands, ours.hands)
    np.testing.assert_array_equal(back.hand_confidence, ours.hand_confidence)
    np.testing.assert_array_equal(back.pose, ours.pose)
    np.testing.assert_array_equal(back.pose_confidence, ours.pose_confidence)
    assert (back.fps, back.width, back.height) == pytest.approx((ours.fps, ours.width, ours.height))


@pytest.mark.parametrize("pose", [True, False], ids=["sides from the body", "sides from the classifier"])
def test_hands_on_photos_of_fifteen_people_agree_with_both_references_left_and_right(pose):
    from PIL import Image

    extractor = KeypointExtractor(KeypointConfig(pose=pose))
    photos = json.loads((PHOTOS / "references.json").read_text())
    holistic, legacy = {LEFT: [], RIGHT: []}, []  # per reference hand: matched on its side by ours (True / False)
    for name, reference in photos.items():
        ours = extractor.extract([np.asarray(Image.open(PHOTOS / name).convert("RGB"))], fps=25)
        assert (ours.width, ours.height) == (reference["width"], reference["height"])
        for side, key in ((LEFT, "LEFT"), (RIGHT, "RIGHT")):
            if reference["holistic"][key] is not None:
                holistic[side].append(matched_fraction(ours, [(0, side, np.array(reference["holistic"][key]))]))
        for hand in reference["hands"]:
            side = LEGACY_HANDS_LABEL_SIDE[hand["label"]]
            legacy.append(matched_fraction(ours, [(0, side, np.array(hand["points"]))]))
    assert len(photos) == 15
    assert min(len(holistic[LEFT]), len(holistic[RIGHT])) >= 7  # left and right hands alike
    assert len(legacy) >= 15
    assert np.mean(holistic[LEFT] + holistic[RIGHT]) >= MIN_MATCHED_FRACTION
    assert np.mean(legacy) >= MIN_MATCHED_FRACTION
