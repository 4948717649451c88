"""Create or resume the Optuna study, and run it.

The study remembers what it was created for (metric, task, data fingerprint...); resuming it with
something else is refused, since scores from different setups cannot be compared.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import warnings
from typing import Callable

from automl._stop import deferred
from automl.config import mask_url
from automl.errors import ConfigError, StudyMismatchError, first_line
from automl.trial import attrs

from ._locks import StudyPresence, creation_lock
from ._prune import OutclassedPruner
from ._queue import FixedQueue
from ._stale import fail_own_trial, fail_stale_trials
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


def default_study_name(data_name: str, target: str) -> str:
    """``<data>-<target>``, in the characters a study name keeps everywhere."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{data_name}-{target}")


def open_study(storage: str, study_name: str, direction: str, seed: int, pruner: str,
               guards: dict[str, str], heartbeat: tuple[int, int] | None = None, sampler: str = "tpe",
               fork: bool = False, note: Callable[[str], None] = lambda message: None):
    """Create the study, or load it and check it was made for the same metric, task and data.

    With ``fork`` (a default name, not the user's): a name taken by a study of other data or
    another setup (yesterday's data.csv, today's new rows) gives this setup a study of its own,
    ``<name>-<digest of the guards>``, resumed only when both match again; a nightly job must not
    break on day two. ``note`` says so."""
    try:
        return _open_study(storage, study_name, direction, seed, pruner, guards, heartbeat, sampler)
    except StudyMismatchError:
        if not fork:
            raise  # a name the user chose keeps its guard
    digest = hashlib.sha256(json.dumps(guards, sort_keys=True).encode()).hexdigest()[:10]
    own = f"{study_name}-{digest}"
    note(f"study {study_name} holds other data or another setup: this run uses {own}")
    return _open_study(storage, own, direction, seed, pruner, guards, heartbeat, sampler)


def _open_study(storage: str, study_name: str, direction: str, seed: int, pruner: str,
                guards: dict[str, str], heartbeat: tuple[int, int] | None, sampler: str):
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
    mismatch = attrs.check_guards(study, guards)  # names the metric that differs: check it first
    if mismatch is not None:
        key, old, new = mismatch
        raise StudyMismatchError(f"study {study_name!r} was created with {key}={old!r}, this run "
                                 f"has {new!r}; use another --study-name to start a new study")
    if study.direction.name.lower() != direction:  # load_if_exists keeps the stored direction
        raise StudyMismatchError(f"study {study_name!r} {study.direction.name.lower()}s its objective, "
                                 f"this run would {direction} it; use another --study-name")
    return study


def run_study(study, objective: Callable, n_trials: int | None, should_stop: Callable[[], bool],
              callbacks: list[Callable], fixed: list[dict] = ()) -> None:
    """Run trials until ``n_trials`` or ``should_stop()`` says the time is up (asked before each
    trial; see :meth:`automl.plan.SearchPlan.should_stop`); a trial that raises is recorded as
    FAIL and the search goes on. The ``fixed`` configurations the study has not tried run first,
    in order, enqueued one at a time (:class:`FixedQueue`)."""
    logging.getLogger("optuna").setLevel(logging.ERROR)
    if should_stop():
        return
    stopped = [False]

    def stop_when_time_is_up(study, trial) -> None:
        if should_stop():
            stopped[0] = True
            study.stop()

    queue = FixedQueue(list(fixed), n_trials, lambda: stopped[0])
    queue.prime(study)
    mine: list[int] = []
    study.ask = _asking_into(study.ask, mine)
    try:
        study.optimize(objective, n_trials=n_trials, catch=(Exception,),
                       callbacks=[*callbacks, stop_when_time_is_up, queue], gc_after_trial=False)
    except BaseException as exc:
        interrupted = _is_stop(exc)
        _fail_unfinished(study, mine, "stopped: the run was interrupted" if interrupted
                         else f"the search ended on {type(exc).__name__}: {first_line(exc)}")
        if interrupted and not isinstance(exc, KeyboardInterrupt):
            # Optuna's optimize turns a stop that lands in its tell into an UnboundLocalError.
            raise KeyboardInterrupt from exc
        raise
    finally:
        del study.ask


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
    for trial_id in ids[-1:]:  # one trial at a time here: those before it were told
        fail_own_trial(study, trial_id, reason)


def join_study(storage: str, study, also: Callable[[], object] = lambda: None,
               retry: bool = False) -> tuple[StudyPresence, int]:
    """Hold the study's presence for this process (see :class:`StudyPresence`). When no other
    process holds it, the trials left RUNNING were left by a process that died (SIGKILL, a
    crash, a lost machine): they are failed first (and retried once with ``retry``: a worker that
    joins a shared study just after another died must rerun its trial, as it would had it joined
    first), and ``also`` is called (other leftovers of such a process). Returns the presence and
    how many trials were failed."""
    presence, failed = StudyPresence(storage, study.study_name), []

    def alone() -> None:
        failed.append(fail_stale_trials(study, retry=retry))
        also()

    presence.join(alone)
    return presence, sum(failed)
