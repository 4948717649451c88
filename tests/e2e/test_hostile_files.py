"""Hostile *files* for every path argument of every command (tests/test_hostile_input.py draws
hostile values): bytes that are not text or not UTF-8, archives named .csv, empty files, NULs, a
huge line, folders, links (dangling, to a folder, looping), FIFOs, unreadable files, paths in
folders that do not exist, existing folders as outputs.

Each case ends in exit 0, or exit 2 with one line naming the path; never a traceback or a hang;
nothing is written next to the file it was given (the hostile files live outside the work
folder); nothing is left RUNNING; and an output path is refused before any search.
"""

from __future__ import annotations

import codecs
import ctypes
import gzip
import io
import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from automl.cli import app
from automl.config import ExperimentConfig
from automl.run import run_experiment

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

GOOD = "x1,x2,label\n" + "".join(f"{i % 7},{(i * 3) % 5},{'ab'[i % 2]}\n" for i in range(40))
FAST = ["--space", "fast.yaml", "--n-trials", "2", "--cv", "2", "--n-jobs", "1", "--quiet"]
HANG_S = 60  # a case still waiting after this long (a FIFO opened with no writer) has failed


def _zip(text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("data.csv", text)
    return buf.getvalue()


def _parquet(text: str) -> bytes:
    buf = io.BytesIO()
    pd.read_csv(io.StringIO(text)).to_parquet(buf)
    return buf.getvalue()


CONTENT = {  # files people really send, and files that are not text at all
    "binary": bytes(range(256)) * 8,
    "utf16_bom": GOOD.encode("utf-16"),
    "utf8_bom": codecs.BOM_UTF8 + GOOD.encode(),
    "latin1": GOOD.replace("b\n", "\xe9\n").encode("latin-1"),
    "gzip": gzip.compress(GOOD.encode()),
    "zip": _zip(GOOD),
    "parquet": _parquet(GOOD),
    "empty": b"",
    "header_only": b"x1,x2,label\n",
    "nul": GOOD.replace("x2", "x\x002").encode(),
    "huge_line": b"a," * 1_000_000,
}
READABLE = {"utf16_bom", "utf8_bom"}  # text with a byte-order mark: read as the table it is


def make(kind: str, folder: Path, suffix: str = ".csv") -> Path:
    """A hostile path of ``kind`` in ``folder`` (nothing is created for a missing folder)."""
    path = folder / f"{kind}{suffix}"
    if kind in CONTENT:
        path.write_bytes(CONTENT[kind])
    elif kind == "folder":
        path.mkdir()
    elif kind == "dangling_link":
        path.symlink_to(folder / f"nowhere-{kind}{suffix}")
    elif kind == "link_to_folder":
        (folder / f"real-{kind}").mkdir()
        path.symlink_to(folder / f"real-{kind}")
    elif kind == "link_loop":
        path.symlink_to(path.name)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "in_missing_folder":
        path = folder / "missing" / path.name
    elif kind == "under_a_file":
        (folder / f"file-{kind}").write_text("a file, not a folder")
        path = folder / f"file-{kind}" / path.name
    else:
        raise AssertionError(kind)
    return path


NOT_FILES = ["folder", "dangling_link", "link_to_folder", "link_loop", "fifo", "in_missing_folder"]
INPUT_KINDS = [*CONTENT, *NOT_FILES]


def listing(folder: Path) -> dict[str, tuple]:
    """Every entry under ``folder``, as what it is (never following a link)."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            info = path.lstat()
            out[str(path.relative_to(folder))] = (
                os.readlink(path) if path.is_symlink() else "dir" if path.is_dir() else info.st_size)
    return out


def invoke(args: list[str]):
    """The CLI in-process; a case that blocks (a FIFO with no writer) is cut at HANG_S."""
    def hung(signum, frame):
        raise TimeoutError(f"still running after {HANG_S} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(HANG_S)
    try:
        return CliRunner().invoke(app, [str(a) for a in args])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def problem(result, path: Path, expect_ok: bool) -> str | None:
    """What is wrong with how a case ended (None: nothing)."""
    lines = result.stderr.strip().splitlines()
    if "Traceback" in result.output:
        return f"traceback: {result.output[-300:]}"
    if expect_ok:
        return None if result.exit_code == 0 else f"exit {result.exit_code}: {lines[-1:]}"
    if result.exit_code != 2 or len(lines) != 1:
        return f"exit {result.exit_code}, {len(lines)} lines: {lines[-2:]}"
    return None if str(path) in lines[0] else f"does not name {path}: {lines[0]}"


def nothing_running(workdir: Path) -> str | None:
    import optuna

    for url in ([f"sqlite:///{p}" for p in workdir.glob("**/optuna.db")]
                + [f"journal://{p}" for p in workdir.glob("**/*journal*.log")]):
        storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(
            url.removeprefix("journal://"))) if url.startswith("journal") else url
        for name in optuna.get_all_study_names(storage):
            study = optuna.load_study(study_name=name, storage=storage)
            if any(t.state.name == "RUNNING" for t in study.get_trials(deepcopy=False)):
                return f"{name}: a trial left RUNNING"
    return None


def check_cases(given_folder: Path, workdir: Path, cases) -> None:
    """Run ``(kind, path, args, expect_ok, may_write)`` cases; fail once, listing every bad one.
    Outside the work folder only ``may_write`` (the output asked for) may change."""
    bad = []
    for kind, path, args, expect_ok, may_write in cases:
        before = listing(given_folder)
        result = invoke(args)
        after = listing(given_folder)
        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        allowed = {str(Path(p).relative_to(given_folder)) for p in may_write} if result.exit_code == 0 else set()
        wrong = (problem(result, path, expect_ok)
                 or (f"wrote outside the work folder: {sorted(changed - allowed)}" if changed - allowed else None)
                 or nothing_running(workdir))
        if wrong:
            bad.append(f"{kind}: {wrong}")
    assert not bad, "\n".join(bad)


@pytest.fixture
def given_folder(tmp_path_factory) -> Path:
    """Where the hostile files live: outside the test's work folder."""
    return tmp_path_factory.mktemp("given")


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """One small signed model, for predict's --data cases."""
    folder = tmp_path_factory.mktemp("model")
    (folder / "good.csv").write_text(GOOD)
    summary = run_experiment(ExperimentConfig(
        data=str(folder / "good.csv"), target="label", space="fast.yaml", n_trials=2, cv=2, n_jobs=1,
        tracking=False, quiet=True, workdir=str(folder), ensemble_rounds=0))
    return Path(summary["model_path"])


def _shared_study(workdir: Path, data: str) -> list[str]:
    """A study as workers leave it (its config shared), with no trial yet: what finalize opens."""
    import optuna

    from automl.scaleout import init_budget

    storage = f"journal://{workdir / 'mlruns' / 'shared.log'}"
    (workdir / "mlruns").mkdir(exist_ok=True)
    study = optuna.create_study(study_name="shared", load_if_exists=True, storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(storage.removeprefix("journal://"))))
    init_budget(study, ExperimentConfig(data=data, target="label", space="fast.yaml", n_trials=2, cv=2,
                                        n_jobs=1, tracking=False), extra_trials=False)
    return ["--storage", storage, "--study-name", "shared", "--no-tracking", "--quiet"]


# --- inputs ----------------------------------------------------------------------------------

INPUTS = {
    # argument: (how to call it with path P, the kinds a file there may be, whether a readable one runs)
    "run --data": (lambda P, w, m: ["run", "--data", P, "--target", "label", *FAST, "--no-tracking"], True),
    "run --test-data": (lambda P, w, m: ["run", "--data", w / "good.csv", "--test-data", P, "--target",
                                         "label", *FAST, "--no-tracking"], True),
    "run --config": (lambda P, w, m: ["run", "--config", P, "--data", "demo:iris", *FAST, "--no-tracking"], False),
    "run --space": (lambda P, w, m: ["run", "--data", "demo:iris", *FAST, "--no-tracking", "--space", P], False),
    "validate-space": (lambda P, w, m: ["validate-space", P], False),
    "worker --data": (lambda P, w, m: ["worker", "--data", P, "--target", "label", *FAST, "--no-tracking",
                                       "--storage", f"journal://{w / 'mlruns' / 'j.log'}"], False),
    "predict --data": (lambda P, w, m: ["predict", "--model", m, "--data", P, "--output", w / "p.csv"], True),
    "predict --model": (lambda P, w, m: ["predict", "--model", P, "--data", w / "good.csv", "--output",
                                         w / "p.csv"], False),
    "finalize --data": (lambda P, w, m: ["finalize", *_shared_study(w, str(w / "good.csv")), "--data", P], False),
}


@pytest.mark.parametrize("argument", INPUTS)
def test_every_input_path_refuses_a_hostile_file_in_one_line(argument, given_folder, workdir, model):
    call, readable_runs = INPUTS[argument]
    (workdir / "good.csv").write_text(GOOD)
    suffix = ".yaml" if "config" in argument or "space" in argument else ".csv"
    # An empty YAML file is a valid (empty) config; every other kind is refused. A readable file
    # runs once (UTF-16); the BOM reader itself is tested on both below, without a search.
    kinds = [k for k in INPUT_KINDS if not (k == "empty" and argument == "run --config")
             and (k == "utf16_bom" and readable_runs or k not in READABLE)]
    cases = []
    for kind in kinds:
        path = make(kind, given_folder, suffix)
        ok = kind in READABLE and readable_runs
        cases.append((kind, path, call(path, workdir, model), ok, []))
    check_cases(given_folder, workdir, cases)


def test_a_file_with_a_byte_order_mark_is_read_as_the_table_it_is(given_folder):
    """UTF-16 with its BOM (what Excel's "Unicode text" writes) and UTF-8 with one read to the
    same table as plain UTF-8."""
    from automl.data import read_table

    plain = pd.read_csv(io.StringIO(GOOD))
    for kind in READABLE:
        pd.testing.assert_frame_equal(read_table(str(make(kind, given_folder)))[0], plain)


# --- outputs and stores ----------------------------------------------------------------------

RUN = ["run", "--data", "demo:iris", *FAST]
FILE_OUTPUT_KINDS = ["folder", "link_to_folder", "fifo", "under_a_file"]
STORE_KINDS = ["folder", "link_to_folder", "fifo", "under_a_file", "dangling_link", "link_loop", "binary"]
FOLDER_KINDS = ["binary", "fifo", "dangling_link", "link_loop", "under_a_file"]
OUTPUTS = {
    # argument: (how to call it with path P, the kinds to try)
    "run --summary-json": (lambda P, w: [*RUN, "--no-tracking", "--summary-json", P], FILE_OUTPUT_KINDS),
    "retrain --summary-json": (lambda P, w: ["retrain", "--data", "demo:iris", *FAST, "--register-model", "m",
                                             "--summary-json", P], FILE_OUTPUT_KINDS),
    "finalize --summary-json": (lambda P, w: ["finalize", *_shared_study(w, "demo:iris"), "--summary-json", P],
                                FILE_OUTPUT_KINDS),
    "predict --output": (lambda P, w: ["predict", "--model", w / "absent.joblib", "--data", "demo:iris",
                                       "--output", P], FILE_OUTPUT_KINDS),
    "run --workdir": (lambda P, w: [*RUN, "--no-tracking", "--workdir", P], FOLDER_KINDS),
    "retrain --workdir": (lambda P, w: ["retrain", "--data", "demo:iris", *FAST, "--register-model", "m",
                                        "--workdir", P], FOLDER_KINDS),
    "worker --workdir": (lambda P, w: ["worker", "--data", "demo:iris", *FAST, "--no-tracking",
                                       "--storage", f"journal://{w / 'j.log'}", "--workdir", P], FOLDER_KINDS),
    "show --workdir": (lambda P, w: ["show", "--workdir", P], FOLDER_KINDS),
    "run --storage sqlite": (lambda P, w: [*RUN, "--no-tracking", "--storage", f"sqlite:///{P}"], STORE_KINDS),
    "run --storage journal": (lambda P, w: [*RUN, "--no-tracking", "--storage", f"journal://{P}"], STORE_KINDS),
    "worker --storage journal": (lambda P, w: ["worker", "--data", "demo:iris", *FAST, "--no-tracking",
                                               "--storage", f"journal://{P}"], STORE_KINDS),
    "show --storage sqlite": (lambda P, w: ["show", "--storage", f"sqlite:///{P}"], STORE_KINDS),
    "show --storage journal": (lambda P, w: ["show", "--storage", f"journal://{P}"], STORE_KINDS),
    "finalize --storage journal": (lambda P, w: ["finalize", "--storage", f"journal://{P}", "--study-name", "s",
                                                 "--no-tracking"], STORE_KINDS),
    "run --tracking-uri sqlite": (lambda P, w: [*RUN, "--tracking-uri", f"sqlite:///{P}"], STORE_KINDS),
}


@pytest.mark.parametrize("argument", OUTPUTS)
def test_every_output_path_is_refused_before_any_work(argument, given_folder, workdir):
    call, kinds = OUTPUTS[argument]
    cases = [(kind, path, call(path, workdir), False, []) for kind in kinds
             for path in [make(kind, given_folder, ".db" if "storage" in argument else ".json")]]
    check_cases(given_folder, workdir, cases)
    assert not (workdir / "mlruns" / "models").exists()  # nothing was searched or saved
    assert not list(workdir.glob("**/mlflow.db"))  # nor logged


def test_an_output_link_is_replaced_not_written_through(given_folder, workdir, model):
    """A dangling or looping link where an output goes is replaced by the file (the link's target
    is never created); a missing folder is created."""
    cases = []
    for kind in ("dangling_link", "link_loop", "in_missing_folder"):
        path = make(kind, given_folder)
        cases.append((kind, path, ["predict", "--model", model, "--data", workdir / "good.csv", "--output", path],
                      True, [path, path.parent]))
    (workdir / "good.csv").write_text(GOOD)
    summary = make("dangling_link", given_folder, ".json")
    cases.append(("summary", summary, [*RUN, "--no-tracking", "--summary-json", summary], True,
                  [summary, summary.with_suffix(".report.html")]))
    check_cases(given_folder, workdir, cases)
    for _, path, *_ in cases:
        assert path.is_file() and not path.is_symlink(), path
    assert pd.read_csv(given_folder / "dangling_link.csv").shape == (40, 1)
    assert not list(given_folder.glob("nowhere-*"))


def test_a_link_named_as_the_summary_is_replaced_not_its_target(cli, workdir):
    """Named relative to the current folder (as the README's quick start does), a summary path
    that is a link to a file was resolved to that file, which was then overwritten (and its
    report written beside it)."""
    target = workdir / "elsewhere" / "victim.txt"
    target.parent.mkdir()
    target.write_text("not automl's")
    (workdir / "mlruns").mkdir()
    (workdir / "mlruns" / "summary.json").symlink_to(target)
    result = cli(*RUN, "--no-tracking", "--quiet", "--summary-json", "mlruns/summary.json")
    assert result.exit_code == 0, result.output
    assert target.read_text() == "not automl's" and sorted(target.parent.iterdir()) == [target]
    summary = workdir / "mlruns" / "summary.json"
    assert summary.is_file() and not summary.is_symlink()
    assert json.loads(summary.read_text())["report"] == str(workdir / "mlruns" / "summary.report.html")


# --- unreadable files (root reads mode 000: drop the capabilities that let it) ---------------

DRIVER = """
import json, sys
from typer.testing import CliRunner
from automl.cli import app
out = []
for args in json.loads(sys.argv[1]):
    r = CliRunner().invoke(app, args)
    out.append([r.exit_code, r.stderr, r.output])
print(json.dumps(out))
"""


def _without_file_override():
    """In the child before exec: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the bounding
    set, so that root, once exec'd, obeys file modes like any user (prctl PR_CAPBSET_DROP)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):
        if libc.prctl(24, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _can_drop() -> bool:
    probe = subprocess.run([sys.executable, "-c", "pass"], preexec_fn=_without_file_override,
                           capture_output=True)
    return probe.returncode == 0


def test_an_unreadable_file_or_unwritable_folder_is_one_line(given_folder, workdir, model):
    if not sys.platform.startswith("linux"):
        pytest.skip("drops Linux capabilities to make a file unreadable to root")
    root = os.geteuid() == 0
    if root and not _can_drop():
        pytest.skip("running as root and the capability bounding set cannot be changed here, so "
                    "mode 000 does not make a file unreadable")
    secret, locked = given_folder / "secret.csv", given_folder / "locked"
    secret.write_text(GOOD)
    db = given_folder / "study.db"
    db.write_bytes((model.parents[2] / "optuna.db").read_bytes())
    locked.mkdir()
    (workdir / "good.csv").write_text(GOOD)
    for path in (secret, db):
        path.chmod(0)
    locked.chmod(0o555)
    cases = {
        "run --data": (secret, ["run", "--data", secret, *FAST, "--no-tracking"]),
        "run --test-data": (secret, ["run", "--data", workdir / "good.csv", "--test-data", secret,
                                     "--target", "label", *FAST, "--no-tracking"]),
        "run --config": (secret, ["run", "--config", secret, *FAST, "--no-tracking"]),
        "run --space": (secret, ["run", "--data", "demo:iris", *FAST, "--no-tracking", "--space", secret]),
        "validate-space": (secret, ["validate-space", secret]),
        "predict --model": (secret, ["predict", "--model", secret, "--data", workdir / "good.csv",
                                     "--output", workdir / "p.csv"]),
        "predict --data": (secret, ["predict", "--model", model, "--data", secret, "--output", workdir / "p.csv"]),
        "run --storage": (db, [*RUN, "--no-tracking", "--storage", f"sqlite:///{db}"]),
        "show --storage": (db, ["show", "--storage", f"sqlite:///{db}"]),
        "run --summary-json": (locked, [*RUN, "--no-tracking", "--summary-json", locked / "s.json"]),
        "run --workdir": (locked, [*RUN, "--no-tracking", "--workdir", locked / "w"]),
        "predict --output": (locked, ["predict", "--model", model, "--data", workdir / "good.csv",
                                      "--output", locked / "p.csv"]),
    }
    argv = json.dumps([[str(a) for a in args] for _, args in cases.values()])
    proc = subprocess.run([sys.executable, "-c", DRIVER, argv], capture_output=True, text=True, timeout=300,
                          preexec_fn=_without_file_override if root else None, cwd=workdir)
    assert proc.returncode == 0, proc.stderr[-2000:]
    bad = []
    for (name, (path, _)), (code, stderr, output) in zip(cases.items(), json.loads(proc.stdout)):
        lines = stderr.strip().splitlines()
        if code != 2 or len(lines) != 1 or str(path) not in lines[0] or "Traceback" in output:
            bad.append(f"{name}: exit {code}: {lines[-2:]}")
    assert not bad, "\n".join(bad)
    assert not (workdir / "mlruns" / "models").exists()


# --- any bytes at all ------------------------------------------------------------------------

PREFIXES = [b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, b"\x1f\x8b", b"PK\x03\x04", b"PAR1", b"x1,label\n"]


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=600),
       argument=st.sampled_from(["--data", "--config", "--space"]))
def test_any_bytes_in_any_input_file_end_in_one_line(workdir, prefix, body, argument):
    path = workdir / ("drawn.csv" if argument == "--data" else "drawn.yaml")
    path.write_bytes(prefix + body)
    args = {"--data": ["--data", path], "--config": ["--config", path, "--data", "demo:iris"],
            "--space": ["--data", "demo:iris", "--space", path]}[argument]
    # A target no table here has: a file read as valid ends at once, refused for that.
    result = invoke(["run", *args, "--target", "absent", *FAST, "--no-tracking"])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1, (result.exit_code, lines[-3:], prefix + body)
    assert "Traceback" not in result.output

