"""``automl retrain``: the champion/challenger gate over three cycles, refused data, drift, warm
start, the lock against a concurrent retrain, and recovery after a retrain was killed.

The cycles share one work folder (module fixture) on breast_cancer written to CSV files:

1. ``a.csv``, ``fast.yaml``: no champion yet -> promoted, alias ``champion`` -> v1.
2. ``b.csv`` (``mean radius`` x 1.3, so it drifts) with a crippled space (a depth-1 tree):
   worse than v1 on b's test rows -> kept_champion, v2 tagged with the reason, alias stays on v1.
3. ``c.csv`` is refused (a column is gone), exit 3, nothing registered.
4. ``d.csv`` (labels coded the other way round: v1 now ranks every row backwards) with
   ``fast.yaml``: the challenger wins -> promoted, alias -> v3. Its study starts with v1's params.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import optuna
import pytest
from sklearn.datasets import load_breast_cancer
from typer.testing import CliRunner

from automl.cli import app

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402

MODEL = "bc"
FAST = ["--space", "fast.yaml", "--cv", "3", "--n-jobs", "1", "--seed", "0"]
STUMP_SPACE = "models:\n  decision_tree:\n    max_depth: 1\n"


def _tables(folder: Path) -> dict[str, str]:
    frame = load_breast_cancer(as_frame=True).frame
    drifted = frame.sample(frac=0.9, random_state=1)
    drifted["mean radius"] *= 1.3
    flipped = frame.assign(target=1 - frame["target"])
    tables = {"a": frame, "b": drifted, "c": frame.drop(columns=["mean texture"]), "d": flipped}
    paths = {}
    for name, table in tables.items():
        paths[name] = str(folder / f"{name}.csv")
        table.to_csv(paths[name], index=False)
    return paths


def _retrain(work: Path, data: str, *args: str, summary: str | None = None):
    flags = ["--data", data, "--register-model", MODEL, "--workdir", str(work), "--quiet", *FAST]
    if summary:
        flags += ["--summary-json", str(work / summary)]
    return CliRunner().invoke(app, ["retrain", *flags, *args])


def _client(work: Path) -> MlflowClient:
    uri = f"sqlite:///{work}/mlruns/mlflow.db"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _storage(work: Path) -> str:
    return f"sqlite:///{work}/mlruns/optuna.db"


def _versions(work: Path) -> list[int]:
    return sorted(int(v.version) for v in _client(work).search_model_versions(f"name = '{MODEL}'"))


def _champion(work: Path) -> int:
    return int(_client(work).get_model_version_by_alias(MODEL, "champion").version)


@pytest.fixture(autouse=True)
def _no_mlflow_uris_from_earlier_runs(monkeypatch):
    # An in-process retrain leaves MLFLOW_TRACKING_URI/MLFLOW_REGISTRY_URI in os.environ
    # (mlflow.set_tracking_uri/set_registry_uri write them); subprocesses would inherit them.
    _clear_mlflow_uris(monkeypatch)


def _clear_mlflow_uris(monkeypatch) -> None:
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        monkeypatch.setenv(name, "unset")  # so that teardown removes whatever the test left
        monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def cycles(tmp_path_factory):
    """Run the four steps once; tests read what each left behind."""
    with pytest.MonkeyPatch.context() as env:
        _clear_mlflow_uris(env)
        yield _run_cycles(tmp_path_factory.mktemp("retrain"))


def _run_cycles(work: Path) -> dict:
    data = _tables(work)
    (work / "stump.yaml").write_text(STUMP_SPACE)
    results = {"data": data, "work": work}
    results["first"] = _retrain(work, data["a"], "--n-trials", "4", summary="s1.json")
    results["after_first"] = _champion(work)
    results["worse"] = _retrain(work, data["b"], "--n-trials", "2", "--space", str(work / "stump.yaml"),
                                "--min-improvement", "0", summary="s2.json")
    results["after_worse"] = _champion(work)
    results["refused"] = _retrain(work, data["c"], "--n-trials", "2", summary="refused.json")
    results["versions_after_refused"] = _versions(work)
    results["better"] = _retrain(work, data["d"], "--n-trials", "5", summary="s3.json")
    results["after_better"] = _champion(work)
    for step in ("first", "worse", "better"):
        assert results[step].exit_code == 0, (step, results[step].stderr, results[step].exception)
    results["summaries"] = [json.loads((work / f"s{i}.json").read_text()) for i in (1, 2, 3)]
    return results


def test_first_retrain_promotes(cycles):
    first = cycles["summaries"][0]
    assert cycles["after_first"] == 1
    assert first["decision"] == "promoted" and first["registered_version"] == 1
    assert first["champion_score"] is None and first["champion_version"] is None
    assert "no champion" in first["reason"]
    assert first["challenger_score"] == first["test_metrics"]["roc_auc"]


def test_worse_challenger_is_tagged_and_alias_stays(cycles):
    worse = cycles["summaries"][1]
    assert cycles["after_worse"] == 1
    assert worse["decision"] == "kept_champion" and worse["registered_version"] == 2
    assert worse["champion_version"] == 1
    assert worse["challenger_score"] < worse["champion_score"]
    assert "does not beat champion v1" in worse["reason"]
    tags = _client(cycles["work"]).get_model_version(MODEL, "2").tags
    assert tags["automl.decision"] == "kept_champion"
    assert tags["automl.reason"] == worse["reason"]
    assert float(tags["automl.champion_score"]) == pytest.approx(worse["champion_score"])
    assert float(tags["automl.challenger_score"]) == pytest.approx(worse["challenger_score"])
    assert tags["automl.champion_version"] == "1"


def test_better_challenger_is_promoted(cycles):
    better = cycles["summaries"][2]
    assert cycles["after_better"] == 3
    assert better["decision"] == "promoted" and better["champion_version"] == 1
    assert better["challenger_score"] > better["champion_score"]
    tags = _client(cycles["work"]).get_model_version(MODEL, "3").tags
    assert tags["automl.decision"] == "promoted"
    assert better["drift"]["target"] > 0.2  # the class shares swapped


def test_missing_column_is_refused_with_exit_3(cycles, user_error):
    line = user_error(cycles["refused"], r"refused: .*missing columns \['mean texture'\]"
                                               r".*--allow-schema-change", code=3)
    assert "champion version 1" in line
    assert not (cycles["work"] / "refused.json").exists()
    assert cycles["versions_after_refused"] == [1, 2]  # nothing registered for it


def test_allow_schema_change_accepts_missing_column(cycles):
    work = cycles["work"]
    result = _retrain(work, cycles["data"]["c"], "--n-trials", "2", "--allow-schema-change",
                      summary="s4.json")
    assert result.exit_code == 0, (result.stderr, result.exception)
    summary = json.loads((work / "s4.json").read_text())
    # v3 needs 'mean texture', which this data lacks: it cannot score these rows, so the
    # challenger wins by default (the one failure of the champion that promotes).
    assert summary["decision"] == "promoted"
    assert summary["reason"].startswith("champion cannot score the new data")
    assert summary["champion_version"] == 3 and summary["champion_score"] is None
    assert _champion(work) == summary["registered_version"]
    assert summary["schema_changes"] == ["missing columns ['mean texture']"]
    assert "mean texture" not in summary["drift"]


def test_drift_logged_on_parent_run(cycles, tmp_path):
    worse = cycles["summaries"][1]
    assert worse["drift"]["mean radius"] > 0.2 > worse["drift"]["mean area"]
    client = _client(cycles["work"])
    run = client.get_run(worse["mlflow_run_id"])
    assert "mlflow.parentRunId" not in run.data.tags
    assert run.data.metrics["drift_psi_mean radius"] == pytest.approx(worse["drift"]["mean radius"])
    assert "drift_psi_target" in run.data.metrics
    logged = json.loads(Path(client.download_artifacts(run.info.run_id, "drift.json", str(tmp_path)))
                        .read_text())
    assert logged == pytest.approx(worse["drift"])


def test_warm_start_enqueues_champion_params_first(cycles):
    first, better = cycles["summaries"][0], cycles["summaries"][2]
    assert better["study_name"] != first["study_name"]  # new data, new study
    storage = _storage(cycles["work"])
    champion_study = optuna.load_study(study_name=first["study_name"], storage=storage)
    champion_params = champion_study.trials[first["best_trial"]].params
    trial0 = optuna.load_study(study_name=better["study_name"], storage=storage).trials[0]
    assert trial0.system_attrs["fixed_params"] == champion_params
    assert trial0.params == champion_params


# --------------------------------------------------------------------------------------------
# Unattended safety: subprocesses, as a scheduler would start them.


@pytest.fixture
def started():
    """Processes the test starts; any still alive at the end are killed with their group."""
    procs: list[subprocess.Popen] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _start(work: Path, data: str, n_trials: int, quiet: bool = True) -> subprocess.Popen:
    args = ["--data", data, "--register-model", MODEL, "--workdir", str(work), *FAST,
            "--n-trials", str(n_trials), *(["--quiet"] if quiet else [])]
    return subprocess.Popen([sys.executable, "-m", "automl", "retrain", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _wait_for_line(proc: subprocess.Popen, needle: str, timeout: float = 120) -> list[str]:
    """Read stderr until a line contains ``needle``; the rest keeps draining in a thread."""
    seen: list[str] = []
    found = threading.Event()

    def read():
        for line in proc.stderr:
            seen.append(line)
            if needle in line:
                found.set()
    threading.Thread(target=read, daemon=True).start()
    assert found.wait(timeout), f"{needle!r} never printed: {''.join(seen)}"
    return seen


def _studies(work: Path) -> list:
    storage = _storage(work)
    return [optuna.load_study(study_name=name, storage=storage)
            for name in optuna.get_all_study_names(storage)]


def _finished_trials(work: Path) -> int:
    """COMPLETE or PRUNED trials over every study in the work folder."""
    return sum(t.state.name in ("COMPLETE", "PRUNED")
               for s in _studies(work) for t in s.trials)


def _wait_for_trials(work: Path, proc: subprocess.Popen, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while _finished_trials(work) < count:
        assert proc.poll() is None and time.monotonic() < deadline, "the retrain ended too early"
        time.sleep(0.3)


def _writer_pid(pid: int) -> int:
    """The MLflow writer: the retrain's child in its own session."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                return int(entry.name)
    raise AssertionError("no writer process found")


def _running_runs(work: Path) -> list:
    client = _client(work)
    ids = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(ids, filter_string="attributes.status = 'RUNNING'", max_results=1000)


def _running_trials(work: Path) -> list:
    return [t for s in _studies(work) for t in s.trials
            if t.state.name == "RUNNING"]


def test_second_concurrent_retrain_exits_75(tmp_path, started):
    data = _tables(tmp_path)["a"]
    first = _start(tmp_path, data, n_trials=60, quiet=False)
    started.append(first)
    _wait_for_line(first, "warm start:")  # the first holds the lock and is searching
    second = _start(tmp_path, data, n_trials=2)
    _, err = second.communicate(timeout=120)
    assert first.poll() is None, "the second must give up at once, while the first still runs"
    assert second.returncode == 75, err
    assert err.strip().splitlines() == [err.strip()]
    assert "another retrain of 'bc' is running" in err and "try again later" in err
    assert first.wait(timeout=240) == 0
    assert _champion(tmp_path) == 1


def test_killed_retrain_leaves_nothing_running_and_rerun_resumes(tmp_path, started):
    data = _tables(tmp_path)["a"]
    # 1. Kill the search process only: its writer sees the pipe close and ends the runs itself.
    proc = _start(tmp_path, data, n_trials=400, quiet=False)
    started.append(proc)
    _wait_for_line(proc, "warm start:")
    _wait_for_trials(tmp_path, proc, 3)
    writer = _writer_pid(proc.pid)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 60
    while Path(f"/proc/{writer}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _running_runs(tmp_path)
    assert len(_running_trials(tmp_path)) <= 1  # the trial in flight, if any

    # 2. Kill both: the runs and the trial in flight stay RUNNING until the next retrain.
    proc = _start(tmp_path, data, n_trials=400, quiet=False)
    started.append(proc)
    _wait_for_line(proc, "warm start:")
    before = _finished_trials(tmp_path)
    _wait_for_trials(tmp_path, proc, before + 3)
    writer = _writer_pid(proc.pid)
    os.killpg(proc.pid, signal.SIGKILL)
    os.kill(writer, signal.SIGKILL)
    proc.wait(timeout=30)
    assert _running_runs(tmp_path), "the parent run was left RUNNING by the kill"
    finished = _finished_trials(tmp_path)

    rerun = _start(tmp_path, data, n_trials=3)
    _, err = rerun.communicate(timeout=240)
    assert rerun.returncode == 0, err
    assert not _running_runs(tmp_path)
    assert not _running_trials(tmp_path)
    studies = _studies(tmp_path)
    assert len(studies) == 1  # the same data and setup resumed the one study
    assert _finished_trials(tmp_path) == finished + 3  # the killed attempts' trials are kept
    stale = _client(tmp_path).search_runs(
        [e.experiment_id for e in _client(tmp_path).search_experiments()],
        filter_string="tags.`automl.stale` = 'closed by a later retrain'")
    assert stale and all(r.info.status == "FAILED" for r in stale)
    assert _champion(tmp_path) == 1


@pytest.mark.parametrize("args, message", [
    ([], r"register_model \(--register-model NAME\) is required"),
    (["--register-model", MODEL, "--no-tracking"], r"register_model needs tracking"),
    (["--register-model", MODEL, "--workers", "2"], r"workers must be 1 .* got 2"),
])
def test_retrain_user_errors_exit_2(args, message, user_error):
    result = CliRunner().invoke(app, ["retrain", "--data", "demo:iris", "--quiet", *FAST, *args])
    user_error(result, message)
