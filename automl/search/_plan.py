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
"""

from __future__ import annotations

from dataclasses import dataclass

import optuna

from automl.budget import Budget

from . import _attrs

REFIT_SAFETY = 1.5  # fit time grows faster than linearly in the rows for many models
TEST_PASSES = 2  # the test computes labels and probabilities: two prediction passes
# Logging a model in skops costs time per object in it, and skops checks every array's name
# against all names written so far, so it grows with the square of the objects too. Measured:
# 4,000 objects 0.4 s, 12,000 1.9 s, 16,000 2.8 s; a 5-member ensemble of 32,000 9.7 s.
SAVE_S_PER_PART = 1.5e-4
SAVE_S_PER_PART_SQUARED = 6e-9
MIN_TRIAL_S = 0.5  # do not start a trial with less than this left
ENSEMBLE_SHARE = 0.1  # of the budget, at most, reserved for ensemble members beyond the first
# A scoring pass of the explanation besides the model's own time per row: a shuffled copy of the
# table, the pipeline's fixed cost per call, the metric.
EXPLAIN_PASS_S = 0.02


@dataclass(frozen=True)
class ExplainCost:
    """The explanation after the test: ``passes`` scoring passes over ``rows`` rows, and an
    optional ``extra`` after them (SHAP: a start in seconds, its calls, the rows it predicts in
    all), at most ``cap_s`` seconds. The extra is planned only when both fit the cap: it runs on
    what the passes leave and skips itself otherwise. A flat share of the budget held back 9 s
    at 300 s for an explanation that took 1.8 s."""

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


class SearchPlan:
    """The budget as the search sees it: trial deadlines and the moment to stop."""

    def __init__(self, budget: Budget, n_folds: int, overhead_s: float, ensemble_factor: float = 1.0,
                 test_rows: int = 0, save_s_per_part: float = SAVE_S_PER_PART, exit_s: float = 0.0,
                 fold_jobs: int = 1, refit_factor: float = 1.0, explain: ExplainCost = ExplainCost()):
        self.budget, self.n_folds, self.overhead_s = budget, n_folds, overhead_s
        self.ensemble_factor, self.test_rows = ensemble_factor, test_rows
        self.save_s_per_part, self.exit_s, self.fold_jobs = save_s_per_part, exit_s, fold_jobs
        # Fits of the final model: 1, or 1 + (train + test rows) / train rows with refit_full.
        self.refit_factor = refit_factor
        self.explain = explain
        self.stopped = False  # set when :meth:`callback` stopped the study

    def refit_estimate(self, study) -> float:
        """Seconds for the final model from the best trials so far (0 before one completes): the
        best trial's, or room for an ensemble of the best ``ensemble_factor`` when one may be
        refitted instead."""
        top = self._top(study)
        return self._final_reserve(top) if top else 0.0

    def _top(self, study) -> list:
        """The best trial, and with ensembles the next best up to ``ensemble_factor`` in all: the
        likeliest members (best first; [] before one completes)."""
        count = round(self.ensemble_factor)
        if count < 2:
            best = _best(study)
            return [] if best is None else [best]
        # One read of the trials on the per-trial path, the best among them (not best_trial too).
        done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        sign = -1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else 1.0
        ranked = sorted((t for t in done if t.value is not None), key=lambda t: (sign * t.value, t.number))
        return ranked[:count]

    def _final_reserve(self, top: list) -> float:
        """The final model's share of the reserve: the best trial's, plus room for the next best
        as ensemble members (copies of the best while there are fewer), that room at most
        ENSEMBLE_SHARE of the budget: on a large table more members would eat the search. Copies
        of the best alone left no room at 300 s on diamonds, where the trials after the best cost
        more than it."""
        best = top[0]
        one = self.final_estimate([best])
        count = max(round(self.ensemble_factor), 1)
        members = (top + [best] * count)[:count]
        extra = self.final_estimate(members) - one
        if self.budget.total is not None:
            extra = min(extra, ENSEMBLE_SHARE * self.budget.total)
        return one + max(extra, 0.0)

    def final_estimate(self, trials) -> float:
        """Seconds to refit ``trials`` on every training row, predict the test rows, explain and
        log them as one model."""
        fit = sum(self.trial_refit_estimate(t) for t in trials)
        rate = sum(_attrs.predict_rate(t) for t in trials)
        return self.refit_factor * fit + self.explain.seconds(rate) + self._test_and_save(trials)

    def after_fit_estimate(self, trials) -> float:
        """Seconds the model of ``trials`` needs after its fit: the test predictions, the
        logging and with refit_full the second fit (the explanation takes what is left)."""
        fit = sum(self.trial_refit_estimate(t) for t in trials)
        return (self.refit_factor - 1.0) * fit + self._test_and_save(trials)

    def _test_and_save(self, trials) -> float:
        rate = sum(_attrs.predict_rate(t) for t in trials)
        parts = sum(_attrs.parts(t) for t in trials)
        return REFIT_SAFETY * TEST_PASSES * self.test_rows * rate + save_seconds(parts, self.save_s_per_part)

    def trial_refit_estimate(self, trial) -> float:
        """Seconds to refit ``trial`` on every training row, from its own fold fit times."""
        folds = len(_attrs.fold_scores(trial)) or 1
        per_fold = (_attrs.fit_time(trial) or 0.0) / folds
        return REFIT_SAFETY * per_fold * self._growth()

    def _growth(self) -> float:
        # A fold trains on (k-1)/k of the rows; a holdout split on 80% of them.
        return self.n_folds / (self.n_folds - 1) if self.n_folds > 1 else 1.25

    def own_refit_ratio(self) -> float:
        """A trial's refit against the trial's wall time: its folds run ``fold_jobs`` at a time,
        so a trial of W seconds fits about W * jobs / k per fold."""
        jobs = max(1, min(self.fold_jobs, self.n_folds))
        return REFIT_SAFETY * self._growth() * jobs / self.n_folds

    def reserve(self, study) -> float:
        return self._reserve(self._top(study))

    def _reserve(self, top: list) -> float:
        if not top:
            return self.exit_s
        return self._final_reserve(top) + self.overhead_s + self.exit_s

    def search_left(self, study) -> float | None:
        """Seconds the search may still use; None without a time budget."""
        return self._search_left(self._top(study))

    def _search_left(self, top: list) -> float | None:
        end = self.budget.search_end(self._reserve(top))
        return None if end is None else end - self.budget.clock()

    def trial_seconds(self, study) -> float | None:
        """How long a trial starting now may run: to the search's end, or ``trial_timeout``, or so
        long that its own refit still fits after it (once a trial has completed)."""
        top = self._top(study)
        limits = [s for s in (self._search_left(top), self.budget.trial_timeout,
                              self._own_limit(top[0] if top else None)) if s is not None]
        return min(limits) if limits else None

    def _own_limit(self, best) -> float | None:
        left = self.budget.left()
        if left is None or best is None:
            return None
        after = self.overhead_s + self.exit_s + self.explain.seconds(_attrs.predict_rate(best))
        return (left - after) / (1.0 + self.own_refit_ratio())

    def least_trial_s(self) -> float:
        """Room for the shortest trial worth starting (MIN_TRIAL_S) and the end of the run's
        overhead after it, which the reserve leaves out until a trial has completed."""
        return MIN_TRIAL_S + self.overhead_s

    def should_stop(self, study) -> bool:
        left = self.search_left(study)
        return left is not None and left < MIN_TRIAL_S

    def callback(self, study, trial) -> None:
        """Optuna callback: stop starting trials once no time is left for another one."""
        if self.should_stop(study):
            self.stopped = True
            study.stop()


def _best(study):
    try:
        return study.best_trial
    except ValueError:
        return None
