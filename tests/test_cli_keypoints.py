"""`signbind keypoints`: one .pose file per video, nothing half-written, one-line errors and exit code 2."""

import logging

import numpy as np
import pytest
from matplotlib import cbook
from PIL import Image

from signbind_cli.main import main
from signbind_hf.data.synthsign.video_writer import write_mp4


@pytest.fixture(scope="module")
def portrait_video(tmp_path_factory):
    photo = np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB"))
    path = tmp_path_factory.mktemp("videos") / "hopper.mp4"
    write_mp4(path, np.stack([photo] * 4), fps=25)
    return path


def test_writes_one_pose_file_per_video(portrait_video, tmp_path):
    from pose_format import Pose

    folder = tmp_path / "frames"
    folder.mkdir()
    Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB").save(folder / "0.png")
    out = tmp_path / "poses"
    assert main(["keypoints", str(portrait_video), str(folder), "--out", str(out), "--fps", "12.5"]) == 0
    assert sorted(path.name for path in out.iterdir()) == ["frames.pose", "hopper.pose"]
    video_pose = Pose.read((out / "hopper.pose").read_bytes())
    assert (video_pose.body.fps, video_pose.body.data.shape[0]) == (25.0, 4)
    assert (video_pose.header.dimensions.width, video_pose.header.dimensions.height) == (512, 600)
    assert Pose.read((out / "frames.pose").read_bytes()).body.fps == 12.5


@pytest.mark.parametrize("problem", ["missing", "corrupt", "out_is_file", "same_stem"])
def test_bad_input_is_one_line_and_exit_code_2(problem, portrait_video, tmp_path, caplog):
    out = tmp_path / "poses"
    videos = [str(portrait_video)]
    if problem == "missing":
        videos.append(str(tmp_path / "gone.mp4"))
    elif problem == "corrupt":
        corrupt = tmp_path / "broken.mp4"
        corrupt.write_bytes(b"\0not a video" * 50)
        videos.append(str(corrupt))
    elif problem == "out_is_file":
        out.write_text("")
    else:
        other = tmp_path / "elsewhere"
        other.mkdir()
        videos.append(str(other / "hopper.mp4"))
        (other / "hopper.mp4").write_bytes(portrait_video.read_bytes())
    with caplog.at_level(logging.ERROR):
        assert main(["keypoints", *videos, "--out", str(out)]) == 2
    (error,) = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert "\n" not in error.getMessage()
    if problem == "corrupt":
        assert "broken.mp4" in error.getMessage()
        # The good video before it was written; no temporary file of the broken one is left.
        assert sorted(path.name for path in out.iterdir()) == ["hopper.pose"]
