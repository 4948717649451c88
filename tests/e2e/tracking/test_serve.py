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
    # automl's code travels with the model: it loads where automl is not installed.
    logged = [p.parent for p in (workdir / "mlruns").rglob("MLmodel")]
    assert len(logged) == 1
    _load_without_automl(logged[0], rows, model, summary["task"], workdir)


def _load_without_automl(folder, rows, model, task, workdir):
    """Load the logged model with MLflow in an interpreter that has this environment's libraries
    but not automl: no site processing (so automl's editable-install hook never runs), the
    site-packages folder on the path, the working directory elsewhere. Its predictions must be
    automl's, from the code shipped in the model."""
    import site
    import subprocess

    rows.to_csv(workdir / "rows.csv", index=False)
    script = (
        "import sys, json, importlib.util\n"
        "assert importlib.util.find_spec('automl') is None, 'automl is importable'\n"
        "import mlflow.pyfunc, pandas as pd\n"
        f"m = mlflow.pyfunc.load_model({str(folder)!r})\n"
        f"rows = pd.read_csv({str(workdir / 'rows.csv')!r})\n"
        "out = {'labels': [str(v) for v in m.predict(rows)], 'from': sys.modules['automl'].__file__}\n"
        "if hasattr(m.get_raw_model(), 'predict_proba'):\n"
        "    out['proba'] = m.predict(rows, params={'output': 'proba'}).to_numpy().tolist()\n"
        "print(json.dumps(out))\n")
    env = {"PYTHONPATH": os.pathsep.join(site.getsitepackages()), "PATH": os.environ.get("PATH", ""),
           "HOME": os.environ.get("HOME", "/tmp"), "MLFLOW_TRACKING_URI": ""}
    done = subprocess.run([sys.executable, "-S", "-P", "-c", script], env=env, cwd="/", capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["from"].startswith(str(folder / "code" / "automl"))
    expected = model.predict(rows)
    if task == "regression":
        assert list(map(float, out["labels"])) == pytest.approx(list(map(float, expected)))
    else:
        assert out["labels"] == [str(v) for v in expected]
        np.testing.assert_allclose(out["proba"], model.predict_proba(rows), rtol=1e-6)


def _rows(data: str):
    from sklearn import datasets

    bunch = {"demo:iris": datasets.load_iris, "demo:diabetes": datasets.load_diabetes}[data](as_frame=True)
    return bunch.frame.drop(columns="target").head(7)
