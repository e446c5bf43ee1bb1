"""Feature cache with a model that reads keypoints: each row's .pose file (else the clip's sidecar) reaches the
experts, and a row whose pose file is gone is skipped and counted, not cached from other keypoints."""

import datasets
import torch

from signbind_hf import SignBindConfig, SignBindModel, SignBindProcessor
from signbind_hf.constants import KEYPOINT_MASK, KEYPOINTS
from signbind_hf.data.feature_cache import SIGN_LOGITS, CachedExpertOutputs, cache_expert_outputs, read_manifest
from signbind_hf.data.synthsign import generate_synthsign
from signbind_hf.keypoints_signbind import read_pose_file, sidecar_pose_path, write_pose_file


def test_rows_pose_files_reach_the_experts(tmp_path):
    source = tmp_path / "synthsign"
    generated = generate_synthsign(source, seed=0, num_train=3, num_validation=0, num_test=0, num_workers=1)
    train = generated["train"]
    # Row 0 names a file relative to the data set folder (its sidecar with the hands moved), row 1 a file that is
    # gone, row 2 none (its sidecar is read).
    root = tmp_path / "data"
    moved = read_pose_file(sidecar_pose_path(source / train[0]["video"]))
    moved.hands[..., 0] += 7.0
    write_pose_file(moved, root / "poses" / "moved.pose")
    train = train.map(lambda row: {"video": str(source / row["video"])})
    train = train.add_column("pose", ["poses/moved.pose", str(root / "poses" / "gone.pose"), None])
    datasets.DatasetDict({"train": train}).save_to_disk(str(root))

    # Keypoints only, no lip expert: the experts read nothing but the keypoints (and are quick).
    processor = SignBindProcessor.from_preset(
        "tiny", glosses=train["pseudo_gloss"], face_cropper=None, keypoints=True, keypoint_extractor=None
    )
    torch.manual_seed(0)
    config = SignBindConfig.from_preset(
        "tiny", gloss_vocab_size=len(processor.tokenizer), manual_inputs="keypoints", use_lip=False
    )
    model = SignBindModel(config).eval()
    cache = cache_expert_outputs(model, processor, root, batch_size=2)

    report = read_manifest(cache)["splits"]["train"]
    assert (report["kept"], report["reasons"]) == (2, {"missing_pose": 1})
    assert "gone.pose: no such file" in report["skipped_examples"]["missing_pose"][0]
    cached = CachedExpertOutputs(cache, "train", model)
    assert [cached[index]["id"] for index in range(len(cached))] == [train[0]["id"], train[2]["id"]]

    # Row 0's experts saw its own pose file, not its sidecar.
    video = train[0]["video"]
    with torch.no_grad():
        own = processor.video_processor([video], keypoints=[str(root / "poses/moved.pose")])
        sidecar = processor.video_processor([video])
        assert not torch.equal(own[KEYPOINTS], sidecar[KEYPOINTS])
        logits = model(**{key: own[key] for key in ("pixel_values", "attention_mask", KEYPOINTS, KEYPOINT_MASK)})
    torch.testing.assert_close(cached[0][SIGN_LOGITS], logits.sign_logits[0], rtol=1e-4, atol=1e-5)
