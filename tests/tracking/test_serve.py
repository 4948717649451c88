"""Deployment check: a registered model served by ``mlflow models serve --env-manager local`` on
127.0.0.1 answers predictions over HTTP, the same as ``automl predict``."""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

import numpy as np
import pytest

from automl.predict import load_model
from automl.run import run_experiment

pytest.importorskip("mlflow")


def _invoke(url: str, frame, params: dict | None = None) -> list:
    split = json.loads(frame.to_json(orient="split", index=False))
    body = json.dumps({"dataframe_split": split, **({"params": params} if params else {})}).encode()
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
        proba = _invoke(url, rows, {"output": "proba"}) if summary["task"] != "regression" else None
        with pytest.raises(urllib.error.HTTPError) as refused:
            _invoke(url, rows, {"output": "proba" if summary["task"] == "regression" else "odds"})
    assert len(served) == len(rows)
    expected = model.predict(rows)
    if summary["task"] == "regression":
        assert served == pytest.approx(list(map(float, expected)))
        assert "needs a classifier" in refused.value.read().decode()
    else:
        assert [str(v) for v in served] == [str(v) for v in expected]
        # Probabilities on request: one column per class, as automl predict --proba gives them.
        classes = [str(c) for c in model.classes_]
        assert all(list(row) == classes for row in proba), proba[0]
        got = np.array([[row[c] for c in classes] for row in proba])
        np.testing.assert_allclose(got, model.predict_proba(rows), rtol=1e-6)
        assert "'odds' is not allowed" in refused.value.read().decode()
    # automl's code travels with the model (the served process imports it from there).
    logged = [p.parent for p in (workdir / "mlruns").rglob("MLmodel")]
    assert logged and all((p / "code" / "automl" / "_serving.py").is_file() for p in logged)


def _rows(data: str):
    from sklearn import datasets

    bunch = {"demo:iris": datasets.load_iris, "demo:diabetes": datasets.load_diabetes}[data](as_frame=True)
    return bunch.frame.drop(columns="target").head(7)
