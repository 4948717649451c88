"""Where a trial's folds run: in this process, or in warm worker processes."""

from __future__ import annotations

import os

from automl.metrics import Metric

from ._folds import FoldData, InProcessRunner
from ._pool import PoolRunner

# Below this many cells (rows x columns) a fold fits in milliseconds: worker processes would
# cost more than they save, even several in parallel (a fold's message each way takes longer
# than its fit), and no fit on so little data runs long enough to need killing.
TINY_CELLS = 20_000


def default_memory_mb(workers: int) -> int:
    """Half of the machine's memory, shared by the fold processes."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 4096
    return max(256, int(total / 2 / max(1, workers) / 2**20))


def make_runner(data: FoldData, metric: Metric, workers: int, memory_mb: int | None = None):
    """Worker processes (killable at a deadline, memory-capped) unless the data is tiny and no
    memory limit was asked for."""
    if data.cells <= TINY_CELLS and memory_mb is None:
        return InProcessRunner(data, metric)
    return PoolRunner(data, metric, workers, memory_mb or default_memory_mb(workers))
