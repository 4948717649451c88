"""Create or resume the Optuna study, and run it.

The study remembers what it was created for (metric, task, data fingerprint...); resuming it with
something else is refused, since scores from different setups cannot be compared.
"""

from __future__ import annotations

import logging
import warnings
from typing import Callable

from automl._stop import deferred
from automl.config import mask_url
from automl.errors import BudgetTooSmallError, ConfigError, SearchFailedError, StudyMismatchError, first_line

from . import _attrs
from ._locks import StudyPresence, creation_lock
from ._plan import SearchPlan
from ._prune import OutclassedPruner
from ._queue import FixedQueue
from ._storage import make_storage


def make_pruner(name: str):
    import optuna

    if name == "outclassed":
        return OutclassedPruner()
    if name == "wilcoxon":
        with warnings.catch_warnings():  # "experimental" since 3.6; it is the pruner built for k-fold CV
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.pruners.WilcoxonPruner(p_threshold=0.1, n_startup_steps=2)
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    return optuna.pruners.NopPruner()


def open_study(storage: str, study_name: str, direction: str, seed: int, pruner: str,
               guards: dict[str, str], heartbeat: tuple[int, int] | None = None, sampler: str = "tpe"):
    """Create the study, or load it and check it was made for the same metric, task and data."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # we report trials ourselves
    with warnings.catch_warnings():  # group=True is "experimental" since 2.8
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        grouped = {"group": True, "multivariate": True} if sampler == "tpe_grouped" else {}
        sampler = optuna.samplers.TPESampler(seed=seed, **grouped)
    try:
        with creation_lock(storage):
            study = optuna.create_study(storage=make_storage(storage, heartbeat), study_name=study_name,
                                        direction=direction, sampler=sampler,
                                        pruner=make_pruner(pruner), load_if_exists=True)
    except ConfigError:
        raise  # the storage's file, refused before Optuna opened it
    except ValueError as exc:
        raise StudyMismatchError(f"study {study_name!r}: {exc}; use another --study-name") from None
    except Exception as exc:  # bad URL, unreachable server, missing driver
        raise ConfigError(f"storage {mask_url(storage)}: cannot open ({type(exc).__name__}: "
                          f"{first_line(exc)})") from None
    mismatch = _attrs.check_guards(study, guards)  # names the metric that differs: check it first
    if mismatch is not None:
        key, old, new = mismatch
        raise StudyMismatchError(f"study {study_name!r} was created with {key}={old!r}, this run "
                                 f"has {new!r}; use another --study-name to start a new study")
    if study.direction.name.lower() != direction:  # load_if_exists keeps the stored direction
        raise StudyMismatchError(f"study {study_name!r} {study.direction.name.lower()}s its objective, "
                                 f"this run would {direction} it; use another --study-name")
    return study


def run_study(study, objective: Callable, n_trials: int | None, plan: SearchPlan,
              callbacks: list[Callable], fixed: list[dict] = ()) -> None:
    """Run trials until ``n_trials`` or the plan says the time is up; a trial that raises is
    recorded as FAIL and the search goes on. The ``fixed`` configurations the study has not
    tried run first, in order, enqueued one at a time (:class:`FixedQueue`)."""
    logging.getLogger("optuna").setLevel(logging.ERROR)
    if plan.should_stop(study):
        raise _too_small(plan, study)
    queue = FixedQueue(list(fixed), n_trials, lambda: plan.stopped)
    queue.prime(study)
    mine: list[int] = []
    study.ask = _asking_into(study.ask, mine)
    try:
        study.optimize(objective, n_trials=n_trials, catch=(Exception,),
                       callbacks=[*callbacks, plan.callback, queue], gc_after_trial=False)
    except BaseException as exc:
        stopped = _is_stop(exc)
        _fail_unfinished(study, mine, "stopped: the run was interrupted" if stopped
                         else f"the search ended on {type(exc).__name__}: {first_line(exc)}")
        if stopped and not isinstance(exc, KeyboardInterrupt):
            # Optuna's optimize turns a stop that lands in its tell into an UnboundLocalError.
            raise KeyboardInterrupt from exc
        raise
    finally:
        del study.ask


def _too_small(plan: SearchPlan, study) -> BudgetTooSmallError:
    """The least ``--timeout`` that leaves a first trial room: what set-up took, the end of the
    run as planned, and the shortest trial the search starts, rounded up to whole seconds."""
    import math

    budget = plan.budget
    setup, reserve = budget.elapsed(), plan.reserve(study)
    least = math.ceil(setup + reserve + plan.least_trial_s())
    return BudgetTooSmallError(f"--timeout {budget.total:g}: set-up took {setup:.1f} s and the end "
                               f"of the run needs ~{reserve:.1f} s, so no trial can run; the least "
                               f"that works here is --timeout {max(least, math.floor(budget.total) + 1)}")


def _asking_into(ask: Callable, ids: list[int]) -> Callable:
    """``study.ask`` that notes the id of each trial it creates, and takes a stop only once the
    id is noted: a trial created but never handed back would otherwise stay RUNNING for good."""
    def noting_ask(*args, **kwargs):
        with deferred():
            trial = ask(*args, **kwargs)
            ids.append(trial._trial_id)
        return trial

    return noting_ask


def _is_stop(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = exc.__context__
    return False


def _fail_unfinished(study, ids: list[int], reason: str) -> None:
    """The search was cut short (a stop between Optuna's own steps, or an error in them, which
    Optuna does not catch): the trial this process created and left RUNNING ends as FAIL."""
    from optuna.trial import TrialState

    for trial_id in ids[-1:]:  # one trial at a time here: those before it were told
        try:
            trial = study._storage.get_trial(trial_id)
            if trial.state == TrialState.RUNNING:
                _attrs.fail_trial(study._storage, trial, reason)
        except Exception:  # noqa: BLE001 - the store is gone too: retrain and resume clean up stale trials
            pass


def best_trial(study):
    """The best COMPLETE trial, or a clear error that lists why trials failed."""
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if complete:
        return study.best_trial
    failed = study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
    errors = sorted({_attrs.error(t) or "unknown error" for t in failed})
    stopped = sorted({_attrs.stopped(t) for t in study.get_trials(
        deepcopy=False, states=(TrialState.PRUNED,)) if _attrs.stopped(t)})
    if not failed and stopped and all(reason.startswith("time limit") for reason in stopped):
        # Nothing went wrong but the time: the budget (or the space's iterations) is the user's.
        raise BudgetTooSmallError(f"study {study.study_name!r}: no trial finished in its time "
                                  f"({stopped[0]}); raise --timeout or --trial-timeout, or bound "
                                  "the space's iterations (max_iter, n_estimators)")
    detail = f"; errors: {' | '.join(errors[:3])}" if errors else ""
    detail += f"; stopped: {' | '.join(stopped[:2])} (raise --timeout or trial_timeout)" \
        if stopped else ""
    raise SearchFailedError(f"study {study.study_name!r}: no trial completed "
                            f"({len(failed)} failed){detail}")


def fail_stale_trials(study) -> int:
    """Mark trials left RUNNING (by a crashed process) as FAIL. Call only when no live worker
    can own them, e.g. under the retrain lock. Returns how many were failed."""
    from optuna.trial import TrialState

    stale = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for trial in stale:
        _attrs.fail_trial(study._storage, trial, "stale: its process died")
    return len(stale)


def join_study(storage: str, study, also: Callable[[], object] = lambda: None) -> tuple[StudyPresence, int]:
    """Hold the study's presence for this process (see :class:`StudyPresence`). When no other
    process holds it, the trials left RUNNING were left by a process that died (SIGKILL, a
    crash, a lost machine): they are failed first, and ``also`` is called (other leftovers of
    such a process). Returns the presence and how many trials were failed."""
    presence, failed = StudyPresence(storage, study.study_name), []

    def alone() -> None:
        failed.append(fail_stale_trials(study))
        also()

    presence.join(alone)
    return presence, sum(failed)


def describe_states(states: dict[str, int]) -> str:
    """``{"COMPLETE": 7, "PRUNED": 2}`` as ``7 complete, 2 pruned``, commonest first."""
    return ", ".join(f"{n} {s.lower()}" for s, n in sorted(states.items(), key=lambda kv: -kv[1])) or "none"


def count_states(study) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    return counts
