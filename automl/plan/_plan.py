"""When the search stops, and how long each trial may take, so that the budget holds.

The search does not run until ``--timeout`` and then add the rest: it stops early enough for what
comes after it. That reserve is the final model's cost estimated from the best trial so far: its
refit (from its own fold fit times: a fold trains on (k-1)/k of the rows, the refit on all of
them), its prediction of the test rows (from its own validation rows' time per row) and the
logging of a model of its size (by the objects in it), plus the fixed cost of the end of a run
(artifacts, MLflow), measured by the previous run of the study when there was one. The
explanation after the test is planned the same way: so many scoring passes at the best trial's
prediction rate, never more than its share of the budget.

Until a trial has completed there is nothing to refit, and a run without one ends in an error:
the first trials may then use the whole budget, so a tiny budget still ends with a model. After
that, a trial may take only so long that, should it become the best, its own refit still fits:
on a large table validated on one holdout split, one boosting trial can cost as much as the time
left, and its refit as much again.

Every method takes the best complete trials so far as :class:`TrialCost` records, best first
(``automl.trial.top_costs`` reads them from a study): the plan never reads a study itself.
"""

from __future__ import annotations

import math

from automl.errors import BudgetTooSmallError

from ._clock import Budget
from ._costs import REFIT_SAFETY, SAVE_S_PER_PART, TEST_PASSES, ExplainCost, TrialCost, save_seconds

# What the end of a run costs besides the refit (ensemble choice, test, artifacts, plots, MLflow),
# before a run of the study has measured it: seconds on a 2-core machine, measured at 60 s on the
# peer benchmark's tables.
FINAL_OVERHEAD_S = {"tracking": 4.5, "none": 2.5}
EXIT_S = 0.5  # closing the MLflow writer and exiting, after the summary
EXPLAIN_SHARE = 0.03  # of the budget, at most, for permutation importance after the test
# An ensemble's final cost against the best trial's, in the budget's reserve (at most
# ENSEMBLE_SHARE of the budget beyond the best trial's own); an ensemble that does not fit what
# is left drops members (see automl.plan.members_that_fit). Selection picks 3-8 members, most
# often of the best trial's family and cost.
ENSEMBLE_REFIT_FACTOR = 3.0
ENSEMBLE_SHARE = 0.1
SELECT_SHARE = 0.02  # of the budget, at most, for the ensemble's selection rounds
MIN_TRIAL_S = 0.5  # do not start a trial with less than this left


class SearchPlan:
    """The budget as the search and the end of the run see it."""

    def __init__(self, budget: Budget, n_folds: int, overhead_s: float, ensemble_factor: float = 1.0,
                 test_rows: int = 0, save_s_per_part: float = SAVE_S_PER_PART, exit_s: float = 0.0,
                 fold_jobs: int = 1, refit_factor: float = 1.0, explain: ExplainCost = ExplainCost()):
        self.budget, self.n_folds, self.overhead_s = budget, n_folds, overhead_s
        self.ensemble_factor, self.test_rows = ensemble_factor, test_rows
        self.save_s_per_part, self.exit_s, self.fold_jobs = save_s_per_part, exit_s, fold_jobs
        # Fits of the final model: 1, or 1 + (train + test rows) / train rows with refit_full.
        self.refit_factor = refit_factor
        self.explain = explain

    @classmethod
    def for_run(cls, budget: Budget, n_folds: int, measured_overhead_s: float | None, *, tracking: bool,
                ensembles: bool, refit_growth: float | None, test_rows: int, fold_jobs: int,
                explain_passes: tuple[int, int, tuple[float, int, int] | None] = (0, 0, None)) -> SearchPlan:
        """The plan of a run: the end-of-run overhead the study's last run measured, else the
        prior; ``refit_growth`` (refit_full): all rows against the training rows;
        ``explain_passes``: the explanation's passes, rows and optional extra (see
        :class:`ExplainCost`), planned up to EXPLAIN_SHARE of the budget."""
        overhead = measured_overhead_s
        if overhead is None:
            overhead = FINAL_OVERHEAD_S["tracking" if tracking else "none"]
        explain = ExplainCost(EXPLAIN_SHARE * (budget.total or 0.0), *explain_passes)
        return cls(budget, n_folds, overhead, ENSEMBLE_REFIT_FACTOR if ensembles else 1.0,
                   test_rows=test_rows, save_s_per_part=SAVE_S_PER_PART if tracking else 0.0,
                   exit_s=EXIT_S, fold_jobs=fold_jobs,
                   refit_factor=1.0 + refit_growth if refit_growth else 1.0, explain=explain)

    @property
    def members(self) -> int:
        """How many of the best trials the reserve counts (the likeliest ensemble members)."""
        return max(round(self.ensemble_factor), 1)

    def refit_estimate(self, top: list[TrialCost]) -> float:
        """Seconds for the final model (0 before a trial completes): the best trial's, or room
        for an ensemble of the best ``ensemble_factor`` when one may be refitted instead."""
        return self._final_reserve(top) if top else 0.0

    def _final_reserve(self, top: list[TrialCost]) -> float:
        """The best trial's, plus room for the next best as ensemble members (copies of the best
        while there are fewer), that room at most ENSEMBLE_SHARE of the budget: on a large table
        more members would eat the search."""
        best = top[0]
        one = self.final_estimate([best])
        count = self.members
        members = (list(top[:count]) + [best] * count)[:count]
        extra = self.final_estimate(members) - one
        if self.budget.total is not None:
            extra = min(extra, ENSEMBLE_SHARE * self.budget.total)
        return one + max(extra, 0.0)

    def final_estimate(self, costs: list[TrialCost]) -> float:
        """Seconds to refit these trials on every training row, predict the test rows, explain
        and log them as one model."""
        fit = sum(self.trial_refit_estimate(c) for c in costs)
        rate = sum(c.predict_s_per_row for c in costs)
        return self.refit_factor * fit + self.explain.seconds(rate) + self._test_and_save(costs)

    def after_fit_estimate(self, costs: list[TrialCost]) -> float:
        """Seconds the model of these trials needs after its fit: the test predictions, the
        logging and with refit_full the second fit (the explanation takes what is left)."""
        fit = sum(self.trial_refit_estimate(c) for c in costs)
        return (self.refit_factor - 1.0) * fit + self._test_and_save(costs)

    def _test_and_save(self, costs: list[TrialCost]) -> float:
        rate = sum(c.predict_s_per_row for c in costs)
        parts = sum(c.parts for c in costs)
        return REFIT_SAFETY * TEST_PASSES * self.test_rows * rate + save_seconds(parts, self.save_s_per_part)

    def trial_refit_estimate(self, cost: TrialCost) -> float:
        """Seconds to refit a trial on every training row, from its own fold fit times."""
        return REFIT_SAFETY * cost.fit_s / max(cost.folds, 1) * self._growth()

    def _growth(self) -> float:
        # A fold trains on (k-1)/k of the rows; a holdout split on 80% of them.
        return self.n_folds / (self.n_folds - 1) if self.n_folds > 1 else 1.25

    def own_refit_ratio(self) -> float:
        """A trial's refit against the trial's wall time: its folds run ``fold_jobs`` at a time,
        so a trial of W seconds fits about W * jobs / k per fold."""
        jobs = max(1, min(self.fold_jobs, self.n_folds))
        return REFIT_SAFETY * self._growth() * jobs / self.n_folds

    def reserve(self, top: list[TrialCost]) -> float:
        """Seconds kept for the end of the run."""
        if not top:
            return self.exit_s
        return self._final_reserve(top) + self.overhead_s + self.exit_s

    def search_left(self, top: list[TrialCost]) -> float | None:
        """Seconds the search may still use; None without a time budget."""
        end = self.budget.search_end(self.reserve(top))
        return None if end is None else end - self.budget.clock()

    def trial_seconds(self, top: list[TrialCost]) -> float | None:
        """How long a trial starting now may run: to the search's end, or ``trial_timeout``, or so
        long that its own refit still fits after it (once a trial has completed)."""
        limits = [s for s in (self.search_left(top), self.budget.trial_timeout,
                              self._own_limit(top[0] if top else None)) if s is not None]
        return min(limits) if limits else None

    def _own_limit(self, best: TrialCost | None) -> float | None:
        left = self.budget.left()
        if left is None or best is None:
            return None
        after = self.overhead_s + self.exit_s + self.explain.seconds(best.predict_s_per_row)
        return (left - after) / (1.0 + self.own_refit_ratio())

    def least_trial_s(self) -> float:
        """Room for the shortest trial worth starting (MIN_TRIAL_S) and the end of the run's
        overhead after it, which the reserve leaves out until a trial has completed."""
        return MIN_TRIAL_S + self.overhead_s

    def should_stop(self, top: list[TrialCost]) -> bool:
        """No time is left to start another trial."""
        left = self.search_left(top)
        return left is not None and left < MIN_TRIAL_S

    def too_small(self, top: list[TrialCost]) -> BudgetTooSmallError:
        """The least ``--timeout`` that leaves a first trial room: what set-up took, the end of
        the run as planned, and the shortest trial the search starts, in whole seconds."""
        budget = self.budget
        setup, reserve = budget.elapsed(), self.reserve(top)
        least = math.ceil(setup + reserve + self.least_trial_s())
        return BudgetTooSmallError(f"--timeout {budget.total:g}: set-up took {setup:.1f} s and the end "
                                   f"of the run needs ~{reserve:.1f} s, so no trial can run; the least "
                                   f"that works here is --timeout {max(least, math.floor(budget.total) + 1)}")

    def explain_share(self) -> float:
        """Seconds the explanation after the test may take at most (none without a budget)."""
        return EXPLAIN_SHARE * (self.budget.total or 0.0)

    def selection_seconds(self) -> float | None:
        """Seconds the ensemble's selection rounds may take (None: no budget)."""
        total = self.budget.total
        return None if total is None else SELECT_SHARE * total
