"""The Optuna objective: sample a pipeline, cross-validate it fold by fold, stop what cannot win.

Folds run in chunks of the runner's width (one, or one per worker process); after each chunk the
fold scores are reported as intermediate values (step = fold index), so the pruner can stop a
trial early. A trial also stops when it would overrun its time: when a fold hits the deadline,
or when the folds done so far project past it. Such a trial is PRUNED with the reason on it.
"""

from __future__ import annotations

import json
import time
from typing import Callable

import numpy as np

from automl.errors import AutomlError, TimeLimitError, describe
from automl.metrics import Metric
from automl.space import SearchSpace
from automl.trial import TrialSpec, attrs

from ._folds import FoldData, FoldResult
from ._oof import OOFStore


class FoldError(AutomlError):
    """A fold failed; the message is the fold's own ``Type: message``."""


class CVObjective:
    """Callable objective for ``Study.optimize``: mean CV score of the sampled pipeline.

    ``seconds_for(trial)`` gives the time a trial may take (None: no limit); ``clock`` measures it.
    ``on_start``/``on_end`` are called as the trial starts and just before it ends (while it can
    still be written), e.g. by the tracker linking the trial to its MLflow run.
    """

    def __init__(self, space: SearchSpace, data: FoldData, columns, metric: Metric, seed: int,
                 runner, on_start: Callable | None = None, on_end: Callable | None = None,
                 seconds_for: Callable | None = None, clock: Callable[[], float] = time.monotonic,
                 oof: OOFStore | None = None):
        self.space, self.data, self.columns, self.metric, self.seed = space, data, columns, metric, seed
        self.runner, self.on_start, self.on_end = runner, on_start, on_end
        self.seconds_for, self.clock, self.oof = seconds_for, clock, oof
        self._done: dict[str, tuple] = {}  # parameters -> results of this run's complete trials

    def __call__(self, trial) -> float:
        import optuna

        if self.on_start is not None:
            self.on_start(trial)
        spec = TrialSpec(*self.space.suggest(trial))
        spec.record(trial)
        key = json.dumps(trial.params, sort_keys=True, default=str)
        if key in self._done:  # TPE proposed a configuration it already has: same seed, same folds
            return self._repeat(trial, *self._done[key])
        scores, fit_time, kept, self._rates, self._parts, self._bytes = [], 0.0, [], [], 0, 0
        try:
            fit_time = self._folds(trial, spec, scores, kept)
        except TimeLimitError as exc:
            attrs.record_stopped(trial, str(exc))
            raise optuna.TrialPruned(str(exc)) from None
        except optuna.TrialPruned:
            raise
        except Exception as exc:
            attrs.record_error(trial, str(exc) if isinstance(exc, FoldError) else describe(exc))
            raise
        finally:
            # The median fold: one fold slowed by a busy machine would misstate the model.
            rate = float(np.median(self._rates)) if self._rates else None
            whole = len(scores) == len(self.data.folds)
            attrs.record_folds(trial, scores, fit_time, rate, self._parts, self._bytes,
                                float(np.std(scores)) if whole else None)
            if self.on_end is not None:
                self.on_end(trial)
        value = float(np.mean(scores))
        if self.oof is not None and len(kept) == len(scores):
            self.oof.add(trial.number, value, kept)
        self._done[key] = (trial.number, scores, fit_time, rate, self._parts, self._bytes)
        return value

    def _repeat(self, trial, number: int, scores, fit_time, rate, parts, model_bytes) -> float:
        """A duplicate of complete trial ``number``: its results without fitting again (fits are
        seeded, so they would be the same). On an easy table TPE proposed one k-NN configuration
        14 times in 121 trials; each refit cost time, and the copies' identical out-of-fold
        predictions crowded the ensemble's candidates."""
        for fold, value in enumerate(scores):
            trial.report(value, fold)
        attrs.record_folds(trial, scores, fit_time, rate, parts, model_bytes, float(np.std(scores)))
        attrs.record_duplicate(trial, number)
        if self.on_end is not None:
            self.on_end(trial)
        return float(np.mean(scores))

    def _folds(self, trial, spec: TrialSpec, scores: list[float], kept: list) -> float:
        """Run the folds chunk by chunk into ``scores``; return the summed fit time."""
        import optuna

        limit = self.seconds_for(trial) if self.seconds_for is not None else None
        started, fit_time = self.clock(), 0.0
        runner = self.runner.pick(spec)  # this process only for a fit known to be cheap
        chunks = self._chunks(runner)
        for done, chunk in enumerate(chunks, start=1):
            left = None if limit is None else limit - (self.clock() - started)
            if left is not None and left <= 0:
                raise TimeLimitError(f"time limit: no time left for fold {chunk[0]} ({limit:.1f} s "
                                     "allowed)")
            jobs = [(i, spec.build(self.space.task, self.columns, self.seed)) for i in chunk]
            for result in runner.run(jobs, left):
                fit_time += self._take(trial, result, scores)
                if result.predictions is not None:
                    kept.append((self.data.folds[result.fold][1], result.predictions))
            # After the last fold there is nothing left to save.
            if len(scores) < len(self.data.folds) and trial.should_prune():
                attrs.record_pruned(trial, len(scores) - 1)
                raise optuna.TrialPruned(f"pruned after fold {len(scores) - 1}")
            self._check_projection(limit, started, done, len(chunks))
        return fit_time

    def _take(self, trial, result: FoldResult, scores: list[float]) -> float:
        if result.kind == "time":
            raise TimeLimitError(f"time limit: fold {result.fold} was still fitting at the "
                                 "trial's deadline")
        if result.kind != "ok":
            raise FoldError(result.error)
        if result.fold == 0 and result.curve:  # one fold's curve shows how the optimizer behaved
            attrs.record_epoch_loss(trial, result.curve)
        trial.report(result.value, result.fold)
        scores.append(result.value)
        self._rates.append(result.predict_s_per_row)
        self._parts = max(self._parts, result.parts)
        self._bytes = max(self._bytes, result.model_bytes)
        return result.fit_time

    def _check_projection(self, limit: float | None, started: float, done: int, total: int) -> None:
        if limit is None or done >= total:
            return
        spent = self.clock() - started
        projected = spent / done * total
        if projected > limit:
            raise TimeLimitError(f"time limit: {done} of {total} fold rounds took {spent:.1f} s, "
                                 f"all would take ~{projected:.1f} s but {limit:.1f} s were allowed")

    def _chunks(self, runner) -> list[list[int]]:
        size = max(1, runner.workers)
        idx = list(range(len(self.data.folds)))
        return [idx[i:i + size] for i in range(0, len(idx), size)]
