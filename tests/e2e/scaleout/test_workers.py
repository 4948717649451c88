"""Scale-out: many workers on one study, exact global budgets, killed workers retried, data checked.

PostgreSQL tests need $AUTOML_TEST_POSTGRES (.ci/run installs and starts a server); they run
against a real ``mlflow server`` too. Journal tests need nothing but this host.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml
from mlflow import MlflowClient
from mlflow.entities import ViewType
from optuna.trial import TrialState

from automl.study import make_storage

# Random forests make each trial last long enough (~2 s) to kill a worker in the middle of one.
SLOW_SPACE = """
models:
  random_forest:
    n_estimators: {type: int, low: 250, high: 300}
    max_depth: {type: int, low: 2, high: 8}
"""


def _experiment_config(folder: Path, data: str, n_trials: int, space: str = "fast.yaml") -> Path:
    path = folder / "experiment.yaml"
    path.write_text(yaml.safe_dump({
        "data": data, "space": space, "n_trials": n_trials, "cv": 3, "n_jobs": 1, "seed": 0,
        "heartbeat_interval": 1, "grace_period": 4, "quiet": True,
    }))
    return path


def _automl(*args: str, env: dict[str, str] | None = None, python_flags=(), **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *python_flags, "-m", "automl", *args],
                            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def _finish(proc: subprocess.Popen, timeout: float = 600) -> tuple[int, str]:
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def _wait_for_running_trial(study_name: str, storage, pid: int, timeout: float = 180):
    """The number of a RUNNING trial owned by process ``pid`` (polls the study)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            study = optuna.load_study(study_name=study_name, storage=storage)
            for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
                if str(t.user_attrs.get("worker", "")).endswith(f":{pid}") and t.user_attrs.get("mlflow_run_id"):
                    return t.number
        except KeyError:
            pass  # the study does not exist yet
        time.sleep(0.2)
    pytest.fail(f"no running trial of worker {pid} within {timeout} s")


def _children(client: MlflowClient, parent_id: str):
    parent = client.get_run(parent_id)
    runs = client.search_runs([parent.info.experiment_id], run_view_type=ViewType.ACTIVE_ONLY,
                              filter_string=f"tags.`mlflow.parentRunId` = '{parent_id}'",
                              max_results=5000)
    return runs


def _killed_trial(study, pid: int):
    """The one trial that was running in process ``pid`` when it was killed."""
    owned = [t for t in study.get_trials(deepcopy=False)
             if str(t.user_attrs.get("worker", "")).endswith(f":{pid}")]
    failed = [t for t in owned if t.state == TrialState.FAIL]
    assert len(failed) == 1, [(t.number, t.state) for t in owned]
    return failed[0].number


def _check_exactly_once(study, client: MlflowClient, budget: int) -> None:
    trials = study.get_trials(deepcopy=False)
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    done = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(done) == budget
    parent_id = study.user_attrs["mlflow_parent_run_id"]
    children = _children(client, parent_id)
    numbers = [c.data.tags.get("optuna.trial_number") for c in children]
    assert len(numbers) == len(set(numbers)), "a trial was logged twice"
    assert {str(t.number) for t in done} <= set(numbers)
    assert all(c.info.status != "RUNNING" for c in children)
    by_number = {c.data.tags["optuna.trial_number"]: c for c in children}
    for t in done:
        assert t.user_attrs["mlflow_run_id"] == by_number[str(t.number)].info.run_id


def _check_killed_runs(client: MlflowClient, study, killed: int) -> None:
    """The killed trial's MLflow run, if the worker lived long enough to open one, is KILLED.

    The victim is chosen while it runs a trial, but it may finish that trial and start the next one
    before the signal lands; then it can die before the next trial's run exists. Either way no run of
    the killed trial may stay RUNNING or end FINISHED.
    """
    parent_id = study.user_attrs["mlflow_parent_run_id"]
    runs = [c for c in _children(client, parent_id)
            if c.data.tags.get("optuna.trial_number") == str(killed)]
    run_id = study.trials[killed].user_attrs.get("mlflow_run_id")
    if run_id is not None:
        assert [c.info.run_id for c in runs] == [run_id]
    assert [c.info.status for c in runs] in ([], ["KILLED"])


# --- PostgreSQL + mlflow server -------------------------------------------------------------


def test_three_workers_share_a_budget_of_30_exactly(postgres_url, mlflow_server, tmp_path):
    config = _experiment_config(tmp_path, "demo:breast_cancer", 30)
    env = {"AUTOML_STORAGE": postgres_url}
    args = ("worker", "--config", str(config), "--study-name", "pg3", "--tracking-uri",
            mlflow_server, "--workdir", str(tmp_path))
    procs = [_automl(*args, env=env) for _ in range(3)]
    results = [_finish(p) for p in procs]
    assert [code for code, _ in results] == [0, 0, 0], [err for _, err in results]
    study = optuna.load_study(study_name="pg3", storage=postgres_url)
    client = MlflowClient(mlflow_server)
    _check_exactly_once(study, client, 30)
    workers = {t.user_attrs["worker"] for t in study.trials}
    assert len(workers) >= 2, "trials should be spread over the workers"
    # Credentials never reach MLflow or the terminal.
    password = postgres_url.split(":")[2].split("@")[0]
    parent = client.get_run(study.user_attrs["mlflow_parent_run_id"])
    assert password not in json.dumps([parent.data.tags, parent.data.params])
    assert all(password not in err for _, err in results)

    code, err = _finish(_automl("finalize", "--study-name", "pg3", "--tracking-uri", mlflow_server,
                                "--workdir", str(tmp_path), "--register-model", "pg3-model",
                                "--summary-json", str(tmp_path / "s.json"), "--quiet",
                                env=env))
    assert code == 0, err
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["mlflow_run_id"] == study.user_attrs["mlflow_parent_run_id"]
    assert summary["model_uri"] == "models:/pg3-model/1"
    assert client.get_run(summary["mlflow_run_id"]).info.status == "FINISHED"
    assert password not in json.dumps(summary)


def test_killed_worker_trial_is_failed_retried_and_its_run_killed(postgres_url, mlflow_server, tmp_path):
    (tmp_path / "slow.yaml").write_text(SLOW_SPACE)
    config = _experiment_config(tmp_path, "demo:breast_cancer", 8, space=str(tmp_path / "slow.yaml"))
    env = {"AUTOML_STORAGE": postgres_url}
    args = ("worker", "--config", str(config), "--study-name", "pgkill", "--tracking-uri",
            mlflow_server, "--workdir", str(tmp_path))
    victim = _automl(*args, env=env)
    survivor = _automl(*args, env=env)
    _wait_for_running_trial("pgkill", postgres_url, victim.pid)
    victim.send_signal(signal.SIGKILL)  # no chance to clean up: the others must
    victim.wait()
    code, err = _finish(survivor)
    assert code == 0, err
    study = optuna.load_study(study_name="pgkill", storage=postgres_url)
    killed = _killed_trial(study, victim.pid)
    trials = study.get_trials(deepcopy=False)
    assert trials[killed].state == TrialState.FAIL
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == killed]
    assert len(retries) == 1 and retries[0].state in (TrialState.COMPLETE, TrialState.PRUNED)
    # A worker killed while its trial was still drawing parameters leaves only those drawn so far:
    # the retry keeps them and draws the rest.
    assert trials[killed].params.items() <= retries[0].params.items()
    client = MlflowClient(mlflow_server)
    _check_exactly_once(study, client, 8)
    _check_killed_runs(client, study, killed)


def test_worker_with_different_data_is_refused(postgres_url, tmp_path):
    from sklearn.datasets import load_breast_cancer

    first = _experiment_config(tmp_path, "demo:breast_cancer", 2)
    env = {"AUTOML_STORAGE": postgres_url}
    code, err = _finish(_automl("worker", "--config", str(first), "--study-name", "pgdata",
                                "--workdir", str(tmp_path), "--no-tracking", env=env))
    assert code == 0, err
    other = tmp_path / "other.csv"
    load_breast_cancer(as_frame=True).frame.iloc[:-7].to_csv(other, index=False)
    code, err = _finish(_automl("worker", "--config", str(first), "--data", str(other),
                                "--study-name", "pgdata", "--workdir", str(tmp_path),
                                "--no-tracking", env=env))
    assert code == 2
    assert "fingerprint" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


# --- one host, journal storage ------------------------------------------------------------


def test_two_local_workers_on_journal_storage(tmp_path):
    # A stray module in the working directory must not run in a worker: the orchestrator starts
    # like the `automl` console script (-P: no cwd on sys.path), and so must its workers.
    (tmp_path / "optuna.py").write_text("open(__file__ + '.ran', 'w')\nraise SystemExit(9)\n")
    code, err = _finish(_automl("run", "--data", "demo:wine", "--space", "fast.yaml", "--n-trials",
                                "14", "--cv", "3", "--workers", "2", "--workdir", str(tmp_path),
                                "--summary-json", str(tmp_path / "s.json"), "--quiet",
                                python_flags=("-P",), cwd=tmp_path))
    assert code == 0, err
    assert not (tmp_path / "optuna.py.ran").exists()
    (tmp_path / "optuna.py").unlink()
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["workers"] == 2 and summary["worker_exit_codes"] == [0, 0]
    assert summary["storage"].startswith("journal://")
    storage = make_storage(summary["storage"])
    study = optuna.load_study(study_name=summary["study_name"], storage=storage)
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    _check_exactly_once(study, client, 14)
    assert client.get_run(summary["mlflow_run_id"]).info.status == "FINISHED"


def test_killed_local_worker_is_retried_on_journal_storage(tmp_path):
    (tmp_path / "slow.yaml").write_text(SLOW_SPACE)
    run = _automl("run", "--data", "demo:breast_cancer", "--space", str(tmp_path / "slow.yaml"),
                  "--n-trials", "6", "--cv", "3", "--workers", "2", "--workdir", str(tmp_path),
                  "--study-name", "jkill", "--summary-json", str(tmp_path / "s.json"), "--quiet")
    storage = make_storage(f"journal://{tmp_path / 'mlruns' / 'optuna-journal.log'}")
    victim_pid = None
    deadline = time.monotonic() + 180
    while victim_pid is None and time.monotonic() < deadline:
        try:
            study = optuna.load_study(study_name="jkill", storage=storage)
            running = [t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
                       if t.user_attrs.get("mlflow_run_id")]
            if running:
                victim_pid = int(running[0].user_attrs["worker"].rsplit(":", 1)[1])
        except KeyError:
            pass
        time.sleep(0.2)
    assert victim_pid is not None
    os.kill(victim_pid, signal.SIGKILL)
    code, err = _finish(run)
    assert code == 0, err
    summary = json.loads((tmp_path / "s.json").read_text())
    assert sorted(summary["worker_exit_codes"]) == [-9, 0]
    study = optuna.load_study(study_name="jkill", storage=storage)
    trials = study.get_trials(deepcopy=False)
    killed = _killed_trial(study, victim_pid)
    assert [t.system_attrs.get("failed_trial") for t in trials].count(killed) == 1
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    _check_exactly_once(study, client, 6)
    _check_killed_runs(client, study, killed)


def test_sqlite_is_refused_for_parallel_workers(tmp_path):
    code, err = _finish(_automl("run", "--data", "demo:iris", "--workers", "2", "--storage",
                                f"sqlite:///{tmp_path / 'o.db'}", "--workdir", str(tmp_path),
                                "--no-tracking"))
    assert code == 2 and "SQLite" in err


def test_worker_refuses_sqlite_and_finalize_names_a_missing_study(tmp_path):
    config = _experiment_config(tmp_path, "demo:iris", 2)
    code, err = _finish(_automl("worker", "--config", str(config), "--study-name", "w",
                                "--storage", f"sqlite:///{tmp_path / 'o.db'}", "--no-tracking"))
    assert code == 2 and "SQLite" in err
    journal = f"journal://{tmp_path / 'j.log'}"
    code, err = _finish(_automl("finalize", "--study-name", "nope", "--storage", journal,
                                "--no-tracking"))
    assert code == 2 and "no study 'nope'" in err and "Traceback" not in err
