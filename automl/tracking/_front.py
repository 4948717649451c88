"""The search-process side of tracking: it only queues records for the writer process.

Design, for near-zero overhead: a writer *process* owns the MLflow client. The search process only
puts small records on a queue, so MLflow's (pure-Python, GIL-bound) client work runs on another
core. Child runs are created one trial ahead (when the previous trial ends), so a trial finds its
run id ready when it starts and stores it on the Optuna trial; the record logged when it ends
names the trial on the run. Every run is closed with its true status: FINISHED, FAILED or KILLED.
The writer also closes everything if the search process disappears.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

from automl._files import private_folder
from automl._version import __version__
from automl.config import mask_url
from automl.errors import ConfigError, TrackingError, WriterGoneError
from automl._sqlite import private_sqlite
from automl.trial import attrs

from ._records import STATUS, FinalLog, trial_record
from ._pipe import WriterClient, WriterProcess, end_runs_directly

DB_FILE = "mlflow.db"
READY_TIMEOUT_S = 600  # a fresh SQLite store runs its migrations first (~5 s), a server may be slow
REPLY_TIMEOUT_S = 600


def resolve_tracking_uri(uri: str | None, workdir: Path) -> tuple[str, str | None]:
    """The tracking URI and, for the embedded store, where a new experiment keeps its artifacts."""
    if uri:
        return uri, None
    mlruns = private_folder(Path(workdir).resolve(), "mlruns")
    artifacts = private_folder(mlruns, "artifacts")
    # MLflow writes there under names of its own: each new run's folder under a new random name,
    # every logged model under models/, the one name known beforehand, so the one to check.
    private_folder(artifacts, "models", create=False)
    return f"sqlite:///{private_sqlite(mlruns / DB_FILE)}", artifacts.as_uri()


class NullTracker:
    """Tracking turned off (``--no-tracking``): every hook does nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def on_trial_start(self, trial) -> None:
        pass

    def on_trial_end(self, trial) -> None:
        pass

    def on_trial(self, study, trial) -> None:
        pass

    def kill_run(self, run_id: str, number: int) -> None:
        pass

    def flush(self) -> None:
        pass

    def log_final(self, final: FinalLog) -> dict:
        return {}

    def log_summary(self, summary: dict) -> None:
        pass


def open_tracker(cfg, workdir: Path, study, storage_masked: str, space_path: str,
                 parent_tags: dict[str, str], warn: Callable[[str], None],
                 retrain_of: str | None = None, parent_run_id: str | None = None,
                 close_parent: bool = True, writer: WriterProcess | None = None):
    """A tracker for this run: :class:`MlflowTracker`, or :class:`NullTracker` when turned off."""
    if not cfg.tracking:
        return NullTracker()
    study_name = study.study_name
    uri, artifacts = resolve_tracking_uri(cfg.tracking_uri, workdir)
    params = {k: v for k, v in cfg.model_dump().items() if v is not None}
    for key in ("storage", "tracking_uri"):  # never a password in params
        if key in params:
            params[key] = mask_url(str(params[key]))
    files = {"config.json": json.dumps({**cfg.model_dump(), **params}, indent=2, default=str)}
    space = Path(space_path)
    if space.is_file():
        files[f"search_space/{space.name}"] = space.read_text()
    tags = {"automl.study_name": study_name, "automl.storage": storage_masked,
            "automl.config_hash": cfg.fingerprint(), "automl.version": __version__, **parent_tags}
    commit = _git_commit(workdir)
    if commit:
        tags["mlflow.source.git.commit"] = tags["automl.git_commit"] = commit
    settings = {"uri": uri, "experiment": cfg.experiment or study_name, "artifacts": artifacts,
                "run_name": f"{study_name}-{time.strftime('%Y%m%d-%H%M%S')}", "tags": tags,
                "params": params, "files": files, "study_name": study_name,
                "metric": parent_tags.get("automl.metric"), "retrain_of": retrain_of,
                "parent_run_id": parent_run_id, "close_parent": close_parent}
    if retrain_of:
        tags["automl.retrain_of"] = retrain_of
    return MlflowTracker(settings, warn, writer, study)


def start_writer_early(cfg, workdir: Path) -> WriterProcess | None:
    """Start the MLflow writer before the data is read, so the store's set-up (migrations of a
    fresh SQLite store: ~5 s) overlaps the run's own set-up and first trials."""
    if not cfg.tracking:
        return None
    return WriterProcess(resolve_tracking_uri(cfg.tracking_uri, workdir)[0])


class MlflowTracker:
    """The run's tracking as the search sees it: the parent run's life (opened on enter, closed
    with its true status on exit), a child run per trial through Optuna's callbacks, the final
    model. What goes over the pipe to the writer is :class:`WriterClient`'s.

    Nothing here waits for the writer unless it must: a trial that starts before the writer has
    a child run ready gets its run (and the link to it) when it ends.
    """

    def __init__(self, settings: dict[str, Any], warn: Callable[[str], None],
                 writer: WriterProcess | None = None, study=None):
        self.settings, self.warn, self._writer, self._study = settings, warn, writer, study
        self._ids: tuple[str, str] | None = None  # experiment id, parent run id
        self._ready_runs: list[str] = []
        self._current: str | None = None
        self._trial = None  # the trial that claimed ``_current``
        self._unlinked = False  # the running trial has no run yet
        self._error: Exception | None = None  # raised from the next callback, not inside a trial
        self._closed = False
        self.store_open_s: float | None = None

    def __enter__(self):
        self._pipe = WriterClient(self._writer or WriterProcess(self.settings["uri"]), self._handle)
        self._post(self.settings)
        # Two runs ahead, then one more per finished trial: a spare is ready when the next trial
        # starts, so the trial is linked to its run (visible in the UI) while it runs, not only
        # after. The spare left at the end is deleted on close.
        self._post(("new_run",))
        self._post(("new_run",))
        finished = self._finished() if self._study is not None else []
        if any(attrs.run_id(t) for t in finished):
            self._post(("unsettled",))
        unlinked = [t for t in finished if not attrs.run_id(t)]
        if unlinked:
            self._post(("unlinked", [trial_record(t, self.settings["metric"]) for t in unlinked]))
        return self

    def _finished(self):
        from optuna.trial import TrialState

        return self._study.get_trials(deepcopy=False, states=tuple(
            s for s in TrialState if s.is_finished()))

    # A trial finishes without a run id when the writer died while it ran (the run then fails
    # with the writer's error) or tracking was off: "unlinked" has the writer log it in a run of
    # its own, unless this study already has a run for its number.

    def _settle(self, statuses: dict[str, str]) -> None:
        """Log the trials that finished in the study while their runs did not: a stop between
        Optuna's tell and the trial's record closed the run as KILLED. Same run, now whole. A
        trial failed for its process (which died or was stopped) keeps its run KILLED (or FAILED
        as stale); one still RUNNING, whose process took its writer with it, is closed KILLED. Such
        a trial was failed by automl (marked so) or by Optuna's heartbeat check (then retried)."""
        trials = self._study.get_trials(deepcopy=False)
        retried = attrs.retried_numbers(trials)  # the retries may still wait or run
        for trial in (t for t in trials if t.state.is_finished()):
            run_id = attrs.run_id(trial)
            if run_id not in statuses:
                continue
            if attrs.ended_outside(trial) or trial.number in retried:
                if statuses[run_id] == "RUNNING":
                    self.kill_run(run_id, trial.number)
            elif statuses[run_id] != STATUS[trial.state.name]:
                self._post(("trial", run_id, trial_record(trial, self.settings["metric"])))

    @property
    def parent_run_id(self) -> str:
        if self._ids is None:
            self._pipe.wait_for("ready", READY_TIMEOUT_S)
        return self._ids[1]

    @property
    def experiment_id(self) -> str:
        if self._ids is None:
            self._pipe.wait_for("ready", READY_TIMEOUT_S)
        return self._ids[0]

    def on_trial_start(self, trial) -> None:
        """Give the starting trial a child run if one is ready, without waiting for one."""
        try:
            self._pipe.drain()
        except Exception as exc:  # surfaced by the next callback, outside the trial
            self._error = exc
            return
        if self._ready_runs:
            self._claim(trial)
        else:
            self._unlinked = True

    def on_trial_end(self, trial) -> None:
        """A trial that started before a run was ready gets one now, while it can be written."""
        if not self._unlinked or self._error is not None:
            return
        try:
            while not self._ready_runs:
                self._pipe.wait_for("run", REPLY_TIMEOUT_S)
        except Exception as exc:
            self._error = exc
            return
        self._claim(trial)

    def _claim(self, trial) -> None:
        self._unlinked = False
        self._trial = trial
        self._current = self._ready_runs.pop(0)
        if self._current is None:  # the writer could not create it (reported as a warning)
            return
        # Claim first: a process killed between the two steps then leaves a run the writer closes
        # as this trial's KILLED run, never a trial pointing at a run deleted as unused.
        self._post(("claim", self._current, trial.number))
        attrs.record_run_id(trial, self._current)

    def on_trial(self, study, trial) -> None:
        """Optuna callback after each trial: queue its record, pre-create the next run."""
        if self._error is not None:
            raise self._error
        run_id = attrs.run_id(trial)
        self._post(("new_run",))
        if run_id:
            self._post(("trial", run_id, trial_record(trial, self.settings["metric"])))
        self._current = None

    def kill_run(self, run_id: str, number: int) -> None:
        """Close the run of trial ``number`` whose worker died (found stale) as KILLED."""
        self._post(("kill", run_id, number))

    def flush(self) -> None:
        """Wait until every queued record is written."""
        self._post(("flush",))
        self._pipe.wait_for("flushed", REPLY_TIMEOUT_S)

    def log_final(self, final: FinalLog) -> dict[str, Any]:
        """Log the final model and its evidence on the parent run; register it if asked."""
        self._post(("final", final))
        result = self._pipe.wait_for("final_done", REPLY_TIMEOUT_S)[1]
        if "error" in result:  # the parent run is then closed as FAILED; nothing half-registered
            raise TrackingError(mask_url(f"could not log the final model to {self.settings['uri']}: "
                                         f"{result['error']}"))
        return result

    def log_summary(self, summary: dict[str, Any]) -> None:
        text = json.dumps(summary, indent=2, default=str)
        self._post(("text", "summary.json", text))

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            status = "FINISHED"
        elif issubclass(exc_type, KeyboardInterrupt):
            status = "KILLED"
        else:
            status = "FAILED"
        self._close(status)
        return False

    def _close(self, status: str) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._pipe.gone():
                raise WriterGoneError()
            if status != "FINISHED":
                self._log_current_if_finished()
            self._pipe.send_raw(("close", status, self._current))
            self._pipe.wait_for("closed", REPLY_TIMEOUT_S)
        except (OSError, TrackingError, ConfigError):
            if self._ids is not None:
                end_runs_directly(self.settings["uri"], *self._ids, "FAILED" if status == "FINISHED" else status)
            if status == "FINISHED":  # a clean end must not hide that the writer failed
                raise
        finally:
            self._pipe.release()

    def _log_current_if_finished(self) -> None:
        """Stopped between Optuna's tell and :meth:`on_trial`: the trial is whole in the study,
        so its run is logged whole too, not closed as KILLED."""
        if self._current is None or self._trial is None:
            return
        try:
            frozen = self._trial.study._storage.get_trial(self._trial._trial_id)
        except Exception:  # noqa: BLE001 - the store is gone too: the run is closed as stopped
            return
        if frozen.state.is_finished():
            self._pipe.send_raw(("trial", self._current, trial_record(frozen, self.settings["metric"])))
            self._current = None

    def _post(self, msg) -> None:
        self._pipe.post(msg)

    def _handle(self, msg: tuple) -> None:
        if msg[0] == "run":
            self._ready_runs.append(msg[1])
        elif msg[0] == "ready":
            self._ids = (msg[1], msg[2])
        elif msg[0] == "unsettled":
            self._settle(msg[1])
        elif msg[0] == "opened":
            self.store_open_s = msg[1]
        elif msg[0] == "error":
            self.warn(mask_url(f"MLflow: {msg[1]}"))
        elif msg[0] == "fatal":
            raise ConfigError(mask_url(f"tracking {self.settings['uri']}: {msg[1]}"))

def _git_commit(folder: Path) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None
