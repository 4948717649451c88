"""No code runs from a model file: a malicious pickle as a local file and as a registered
version, a skops model whose own MLmodel trusts a dangerous function, and a registered version
whose skops file was replaced in the store are all refused with one line (exit 2), by
``automl predict``, the serving loader and the retrain gate alike; --trust-model is the user's
explicit override."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

mlflow = pytest.importorskip("mlflow")


class Planted:
    """Unpickling this creates a file: the stand-in for any code an attacker wants run."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))

    def predict(self, X):  # looks like a model to MLflow
        return X


@pytest.fixture
def rows(workdir) -> str:
    (workdir / "rows.csv").write_text("x\n1\n2\n")
    return str(workdir / "rows.csv")


def test_a_planted_local_pickle_is_refused_and_runs_nothing(cli, workdir, rows, user_error):
    marker = workdir / "pwned"
    (workdir / "evil.joblib").write_bytes(pickle.dumps(Planted(marker)))
    user_error(cli("predict", "--model", str(workdir / "evil.joblib"), "--data", rows, "--output", "p.csv"),
               r"evil\.joblib: refused: no valid automl signature")
    assert not marker.exists()
    # A signature copied from a model automl did write does not cover another file.
    from automl._trust import sign

    (workdir / "good.joblib").write_bytes(b"anything")
    sign(workdir / "good.joblib")
    os.replace(workdir / "good.joblib.sig", workdir / "evil.joblib.sig")
    user_error(cli("predict", "--model", str(workdir / "evil.joblib"), "--data", rows, "--output", "p.csv"),
               r"refused: its signature does not match")
    assert not marker.exists()


def _register(workdir: Path, name: str, model_code: str, after: str = "", **kwargs) -> str:
    """Log and register the model ``model_code`` builds, in a subprocess (MLflow's fluent API
    keeps the store in module globals; they must not leak into other tests); ``after`` runs
    inside the run, after the model is logged."""
    import subprocess
    import sys

    uri = f"sqlite:///{workdir / 'mlruns' / 'mlflow.db'}"
    (workdir / "mlruns").mkdir(exist_ok=True)
    script = workdir / f"register_{name}.py"
    script.write_text(
        "import os, sys, mlflow, mlflow.sklearn\n"
        f"sys.path[:0] = [{str(Path(__file__).parent)!r}, {str(Path(__file__).resolve().parents[3])!r}]\n"
        f"{model_code}\n"
        "with mlflow.start_run():\n"
        f"    info = mlflow.sklearn.log_model(model, name='model', pip_requirements=[], **{kwargs!r})\n"
        + "".join(f"    {line}\n" for line in after.splitlines())
        + f"version = mlflow.register_model(info.model_uri, {name!r})\n"
        f"mlflow.MlflowClient().set_registered_model_alias({name!r}, 'champion', version.version)\n")
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_REGISTRY_URI": uri}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, cwd=workdir)
    assert done.returncode == 0, done.stderr[-2000:]
    return uri


def test_a_planted_pickle_registered_in_mlflow_is_refused_and_runs_nothing(cli, workdir, rows, user_error):
    marker = workdir / "pwned"
    code = f"from test_untrusted_models import Planted\nmodel = Planted({str(marker)!r})"
    uri = _register(workdir, "evil", code, serialization_format="pickle")
    marker.unlink(missing_ok=True)  # logging pickled it, and MLflow may have loaded it back
    user_error(cli("predict", "--model", "models:/evil/1", "--data", rows, "--output", "p.csv",
                   "--tracking-uri", uri), r"models:/evil/1: refused: saved as 'pickle'")
    assert not marker.exists()


def test_a_skops_model_is_loaded_with_automls_trust_not_its_own(cli, workdir, rows, user_error):
    """The MLmodel of this skops model trusts os.system (as an attacker would write it); automl
    reads the types itself and refuses."""
    uri = _register(workdir, "sly", "from sklearn.preprocessing import FunctionTransformer\n"
                    "model = FunctionTransformer(func=os.system)", serialization_format="skops",
                    skops_trusted_types=["posix.system", "nt.system"])
    user_error(cli("predict", "--model", "models:/sly/1", "--data", rows, "--output", "p.csv",
                   "--tracking-uri", uri),
               r"refused: the model holds what automl's models never do \((nt|posix)\.system")


LOGISTIC = ("import pandas as pd\nfrom sklearn.linear_model import LogisticRegression\n"
            "model = LogisticRegression().fit(pd.DataFrame({'x': [1., 2., 3., 4.]}), [0, 0, 1, 1])")


def test_a_registered_model_replaced_in_the_store_runs_nothing(cli, workdir, rows, user_error):
    """The store's model.skops swapped for one that calls pandas.read_pickle on a planted pickle
    (a trusted package, a function no model holds): predict, the server's loader and the retrain
    gate's champion load all refuse it, and the pickle never runs."""
    import skops.io

    from automl._serving import _load_pyfunc
    from automl.errors import ModelLoadError
    from automl.tracking import fetch_champion
    from tests.trust.planted import evil_pickle, plant, skops_file

    uri = _register(workdir, "m", LOGISTIC, after="mlflow.log_text('{}', 'schema.json')",
                    serialization_format="skops")
    predicted = cli("predict", "--model", "models:/m/1", "--data", rows, "--output", "p.csv", "--tracking-uri", uri)
    assert predicted.exit_code == 0, predicted.stderr
    stored = next(workdir.glob("mlruns/**/model.skops"))
    evil, marker = evil_pickle(workdir)
    model = skops.io.load(stored, trusted=skops.io.get_untrusted_types(file=stored))
    stored.write_bytes(skops_file(model, plant("constructor", "pandas.read_pickle", [str(evil)], {}), {}))
    refusal = r"^error: models:/m/1: model\.skops: refused: the model holds what automl's models never do \(pandas\.read_pickle"
    user_error(cli("predict", "--model", "models:/m/1", "--data", rows, "--output", "p.csv",
                   "--tracking-uri", uri), refusal)
    with pytest.raises(ModelLoadError, match="pandas.read_pickle"):
        _load_pyfunc(str(stored.parent))
    with pytest.raises(ModelLoadError, match="pandas.read_pickle"):
        fetch_champion(uri, "m", "champion")
    assert not marker.exists()
