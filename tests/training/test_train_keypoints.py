"""Keypoints in the training data path: the collator hands the model each row's .pose file (else the video's
sidecar), only to a processor that reads keypoints; rows whose pose file is gone or broken are skipped and counted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from signbind_hf import SignBindProcessor
from signbind_hf.constants import KEYPOINT_MASK, KEYPOINTS
from signbind_hf.keypoints_signbind import NUM_KEYPOINTS, read_pose_file, sidecar_pose_path, write_pose_file
from signbind_hf.tokenization_signbind import SignBindCTCTokenizer
from signbind_hf.training.clip_dataset import FORWARD_KEYS, ClipCollator, ClipDataset, load_split
from signbind_hf.training.skipped_rows import SkippedRows

from ..conftest import tiny_config
from .conftest import TEST_MAX_FRAMES


def _processor(data: Path, keypoints: bool) -> tuple[SignBindProcessor, object]:
    """A tiny model config and its processor (no face crops); with ``keypoints``, reading them from files only (no extractor)."""
    tokenizer = SignBindCTCTokenizer.for_glosses(load_split(data, "train")["pseudo_gloss"])
    # No lip expert: no phoneme target can make a row too short for the 32 frames the tests subsample to.
    config = tiny_config(gloss_vocab_size=len(tokenizer), use_lip=False)
    settings = {"keypoints": True, "keypoint_extractor": None} if keypoints else {"keypoints": False}
    processor = SignBindProcessor.from_model_config(
        config, gloss_tokenizer=tokenizer, max_frames=TEST_MAX_FRAMES, face_cropper=None, **settings
    )
    return processor, config


@pytest.fixture(scope="module")
def data_with_poses(mini_synthsign, tmp_path_factory) -> Path:
    """The mini SynthSign's train split with absolute video paths and a ``pose`` column: row 0 names a file
    relative to the data set folder, row 1 an absolute one (both the clip's sidecar with its hands moved, so they
    differ from it), row 2 none (its sidecar is used), row 3 a file that is gone, row 4 a file that is not a .pose."""
    import datasets

    root = tmp_path_factory.mktemp("poses") / "data"
    train = load_split(mini_synthsign, "train")
    poses = []
    for index, row in enumerate(train):
        video = mini_synthsign / row["video"]
        if index in (0, 1):
            moved = read_pose_file(sidecar_pose_path(video))
            moved.hands[..., 0] += 7.0  # 7 px to the right
            path = write_pose_file(moved, root / "poses" / f"moved-{index}.pose")
            poses.append("poses/moved-0.pose" if index == 0 else str(path))
        elif index == 3:
            poses.append(str(root / "poses" / "gone.pose"))
        elif index == 4:
            (root / "poses" / "garbage.pose").write_bytes(b"not a pose file" * 50)
            poses.append("poses/garbage.pose")
        else:
            poses.append(None)
    train = train.map(lambda row: {"video": str(mini_synthsign / row["video"])}).add_column("pose", poses)
    datasets.DatasetDict({"train": train}).save_to_disk(str(root))
    return root


def test_rows_with_missing_or_unreadable_pose_files_are_skipped_and_counted(data_with_poses):
    processor, config = _processor(data_with_poses, keypoints=True)
    report = SkippedRows()
    train = ClipDataset.from_split(data_with_poses, "train", processor, config, report)
    counts = report.to_dict()["train"]
    assert counts["reasons"]["missing_pose"] == 1
    assert counts["reasons"]["unreadable_pose"] == 1
    assert "gone.pose: no such file" in counts["examples"]["missing_pose"][0]
    kept = {example.row for example in train}
    assert not kept & {3, 4}
    assert train.examples[0].pose == str(data_with_poses / "poses/moved-0.pose")  # relative: in the data set folder


def test_the_collator_gives_keypoints_from_the_rows_pose_file_else_the_sidecar(data_with_poses):
    processor, config = _processor(data_with_poses, keypoints=True)
    train = ClipDataset.from_split(data_with_poses, "train", processor, config, SkippedRows(), max_examples=3)
    examples = [example for example in train if example.row in (0, 1, 2)]
    assert [example.row for example in examples] == [0, 1, 2]  # short enough for their targets at 32 frames
    batch = ClipCollator(processor)(examples)

    assert set(batch) == set(FORWARD_KEYS) - {"face_pixel_values", "face_attention_mask"}
    frames = batch["attention_mask"].shape[1]
    assert batch[KEYPOINTS].shape == (3, frames, NUM_KEYPOINTS, 2)
    assert batch[KEYPOINT_MASK].shape == (3, frames, NUM_KEYPOINTS)
    video_processor = processor.video_processor
    for index, example in enumerate(examples):
        real = int(batch["attention_mask"][index].sum())
        sidecar = sidecar_pose_path(example.video)
        expected_file = example.pose if example.pose is not None else sidecar
        expected = video_processor([example.video], keypoints=[str(expected_file)], return_tensors="pt")
        from_sidecar = video_processor([example.video], keypoints=[str(sidecar)], return_tensors="pt")
        torch.testing.assert_close(batch[KEYPOINTS][index, :real], expected[KEYPOINTS][0, :real])
        torch.testing.assert_close(batch[KEYPOINT_MASK][index, :real], expected[KEYPOINT_MASK][0, :real])
        assert batch[KEYPOINT_MASK][index, :real].any()
        assert not batch[KEYPOINT_MASK][index, real:].any()  # padding frames are masked
        moved = not torch.equal(batch[KEYPOINTS][index, :real], from_sidecar[KEYPOINTS][0, :real])
        assert moved == (example.pose is not None)  # rows 0 and 1 read their own file, row 2 its sidecar


def test_a_frames_only_processor_gets_no_keypoints_argument(data_with_poses):
    processor, config = _processor(data_with_poses, keypoints=False)
    report = SkippedRows()
    train = ClipDataset.from_split(data_with_poses, "train", processor, config, report, max_examples=5)
    # Its pose files are not its concern: the broken ones do not cost the rows.
    assert "missing_pose" not in report.to_dict()["train"]["reasons"]
    batch = ClipCollator(processor)(list(train)[:2])  # the video processor would raise on a keypoints argument
    assert KEYPOINTS not in batch
    assert KEYPOINT_MASK not in batch
    assert np.isfinite(batch["pixel_values"].numpy()).all()
