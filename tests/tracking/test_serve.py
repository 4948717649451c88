"""Deployment check: a registered model served by ``mlflow models serve --env-manager local`` on
127.0.0.1 answers predictions over HTTP, the same as ``automl predict``."""

from __future__ import annotations

import json
import os
import sys
import urllib.request

import pytest

from automl.predict import load_model
from automl.run import run_experiment

pytest.importorskip("mlflow")


def _invoke(url: str, frame) -> list:
    split = json.loads(frame.to_json(orient="split", index=False))
    body = json.dumps({"dataframe_split": split}).encode()
    request = urllib.request.Request(f"{url}/invocations", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["predictions"]


@pytest.mark.parametrize("data", ["demo:iris", "demo:diabetes"])
def test_a_registered_version_is_served_over_http(config, workdir, data, server, free_port):
    summary = run_experiment(config(data=data, tracking=True, register_model="served",
                                    study_name="serve"))
    tracking = f"sqlite:///{workdir / 'mlruns' / 'mlflow.db'}"
    port = free_port
    version = f"models:/served/{summary['registered_version']}"
    cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", version, "--env-manager", "local",
           "-h", "127.0.0.1", "-p", str(port), "--workers", "1"]
    # The scoring server is started as `uvicorn` from PATH: this interpreter's scripts first.
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking, "PATH": path}
    url = f"http://127.0.0.1:{port}"
    model = load_model(summary["model_path"])
    rows = _rows(data)
    with server(cmd, f"{url}/ping", workdir / "serve.log", env=env):
        served = _invoke(url, rows)
    assert len(served) == len(rows)
    expected = model.predict(rows)
    if summary["task"] == "regression":
        assert served == pytest.approx(list(map(float, expected)))
    else:
        assert [str(v) for v in served] == [str(v) for v in expected]


def _rows(data: str):
    from sklearn import datasets

    bunch = {"demo:iris": datasets.load_iris, "demo:diabetes": datasets.load_diabetes}[data](as_frame=True)
    return bunch.frame.drop(columns="target").head(7)
