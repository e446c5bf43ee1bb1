"""Training data: the processed-clip cache, skipped-row counting, the collator's batch, the lip loss without target."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from signbind_hf import SignBindModel, SignBindProcessor
from signbind_hf.constants import IGNORE_INDEX, KEYPOINT_MASK, KEYPOINTS, PHONEME_LABELS, SEGMENT_LABELS
from signbind_hf.tokenization_signbind import SignBindCTCTokenizer
from signbind_hf.training.clip_cache import CachingVideoProcessor
from signbind_hf.training.clip_dataset import FORWARD_KEYS, ClipCollator, ClipDataset, load_split
from signbind_hf.training.skipped_rows import SkippedRows

from ..conftest import make_batch, tiny_config
from .conftest import TEST_MAX_FRAMES


def _processor(data, max_frames: int = TEST_MAX_FRAMES, cache=None) -> tuple[SignBindProcessor, object]:
    tokenizer = SignBindCTCTokenizer.for_glosses(load_split(data, "train")["pseudo_gloss"])
    config = tiny_config(gloss_vocab_size=len(tokenizer))
    processor = SignBindProcessor.from_model_config(config, gloss_tokenizer=tokenizer, max_frames=max_frames)
    if cache is not None:
        processor.video_processor = CachingVideoProcessor.wrap(processor.video_processor, cache)
    return processor, config


def test_a_cached_clip_reads_back_what_was_decoded(mini_synthsign, tmp_path):
    processor, _ = _processor(mini_synthsign)
    row = load_split(mini_synthsign, "train")[1]
    video, boxes = str(mini_synthsign / row["video"]), [np.asarray(row["face_boxes"], dtype=np.float32)]
    caching = CachingVideoProcessor.wrap(processor.video_processor, tmp_path / "cache")
    first = caching([video], face_boxes=boxes)
    second = caching([video], face_boxes=boxes)
    assert (caching.misses, caching.hits) == (1, 1)
    assert len(list((tmp_path / "cache").glob("*.safetensors"))) == 1
    for key in first:
        torch.testing.assert_close(first[key], second[key], rtol=0, atol=0)  # a miss returns what a hit will
    live = processor.video_processor([video], face_boxes=boxes)
    # float16 storage: below the uint8 step of the normalised pixels (1 / (255 * 0.225) = 0.017)
    torch.testing.assert_close(first["pixel_values"], live["pixel_values"], rtol=0, atol=5e-3)
    torch.testing.assert_close(first["face_attention_mask"], live["face_attention_mask"])
    assert caching.to_dict()["video_processor_type"] == "SignBindVideoProcessor"
    other = CachingVideoProcessor.wrap(SignBindProcessor.from_preset("tiny").video_processor, tmp_path / "cache")
    other([video], face_boxes=boxes)  # other settings (max_frames 512): another file, not a stale clip
    assert (other.misses, len(list((tmp_path / "cache").glob("*.safetensors")))) == (1, 2)


def test_unusable_rows_are_skipped_and_counted_by_reason(flawed_data, tmp_path):
    processor, config = _processor(flawed_data)
    report = SkippedRows()
    train = ClipDataset.from_split(flawed_data, "train", processor, config, report)
    counts = report.to_dict()["train"]
    assert counts["reasons"]["missing_video"] == 1
    assert counts["reasons"]["unreadable_video"] == 1
    assert counts["reasons"]["empty_pseudo_gloss"] == 1
    # 32 frames give 16 lip steps: the rows with longer phoneme strings cannot be emitted by CTC
    assert counts["reasons"]["too_short_for_phonemes"] >= 1
    assert counts["kept_with_a_target_left_out"] == {"no_phonemes": 1}
    assert counts["kept"] == len(train) == 8 - counts["skipped"]
    assert 3 in [example.row for example in train]  # no phonemes: kept for the other experts
    assert report.write(tmp_path / "skipped.json").is_file()

    # What the check protects against: the model raises on a too-short clip, and trains on every kept one.
    model = SignBindModel(config).eval()
    model(**ClipCollator(processor)(list(train)))
    short = next(row for row in range(8) if row not in {0, 1, 2} | {example.row for example in train})
    rows = load_split(flawed_data, "train")
    too_short = dataclasses.replace(train[0], phonemes=rows[short]["phonemes"])
    with pytest.raises(ValueError, match="phoneme_labels: clip 0 is too short"):
        model(**ClipCollator(processor)([too_short]))


def test_the_collator_gives_exactly_the_forward_keys_and_aligned_segments(mini_synthsign):
    processor, config = _processor(mini_synthsign, max_frames=512)
    train = ClipDataset.from_split(mini_synthsign, "train", processor, config, SkippedRows(), max_examples=2)
    batch = ClipCollator(processor)([train[0], train[1]])
    assert set(batch) == set(FORWARD_KEYS) - {KEYPOINTS, KEYPOINT_MASK}  # a frames-only processor
    rows = load_split(mini_synthsign, "train")
    for index in range(2):
        frames = int(batch["attention_mask"][index].sum())
        assert frames == rows[index]["num_frames"]  # 25 fps source, 25 fps target: one label per frame
        assert batch[SEGMENT_LABELS][index, :frames].tolist() == rows[index]["segment_labels"]
        assert (batch[SEGMENT_LABELS][index, frames:] == IGNORE_INDEX).all()
    assert processor.phoneme_tokenizer.batch_decode(batch[PHONEME_LABELS], ctc=False) == rows["phonemes"][:2]


def test_the_collator_checks_the_input_values_that_forward_does_not_read(mini_synthsign):
    processor, config = _processor(mini_synthsign, max_frames=512)
    train = ClipDataset.from_split(mini_synthsign, "train", processor, config, SkippedRows(), max_examples=1)

    class CorruptingProcessor:  # the real processor, with one NaN in what it returns
        video_processor = processor.video_processor

        def __call__(self, *args, **kwargs):
            batch = processor(*args, **kwargs)
            batch["pixel_values"][0, 0, 0, 0, 0] = float("nan")
            return batch

    ClipCollator(processor)([train[0]])
    with pytest.raises(ValueError, match="pixel_values contains NaN or infinite values"):
        ClipCollator(CorruptingProcessor())([train[0]])


def test_a_clip_without_phoneme_target_is_left_out_of_the_lip_loss():
    model = SignBindModel(tiny_config()).eval()
    batch = make_batch(model.config)
    only_first = model(**{key: value[:1] for key, value in batch.items()}).lip_loss
    batch["phoneme_labels"][1] = IGNORE_INDEX
    torch.testing.assert_close(model(**batch).lip_loss, only_first)
    batch["phoneme_labels"][0] = IGNORE_INDEX
    output = model(**batch)
    assert output.lip_loss is None
    assert torch.isfinite(output.sign_loss)


def test_a_model_without_the_lip_expert_trains_on_rows_that_have_face_boxes(mini_synthsign):
    tokenizer = SignBindCTCTokenizer.for_glosses(load_split(mini_synthsign, "train")["pseudo_gloss"])
    config = tiny_config(gloss_vocab_size=len(tokenizer), use_lip=False)
    processor = SignBindProcessor.from_model_config(
        config, gloss_tokenizer=tokenizer, max_frames=TEST_MAX_FRAMES, face_cropper=None
    )
    train = ClipDataset.from_split(mini_synthsign, "train", processor, config, SkippedRows(), max_examples=2)
    assert train[0].face_boxes is not None  # SynthSign rows carry boxes; a processor without crops must ignore them
    batch = ClipCollator(processor)([train[0], train[1]])
    assert "face_pixel_values" not in batch
    assert torch.isfinite(SignBindModel(config)(**batch).loss)
