"""Kill campaign: whichever process dies, at whatever moment, nothing is left RUNNING, orphaned or
half-written, and the next run carries on.

A campaign is a chain of runs of one study. Each run (a resume of the one before) is stopped at a
random moment, drawn from a seeded generator over the length of an undisturbed run, with half the
moments in its last 40 % (refit, test, logging, registration). The stop is one of: SIGTERM to the
run's process group (what the systemd unit of docs/retrain.md sends), SIGTERM or SIGKILL to the main
process, SIGKILL to the MLflow writer, to a fold process or to a worker. After every stop the
stores and files are checked; a last run then completes, and the whole study is checked.
Embedded store: `run` and `retrain` (which moves the registry alias); journal: `run --workers 2`.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient
from mlflow.entities import ViewType
from optuna.trial import TrialState

from automl.study import make_storage

MODEL = "campaign-model"


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch):
    """One key for the runs and for the checks here that load their models."""
    monkeypatch.setenv("AUTOML_SIGNING_KEY", "campaign-" + "0" * 32)


@dataclass
class Stop:
    target: str
    delay: float


def _plan(rng: random.Random, full: float, targets: tuple[str, ...], n: int) -> list[Stop]:
    stops = []
    for i in range(n):
        share = rng.uniform(0.6, 1.0) if i % 2 else rng.uniform(0.05, 1.0)
        stops.append(Stop(targets[i % len(targets)], share * full))
    rng.shuffle(stops)
    return stops


def _command(kind: str, work: Path) -> list[str]:
    # A memory limit puts the folds of this tiny table in worker processes, which can be killed.
    common = ["--data", "demo:breast_cancer", "--space", "fast.yaml", "--cv", "3", "--seed", "0",
              "--trial-memory-mb", "8192", "--workdir", str(work), "--register-model", MODEL, "--quiet"]
    if kind == "retrain":
        return [sys.executable, "-m", "automl", "retrain", *common, "--n-trials", "4"]
    if kind == "workers":
        return [sys.executable, "-m", "automl", "run", *common, "--n-trials", "6", "--workers", "2",
                "--study-name", "campaign"]
    return [sys.executable, "-m", "automl", "run", *common, "--n-trials", "6", "--study-name", "campaign"]


def _start(cmd: list[str]) -> subprocess.Popen:
    # Its own session: a stop sent to its process group never reaches pytest.
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _descendants(pid: int) -> dict[int, str]:
    """Every process below ``pid``, with its command line (read from /proc)."""
    children: dict[int, list[int]] = {}
    cmdlines: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdlines[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = {}, [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = cmdlines.get(child, "")
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _victim(proc: subprocess.Popen, target: str) -> tuple[int | None, int] | None:
    """The pid to signal (``None``: the process group) and the signal; ``None`` when the target
    process does not exist at this moment."""
    if target == "group-term":
        return None, signal.SIGTERM
    if target == "main-term":
        return proc.pid, signal.SIGTERM
    if target == "main-kill":
        return proc.pid, signal.SIGKILL
    marks = {"writer": "writer_main", "fold": "_pool import worker_main", "worker": "automl worker "}
    pids = sorted(pid for pid, cmd in _descendants(proc.pid).items() if marks[target] in cmd)
    return (pids[0], signal.SIGKILL) if pids else None


def _stop(proc: subprocess.Popen, stop: Stop) -> tuple[str, list[int]]:
    """Wait ``stop.delay``, then send the stop as soon as its target process exists. Returns what
    was hit ("none" if the run ended first) and every process that was below the run then."""
    deadline = time.monotonic() + stop.delay
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    while proc.poll() is None:
        below = list(_descendants(proc.pid))
        victim = _victim(proc, stop.target)
        if victim is None:
            time.sleep(0.02)
            continue
        pid, sig = victim
        try:
            os.killpg(proc.pid, sig) if pid is None else os.kill(pid, sig)
        except ProcessLookupError:
            continue
        return stop.target, below
    return "none", []


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    _, err = proc.communicate(timeout=600)
    return proc.returncode, err


def _wait_gone(pids: list[int], what: str) -> None:
    """No process of a stopped run lives on (fold processes, workers, the writer)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    assert not [p for p in pids if _alive(p)], f"{what}: processes outlived the run"


def _client(work: Path) -> MlflowClient:
    return MlflowClient(f"sqlite:///{work / 'mlruns' / 'mlflow.db'}")


def _runs(client: MlflowClient):
    return [run for exp in client.search_experiments(view_type=ViewType.ALL)
            for run in client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL,
                                          max_results=5000)]


def _check_registry(client: MlflowClient, what: str) -> None:
    """No version without its model files, metrics and card; no alias on such a version."""
    import mlflow.artifacts

    for model in client.search_registered_models():
        whole = set()
        for version in client.search_model_versions(f"name = '{model.name}'"):
            source = client.get_model_version_download_uri(model.name, version.version)
            files = os.listdir(mlflow.artifacts.download_artifacts(artifact_uri=source))
            assert {"MLmodel", "model.skops"} <= set(files), (what, version.version, files)
            run = client.get_run(version.run_id)
            assert any(k.startswith("test_") for k in run.data.metrics), (what, version.version)
            assert "model_card.md" in {a.path for a in client.list_artifacts(version.run_id)}, what
            whole.add(str(version.version))
        for alias, number in client.get_registered_model(model.name).aliases.items():
            assert str(number) in whole, (what, alias, number)


def _leftovers(work: Path) -> set[Path]:
    models = work / "mlruns" / "models"
    return {p for p in models.rglob("*") if ".tmp" in p.name} if models.exists() else set()


def _check_files(work: Path, what: str, allowed: set[Path] = frozenset()) -> None:
    """Models, plots, reports and summaries are whole or absent: no temporary files left but
    ``allowed`` ones, and every saved model passes its signature check and predicts."""
    from automl.predict import load_model

    models = work / "mlruns" / "models"
    leftovers = _leftovers(work) - set(allowed)
    assert not leftovers, (what, sorted(leftovers))
    for path in models.rglob("model.joblib") if models.exists() else []:
        load_model(str(path))


def _check_after_stop(work: Path, kind: str, hit: str, code: int, err: str, below: list[int],
                      stale: set, debris: set[Path]) -> None:
    what = f"{kind}/{hit} exit {code}"
    _wait_gone(below, what)
    assert "Traceback" not in err, (what, err[-2000:])
    if hit in ("group-term", "main-term"):
        assert code == 130, (what, err[-2000:])
    elif hit == "main-kill":
        assert code == -signal.SIGKILL, what
    elif hit == "writer":  # the run fails in one line, or the writer had already done its work
        assert code in (0, 1), (what, err[-2000:])
        if code == 1:
            assert len(err.strip().splitlines()) == 1 and "writer" in err, (what, err[-2000:])
    else:  # a fold process or a worker: its trial fails alone, the run goes on
        assert code == 0, (what, err[-2000:])
    client = _client(work)
    running = [(r.info.run_name, r.info.status) for r in _runs(client) if r.info.status == "RUNNING"]
    assert not running, (what, running)
    _check_registry(client, what)
    # SIGKILL to the main process can leave a file it was writing under its temporary name (the
    # file itself is whole or absent); the next process alone on the study deletes it.
    _check_files(work, what, _leftovers(work) if hit == "main-kill" else debris)
    if hit != "main-kill":  # only a process killed outright leaves its trial for the next run
        assert set(_running_trials(work)) <= stale, (what, _running_trials(work), stale)


def _storage(work: Path):
    journal = work / "mlruns" / "optuna-journal.log"
    if journal.exists():
        return make_storage(f"journal://{journal}")
    return f"sqlite:///{work / 'mlruns' / 'optuna.db'}"


def _studies(work: Path):
    if not (work / "mlruns").exists():
        return []
    storage = _storage(work)
    try:
        summaries = optuna.get_all_study_summaries(storage)
    except Exception:  # no store written yet (stopped during set-up)
        return []
    return [optuna.load_study(study_name=s.study_name, storage=storage) for s in summaries]


def _running_trials(work: Path) -> list[tuple[str, int]]:
    return [(s.study_name, t.number) for s in _studies(work)
            for t in s.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING))]


def _check_complete(work: Path, kind: str) -> None:
    """After a last run that was not stopped: every trial ended, each logged once."""
    assert not _running_trials(work), (kind, _running_trials(work))
    client = _client(work)
    runs = _runs(client)
    assert not [r for r in runs if r.info.status == "RUNNING"]
    for study in _studies(work):
        done = [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
        assert done, study.study_name
        finished = [r.data.tags["optuna.trial_number"] for r in runs
                    if r.info.status == "FINISHED"
                    and r.data.tags.get("automl.study_name") == study.study_name
                    and "optuna.trial_number" in r.data.tags]
        assert len(finished) == len(set(finished)), f"{kind}: a trial was logged twice"
        missing = {str(t.number) for t in done} - set(finished)
        linked = {t.user_attrs.get("mlflow_run_id") for t in done if str(t.number) in missing}
        assert not missing, (kind, study.study_name, sorted(missing), [
            (t.number, t.state.name, t.user_attrs) for t in done if str(t.number) in missing], [
            (r.info.run_id, r.data.tags, r.info.status, r.info.lifecycle_stage) for r in runs
            if r.data.tags.get("optuna.trial_number") in missing or r.info.run_id in linked])
    _check_registry(client, kind)
    _check_files(work, kind)


def _campaign(tmp_path: Path, kinds: list[str], n_stops: int, targets: tuple[str, ...],
              seed: int) -> list[str]:
    """Measure one undisturbed run, then stop ``n_stops`` runs of the chain; returns what was hit."""
    work = tmp_path / "work"
    work.mkdir()
    started = time.monotonic()
    code, err = _finish(_start(_command(kinds[0], work)))
    assert code == 0, err
    full = time.monotonic() - started
    rng = random.Random(int(os.environ.get("AUTOML_CAMPAIGN_SEED", seed)))  # another draw, by hand
    hits = []
    for i, stop in enumerate(_plan(rng, full, targets, n_stops)):
        kind = kinds[i % len(kinds)]
        stale = set(_running_trials(work))  # left by an earlier kill of another study's run
        debris = _leftovers(work)  # ... and files it was writing (another study's folder)
        proc = _start(_command(kind, work))
        hit, below = _stop(proc, stop)
        code, err = _finish(proc)
        hits.append(f"{hit}@{stop.delay / full:.0%}:{code}")
        _check_after_stop(work, kind, hit, code, err, below, stale, debris)
    for kind in dict.fromkeys(kinds):  # each kind of run resumes and completes
        code, err = _finish(_start(_command(kind, work)))
        assert code == 0, (kind, err[-2000:])
    _check_complete(work, "+".join(kinds))
    print("stops:", hits)
    return hits
