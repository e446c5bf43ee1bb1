"""Keypoints in the real-format data: How2Sign's OpenPose JSON converted to .pose files in MediaPipe's layout, a
folder manifest's pose column, and every bad pose file skipped and counted by reason."""

import json
from pathlib import Path

import numpy as np
import pytest
from pose_format import Pose

from signbind_cli.main import main as cli_main
from signbind_hf.data.builders import PrepareReport, prepare_folder, prepare_how2sign
from signbind_hf.data.builders.openpose import BODY_25_POINTS, read_openpose_folder
from signbind_hf.errors import SignBindInputError
from signbind_hf.keypoints_signbind import POSE_POINTS, Keypoints, write_pose_file

from .builder_fixtures import FPS, read_report, tiny_video

HEADER = "VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE"
CLIP_FRAMES = 10  # tiny_video(seconds=1.0) at 10 fps
WIDTH, HEIGHT = 32, 24  # tiny_video's size


# --- OpenPose JSON as How2Sign releases it ------------------------------------------------------------------------


def body_point(index: int, frame: int) -> tuple[float, float, float]:
    """BODY_25 point ``index`` of ``frame``: distinct numbers, so each lands in a checkable slot."""
    return 100.0 + index + 1000 * frame, 200.0 + index, 0.5 + index / 100


def hand_point(side: str, index: int, frame: int) -> tuple[float, float, float]:
    base = 300.0 if side == "left" else 500.0
    return base + index + 1000 * frame, base + 50 + index, 0.9 if side == "left" else 0.8


def person(frame: int, scale: float = 1.0, hands: bool = True) -> dict:
    """One OpenPose person with every field ``--write_json`` writes (2-D only; the 3-D arrays empty)."""

    def flat(points):
        return [value for point in points for value in point]

    body = [body_point(index, frame) for index in range(25)]
    body = [(x * scale, y * scale, c) for x, y, c in body]
    return {
        "person_id": [-1],
        "pose_keypoints_2d": flat(body),
        "face_keypoints_2d": [0.0] * 70 * 3,
        "hand_left_keypoints_2d": flat(hand_point("left", k, frame) for k in range(21)) if hands else [0.0] * 63,
        "hand_right_keypoints_2d": flat(hand_point("right", k, frame) for k in range(21)) if hands else [0.0] * 63,
        "pose_keypoints_3d": [],
        "face_keypoints_3d": [],
        "hand_left_keypoints_3d": [],
        "hand_right_keypoints_3d": [],
    }


def write_openpose_clip(json_dir: Path, name: str, frames: list[list[dict]]) -> Path:
    """``json_dir/name/name_<frame:012d>_keypoints.json``, one file per frame, as the release lays them out."""
    folder = json_dir / name
    folder.mkdir(parents=True)
    for index, people in enumerate(frames):
        (folder / f"{name}_{index:012d}_keypoints.json").write_text(json.dumps({"version": 1.3, "people": people}))
    return folder


def signer_frames(count: int) -> list[list[dict]]:
    """``count`` frames of one signer; frame 2 is empty, frame 3 also has a smaller person listed first."""
    frames = [[person(frame)] for frame in range(count)]
    frames[2] = []
    frames[3] = [person(3, scale=0.1, hands=False), person(3)]
    return frames


def test_openpose_points_land_in_mediapipe_slots(tmp_path):
    folder = write_openpose_clip(tmp_path, "clip-rgb_front", signer_frames(5))
    keypoints = read_openpose_folder(folder, fps=25.0, width=1280, height=720)

    assert (keypoints.num_frames, keypoints.fps, keypoints.width, keypoints.height) == (5, 25.0, 1280, 720)
    pose_index = {name: index for index, name in enumerate(POSE_POINTS)}
    for frame in (0, 3):  # frame 3: the larger of two people is the signer, though listed second
        for openpose, mediapipe in [("LWrist", "LEFT_WRIST"), ("RShoulder", "RIGHT_SHOULDER"), ("LBigToe", "LEFT_FOOT_INDEX"), ("Nose", "NOSE")]:  # fmt: skip
            x, y, c = body_point(BODY_25_POINTS.index(openpose), frame)
            np.testing.assert_allclose(keypoints.pose[frame, pose_index[mediapipe]], [x, y, 0.0])
            assert keypoints.pose_confidence[frame, pose_index[mediapipe]] == pytest.approx(c)
        for side, hand in (("left", 0), ("right", 1)):  # left hand first, each hand in its own order
            for point in (0, 4, 8, 20):
                x, y, c = hand_point(side, point, frame)
                np.testing.assert_allclose(keypoints.hands[frame, hand, point], [x, y, 0.0])
                assert keypoints.hand_confidence[frame, hand, point] == pytest.approx(c)
    # MediaPipe points OpenPose lacks are not found; nor is anything on the frame with nobody in it.
    for unmapped in ("LEFT_EYE_INNER", "MOUTH_LEFT", "LEFT_PINKY", "RIGHT_THUMB"):
        assert not keypoints.pose_confidence[:, pose_index[unmapped]].any()
    assert not keypoints.pose_found[2]
    assert not keypoints.hands_found[2].any()
    assert not keypoints.pose[2].any()
    assert not keypoints.hands[2].any()


def test_openpose_folder_errors_name_the_file(tmp_path):
    folder = write_openpose_clip(tmp_path, "bad", [[person(0)], [person(1)]])
    broken = folder / "bad_000000000001_keypoints.json"
    broken.write_text("{not json")
    with pytest.raises(SignBindInputError, match=r"bad_000000000001_keypoints\.json: not JSON"):
        read_openpose_folder(folder, fps=25.0, width=1280, height=720)
    broken.write_text(json.dumps({"people": [{"pose_keypoints_2d": [1.0, 2.0]}]}))
    with pytest.raises(SignBindInputError, match=r"`pose_keypoints_2d` must hold 75 numbers"):
        read_openpose_folder(folder, fps=25.0, width=1280, height=720)
    broken.rename(folder / "bad_000099999999_keypoints.json")  # a stray frame number must not allocate gigabytes
    with pytest.raises(SignBindInputError, match="frame numbers reach 99999999"):
        read_openpose_folder(folder, fps=25.0, width=1280, height=720)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SignBindInputError, match="no OpenPose frame files"):
        read_openpose_folder(tmp_path / "empty", fps=25.0, width=1280, height=720)


# --- How2Sign with --keypoints ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def how2sign_with_keypoints(tmp_path_factory) -> tuple[Path, Path, Path]:
    """Per-sentence clips and their keypoint folders (in openpose_output/json, as the archives unpack): good,
    too short, unreadable, missing, leading outside --keypoints by a symlink; and a row cut from a raw video."""
    root = tmp_path_factory.mktemp("how2sign_keypoints")
    videos, keypoints = root / "videos", root / "train_2D_keypoints"
    json_dir = keypoints / "openpose_output" / "json"
    names = ["good-rgb_front", "short-rgb_front", "broken-rgb_front", "nokp-rgb_front", "escape-rgb_front"]
    for name in names:
        tiny_video(videos / f"{name}.mp4", seconds=CLIP_FRAMES / FPS)
    tiny_video(videos / "raw-rgb_front.mp4", seconds=3.0)
    write_openpose_clip(json_dir, "good-rgb_front", signer_frames(CLIP_FRAMES))
    write_openpose_clip(json_dir, "short-rgb_front", signer_frames(CLIP_FRAMES - 4))
    broken = write_openpose_clip(json_dir, "broken-rgb_front", signer_frames(CLIP_FRAMES))
    (broken / "broken-rgb_front_000000000004_keypoints.json").write_bytes(b'{"people": [')  # truncated
    outside = write_openpose_clip(root / "elsewhere", "escape-rgb_front", signer_frames(CLIP_FRAMES))
    (json_dir / "escape-rgb_front").symlink_to(outside, target_is_directory=True)
    rows = [
        (name.split("-")[0], "raw", f"{name}_0", name, 0.0, 1.0, f"Sentence of {name.split('-')[0]}.")
        for name in names
    ]
    rows.append(("raw", "raw-rgb_front", "raw_0", "raw_0-rgb_front", 0.5, 2.0, "Cut from the raw video."))
    csv = root / "how2sign_realigned_train.csv"
    csv.write_text("\n".join([HEADER] + ["\t".join(map(str, row)) for row in rows]) + "\n")
    return csv, videos, keypoints


def test_how2sign_keypoints_become_pose_files_and_bad_ones_are_counted(how2sign_with_keypoints, tmp_path):
    csv, videos, keypoints = how2sign_with_keypoints
    out = tmp_path / "out"
    dataset = prepare_how2sign([csv], videos, out, keypoints=keypoints)

    report = read_report(out)
    assert report["kept"] == 3
    assert report["reasons"] == {"outside_root": 1, "pose_frame_mismatch": 1, "unreadable_pose": 1}
    assert report["incomplete"]["no_keypoints"] == 2  # no folder for the sentence; a row cut from a raw video
    assert "6 keypoint frames at 10 fps" in report["examples"]["pose_frame_mismatch"][0]
    assert "broken-rgb_front_000000000004_keypoints.json: not JSON" in report["examples"]["unreadable_pose"][0]
    assert "outside" in report["examples"]["outside_root"][0]
    assert PrepareReport.read(out).incomplete["no_keypoints"] == 2

    rows = {row["id"]: row for row in dataset["train"]}
    assert rows["good-rgb_front"]["pose"] == "poses/good-rgb_front.pose"  # relative: inside the data set folder
    assert rows["nokp-rgb_front"]["pose"] is None
    assert rows["raw_0-rgb_front"]["pose"] is None
    assert sorted(path.name for path in (out / "poses").iterdir()) == ["good-rgb_front.pose"]  # nothing half-written

    # Read back with pose-format alone: MediaPipe Holistic's components, the video's size and rate, each point in
    # its MediaPipe slot.
    pose = Pose.read((out / rows["good-rgb_front"]["pose"]).read_bytes())
    assert [component.name for component in pose.header.components] == [
        "POSE_LANDMARKS",
        "LEFT_HAND_LANDMARKS",
        "RIGHT_HAND_LANDMARKS",
    ]
    assert (pose.header.dimensions.width, pose.header.dimensions.height) == (WIDTH, HEIGHT)
    assert pose.body.fps == pytest.approx(FPS)
    assert pose.body.data.shape[:3] == (CLIP_FRAMES, 1, 75)
    data, confidence = np.ma.getdata(pose.body.data)[:, 0], np.asarray(pose.body.confidence)[:, 0]
    header = pose.header
    for frame in (0, 3, CLIP_FRAMES - 1):
        for openpose, mediapipe in (("LWrist", "LEFT_WRIST"), ("RElbow", "RIGHT_ELBOW"), ("REar", "RIGHT_EAR")):
            index = header.get_point_index("POSE_LANDMARKS", mediapipe)
            x, y, c = body_point(BODY_25_POINTS.index(openpose), frame)
            np.testing.assert_allclose(data[frame, index, :2], [x, y])
            assert confidence[frame, index] == pytest.approx(c)
        for component, side in (("LEFT_HAND_LANDMARKS", "left"), ("RIGHT_HAND_LANDMARKS", "right")):
            for point, openpose_index in (("WRIST", 0), ("THUMB_TIP", 4), ("PINKY_TIP", 20)):
                index = header.get_point_index(component, point)
                np.testing.assert_allclose(data[frame, index, :2], hand_point(side, openpose_index, frame)[:2])
    assert not confidence[2].any()  # nobody in frame 2


def test_cli_prepare_how2sign_keypoints(how2sign_with_keypoints, tmp_path, capsys, caplog):
    csv, videos, keypoints = how2sign_with_keypoints
    out = tmp_path / "cli"
    argv = ["prepare", "how2sign", "--csv", str(csv), "--videos", str(videos), "--out", str(out)]
    assert cli_main([*argv, "--keypoints", str(keypoints)]) == 0
    printed = capsys.readouterr().out
    assert "kept 3 rows, skipped 3" in printed
    assert "skipped (pose_frame_mismatch): 1" in printed
    assert "kept without keypoints: 2" in printed
    # A --keypoints that is not a folder: one line naming it, exit 2, nothing left behind.
    assert cli_main([*argv[:-1], str(tmp_path / "again"), "--keypoints", str(csv)]) == 2
    assert f"--keypoints {csv}: not a folder" in caplog.text
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cli"]  # no partial folder left behind


def test_how2sign_without_keypoints_has_an_empty_pose_column(how2sign_with_keypoints, tmp_path):
    csv, videos, _ = how2sign_with_keypoints
    dataset = prepare_how2sign([csv], videos, tmp_path / "out")
    assert set(dataset["train"]["pose"]) == {None}
    assert read_report(tmp_path / "out")["incomplete"] == {}
    assert not (tmp_path / "out" / "poses").exists()


# --- the folder builder's pose column -----------------------------------------------------------------------------


def keypoints_of(num_frames: int, fps: float = FPS) -> Keypoints:
    generator = np.random.default_rng(num_frames)
    return Keypoints(
        pose=generator.uniform(0, 24, (num_frames, 33, 3)).astype(np.float32),
        pose_confidence=np.full((num_frames, 33), 0.9, dtype=np.float32),
        hands=generator.uniform(0, 24, (num_frames, 2, 21, 3)).astype(np.float32),
        hand_confidence=np.ones((num_frames, 2, 21), dtype=np.float32),
        fps=fps,
        width=WIDTH,
        height=HEIGHT,
    )


@pytest.fixture(scope="module")
def clips_with_poses(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("folder_poses")
    tiny_video(root / "clips/a.mp4", seconds=2.0)  # 20 frames
    write_pose_file(keypoints_of(20), root / "poses/a.pose")
    write_pose_file(keypoints_of(10, fps=5.0), root / "poses/a_at_5fps.pose")  # the same 2 s at another rate
    write_pose_file(keypoints_of(21), root / "poses/a_plus_one.pose")  # one frame more: tolerated
    write_pose_file(keypoints_of(8), root / "poses/short.pose")
    good = (root / "poses/a.pose").read_bytes()
    (root / "poses/truncated.pose").write_bytes(good[: len(good) // 2])
    (root / "poses/garbage.pose").write_bytes(b"not a pose file at all" * 20)
    write_pose_file(keypoints_of(20), root.parent / f"{root.name}-outside.pose")
    return root


def test_folder_manifest_pose_column(clips_with_poses, tmp_path):
    root = clips_with_poses
    records = [
        ("poses/a.pose", "Good keypoints."),
        ("poses/a_at_5fps.pose", "Same length at another rate."),
        ("poses/a_plus_one.pose", "One frame more."),
        ("", "No pose: the sidecar or the extractor."),
        ("poses/short.pose", "Too short."),
        ("poses/truncated.pose", "Truncated."),
        ("poses/garbage.pose", "Not a pose file."),
        ("poses/gone.pose", "Missing."),
        (f"../{root.name}-outside.pose", "Outside the manifest's folder."),
    ]
    manifest = root / "clips.jsonl"
    manifest.write_text(
        "\n".join(json.dumps({"path": "clips/a.mp4", "text": text, "pose": pose}) for pose, text in records)
    )
    dataset = prepare_folder(manifest, tmp_path / "out")

    report = read_report(tmp_path / "out")
    assert report["kept"] == 4
    assert report["reasons"] == {
        "missing_pose": 1,
        "outside_root": 1,
        "pose_frame_mismatch": 1,
        "unreadable_pose": 2,
    }
    assert any("truncated.pose" in example for example in report["examples"]["unreadable_pose"])
    assert "8 keypoint frames at 10 fps (0.800 s)" in report["examples"]["pose_frame_mismatch"][0]
    poses = dataset["train"]["pose"]
    assert poses[:3] == [
        str(root / "poses/a.pose"),
        str(root / "poses/a_at_5fps.pose"),
        str(root / "poses/a_plus_one.pose"),
    ]
    assert poses[3] is None


def test_folder_csv_manifest_pose_column(clips_with_poses, tmp_path):
    root = clips_with_poses
    manifest = root / "clips.csv"
    manifest.write_text("path,text,pose\nclips/a.mp4,With keypoints.,poses/a.pose\nclips/a.mp4,Without.,\n")
    dataset = prepare_folder(manifest, tmp_path / "out")
    assert dataset["train"]["pose"] == [str(root / "poses/a.pose"), None]


def test_pose_outside_the_folder_is_kept_when_absolute_paths_are_allowed(clips_with_poses, tmp_path):
    root = clips_with_poses
    outside = root.parent / f"{root.name}-outside.pose"
    manifest = root / "absolute.jsonl"
    manifest.write_text(json.dumps({"path": "clips/a.mp4", "text": "Absolute pose.", "pose": str(outside)}) + "\n")
    prepare_folder(manifest, tmp_path / "refused")
    assert read_report(tmp_path / "refused")["reasons"] == {"outside_root": 1}
    dataset = prepare_folder(manifest, tmp_path / "out", allow_absolute_paths=True)
    assert dataset["train"]["pose"] == [str(outside)]


def test_a_pose_value_that_is_not_a_path_is_a_malformed_row(clips_with_poses, tmp_path):
    root = clips_with_poses
    manifest = root / "hostile.jsonl"
    records = [
        {"path": "clips/a.mp4", "text": "A number.", "pose": 5},
        {"path": "clips/a.mp4", "text": "A list.", "pose": ["poses/a.pose"]},
        {"path": "clips/a.mp4", "text": "A NUL byte.", "pose": "poses/a\u0000.pose"},
        {"path": "clips/a.mp4", "text": "Null.", "pose": None},
    ]
    manifest.write_text("\n".join(json.dumps(record) for record in records) + "\n")
    dataset = prepare_folder(manifest, tmp_path / "out")
    report = read_report(tmp_path / "out")
    assert report["reasons"] == {"malformed_row": 3}
    assert dataset["train"]["pose"] == [None]


def test_a_frame_folders_pose_must_have_as_many_frames_within_one(tmp_path):
    from PIL import Image

    frames = tmp_path / "clips" / "frames"
    frames.mkdir(parents=True)
    for index in range(6):
        Image.new("RGB", (WIDTH, HEIGHT), (index * 40, 0, 0)).save(frames / f"{index:04d}.jpg")
    for count in (6, 7, 9):
        write_pose_file(keypoints_of(count), tmp_path / "poses" / f"{count}.pose")
    manifest = tmp_path / "frames.jsonl"
    manifest.write_text(
        "\n".join(
            json.dumps({"path": "clips/frames", "text": f"{count} keypoint frames.", "pose": f"poses/{count}.pose"})
            for count in (6, 7, 9)
        )
    )
    dataset = prepare_folder(manifest, tmp_path / "out")
    report = read_report(tmp_path / "out")
    assert report["reasons"] == {"pose_frame_mismatch": 1}
    assert "9 keypoint frames, the frame folder" in report["examples"]["pose_frame_mismatch"][0]
    assert dataset["train"]["pose"] == [str(tmp_path / "poses/6.pose"), str(tmp_path / "poses/7.pose")]
