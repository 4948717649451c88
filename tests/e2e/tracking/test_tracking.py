"""MLflow tracking against the embedded SQLite store: one parent, one child per trial in every
state, the params/metrics/tags promised, a model that loads back, and no run left RUNNING."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import joblib
import numpy as np
import optuna
import pytest

from automl.config import ExperimentConfig
from automl.run import run_experiment
from automl.trial import attrs

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import ViewType  # noqa: E402

# naive_bayes always works, a depth-1 tree is weak enough to be pruned, and k-NN asking for more
# neighbours than a fold has rows always raises (a value no space check can refuse: it depends on
# the data): so a short search has COMPLETE, PRUNED and FAIL trials.
MIXED_SPACE = """
models:
  decision_tree:
    max_depth: 1
classification:
  models:
    naive_bayes:
      var_smoothing: {type: float, low: 1.0e-10, high: 1.0e-8, log: true}
    knn:
      n_neighbors: 100000
"""


def _runs(client: MlflowClient, experiment: str):
    exp = client.get_experiment_by_name(experiment)
    return client.search_runs([exp.experiment_id], run_view_type=ViewType.ACTIVE_ONLY, max_results=5000)


def _split(runs):
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    return parents, children


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("tracking")
    space = work / "mixed.yaml"
    space.write_text(MIXED_SPACE)
    cfg = ExperimentConfig(data="demo:breast_cancer", space=str(space), n_trials=14, seed=3, cv=5,
                           n_jobs=1, workdir=str(work), quiet=True, study_name="mixed",
                           register_model="mixed-model")
    summary = run_experiment(cfg)
    client = MlflowClient(f"sqlite:///{work / 'mlruns' / 'mlflow.db'}")
    study = optuna.load_study(study_name="mixed", storage=f"sqlite:///{work / 'mlruns' / 'optuna.db'}")
    return summary, client, study, work


def test_one_parent_and_one_child_per_trial(mixed_run):
    summary, client, study, _ = mixed_run
    parents, children = _split(_runs(client, "mixed"))
    assert len(parents) == 1
    assert parents[0].info.run_id == summary["mlflow_run_id"]
    assert parents[0].info.status == "FINISHED"
    assert len(children) == len(study.trials) == 14
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {summary["mlflow_run_id"]}
    assert sorted(int(c.data.tags["optuna.trial_number"]) for c in children) == list(range(14))


def test_every_trial_state_is_logged_with_its_status(mixed_run):
    _, client, study, _ = mixed_run
    _, children = _split(_runs(client, "mixed"))
    by_number = {int(c.data.tags["optuna.trial_number"]): c for c in children}
    states = {t.state.name for t in study.trials}
    assert states == {"COMPLETE", "PRUNED", "FAIL"}, "the space should produce every state"
    for trial in study.trials:
        run = by_number[trial.number]
        assert run.data.tags["optuna.state"] == trial.state.name
        assert run.info.status == ("FAILED" if trial.state.name == "FAIL" else "FINISHED")
        # Links both ways: run id on the trial, trial number on the run.
        assert trial.user_attrs["mlflow_run_id"] == run.info.run_id
        assert run.data.params["model"] == trial.params["model"]
        if trial.state.name == "PRUNED":
            assert run.data.tags["automl.pruned_at_fold"] == str(trial.user_attrs["pruned_at_fold"])
        if trial.state.name == "FAIL":
            assert "n_neighbors" in run.data.tags["automl.error"]


def test_complete_trials_carry_cv_and_fold_metrics(mixed_run):
    _, client, study, _ = mixed_run
    _, children = _split(_runs(client, "mixed"))
    by_number = {int(c.data.tags["optuna.trial_number"]): c for c in children}
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    for trial in complete:
        run = by_number[trial.number]
        assert run.data.metrics["cv_roc_auc"] == pytest.approx(trial.value)
        assert run.data.metrics["cv_roc_auc_std"] == pytest.approx(attrs.cv_std(trial))
        assert "fit_time_s" in run.data.metrics
        history = client.get_metric_history(run.info.run_id, "fold_roc_auc")
        assert [m.step for m in sorted(history, key=lambda m: m.step)] == list(range(5))
        assert [m.value for m in sorted(history, key=lambda m: m.step)] == pytest.approx(
            attrs.fold_scores(trial))
        assert run.data.params["naive_bayes.var_smoothing"] == str(trial.params["naive_bayes.var_smoothing"])


def test_parent_has_tags_params_and_artifacts(mixed_run):
    summary, client, _, _ = mixed_run
    parent = client.get_run(summary["mlflow_run_id"])
    tags = parent.data.tags
    for key in ("automl.study_name", "automl.storage", "automl.config_hash",
                "automl.data_fingerprint", "automl.version"):
        assert tags[key]
    assert tags["automl.test_fingerprint"] == summary["test_fingerprint"]
    assert parent.data.params["n_trials"] == "14"
    assert parent.data.metrics["test_roc_auc"] == pytest.approx(summary["test_metrics"]["roc_auc"])
    top = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"config.json", "schema.json", "leaderboard.csv", "summary.json", "plots",
            "search_space"} <= top
    plots = {Path(a.path).name for a in client.list_artifacts(parent.info.run_id, "plots")}
    assert {"optimization_history.png", "confusion_matrix.png", "roc_curve.png"} <= plots
    best = client.get_run(tags["automl.best_run_id"])
    assert best.data.tags["automl.best"] == "true"


def test_logged_model_predicts_like_the_saved_pipeline(mixed_run):
    summary, _, _, work = mixed_run
    from sklearn.datasets import load_breast_cancer

    X = load_breast_cancer(as_frame=True).data.head(40)
    saved = joblib.load(summary["model_path"])
    mlflow.set_tracking_uri(f"sqlite:///{work / 'mlruns' / 'mlflow.db'}")
    assert summary["model_uri"] == "models:/mixed-model/1"
    pyfunc = mlflow.pyfunc.load_model(summary["model_uri"])
    assert pyfunc.metadata.signature is not None
    np.testing.assert_array_equal(np.asarray(pyfunc.predict(X)), saved.predict(X))
    version = MlflowClient().get_model_version("mixed-model", "1")
    assert version.tags["study_name"] == "mixed"
    assert float(version.tags["test_roc_auc"]) == pytest.approx(summary["test_metrics"]["roc_auc"])


def test_no_run_left_running_and_no_pending_run_visible(mixed_run):
    _, client, _, _ = mixed_run
    runs = _runs(client, "mixed")
    assert all(r.info.status != "RUNNING" for r in runs)
    assert all(r.info.run_name != "trial-pending" for r in runs)


def test_no_tracking_writes_no_mlflow_store(tmp_path):
    cfg = ExperimentConfig(data="demo:iris", space="fast.yaml", n_trials=2, cv=3, n_jobs=1,
                           workdir=str(tmp_path), quiet=True, tracking=False)
    summary = run_experiment(cfg)
    assert "mlflow_run_id" not in summary
    assert not (tmp_path / "mlruns" / "mlflow.db").exists()


def _automl(args: list[str], work: Path, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "AUTOML_WORKDIR": str(work)}
    # As from a terminal: a test session started in the background (`cmd &` in a script) has
    # SIGINT ignored, and a child would inherit that and never see the Ctrl-C the test sends.
    return subprocess.Popen([sys.executable, "-m", "automl", "run", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint, **kwargs)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_two_runs_into_one_fresh_store_both_finish(tmp_path):
    procs = [_automl(["--data", f"demo:{name}", "--space", "fast.yaml", "--n-trials", "6",
                      "--cv", "3", "--n-jobs", "1", "--quiet"], tmp_path)
             for name in ("iris", "wine")]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    for name in ("iris-target", "wine-target"):
        parents, children = _split(_runs(client, name))
        assert len(parents) == 1 and parents[0].info.status == "FINISHED"
        assert len(children) == 6


def test_sigint_mid_study_leaves_nothing_running(tmp_path):
    proc = _automl(["--data", "demo:digits", "--space", "default.yaml", "--n-trials", "500",
                    "--cv", "3", "--n-jobs", "1", "--study-name", "interrupted"], tmp_path,
                   start_new_session=True)
    storage = f"sqlite:///{tmp_path / 'mlruns' / 'optuna.db'}"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            study = optuna.load_study(study_name="interrupted", storage=storage)
            if sum(t.state.is_finished() for t in study.trials) >= 3:
                break
        except Exception:  # storage or study not created yet
            pass
        time.sleep(0.5)
    assert proc.poll() is None, "the run should still be searching"
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    runs = _runs(client, "interrupted")
    assert runs, "runs were logged before the interrupt"
    assert all(r.info.status != "RUNNING" for r in runs)
    parents, children = _split(runs)
    assert [p.info.status for p in parents] == ["KILLED"]
    finished = [t for t in optuna.load_study(study_name="interrupted", storage=storage).trials
                if t.state.name in ("COMPLETE", "PRUNED")]
    logged = {c.data.tags.get("optuna.trial_number") for c in children}
    assert {str(t.number) for t in finished} <= logged


def test_the_ui_sees_a_training_experiment_its_data_sets_and_the_model_latency(mixed_run):
    summary, client, _, _ = mixed_run
    parent = client.get_run(summary["mlflow_run_id"])
    experiment = client.get_experiment(parent.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"  # not the GenAI view
    inputs = {[t.value for t in d.tags if t.key == "mlflow.data.context"][0]: d.dataset
              for d in parent.inputs.dataset_inputs}
    assert set(inputs) == {"training", "testing"}
    rows = {context: json.loads(d.profile)["num_rows"] for context, d in inputs.items()}
    assert rows == {"training": summary["train_rows"], "testing": summary["test_rows"]}
    assert inputs["training"].digest != inputs["testing"].digest
    assert parent.data.metrics["test_predict_ms_per_1000_rows"] > 0


def _children(pid: int) -> list[tuple[int, int]]:
    """(pid, session id) of the processes whose parent is ``pid``."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append((int(entry.name), int(fields[3])))
    return out


def test_the_writer_killed_alone_fails_the_run_in_one_line_and_leaves_nothing_running(tmp_path):
    import optuna

    proc = subprocess.Popen([sys.executable, "-m", "automl", "run", "--data", "demo:breast_cancer",
                             "--n-trials", "400", "--workdir", str(tmp_path), "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    storage = f"sqlite:///{tmp_path / 'mlruns' / 'optuna.db'}"
    deadline = time.monotonic() + 120
    while True:  # a few trials in, with their child runs
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        try:
            study = optuna.load_study(study_name="breast_cancer-target", storage=storage)
            if sum(t.state.name == "COMPLETE" for t in study.trials) >= 3:
                break
        except (KeyError, Exception):
            pass
        time.sleep(0.3)
    writer = [pid for pid, session in _children(proc.pid) if session == pid]  # its own session
    assert len(writer) == 1
    os.kill(writer[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "writer process stopped unexpectedly" in lines[0] and "Traceback" not in err
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()], max_results=5000)
    assert runs and not [r for r in runs if r.info.status == "RUNNING"]
    parent = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert [r.info.status for r in parent] == ["FAILED"]
    study = optuna.load_study(study_name="breast_cancer-target", storage=storage)
    assert not [t for t in study.trials if t.state.name == "RUNNING"]


def test_files_holding_training_rows_are_the_owners_only(mixed_run):
    """The saved and the logged model, the input example and the out-of-fold predictions."""
    summary, _, _, work = mixed_run
    held = [Path(summary["model_path"]), *(work / "mlruns" / "oof").rglob("*.npy")]
    logged = list((work / "mlruns" / "artifacts").rglob("model.skops")) + \
        list((work / "mlruns" / "artifacts").rglob("input_example.json"))
    assert logged and len(held) > 1
    loose = [str(p) for p in held + logged if p.stat().st_mode & 0o077]
    assert not loose, loose


def test_a_claim_sent_just_before_the_search_process_dies_names_the_killed_run(tmp_path):
    # The search process claims a pre-created run for its trial, then dies at once (SIGKILL): the
    # claim and the end of the pipe reach the writer together. The run must end as that trial's
    # KILLED run, not be deleted as an unused spare while the trial points at it.
    from automl.tracking._writer import start_writer

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    proc, send, recv = start_writer()
    send.send(("open", uri))
    assert recv.recv()[0] == "opened"
    send.send({"experiment": "claims", "artifacts": str(tmp_path / "artifacts"), "run_name": "p",
               "tags": {}, "params": {}, "files": {}, "study_name": "claims", "metric": None,
               "retrain_of": None, "parent_run_id": None, "close_parent": True})
    _, _, parent_id = recv.recv()
    send.send(("new_run",))
    send.send(("new_run",))
    claimed, spare = recv.recv()[1], recv.recv()[1]
    send.send(("claim", claimed, 3))
    send.close()  # no "close": what a killed process leaves behind
    assert proc.wait(timeout=60) == 0
    client = MlflowClient(uri)
    run = client.get_run(claimed)
    assert (run.info.status, run.info.lifecycle_stage) == ("KILLED", "active")
    assert run.data.tags["optuna.trial_number"] == "3"
    assert client.get_run(spare).info.lifecycle_stage == "deleted"
    assert client.get_run(parent_id).info.status == "KILLED"


def _writer_with_parent(tmp_path, name: str):
    from automl.tracking._writer import start_writer

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    proc, send, recv = start_writer()
    send.send(("open", uri))
    assert recv.recv()[0] == "opened"
    send.send({"experiment": name, "artifacts": str(tmp_path / "artifacts"), "run_name": "p",
               "tags": {}, "params": {}, "files": {}, "study_name": name, "metric": None,
               "retrain_of": None, "parent_run_id": None, "close_parent": True})
    return uri, proc, send, recv


@pytest.mark.parametrize("when", ["creating the parent run", "creating a trial's run"])
def test_the_search_process_dying_before_the_writer_answers_leaves_nothing_running(tmp_path, when):
    # Seen in the kill campaign: SIGKILL to the search process while the writer was creating a
    # run; its answer then met a broken pipe, and the writer died leaving the runs RUNNING.
    uri, proc, send, recv = _writer_with_parent(tmp_path, "answers")
    if when == "creating a trial's run":
        recv.recv()  # "ready"
    recv.close()  # the search process is gone: nobody reads the answers
    if when == "creating a trial's run":
        send.send(("new_run",))
    try:  # the end of the request pipe would tell the writer before its answer could
        assert proc.wait(timeout=60) == 0
    finally:
        send.close()
    client = MlflowClient(uri)
    (experiment,) = [e for e in client.search_experiments() if e.name == "answers"]
    runs = client.search_runs([experiment.experiment_id], run_view_type=ViewType.ALL)
    assert [r.info.status for r in runs if r.info.lifecycle_stage == "active"] == ["KILLED"]
    assert {r.info.status for r in runs} == {"KILLED"}  # the unused trial runs: closed, deleted


def test_names_with_quotes_are_searched_as_names_never_as_query(tmp_path):
    from automl.errors import ConfigError
    from automl.tracking._store import literal

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.create_experiment("quotes")
    names = ["O'Brien", 'say "hi"', "x' OR tags.t != 'none"]
    ids = {name: client.create_run(experiment, tags={"t": name}).info.run_id for name in names}
    for name in names:
        found = client.search_runs([experiment], filter_string=f"tags.t = {literal(name)}")
        assert [run.info.run_id for run in found] == [ids[name]]
    with pytest.raises(ConfigError, match="not both"):
        literal("""it's "both" """)


def _tracked_iris(workdir, study_name: str, n_trials: int) -> dict:
    return run_experiment(ExperimentConfig(
        data="demo:iris", space="fast.yaml", n_trials=n_trials, seed=0, cv=3, n_jobs=1,
        workdir=str(workdir), quiet=True, study_name=study_name))


def test_a_trial_finished_in_the_study_but_closed_as_killed_is_logged_whole_on_resume(tmp_path):
    # A stop (or SIGKILL) between Optuna's tell and the trial's record closes the run KILLED while
    # the study holds the trial COMPLETE; the next run of the study logs it whole, in the same run.
    def run(n_trials: int):
        return _tracked_iris(tmp_path, "settle", n_trials)

    run(3)
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    study = optuna.load_study(study_name="settle", storage=f"sqlite:///{tmp_path / 'mlruns' / 'optuna.db'}")
    trial = next(t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE)
    broken = attrs.run_id(trial)
    client.set_tag(broken, "optuna.state", "FAIL")  # what the writer does to a run it closes KILLED
    client.set_tag(broken, "automl.stale", "closed by a later retrain")  # or a retrain, when both died
    client.set_terminated(broken, "KILLED")
    run(1)
    settled = client.get_run(broken)
    assert settled.info.status == "FINISHED" and settled.data.tags["optuna.state"] == "COMPLETE"
    assert "automl.stale" not in settled.data.tags
    assert settled.data.metrics["cv_log_loss"] == pytest.approx(trial.value)
    numbers = [r.data.tags.get("optuna.trial_number") for r in _runs(client, "settle")]
    assert numbers.count(str(trial.number)) == 1


def test_a_trial_failed_for_its_dead_process_keeps_its_run_killed(tmp_path):
    # A process killed with its writer leaves its trial RUNNING and the trial's run RUNNING (or, if
    # the writer outlived it, KILLED). The next run alone on the study fails the trial for its dead
    # process and closes a RUNNING run KILLED; neither run is re-logged as the trial's own failure.
    first = _tracked_iris(tmp_path, "dead", 2)
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    parent = client.get_run(first["mlflow_run_id"])
    study = optuna.load_study(study_name="dead", storage=f"sqlite:///{tmp_path / 'mlruns' / 'optuna.db'}")
    runs = {}
    for left in ("RUNNING", "KILLED"):
        trial = study.ask()
        run = client.create_run(parent.info.experiment_id, tags={
            "mlflow.parentRunId": parent.info.run_id, "automl.study_name": "dead",
            "optuna.trial_number": str(trial.number)})
        if left == "KILLED":
            client.set_terminated(run.info.run_id, "KILLED")
        attrs.record_run_id(trial, run.info.run_id)
        runs[left] = run.info.run_id
    # ... and one Optuna's heartbeat check failed and retried (its retry still waiting)
    from automl.study import retry_callback

    trial = study.ask()
    run = client.create_run(parent.info.experiment_id, tags={
        "mlflow.parentRunId": parent.info.run_id, "automl.study_name": "dead",
        "optuna.trial_number": str(trial.number)})
    client.set_terminated(run.info.run_id, "KILLED")
    attrs.record_run_id(trial, run.info.run_id)
    study._storage.set_trial_state_values(trial._trial_id, state=optuna.trial.TrialState.FAIL)
    retry_callback()(study, study._storage.get_trial(trial._trial_id))
    runs["heartbeat"] = run.info.run_id
    _tracked_iris(tmp_path, "dead", 1)
    assert [client.get_run(runs[left]).info.status for left in ("RUNNING", "KILLED", "heartbeat")] \
        == ["KILLED", "KILLED", "KILLED"]


def test_a_trial_that_finished_without_a_run_is_logged_once_by_the_next_run(tmp_path):
    # The writer killed while a trial ran: the trial finishes in the study with no run id (the
    # run then fails with the writer's error). The next run of the study logs it, once.
    def run(n_trials: int):
        return _tracked_iris(tmp_path, "unlinked", n_trials)

    run(2)
    study = optuna.load_study(study_name="unlinked", storage=f"sqlite:///{tmp_path / 'mlruns' / 'optuna.db'}")
    done = study.trials[0]
    study.add_trial(optuna.trial.create_trial(  # what such a trial holds: all but a run id
        params=done.params, distributions=done.distributions, value=0.25,
        user_attrs={k: v for k, v in done.user_attrs.items() if k != "mlflow_run_id"}))
    orphan = study.trials[-1]
    # ... and one stopped in Optuna's ask, before the objective (failed, nothing but its number)
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL))
    failed = study.trials[-1]
    run(1)
    run(1)
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    runs = _runs(client, "unlinked")
    logged = [r for r in runs if r.data.tags.get("optuna.trial_number") == str(orphan.number)]
    assert [r.info.status for r in logged] == ["FINISHED"]
    assert [r.info.status for r in runs if r.data.tags.get("optuna.trial_number") == str(failed.number)] \
        == ["FAILED"]
    assert logged[0].data.metrics["cv_log_loss"] == pytest.approx(0.25)
    assert logged[0].data.tags["automl.study_name"] == "unlinked"
    assert logged[0].data.tags["mlflow.runName"] == f"trial-{orphan.number:04d}"
