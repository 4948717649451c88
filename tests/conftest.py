"""Shared fixtures: a seed, a private work folder per test, small synthetic tables, a CLI runner.

Every test runs in its own temporary folder with ``AUTOML_WORKDIR`` pointing there, so nothing is
written into the repository's ``mlruns/``. Runs never log to MLflow (``--no-tracking``), use
``--n-jobs 1`` and the bundled ``fast.yaml`` space, and count trials instead of seconds.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from automl.cli import app
from automl.config import ExperimentConfig

# Flags every test run uses unless it overrides them: fast, serial, untracked, quiet.
FAST_FLAGS = {"--space": "fast.yaml", "--n-trials": "3", "--cv": "3", "--n-jobs": "1"}


E2E = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(config, items):
    """Everything under tests/e2e/ (CLI and full runs, kill campaigns, servers, a browser,
    PostgreSQL, workers) is marked ``e2e``: ``pytest -m "not e2e"`` is the fast tier."""
    for item in items:
        if E2E in Path(item.fspath).resolve().parents:
            item.add_marker(pytest.mark.e2e)
    # The longest files first, so that the two test processes start on the two kill campaigns and
    # neither waits for the other at the end.
    rank = {name: i for i, name in enumerate(LONGEST)}
    items.sort(key=lambda item: (rank.get(Path(item.fspath).name, len(LONGEST)), item.get_closest_marker("e2e") is None))


LONGEST = ("test_kill_campaign.py", "test_kill_campaign_workers.py", "test_retrain.py", "test_workers.py",
           "test_tracking.py")  # minutes, not seconds


@pytest.fixture
def seed() -> int:
    return 0


@pytest.fixture
def rng(seed) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.fixture(scope="session", autouse=True)
def _no_shap():
    """SHAP costs seconds per run: off for the whole session, module-scoped runs included;
    tests/evaluate/test_explain.py turns it on where it is tested."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUTOML_SHAP", "0")
        yield


@pytest.fixture(autouse=True)
def workdir(tmp_path, monkeypatch) -> Path:
    """Each test gets a fresh folder as cwd and AUTOML_WORKDIR; MLflow env settings are cleared."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOML_WORKDIR", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("AUTOML_DEBUG", raising=False)
    return tmp_path


def make_frame(rng: np.random.Generator, n: int = 60, classes=("a", "b")) -> pd.DataFrame:
    """Two informative numeric features and a string label."""
    label = np.asarray(classes)[np.arange(n) % len(classes)]
    shift = np.arange(n) % len(classes)
    return pd.DataFrame({"x1": rng.normal(size=n) + shift, "x2": rng.normal(size=n) - shift,
                         "label": label})


@pytest.fixture
def make_table(rng):
    """``make_table(n=60, classes=("a", "b"))``: a fresh synthetic table from the seeded ``rng``."""
    return lambda n=60, classes=("a", "b"): make_frame(rng, n, classes)


@pytest.fixture
def frame(make_table) -> pd.DataFrame:
    return make_table()


@pytest.fixture
def messy_frame(rng) -> pd.DataFrame:
    """Dates, a category with NaNs and a rare level, numeric NaN/inf, useless columns, missing targets."""
    n = 90
    df = pd.DataFrame({
        "num": rng.normal(size=n),
        "num_nan": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
        "when": pd.date_range("2021-01-01", periods=n, freq="D").astype(str),
        "colour": rng.choice(["red", "green", "blue"], n).astype(object),
        "empty": np.nan,
        "const": 7,
        "ident": [f"cust-{i:05d}" for i in range(n)],
        "label": np.asarray(["yes", "no"], dtype=object)[np.arange(n) % 2],
    })
    df.loc[[3, 5, 8], "colour"] = np.nan
    df.loc[7, "colour"] = "purple"
    df.loc[[1, 2], "num"] = [np.inf, -np.inf]
    df.loc[[10, 11, 12], "label"] = np.nan
    return df


@pytest.fixture
def write_csv(workdir):
    """Write a frame (or raw text) to ``<workdir>/<name>`` and return the path as a string."""
    def write(content, name: str = "data.csv") -> str:
        path = workdir / name
        if isinstance(content, pd.DataFrame):
            content.to_csv(path, index=False)
        else:
            path.write_text(content)
        return str(path)
    return write


@pytest.fixture
def config(workdir, seed):
    """An ``ExperimentConfig`` with the fast test settings; keyword arguments override them."""
    def build(**overrides) -> ExperimentConfig:
        settings = dict(data="demo:iris", space="fast.yaml", n_trials=3, cv=3, n_jobs=1, seed=seed,
                        tracking=False, quiet=True, workdir=str(workdir))
        return ExperimentConfig(**{**settings, **overrides})
    return build


@pytest.fixture
def cli():
    """Invoke the app in-process; returns the click ``Result`` (``exit_code``, ``stdout``, ``stderr``)."""
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args))
    return invoke


@pytest.fixture
def run_cli(cli):
    """``automl run`` with the fast flags, ``--no-tracking`` and ``--quiet``; extra args override."""
    def invoke(*args: str, quiet: bool = True):
        given = set(args)
        fast = [x for flag, value in FAST_FLAGS.items() if flag not in given for x in (flag, value)]
        extra = ["--no-tracking", *(["--quiet"] if quiet else [])]
        return cli("run", *args, *fast, *extra)
    return invoke


@pytest.fixture
def user_error():
    """Check a CLI result failed with ``code`` and one line on stderr matching ``match``, no traceback."""
    return check_user_error


def check_user_error(result, match: str, code: int = 2) -> str:
    assert result.exit_code == code, (result.exit_code, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in result.output
    assert re.search(match, lines[0]), lines[0]
    return lines[0]


# --- real servers ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _http_status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status


@contextlib.contextmanager
def serving(cmd: list[str], health: str, log_path: Path, env: dict | None = None):
    """Start a server process (its own process group), wait until ``health`` answers 200, and
    stop the whole group afterwards; a server that does not come up fails with its log."""
    log = open(log_path, "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                if _http_status(health) == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{cmd[:4]} did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.5)
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture
def free_port() -> int:
    return _free_port()


@pytest.fixture
def server():
    """:func:`serving`, for a test that starts its own server."""
    return serving


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """``mlflow server`` with a temporary SQLite backend and artifact root; stopped afterwards."""
    root = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    cmd = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
           "--workers", "1", "--backend-store-uri", f"sqlite:///{root / 'backend.db'}",
           "--artifacts-destination", str(root / "artifacts")]
    url = f"http://127.0.0.1:{port}"
    with serving(cmd, f"{url}/health", root / "server.log"):
        yield url


@contextlib.contextmanager
def postgres_database(settings: dict[str, str] | None = None):
    """A fresh database on the PostgreSQL server named by $AUTOML_TEST_POSTGRES (an admin URL;
    .ci/run installs and starts the server), with ``settings`` as its sessions' defaults (as a
    server's configuration would give them), dropped afterwards; skips without a server."""
    import uuid

    admin = os.environ.get("AUTOML_TEST_POSTGRES")
    if not admin:
        pytest.skip("AUTOML_TEST_POSTGRES is not set (.ci/run starts PostgreSQL and sets it)")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"automl_test_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        for key, value in (settings or {}).items():
            conn.execute(text(f'ALTER DATABASE "{name}" SET {key} = \'{value}\''))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh database on the test PostgreSQL server for the session (:func:`postgres_database`)."""
    with postgres_database() as url:
        yield url


@pytest.fixture
def fresh_postgres():
    """:func:`postgres_database`, for a test that needs a database with settings of its own."""
    return postgres_database


@pytest.fixture
def open_page():
    """Open an HTML file in a real headless Chromium: the DOM after load, and every console
    message the page produced (skipped without a chromium; .ci/run installs Debian's)."""
    import shutil

    found = os.environ.get("AUTOML_TEST_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("no chromium: .ci/run installs Debian's chromium package")

    def open_(page: Path) -> tuple[str, list[str]]:
        proc = subprocess.run([found, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                               "--v=0", "--dump-dom", page.resolve().as_uri()],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stdout, [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]

    return open_
