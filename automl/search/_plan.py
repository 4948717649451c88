"""When the search stops, and how long each trial may take, so that the budget holds.

The search does not run until ``--timeout`` and then add the rest: it stops early enough for what
comes after it. That reserve is the refit of the best trial so far, estimated from its own fold
fit times (a fold trains on (k-1)/k of the rows, the refit on all of them), its prediction of the
test rows (from its own validation rows' time per row), the logging of a model of its size (by
the objects in it), plus the fixed cost of the end of a run (artifacts, MLflow), measured by the
previous run of the study when there was one.
"""

from __future__ import annotations

from automl.budget import Budget

from . import _attrs

REFIT_SAFETY = 1.5  # fit time grows faster than linearly in the rows for many models
SAVE_S_PER_PART = 0.0003  # logging a model in skops, per object in it (2,000 trees, 8,000 parts: ~2.4 s)
MIN_TRIAL_S = 0.5  # do not start a trial with less than this left


class SearchPlan:
    """The budget as the search sees it: trial deadlines and the moment to stop."""

    def __init__(self, budget: Budget, n_folds: int, overhead_s: float, ensemble_factor: float = 1.0,
                 test_rows: int = 0, save_s_per_part: float = SAVE_S_PER_PART):
        self.budget, self.n_folds, self.overhead_s = budget, n_folds, overhead_s
        self.ensemble_factor, self.test_rows = ensemble_factor, test_rows
        self.save_s_per_part = save_s_per_part

    def refit_estimate(self, study) -> float:
        """Seconds to refit the best trial so far on every training row (0 before one completes),
        times ``ensemble_factor`` when an ensemble of the best may be refitted instead."""
        try:
            best = study.best_trial
        except ValueError:
            return 0.0
        return (self.trial_refit_estimate(best)
                + REFIT_SAFETY * self.test_rows * _attrs.predict_rate(best)
                + self.save_s_per_part * _attrs.parts(best)) * self.ensemble_factor

    def trial_refit_estimate(self, trial) -> float:
        """Seconds to refit ``trial`` on every training row, from its own fold fit times."""
        folds = len(_attrs.fold_scores(trial)) or 1
        per_fold = (_attrs.fit_time(trial) or 0.0) / folds
        growth = self.n_folds / (self.n_folds - 1) if self.n_folds > 1 else 1.25
        return REFIT_SAFETY * per_fold * growth

    def reserve(self, study) -> float:
        return self.refit_estimate(study) + self.overhead_s

    def search_left(self, study) -> float | None:
        """Seconds the search may still use; None without a time budget."""
        end = self.budget.search_end(self.reserve(study))
        return None if end is None else end - self.budget.clock()

    def trial_seconds(self, study) -> float | None:
        """How long a trial starting now may run: to the search's end or ``trial_timeout``."""
        limits = [s for s in (self.search_left(study), self.budget.trial_timeout) if s is not None]
        return min(limits) if limits else None

    def should_stop(self, study) -> bool:
        left = self.search_left(study)
        return left is not None and left < MIN_TRIAL_S

    def callback(self, study, trial) -> None:
        """Optuna callback: stop starting trials once no time is left for another one."""
        if self.should_stop(study):
            study.stop()
