"""Fixtures of the training tests: one mini SynthSign (8 / 4 / 4 clips) per session and a helper to run a stage."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
# Subsampling every clip to 32 frames keeps a step in milliseconds; it leaves 16 lip steps, too few for the longer
# phoneme strings, so those rows are skipped as too short (the skip tests rely on it).
TEST_MAX_FRAMES = 32


@pytest.fixture(scope="session")
def mini_synthsign(tmp_path_factory) -> Path:
    from signbind_hf.data.synthsign import generate_synthsign

    root = tmp_path_factory.mktemp("synthsign") / "data"
    generate_synthsign(root, seed=0, num_train=8, num_validation=4, num_test=4, num_workers=1)
    return root


@pytest.fixture(scope="session")
def clip_cache(tmp_path_factory) -> Path:
    """One processed-clip cache for all the runs of the session: each clip is decoded once."""
    return tmp_path_factory.mktemp("clip_cache")


def stage_argv(stage: str, data: Path, out: Path, clip_cache: Path, *extra: str) -> list[str]:
    """The command line of a few-step tiny run (the shipped tiny YAML, made smaller on the command line)."""
    return [
        "--config",
        str(CONFIGS / f"{stage}_cpu.yaml"),
        "--stage",
        stage,
        "--data",
        str(data),
        "--out",
        str(out),
        "--clip_cache_dir",
        str(clip_cache),
        "--max_frames",
        str(TEST_MAX_FRAMES),
        "--dataloader_num_workers",
        "0",
        "--warmup_steps",
        "1",
        "--logging_steps",
        "1",
        "--per_device_train_batch_size",
        "2",
        "--per_device_eval_batch_size",
        "4",
        *extra,
    ]


@pytest.fixture(scope="session")
def flawed_data(mini_synthsign, tmp_path_factory):
    """The mini SynthSign with absolute video paths (as the real formats store them) and four flawed train rows."""
    import datasets

    root = tmp_path_factory.mktemp("flawed")
    garbage = root / "garbage.mp4"
    garbage.write_bytes(b"this is not a video" * 100)
    dataset = datasets.load_from_disk(str(mini_synthsign))

    def flaw(row, index):
        row["video"] = str(mini_synthsign / row["video"])
        if index == 0:
            row["video"] = str(root / "missing.mp4")
        elif index == 1:
            row["video"] = str(garbage)
        elif index == 2:
            row["pseudo_gloss"] = ""
        elif index == 3:
            row["phonemes"] = ""
        return row

    flawed = datasets.DatasetDict(
        {
            "train": dataset["train"].map(flaw, with_indices=True),
            "validation": dataset["validation"].map(lambda row: {"video": str(mini_synthsign / row["video"])}),
        }
    )
    flawed.save_to_disk(str(root / "data"))
    return root / "data"
