"""The same tracking promises against a real ``mlflow server`` over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402


@pytest.fixture(scope="module")
def server_run(mlflow_server, tmp_path_factory):
    server = mlflow_server
    work = tmp_path_factory.mktemp("work")
    summary_path = work / "summary.json"
    cmd = [sys.executable, "-m", "automl", "run", "--data", "demo:wine", "--space", "fast.yaml",
           "--n-trials", "8", "--cv", "3", "--n-jobs", "1", "--tracking-uri", server,
           "--experiment", "over-http", "--register-model", "wine-http",
           "--summary-json", str(summary_path), "--workdir", str(work), "--quiet"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "", "quiet runs print nothing on stdout"
    return json.loads(summary_path.read_text()), MlflowClient(server), work


def test_final_model_and_evidence_over_http(server_run, tmp_path):
    summary, client, _ = server_run
    parent = summary["mlflow_run_id"]
    logged = {a.path for a in client.list_artifacts(parent)}
    assert {"schema.json", "leaderboard.csv", "plots", "summary.json", "config.json"} <= logged
    schema = json.loads(open(client.download_artifacts(parent, "schema.json", str(tmp_path))).read())
    assert schema["target"] == "target" and schema["n_train_rows"] == summary["train_rows"]
    board = open(client.download_artifacts(parent, "leaderboard.csv", str(tmp_path))).read()
    assert board.splitlines()[1].split(",")[0] == str(summary["best_trial"])  # best first
    version = client.get_model_version("wine-http", "1")
    assert version.run_id == parent
    assert version.tags["study_name"] == summary["study_name"]
    assert float(version.tags["test_log_loss"]) == pytest.approx(summary["test_metrics"]["log_loss"])
    run = client.get_run(parent)
    assert run.data.metrics["test_accuracy"] == pytest.approx(summary["test_metrics"]["accuracy"])
    assert run.data.tags["automl.best_run_id"] == client.search_runs(
        [run.info.experiment_id], filter_string="tags.`automl.best` = 'true'")[0].info.run_id


def test_runs_over_http(server_run):
    summary, client, _ = server_run
    exp = client.get_experiment_by_name("over-http")
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert [p.info.run_id for p in parents] == [summary["mlflow_run_id"]]
    assert len(children) == sum(summary["n_trials"].values()) == 8
    assert all(r.info.status in ("FINISHED", "FAILED") for r in runs)
    for child in children:
        assert child.data.params["model"]
        assert child.data.tags["optuna.state"] in ("COMPLETE", "PRUNED", "FAIL")
        folds = client.get_metric_history(child.info.run_id, "fold_log_loss")
        assert len(folds) >= 1
    # No password-bearing URL may leak; here the storage is a local SQLite path.
    assert parents[0].data.tags["automl.storage"].startswith("sqlite:///")


def test_registered_model_predicts_over_http(server_run, mlflow_server, tmp_path):
    server = mlflow_server
    summary, client, work = server_run
    assert summary["model_uri"] == "models:/wine-http/1"
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).data.head(9)
    data = tmp_path / "rows.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "pred.csv"
    env = {**os.environ, "MLFLOW_TRACKING_URI": server}
    for uri in ("models:/wine-http/1", summary["run_model_uri"]):
        done = subprocess.run([sys.executable, "-m", "automl", "predict", "--model", uri,
                               "--data", str(data), "--output", str(out)],
                              capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        assert len(out.read_text().splitlines()) == 1 + len(frame)
