"""Processes that train side by side: the ablation variants (``signbind ablate --num-workers``), and in the quickstart
the LLM refiner beside the experts and the ablation variants beside the full model's fusion.

Small models on a CPU use one core each best (see ``tests/conftest.py``): on the 2-core VM, the quickstart's fusion
stage and refiner took 121 s in two one-thread processes against 224 s one after the other. Workers are spawned, not
forked: the parent may hold torch and OpenMP thread pools, which a fork copies in a broken state.

Example:

```python
>>> with worker_pool(2) as pool:
...     futures = [pool.submit(train_and_score_variant, name, **arguments) for name in ("no_lip", "lip_shift_none")]
```
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _set_up_worker(log_level: int) -> None:
    """One torch thread, and log lines at the parent's level (a spawned process starts with logging unconfigured)."""
    import torch

    torch.set_num_threads(1)
    logging.basicConfig(level=log_level, format=LOG_FORMAT, datefmt="%H:%M:%S")


def worker_pool(num_workers: int) -> ProcessPoolExecutor:
    """A pool of ``num_workers`` spawned processes, each with one torch thread and the parent's log level.

    What runs in it should show no progress bars (``disable_tqdm``): bars of two processes garble one terminal.
    """
    if not isinstance(num_workers, int) or isinstance(num_workers, bool) or num_workers < 1:
        raise ValueError(f"num_workers must be an integer >= 1; got {num_workers!r}")
    return ProcessPoolExecutor(
        num_workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_set_up_worker,
        initargs=(logging.getLogger().getEffectiveLevel(),),
    )


__all__ = ["worker_pool"]
