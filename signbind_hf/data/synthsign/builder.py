"""Generating a SynthSign data set on disk: plan every example, render the clips in a process pool, save atomically.

The result is a folder that ``datasets.load_from_disk`` reads as a ``DatasetDict`` (train / validation / test), with
the clips under ``videos/`` (rows hold paths relative to the folder), a data set card (``README.md``) and the
generation settings (``synthsign.json``). It is built in a hidden sibling folder and renamed into place at the end,
so an interrupted run never leaves a half-written data set behind.
"""

import json
import logging
import multiprocessing
import os
import shutil
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

from ..saving import save_quietly
from .card import write_card
from .config import SPLITS, SYNTHSIGN_VERSION, SynthSignConfig
from .examples import ExamplePlan, plan_example, render_example
from .lexicon import GLOSSES, HOMONYM_GROUPS

logger = logging.getLogger(__name__)

# Default split sizes: large enough for the quickstart's targets on unseen signers, small enough to render in well
# under a minute on two cores (benchmarks/RESULTS.md).
DEFAULT_NUM_TRAIN = 500
DEFAULT_NUM_VALIDATION = 100
DEFAULT_NUM_TEST = 100
SETTINGS_FILE = "synthsign.json"


def synthsign_features():
    """The ``datasets.Features`` of every split (one source of truth for the schema)."""
    from datasets import Features, List, Value

    # The columns the real-format builders write (``signbind_hf.data.builders``) come first, with the same types, so
    # that one collator reads both; SynthSign adds what only a rendered data set can know.
    return Features(
        {
            "id": Value("string"),
            "video": Value("string"),  # mp4 path relative to the data set folder
            "start": Value("float32"),  # always None: every clip is one whole example
            "end": Value("float32"),
            "sentence": Value("string"),
            "pseudo_gloss": Value("string"),
            "phonemes": Value("string"),
            "letters": Value("string"),
            "fingerspelled_words": List(Value("string")),
            "segment_labels": List(Value("int8")),  # per frame: SEGMENT_SIGN / SEGMENT_FINGERSPELLING / SEGMENT_REST
            "signer_id": Value("string"),  # "0", "1", ...: split-disjoint identities (SynthSignConfig.signer_ids)
            "split": Value("string"),
            "source": Value("string"),  # "synthsign"
            "face_boxes": List(List(Value("float32"), length=4)),  # per frame: x0, y0, x1, y1 pixels
            "gloss_spans": List(List(Value("int32"), length=2)),  # per gloss word: [start, end) frames of the hands
            "lip_offset": Value("int32"),  # frames the mouthing lags the hands
            "fps": Value("float32"),
            "num_frames": Value("int32"),
        }
    )


def _check_count(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be an int >= 0, got {value!r}")


def _render_worker(plan: ExamplePlan, root: Path, fps: int, crf: int) -> None:
    render_example(plan, root, fps=fps, crf=crf)


def _pool_context() -> multiprocessing.context.BaseContext:
    # fork shares the already imported modules (importing signbind_hf costs seconds: it imports torch); where fork
    # does not exist, spawn re-imports them in each worker.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _render_all(plans: list[ExamplePlan], root: Path, config: SynthSignConfig, num_workers: int) -> None:
    render = partial(_render_worker, root=root, fps=config.fps, crf=config.crf)
    if num_workers <= 1 or len(plans) <= 1:
        for plan in plans:
            render(plan)
        return
    with ProcessPoolExecutor(max_workers=num_workers, mp_context=_pool_context()) as pool:
        # Results are consumed so that a worker's exception surfaces here.
        for _ in pool.map(render, plans, chunksize=max(1, len(plans) // (8 * num_workers))):
            pass


def generate_synthsign(
    out_dir: str | os.PathLike,
    *,
    seed: int = 0,
    num_train: int = DEFAULT_NUM_TRAIN,
    num_validation: int = DEFAULT_NUM_VALIDATION,
    num_test: int = DEFAULT_NUM_TEST,
    config: SynthSignConfig | None = None,
    num_workers: int | None = None,
    overwrite: bool = False,
):
    """Generate SynthSign into ``out_dir`` and return it as a ``datasets.DatasetDict``.

    Args:
        out_dir: the data set folder to create. It must not exist unless ``overwrite``.
        seed: everything (sentences, signers, timing, pixels) follows from it: the same seed and sizes give the
            same rows, byte for byte, and the same clips.
        num_train / num_validation / num_test: examples per split (0 makes an empty split).
        config: rendering settings (``SynthSignConfig()`` by default).
        num_workers: processes rendering clips; default: one per core, at most 2 (``os.cpu_count()``).
        overwrite: replace an existing ``out_dir`` (only once the new data set is complete).

    Returns:
        The ``DatasetDict`` as ``datasets.load_from_disk(out_dir)`` reads it back.
    """
    import datasets

    config = config or SynthSignConfig()
    sizes = {"train": num_train, "validation": num_validation, "test": num_test}
    for name, value in (("seed", seed), *(("num_" + split, size) for split, size in sizes.items())):
        _check_count(name, value)
    num_workers = num_workers if num_workers is not None else min(2, os.cpu_count() or 1)
    out_dir = Path(out_dir).absolute()
    if out_dir.exists() and not overwrite:
        raise FileExistsError(f"out_dir {out_dir} already exists: choose a new folder, or pass overwrite=True")
    out_dir.parent.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    plans = {
        split: [plan_example(seed, split, index, config) for index in range(size)] for split, size in sizes.items()
    }
    planned = time.perf_counter()
    staging = out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        _render_all([plan for split in SPLITS for plan in plans[split]], staging, config, num_workers)
        rendered = time.perf_counter()
        features = synthsign_features()
        # Column-wise, so that an empty split still gets every column.
        dataset = datasets.DatasetDict(
            {
                split: datasets.Dataset.from_dict(
                    {name: [plan.row[name] for plan in plans[split]] for name in features},
                    features=features,
                    split=split,
                )
                for split in SPLITS
            }
        )
        save_quietly(dataset, staging)
        settings = {
            "version": SYNTHSIGN_VERSION,
            "seed": seed,
            "sizes": sizes,
            "config": config.to_dict(),
            "num_glosses": len(GLOSSES),
            "homonym_groups": [list(group) for group in HOMONYM_GROUPS],
        }
        (staging / SETTINGS_FILE).write_text(json.dumps(settings, indent=2) + "\n")
        write_card(staging, settings)
        if out_dir.exists():  # overwrite: swap the finished data set in, then remove the old one
            retired = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            out_dir.rename(retired)
            staging.rename(out_dir)
            if retired.is_dir():
                shutil.rmtree(retired)
            else:  # --out named a file
                retired.unlink()
        else:
            staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info(
        "SynthSign %s: %s examples (%s) in %.1f s (planning %.1f s, rendering %.1f s with %d worker(s)) -> %s",
        SYNTHSIGN_VERSION,
        sum(sizes.values()),
        ", ".join(f"{split} {size}" for split, size in sizes.items()),
        time.perf_counter() - started,
        planned - started,
        rendered - planned,
        num_workers,
        out_dir,
    )
    return datasets.load_from_disk(str(out_dir))
