"""Feature cache: frozen expert outputs cached from a tiny SynthSign set fuse exactly as the live model does."""

import json
import logging

import numpy as np
import pytest
import torch

from signbind_cli.main import main as cli_main
from signbind_hf import SignBindConfig, SignBindModel, SignBindProcessor
from signbind_hf.data.feature_cache import (
    MANIFEST_FILE,
    CachedExpertOutputs,
    FeatureCacheMismatchError,
    FusionFeatureCollator,
    cache_dir_for,
    cache_expert_outputs,
    experts_fingerprint,
    read_manifest,
)
from signbind_hf.data.synthsign import generate_synthsign
from signbind_hf.targets import gloss_targets


@pytest.fixture(scope="module")
def synthsign(tmp_path_factory):
    """3 train clips, 1 validation clip whose file is gone, 1 test clip whose file is garbage."""
    root = tmp_path_factory.mktemp("feature_cache") / "synthsign"
    dataset = generate_synthsign(root, seed=0, num_train=3, num_validation=1, num_test=1, num_workers=1)
    (root / dataset["validation"][0]["video"]).unlink()
    (root / dataset["test"][0]["video"]).write_bytes(b"not a video at all")
    return root, dataset


@pytest.fixture(scope="module")
def saved_model(synthsign, tmp_path_factory):
    """A tiny model and its processor saved together, as a training run leaves them."""
    _, dataset = synthsign
    processor = SignBindProcessor.from_preset("tiny", glosses=dataset["train"]["pseudo_gloss"], face_cropper="boxes")
    torch.manual_seed(0)
    model = SignBindModel(SignBindConfig.from_preset("tiny", gloss_vocab_size=len(processor.tokenizer)))
    folder = tmp_path_factory.mktemp("model") / "experts"
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder, model, processor


@pytest.fixture(scope="module")
def cache(synthsign, saved_model):
    root, _ = synthsign
    _, model, processor = saved_model
    return cache_expert_outputs(model, processor, root, batch_size=2)


def test_cache_layout_counts_and_shapes(synthsign, saved_model, cache):
    root, _ = synthsign
    _, model, _ = saved_model
    assert cache == cache_dir_for(root, model)
    manifest = read_manifest(cache)
    assert manifest["experts_fingerprint"] == experts_fingerprint(model)
    assert (manifest["kept"], manifest["skipped"]) == (3, 2)
    assert manifest["splits"]["validation"]["reasons"] == {"missing_video": 1}
    assert manifest["splits"]["test"]["reasons"] == {"unreadable_video": 1}
    assert "test-000000" in manifest["splits"]["test"]["skipped_examples"]["unreadable_video"][0]
    assert not list(cache.parent.glob(".*partial*"))  # the staging folder was renamed into place

    train = CachedExpertOutputs(cache, "train", model)
    assert len(train) == 3
    config = model.config
    for example, num_frames in zip(train, dataset_frames(synthsign, "train"), strict=True):
        frames = example["face_attention_mask"].shape[0]
        assert frames == num_frames  # 25 fps clips are read whole at the processor's 25 fps
        assert example["sign_logits"].shape == (frames, config.gloss_vocab_size)
        assert example["router_logits"].shape == (frames, 3)
        assert example["fingerspelling_logits"].shape == (frames, config.letter_vocab_size)
        lip_steps = int(model.lip.output_lengths(torch.tensor([frames]))[0])  # the real frames' lip steps only
        assert example["phoneme_logits"].shape == (lip_steps, config.phoneme_vocab_size)
        assert example["face_attention_mask"].sum() == frames  # SynthSign gives a face box on every frame
        assert len(example["gloss_labels"]) > 0


def dataset_frames(synthsign, split):
    return synthsign[1][split]["num_frames"]


def test_cached_fusion_equals_the_model_on_video(synthsign, saved_model, cache):
    root, dataset = synthsign
    _, model, processor = saved_model
    model = model.set_stage("fusion").eval()
    rows = dataset["train"]
    inputs = processor(
        videos=[str(root / video) for video in rows["video"]],
        face_boxes=[np.asarray(boxes, dtype=np.float32) for boxes in rows["face_boxes"]],
        # The fusion's targets: each fingerspelled word marked [FS] (the letter stream fills it in).
        glosses=[
            gloss_targets(gloss, spelled, letter_expert=True)[0]
            for gloss, spelled in zip(rows["pseudo_gloss"], rows["fingerspelled_words"], strict=True)
        ],
    )
    train = CachedExpertOutputs(cache, "train", model)
    batch = FusionFeatureCollator()([train[index] for index in range(len(train))])
    with torch.no_grad():
        live = model(pixel_values=inputs["pixel_values"], face_pixel_values=inputs["face_pixel_values"],
                     attention_mask=inputs["attention_mask"], face_attention_mask=inputs["face_attention_mask"],
                     gloss_labels=inputs["gloss_labels"])  # fmt: skip
        cached = model.fuse_expert_outputs(**batch)
    assert torch.equal(batch["gloss_labels"], inputs["gloss_labels"])
    mask = inputs["attention_mask"][:, : batch["attention_mask"].shape[1]]
    assert torch.equal(batch["attention_mask"], mask)
    real = mask.bool()
    torch.testing.assert_close(cached.gloss_logits[real], live.gloss_logits[:, : real.shape[1]][real])
    torch.testing.assert_close(cached.loss, live.loss)


def test_a_model_with_other_expert_weights_is_refused(synthsign, saved_model, cache):
    _, model, _ = saved_model
    other = SignBindModel(model.config)
    other.load_state_dict(model.state_dict())
    with torch.no_grad():
        other.fusion.gloss_head.bias.add_(1.0)  # fusion weights are what trains on the cache: still valid
    assert len(CachedExpertOutputs(cache, "train", other)) == 3
    with torch.no_grad():
        other.manual.sign_head.bias.add_(1e-3)
    with pytest.raises(FeatureCacheMismatchError, match=r"fingerprint .* Run `signbind features` with this model"):
        CachedExpertOutputs(cache, "train", other)
    with pytest.raises(FeatureCacheMismatchError, match=r"no manifest\.json"):
        CachedExpertOutputs(cache.parent, "train", model)


def test_cli_caches_the_requested_splits(synthsign, saved_model, cache, tmp_path, caplog):
    root, _ = synthsign
    model_dir, model, _ = saved_model
    out = tmp_path / "cache"
    with caplog.at_level(logging.INFO):
        code = cli_main(["features", "--model", str(model_dir), "--data", str(root), "--splits", "train", "test",
                         "--batch-size", "3", "--float16", "--out", str(out)])  # fmt: skip
    assert code == 0
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert sorted(manifest["splits"]) == ["test", "train"]
    assert manifest["model"] == str(model_dir)
    assert manifest["dtype"] == "float16"
    assert "test: cached 0, skipped 1 (unreadable_video: 1)" in caplog.text
    half, full = CachedExpertOutputs(out, "train", model), CachedExpertOutputs(cache, "train", model)
    assert len(half) == 3
    assert half[0]["sign_logits"].dtype == torch.float32  # stored as float16, read back as float32
    torch.testing.assert_close(half[0]["sign_logits"], full[0]["sign_logits"], atol=2e-3, rtol=2e-3)
    assert not torch.equal(half[0]["sign_logits"], full[0]["sign_logits"])  # it really was stored in half precision


def test_cli_errors_name_the_problem(synthsign, saved_model, tmp_path, caplog):
    root, _ = synthsign
    _, model, _ = saved_model
    # A model folder without its processor and with another gloss vocabulary than the data set's.
    folder = tmp_path / "bare"
    torch.manual_seed(0)
    SignBindModel(
        SignBindConfig.from_preset("tiny", gloss_vocab_size=model.config.gloss_vocab_size + 3)
    ).save_pretrained(folder)
    assert cli_main(["features", "--model", str(folder), "--data", str(root)]) == 2
    assert "gloss_vocab_size" in caplog.text
    assert "--processor" in caplog.text
    model_dir = saved_model[0]
    assert cli_main(["features", "--model", str(model_dir), "--data", str(root), "--splits", "nope"]) == 2
    assert "splits: ['nope'] are not splits of" in caplog.text
    assert cli_main(["features", "--model", str(tmp_path), "--data", str(root)]) == 2
    assert "no config.json" in caplog.text


def test_a_prepared_folder_data_set_with_absolute_paths_and_times(tmp_path):
    """Real-format builders store absolute paths and start/end: the cache reads the clip's stretch only."""
    from signbind_hf.data.builders import prepare_folder

    from .builder_fixtures import tiny_video

    tiny_video(tmp_path / "clips/a.mp4", seconds=4.0)
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(
        json.dumps({"path": "clips/a.mp4", "text": "Where is the hospital?", "start": 0.5, "end": 2.5})
    )
    rows = prepare_folder(manifest, tmp_path / "data")["train"]
    processor = SignBindProcessor.from_preset("tiny", glosses=rows["pseudo_gloss"], face_cropper="opencv")
    torch.manual_seed(0)
    model = SignBindModel(SignBindConfig.from_preset("tiny", gloss_vocab_size=len(processor.tokenizer)))
    cache = cache_expert_outputs(model, processor, tmp_path / "data")
    example = CachedExpertOutputs(cache, "train", model)[0]
    assert example["sign_logits"].shape[0] == 50  # 2 s at the processor's 25 fps
    assert example["face_attention_mask"].sum() == 0  # a synthetic clip without a face: the lip stream is off
    batch = FusionFeatureCollator()([example])
    assert torch.isfinite(model.fuse_expert_outputs(**batch).loss)


def test_center_frames_changes_the_fingerprint_with_the_same_weights():
    """center_frames changes every expert output without touching a weight: a cache made without it is stale."""
    from signbind_hf import SignBindModel
    from tests.conftest import tiny_config

    plain = SignBindModel(tiny_config())
    centred = SignBindModel(tiny_config(center_frames=True))
    centred.load_state_dict(plain.state_dict())
    assert experts_fingerprint(plain) != experts_fingerprint(centred)
