"""The processed-clip cache with keypoints: stored and read back exactly, keyed by the pose file they come from."""

from __future__ import annotations

import os
import shutil

import numpy as np
import torch

from signbind_hf.constants import KEYPOINT_MASK, KEYPOINTS
from signbind_hf.keypoints_signbind import read_pose_file, sidecar_pose_path, write_pose_file
from signbind_hf.training.clip_cache import CachingVideoProcessor
from signbind_hf.training.clip_dataset import load_split
from signbind_hf.video_processing_signbind import SignBindVideoProcessor

from ..conftest import tiny_config
from .conftest import TEST_MAX_FRAMES


def _keypoint_processor() -> SignBindVideoProcessor:
    return SignBindVideoProcessor.from_model_config(
        tiny_config(manual_inputs="keypoints"), max_frames=TEST_MAX_FRAMES, face_cropper=None
    )


def test_cached_keypoints_read_back_exactly_and_a_changed_pose_file_misses(mini_synthsign, tmp_path):
    row = load_split(mini_synthsign, "train")[0]
    video = tmp_path / "clip.mp4"
    shutil.copy(mini_synthsign / row["video"], video)
    shutil.copy(sidecar_pose_path(mini_synthsign / row["video"]), sidecar_pose_path(video))
    caching = CachingVideoProcessor.wrap(_keypoint_processor(), tmp_path / "cache")

    first, second = caching([str(video)]), caching([str(video)])
    assert (caching.misses, caching.hits) == (1, 1)
    live = _keypoint_processor()([str(video)])
    for key in (KEYPOINTS, KEYPOINT_MASK):
        torch.testing.assert_close(first[key], second[key], rtol=0, atol=0)
        torch.testing.assert_close(first[key], live[key], rtol=0, atol=0)
    assert first[KEYPOINT_MASK].any()

    # The sidecar is rewritten (a newer estimate of the same clip): the cached keypoints are stale, not served.
    keypoints = read_pose_file(sidecar_pose_path(video))
    keypoints.hands[..., :2] += 5.0
    write_pose_file(keypoints, sidecar_pose_path(video))
    stat = os.stat(sidecar_pose_path(video))
    os.utime(sidecar_pose_path(video), ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    third = caching([str(video)])
    assert caching.misses == 2
    assert not torch.equal(third[KEYPOINTS], first[KEYPOINTS])

    # A pose file given as an argument is another source than the sidecar: another cache entry.
    given = tmp_path / "given.pose"
    keypoints.hands[..., :2] -= 10.0
    write_pose_file(keypoints, given)
    fourth = caching([str(video)], keypoints=[str(given)])
    assert caching.misses == 3
    assert not np.array_equal(fourth[KEYPOINTS].numpy(), third[KEYPOINTS].numpy())
