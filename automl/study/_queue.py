"""Fixed configurations (baselines, then the space's portfolio) fed to a study one at a time.

Optuna runs an enqueued trial before it samples; enqueuing the whole portfolio up front would
leave every entry a short run did not reach as a WAITING trial in the study. Here the next entry
the study has not tried is enqueued only when no trial waits and the search goes on, so a run
that stops leaves nothing behind, and a resumed study carries on with the entries it has not run.
Parallel workers cannot be fed this way (they claim trials from the storage themselves): for
them :func:`enqueue_all` puts every entry in the storage at once.
"""

from __future__ import annotations

from collections.abc import Callable

from automl.trial import attrs



def enqueue_all(study, entries: list[dict]) -> None:
    for params in entries:
        study.enqueue_trial(params, skip_if_exists=True)


class FixedQueue:
    """An Optuna callback (put it after the one that may stop the study) that keeps the next
    untried entry enqueued while another trial will be asked: fewer than ``n_trials`` finished
    in this ``optimize`` and ``stopped()`` is false. Call :meth:`prime` once before ``optimize``
    so the first trial already takes an entry.
    """

    def __init__(self, entries: list[dict], n_trials: int | None, stopped: Callable[[], bool]):
        self.entries, self.n_trials, self.stopped, self.finished = list(entries), n_trials, stopped, 0

    def prime(self, study) -> None:
        tried = [attrs.fixed_params(t) for t in study.get_trials(deepcopy=False)]
        self.entries = [e for e in self.entries if e not in tried]
        if self.entries and self.n_trials != 0:
            self._feed(study)

    def __call__(self, study, trial) -> None:
        self.finished += 1
        more = self.n_trials is None or self.finished < self.n_trials
        if self.entries and more and not self.stopped():
            self._feed(study)

    def _feed(self, study) -> None:
        from optuna.trial import TrialState

        # Warm-start trials a retrain enqueued, or a stale trial's retry, go first.
        if not study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
            study.enqueue_trial(self.entries.pop(0))
