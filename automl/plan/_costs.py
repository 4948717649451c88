"""What the plan knows of a trial, and the cost model of the steps after the search.

A trial's cost is what its own folds measured: their fit time, how long it predicts a row, how
many objects its fitted model holds (logging a model costs time per object) and its pickled size.
"""

from __future__ import annotations

from dataclasses import dataclass

REFIT_SAFETY = 1.5  # fit time grows faster than linearly in the rows for many models
TEST_PASSES = 2  # the test computes labels and probabilities: two prediction passes
# Logging a model in skops costs time per object in it, and skops checks every array's name
# against all names written so far, so it grows with the square of the objects too. Measured:
# 4,000 objects 0.4 s, 12,000 1.9 s, 16,000 2.8 s; a 5-member ensemble of 32,000 9.7 s.
SAVE_S_PER_PART = 1.5e-4
SAVE_S_PER_PART_SQUARED = 6e-9
# A scoring pass of the explanation besides the model's own time per row: a shuffled copy of the
# table, the pipeline's fixed cost per call, the metric.
EXPLAIN_PASS_S = 0.02
TRANSFER_BPS = 100e6  # a fitted model's bytes per second through a pipe, pickled and unpickled


@dataclass(frozen=True)
class TrialCost:
    """A complete trial as the plan sees it (see :func:`automl.trial.cost_of`)."""

    number: int
    fit_s: float = 0.0  # its folds' fit time, all together
    folds: int = 1
    predict_s_per_row: float = 0.0
    parts: int = 0  # objects in a fitted fold model
    model_bytes: int = 0  # a fitted fold model, pickled


@dataclass(frozen=True)
class ExplainCost:
    """The explanation after the test: ``passes`` scoring passes over ``rows`` rows, and an
    optional ``extra`` after them (SHAP: a start in seconds, its calls, the rows it predicts in
    all), at most ``cap_s`` seconds. The extra is planned only when both fit the cap: it runs on
    what the passes leave and skips itself otherwise."""

    cap_s: float = 0.0
    passes: int = 0
    rows: int = 0
    extra: tuple[float, int, int] | None = None

    def seconds(self, predict_rate: float) -> float:
        """For a model that predicts a row in ``predict_rate`` seconds."""
        if self.cap_s <= 0:
            return 0.0
        passes = REFIT_SAFETY * self.passes * (self.rows * predict_rate + EXPLAIN_PASS_S)
        if self.extra is not None:
            start, calls, rows = self.extra
            both = passes + start + REFIT_SAFETY * (calls * EXPLAIN_PASS_S + rows * predict_rate)
            if both <= self.cap_s:
                return both
        return min(self.cap_s, passes)


def save_seconds(parts: int, per_part: float = SAVE_S_PER_PART) -> float:
    """Seconds to log a model of ``parts`` objects (0 without tracking: ``per_part`` 0)."""
    return per_part * parts + (SAVE_S_PER_PART_SQUARED * parts * parts if per_part else 0.0)
