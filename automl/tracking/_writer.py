"""The writer process: the one owner of the MlflowClient during a run.

``automl.tracking``'s front drives it over two pipes (see that module's docstring). mlflow is
imported only in this package's ``_writer``, ``_final``, ``_store`` and ``_models`` modules, and
always inside functions: ``import mlflow`` costs seconds.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

from automl.errors import describe

from ._final import log_final, log_params
from ._store import STALE_TAG, close_stale_runs, get_or_create_experiment, literal, open_store, retry


def start_writer():
    """Start the writer as a fresh interpreter talking over two pipes.

    A plain subprocess (not multiprocessing's spawn) never re-imports the caller's ``__main__``,
    and its own session keeps Ctrl-C in the terminal from reaching it: the search process decides
    how runs end.
    """
    import sys
    from multiprocessing.connection import Connection

    req_r, req_w = os.pipe()
    rep_r, rep_w = os.pipe()
    debug = os.environ.get("AUTOML_DEBUG") == "1"
    package_root = str(Path(__file__).resolve().parent.parent.parent)  # the folder holding automl/
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (package_root, os.environ.get("PYTHONPATH")) if p)}
    env.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")
    code = f"from automl.tracking._writer import writer_main; writer_main({req_r}, {rep_w})"
    out = None if debug else subprocess.DEVNULL  # MLflow prints "View run at ..." per run
    # -P: the working directory is not on sys.path, so nothing there is imported.
    proc = subprocess.Popen([sys.executable, "-P", "-c", code], pass_fds=(req_r, rep_w), env=env,
                            stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
    os.close(req_r)
    os.close(rep_w)
    return proc, Connection(req_w, readable=False), Connection(rep_r, writable=False)


def writer_main(req_fd: int, rep_fd: int) -> None:
    """Entry point of the writer process.

    It opens the store as soon as it is told where (a fresh SQLite store first runs MLflow's
    migrations: seconds the search process spends reading data and running trials), then waits
    for the run's settings.
    """
    import logging
    from multiprocessing.connection import Connection

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    # The logged model and its input example hold training rows: files MLflow writes from here
    # are readable by their owner only (a shared store's server writes with its own settings).
    os.umask(0o077)
    requests, replies = Connection(req_fd, writable=False), Connection(rep_fd, readable=False)
    try:
        _, uri = requests.recv()
        started = time.monotonic()
        client = open_store(uri)
        replies.send(("opened", time.monotonic() - started))
        writer = _Writer(requests.recv(), client)
    except (EOFError, OSError):
        return  # the search process ended before the run began (e.g. a data error)
    except Exception as exc:
        replies.send(("fatal", f"cannot open ({describe(exc, 300)})"))
        return
    try:
        replies.send(("ready", writer.experiment_id, writer.parent_id))
    except OSError:  # the search process died while the parent run was created
        writer.last_words(requests, [])
    else:
        writer.serve(requests, replies)
    # Every run is closed and committed; MLflow's interpreter teardown would take another second
    # of the user's budget for nothing.
    os._exit(0)


class _Writer:
    """Owns the MlflowClient; handles one request at a time."""

    def __init__(self, settings: dict[str, Any], client):
        self.settings = settings
        self.client = client
        self.experiment_id = get_or_create_experiment(self.client, settings["experiment"], settings["artifacts"])
        if settings.get("retrain_of"):
            close_stale_runs(self.client, self.experiment_id, settings["retrain_of"])
        import mlflow

        mlflow.set_experiment(experiment_id=self.experiment_id)  # where log_model files the model
        self.parent_id = settings.get("parent_run_id") or self._create_parent(settings)
        self.pending: set[str] = set()  # child runs created but not yet closed
        self.claimed: dict[str, int] = {}  # ... of which a trial has started: run id -> number
        self.stale: set[str] = set()  # unsettled runs a later retrain closed as stale
        self.child_tags = {"mlflow.parentRunId": self.parent_id,
                           "automl.study_name": settings["study_name"]}
        if settings.get("retrain_of"):
            self.child_tags["automl.retrain_of"] = settings["retrain_of"]

    def _create_parent(self, settings: dict[str, Any]) -> str:
        run = self.client.create_run(self.experiment_id, run_name=settings["run_name"],
                                     tags=settings["tags"])
        log_params(self.client, run.info.run_id, settings["params"])
        for name, text in settings["files"].items():
            self.client.log_text(run.info.run_id, text, name)
        return run.info.run_id

    def serve(self, requests, replies) -> None:
        while True:
            batch, gone = self._next_batch(requests)
            if gone:  # the search process died: record what it said, then close what it left open
                self._handle_last_words(batch)
                return
            # Run creation first, so a starting trial never waits behind a backlog of logging.
            batch.sort(key=lambda m: m[0] != "new_run")
            for i, msg in enumerate(batch):
                answers = self._answers(msg)
                try:
                    for answer in answers:
                        replies.send(answer)
                except OSError:  # the search process died waiting for this answer
                    if msg[0] != "close":
                        self.last_words(requests, batch[i + 1:])
                    return
                if msg[0] == "close":
                    return

    def _answers(self, msg: tuple) -> list[tuple]:
        """Handle ``msg``; what to send back: its reply, or an error and a stand-in reply."""
        try:
            reply = self.handle(msg)
        except Exception as exc:
            error = f"{msg[0]}: {describe(exc, 300)}"
            stand_in = {"final": ("final_done", {"error": error}), "flush": ("flushed",),
                        "unsettled": ("unsettled", {}),
                        "close": ("closed",), "new_run": ("run", None)}.get(msg[0])
            return [("error", error)] + ([stand_in] if stand_in else [])
        return [] if reply is None else [reply]

    def last_words(self, requests, batch: list) -> None:
        """The search process is gone (its end of a pipe broke): handle what it sent before
        dying, then close what it left open."""
        try:
            while requests.poll(0):
                batch.append(requests.recv())
        except (EOFError, OSError):
            pass
        self._handle_last_words(batch)

    def _handle_last_words(self, batch: list) -> None:
        for msg in batch:
            if msg[0] == "close":  # it asked to close, then went before the reply
                self.close(msg[1], msg[2])
                return
            if msg[0] in ("new_run", "final", "flush", "unsettled"):
                continue  # nobody is left to use the answer
            try:
                self.handle(msg)
            except Exception:  # closing what is open matters more than one lost record
                continue
        self.close("KILLED", None)

    @staticmethod
    def _next_batch(requests) -> tuple[list, bool]:
        """The requests waiting now, and whether the pipe has closed without "close" (the search
        process died). What it sent before dying is still handled: a trial's claim on its run
        arrives just before the end of the pipe, and must decide how that run is closed."""
        batch: list = []
        try:
            batch.append(requests.recv())
            while requests.poll(0):
                batch.append(requests.recv())
        except (EOFError, OSError):
            return batch, True
        return batch, False

    def handle(self, msg: tuple):
        kind = msg[0]
        if kind == "new_run":
            run = retry(lambda: self.client.create_run(
                self.experiment_id, tags=self.child_tags,
                run_name="trial-pending"))
            self.pending.add(run.info.run_id)
            return ("run", run.info.run_id)
        if kind == "unsettled":
            return ("unsettled", self.unsettled())
        if kind == "unlinked":
            self.log_unlinked(msg[1])
            return None
        if kind == "claim":
            self.claimed[msg[1]] = msg[2]
        elif kind == "kill":
            self.kill(msg[1], msg[2])
        elif kind == "trial":
            self.log_trial(msg[1], msg[2])
            if msg[1] in self.stale:  # settled: its trial had finished, the run is whole now
                self.stale.discard(msg[1])
                retry(lambda: self.client.delete_tag(msg[1], STALE_TAG))
        elif kind == "flush":
            return ("flushed",)
        elif kind == "final":
            return ("final_done", log_final(self.client, self.parent_id, msg[1]))
        elif kind == "text":
            retry(lambda: self.client.log_text(self.parent_id, msg[2], msg[1]))
        elif kind == "close":
            self.close(msg[1], msg[2])
            return ("closed",)
        return None

    def unsettled(self) -> dict[str, str]:
        """This study's trial runs not FINISHED, with their status: run id -> status."""
        study = self.settings["study_name"]
        runs = retry(lambda: self.client.search_runs(
            [self.experiment_id], max_results=50000,
            filter_string=f"tags.`automl.study_name` = {literal(study)} AND attributes.status != 'FINISHED'"))
        runs = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
        self.stale |= {r.info.run_id for r in runs if STALE_TAG in r.data.tags}
        return {r.info.run_id: r.info.status for r in runs}

    def log_unlinked(self, records: list[dict[str, Any]]) -> None:
        """Log finished trials that never had a run, each once: into this study's run for its
        number (one query for them all), unless that run already holds it; else a new child run.
        The trial cannot be given the run id afterwards, so every resume asks again."""
        study = self.settings["study_name"]
        runs = retry(lambda: self.client.search_runs(
            [self.experiment_id], max_results=50000,
            filter_string=f"tags.`automl.study_name` = {literal(study)}"))
        by_number: dict[str, list] = {}
        for run in runs:
            if "mlflow.parentRunId" in run.data.tags and "optuna.trial_number" in run.data.tags:
                by_number.setdefault(run.data.tags["optuna.trial_number"], []).append(run)
        for rec in records:
            number = rec["tags"]["optuna.trial_number"]
            found = by_number.get(number, [])
            if any(r.info.status == rec["status"] for r in found):
                continue  # logged by an earlier resume
            if found:
                run_id = found[0].info.run_id
            else:  # named for its trial at once: a writer killed before the record finds it next time
                run_id = retry(lambda: self.client.create_run(
                    self.experiment_id, tags={**self.child_tags, "optuna.trial_number": number},
                    run_name=rec["tags"]["mlflow.runName"])).info.run_id
            self.log_trial(run_id, rec)

    def log_trial(self, run_id: str, rec: dict[str, Any]) -> None:
        from mlflow.entities import Metric, Param, RunTag

        ts = rec["end_ms"] or int(time.time() * 1000)
        metrics = [Metric(k, float(v), ts, int(step)) for k, v, step in rec["metrics"]]
        if rec["duration_s"] is not None:
            metrics.append(Metric("duration_s", rec["duration_s"], ts, 0))
        params = [Param(k, str(v)[:6000]) for k, v in rec["params"].items()]
        tags = [RunTag(k, v) for k, v in rec["tags"].items()]
        retry(lambda: self.client.log_batch(run_id, metrics=metrics, params=params, tags=tags))
        retry(lambda: self.client.set_terminated(run_id, rec["status"], end_time=ts))
        self.pending.discard(run_id)

    def kill(self, run_id: str, number: int, status: str = "KILLED") -> None:
        """Close the run of a trial that will never report (its process died or was stopped)."""
        from mlflow.entities import RunTag

        tags = [RunTag("optuna.state", "FAIL"), RunTag("optuna.trial_number", str(number)),
                RunTag("mlflow.runName", f"trial-{number:04d}")]
        retry(lambda: self.client.log_batch(run_id, tags=tags))
        retry(lambda: self.client.set_terminated(run_id, status))
        self.pending.discard(run_id)

    def close(self, status: str, current: str | None) -> None:
        """End the parent with ``status`` (if this process owns it), the interrupted trial's run
        too; drop runs created ahead for trials that never started."""
        try:
            for run_id in list(self.pending):
                try:
                    if run_id in self.claimed:
                        self.kill(run_id, self.claimed[run_id], "FAILED" if status == "FAILED" else "KILLED")
                    else:
                        retry(lambda: self.client.set_terminated(run_id, "KILLED"))
                        retry(lambda: self.client.delete_run(run_id))
                except Exception:  # one stuck child must not keep the parent RUNNING
                    continue
            self.pending.clear()
        finally:
            if self.settings.get("close_parent", True):
                retry(lambda: self.client.set_terminated(self.parent_id, status))
