"""Saving a prepared data set: one helper shared by the real-format builders and SynthSign."""

from pathlib import Path


def save_quietly(dataset, path: Path) -> None:
    """``save_to_disk`` without its per-split progress bars (the builders log one summary line instead)."""
    from datasets.utils import logging as datasets_logging

    bars_were_enabled = datasets_logging.is_progress_bar_enabled()
    datasets_logging.disable_progress_bar()
    try:
        # One shard per split: an empty split saved with none cannot be loaded back (datasets 5.2).
        dataset.save_to_disk(path, num_shards=dict.fromkeys(dataset, 1))
    finally:
        if bars_were_enabled:
            datasets_logging.enable_progress_bar()
