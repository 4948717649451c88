"""The clock of a run: ``--timeout`` is the time from process start to a tested, logged model.

A :class:`Budget` knows when the process started and how long the whole command may take. The
search asks it when to stop starting trials (``search_end``: the end of the budget minus what the
final model, the test and the logging will need) and when each trial must end. Its clock is
injectable, so tests count budget units instead of seconds.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

from automl.errors import TimeLimitError

# The deadline of the fold being fitted in this process (monotonic seconds), or None: iterative
# models call check_time() between epochs or chunks and stop cleanly instead of being killed.
_fold_deadline: float | None = None


@contextmanager
def time_limit(deadline: float | None):
    """Let iterative fits in this block stop at ``deadline`` (``time.monotonic`` scale)."""
    global _fold_deadline
    previous, _fold_deadline = _fold_deadline, deadline
    try:
        yield
    finally:
        _fold_deadline = previous


def check_time() -> None:
    """Raise :class:`TimeLimitError` if the current fold is past its deadline."""
    if _fold_deadline is not None and time.monotonic() > _fold_deadline:
        raise TimeLimitError("the fit ran past the trial's deadline")


def process_started(clock: Callable[[], float] = time.monotonic) -> float:
    """The moment this process started, on ``clock``'s scale (``time.monotonic`` by default).

    Interpreter start-up and imports happen before any of our code runs; Linux tells when the
    process began, so that time is counted against the budget too.
    """
    now = clock()
    try:
        ticks = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19])
        uptime = float(open("/proc/uptime").read().split()[0])
    except (OSError, ValueError, IndexError):
        return now
    age = uptime - ticks / os.sysconf("SC_CLK_TCK")
    return now - max(0.0, min(age, 60.0))  # a clock quirk must not eat the budget


@dataclass
class Budget:
    """How long the whole command may take, and what is already spent.

    ``total`` is None without ``--timeout``: then only ``trial_timeout`` (if set) limits trials.
    """

    total: float | None
    trial_timeout: float | None = None
    clock: Callable[[], float] = time.monotonic
    started: float | None = None  # default: now (the CLI passes process_started())
    marks: dict[str, float] = field(default_factory=dict)  # phase name -> when it ended

    def __post_init__(self) -> None:
        if self.started is None:
            self.started = self.clock()

    def elapsed(self) -> float:
        return self.clock() - self.started

    def left(self) -> float | None:
        """Seconds until the end of the budget (negative once it is over); None: no budget."""
        return None if self.total is None else self.total - self.elapsed()

    def search_end(self, reserve: float) -> float | None:
        """When the search must be over so that ``reserve`` seconds remain for the end of the run
        (on the clock's scale); None without a budget."""
        return None if self.total is None else self.started + self.total - reserve

    def trial_deadline(self, search_end: float | None) -> float | None:
        """When a trial starting now must be over: the search's end, or ``trial_timeout``
        from now, whichever comes first."""
        ends = [t for t in (search_end, self.clock() + self.trial_timeout
                            if self.trial_timeout else None) if t is not None]
        return min(ends) if ends else None

    def mark(self, phase: str) -> None:
        """Record that ``phase`` ended now (see :meth:`timings`)."""
        self.marks[phase] = self.clock()

    def timings(self) -> dict[str, float]:
        """Seconds per phase, in the order they were marked, and the total so far."""
        out, last = {}, self.started
        for phase, at in self.marks.items():
            out[phase] = round(at - last, 3)
            last = at
        out["total"] = round(self.elapsed(), 3)
        return out
