"""End-to-end runs of the ``automl`` command line on bundled and synthetic data, and its errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from automl.space import SPACES_DIR

DEMO_TASKS = [("demo:iris", "multiclass", "log_loss"), ("demo:breast_cancer", "binary", "roc_auc"),
              ("demo:diabetes", "regression", "rmse")]


def _finished(summary: dict) -> int:
    """Trials that ran to the end or that the pruner stopped as outclassed; none failed."""
    assert set(summary["n_trials"]) <= {"COMPLETE", "PRUNED"}, summary["n_trials"]
    return sum(summary["n_trials"].values())


@pytest.mark.parametrize(("data", "task", "metric"), DEMO_TASKS)
def test_run_on_demo_data(run_cli, workdir, data, task, metric):
    summary_path = workdir / "summary.json"
    result = run_cli("--data", data, "--summary-json", str(summary_path))
    assert result.exit_code == 0, result.output
    summary = json.loads(summary_path.read_text())
    assert (summary["task"], summary["metric"]) == (task, metric)
    assert _finished(summary) == 3
    assert set(summary["test_metrics"]) >= {metric}
    assert all(np.isfinite(v) for v in summary["test_metrics"].values())
    model_path = Path(summary["model_path"])
    assert model_path.is_file() and model_path.is_relative_to(workdir)
    assert (model_path.parent / "schema.json").is_file()
    assert (model_path.parent / "leaderboard.csv").is_file()


def test_run_reports_progress_on_stderr_and_the_result_on_stdout(run_cli):
    result = run_cli("--data", "demo:iris", quiet=False)
    assert result.exit_code == 0, result.output
    # `automl run > log.txt` keeps the result; the progress and notes stay on the terminal.
    assert "touched once" in result.stdout and "accuracy=" in result.stdout and "top trials" in result.stdout
    assert "model: " in result.stdout and "report: " in result.stdout
    assert "storage " in result.stderr and "touched once" not in result.stderr


def test_config_file_values_and_flag_overrides(run_cli, workdir):
    (workdir / "exp.yaml").write_text("data: demo:iris\nn_trials: 2\nseed: 3\nsummary_json: out/s.json\n")
    result = run_cli("--config", "exp.yaml", "--seed", "4")
    assert result.exit_code == 0, result.output
    summary = json.loads((workdir / "out" / "s.json").read_text())
    assert summary["seed"] == 4  # the flag wins over the file
    assert _finished(summary) == 3  # --n-trials from the fast flags wins too


@pytest.mark.parametrize("rounds", ["0", "25"])
def test_budget_ensemble_and_sampler_flags_reach_the_run(run_cli, workdir, rounds):
    summary_path = workdir / "s.json"
    result = run_cli("--data", "demo:iris", "--n-trials", "8", "--sampler", "tpe_grouped", "--trial-timeout", "600",
                     "--trial-memory-mb", "4000", "--ensemble-rounds", rounds,
                     "--refit-full" if rounds != "0" else "--no-refit-full", "--summary-json", str(summary_path))
    assert result.exit_code == 0, result.output
    summary = json.loads(summary_path.read_text())
    assert _finished(summary) == 8
    import optuna

    study = optuna.load_study(study_name=summary["study_name"], storage=summary["storage"])
    assert not [t.number for t in study.trials if "stopped" in t.user_attrs]  # no limit stopped one
    assert ("ensemble" in summary) == (rounds != "0")
    if rounds == "0":
        assert "refit_full" not in summary and summary["timings"].get("refit_full") is None
    else:
        assert summary["refit_full"] == {"rows": summary["train_rows"] + summary["test_rows"]}


def test_messy_table_runs_end_to_end(run_cli, write_csv, messy_frame, workdir):
    path = write_csv(messy_frame, "messy.csv")
    result = run_cli("--data", path, "--target", "label", "--summary-json", "s.json", quiet=False)
    assert result.exit_code == 0, result.output
    summary = json.loads((workdir / "s.json").read_text())
    assert summary["rows_dropped"] == 3
    assert set(summary["dropped_columns"]) == {"empty", "const", "ident"}
    for column in ("empty", "const", "ident"):
        assert f"dropped column {column!r}" in result.stderr
    assert "dropped 3 rows with a missing target" in result.stderr
    schema = json.loads((Path(summary["model_path"]).parent / "schema.json").read_text())
    kinds = {c["name"]: c["kind"] for c in schema["columns"]}
    assert kinds == {"num": "numeric", "num_nan": "numeric", "colour": "categorical",
                     "when": "datetime"}


def test_rows_without_target_in_test_file_are_counted(run_cli, write_csv, make_table, workdir):
    test = make_table(n=20)
    test.loc[[0, 1], "label"] = np.nan
    train, test_path = write_csv(make_table()), write_csv(test, "test.csv")
    result = run_cli("--data", train, "--target", "label", "--test-data", test_path,
                     "--summary-json", "s.json")
    assert result.exit_code == 0, result.output
    summary = json.loads((workdir / "s.json").read_text())
    assert (summary["rows_dropped"], summary["test_rows"], summary["train_rows"]) == (2, 18, 60)


@pytest.mark.parametrize("scheme", ["group_column", "time_column"])
def test_group_and_time_cv_from_config(run_cli, write_csv, make_table, workdir, scheme):
    table = make_table(n=80)
    table["key"] = np.arange(80) // 4 if scheme == "group_column" else np.arange(80)
    (workdir / "exp.yaml").write_text(f"data: {write_csv(table)}\ntarget: label\n{scheme}: key\n"
                                      "summary_json: s.json\n")
    result = run_cli("--config", "exp.yaml")
    assert result.exit_code == 0, result.output
    summary = json.loads((workdir / "s.json").read_text())
    assert summary["train_rows"] + summary["test_rows"] == 80
    schema = json.loads((Path(summary["model_path"]).parent / "schema.json").read_text())
    assert [c["name"] for c in schema["columns"]] == ["x1", "x2"]  # the key is not a feature


# --- bad input: one line, exit code 2, no traceback -------------------------------------------

GOOD = "x1,x2,label\n" + "".join(f"{i},{i % 7},{'ab'[i % 2]}\n" for i in range(30))


@pytest.mark.parametrize(("files", "args", "match"), [
    ({}, ["--data", "missing.csv"], r"missing\.csv: file not found"),
    ({"bad.parquet": "not a parquet file"}, ["--data", "bad.parquet"], r"bad\.parquet: cannot read"),
    ({"latin.csv": b"a,b\n\xff\xfe,1\n"}, ["--data", "latin.csv"], r"latin\.csv: cannot read"),
    ({}, ["--data", "demo:iris", "--trial-timeout", "0"], r"trial_timeout -> .*greater than 0 \(got 0"),
    ({}, ["--data", "demo:iris", "--trial-memory-mb", "-1"], r"trial_memory_mb -> .*greater than 0"),
    ({}, ["--data", "demo:iris", "--ensemble-rounds", "-1"], r"ensemble_rounds -> .*greater than or equal to 0"),
    ({}, ["--data", "demo:iris", "--sampler", "cmaes"], r"sampler -> Input should be 'tpe' or 'tpe_grouped'"),
    ({"empty.csv": ""}, ["--data", "empty.csv"], r"empty\.csv: file is empty"),
    ({"header.csv": "x1,x2,label\n"}, ["--data", "header.csv"], r"header\.csv: no data rows"),
    ({"d.json": "{}"}, ["--data", "d.json"], r"unsupported data file"),
    ({}, ["--data", "demo:nope"], r"unknown demo data set; choose one of .*iris"),
    ({"d.csv": GOOD}, ["--data", "d.csv", "--target", "nope"], r"unknown target column 'nope'; columns are x1"),
    ({"d.csv": GOOD}, ["--data", "d.csv"], r"no --target given"),
    ({"d.csv": GOOD.replace(",b\n", ",a\n")}, ["--data", "d.csv", "--target", "label"],
     r"target 'label' has a single class \('a'\)"),
    ({"d.csv": GOOD + "30,1,c\n31,2,c\n"}, ["--data", "d.csv", "--target", "label"],
     r"class 'c' has \d rows? in the training part, fewer than the 3 CV folds"),
    ({"d.csv": GOOD.replace("x1,x2,", "x1,x1,")}, ["--data", "d.csv", "--target", "label"],
     r"duplicate column names \['x1'\]"),
    ({"d.csv": GOOD}, ["--data", "d.csv", "--target", "label", "--task", "regression"],
     r"target 'label' is not numeric, so it cannot be a regression target"),
    ({"d.csv": GOOD}, ["--data", "d.csv", "--target", "x2", "--task", "binary"],
     r"--task binary but target 'x2' has 7 classes"),
    ({"d.csv": GOOD, "t.csv": GOOD.replace("x2,", "other,")},
     ["--data", "d.csv", "--target", "label", "--test-data", "t.csv"],
     r"t\.csv: test data is missing training columns \['x2'\]"),
    ({}, ["--data", "demo:iris", "--task", "foo"], r"task -> Input should be 'auto', .* \(got 'foo'\)"),
    ({}, ["--data", "demo:iris", "--cv", "0"], r"cv -> .*greater than or equal to 1 \(got 0\)"),
    ({}, ["--data", "demo:iris", "--n-trials", "0"], r"n_trials -> .*greater than 0"),
    ({}, ["--data", "demo:iris", "--n-jobs", "-2"], r"n_jobs must be -1 \(all cores\) or a positive"),
    ({}, ["--data", "demo:iris", "--metric", "rmse"], r"metric: 'rmse' is not available for a multiclass"),
    ({"c.yaml": "n_trials: 2\nbogus_key: 1\n"}, ["--data", "demo:iris", "--config", "c.yaml"],
     r"c\.yaml: bogus_key -> unknown key"),
    ({"c.yaml": "- a list\n"}, ["--config", "c.yaml"], r"c\.yaml: must be a mapping of settings"),
    ({"c.yaml": "data: [\n"}, ["--config", "c.yaml"], r"c\.yaml: line \d+: not valid YAML"),
    ({}, ["--config", "nope.yaml"], r"nope\.yaml: config file not found"),
    ({"s.yaml": "models:\n  svm:\n    C: {type: float, low: 0, high: 1, log: true}\n"},
     ["--data", "demo:iris", "--space", "./s.yaml"], r"models\.svm\.C\.low: must be > 0 when log is true"),
    ({}, ["--data", "demo:iris", "--space", "nope.yaml"], r"search-space file not found; bundled spaces: .*fast\.yaml"),
    ({"s.yaml": "regression:\n  models:\n    linear: {}\n"}, ["--data", "demo:iris", "--space", "./s.yaml"],
     r"no model family in this space supports a multiclass task"),
])
def test_bad_input_is_one_line_exit_2(run_cli, workdir, user_error, files, args, match):
    for name, content in files.items():
        path = workdir / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    user_error(run_cli(*args), match)


def test_debug_flag_shows_the_traceback(run_cli):
    result = run_cli("--data", "missing.csv", "--debug")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and "file not found" in result.stderr


# --- validate-space ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(p.name for p in SPACES_DIR.glob("*.yaml")))
def test_bundled_spaces_validate(cli, name):
    result = cli("validate-space", name)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().endswith(f"{name}: ok")


def test_validate_space_reports_every_problem_with_its_path(cli, workdir):
    (workdir / "bad.yaml").write_text(
        "models:\n"
        "  svm:\n    C: {type: float, low: 0, high: 1, log: true}\n"
        "  knn:\n    n_neighbors: {type: int, low: 5, high: 1}\n    colour: 3\n"
        "  nope: {}\n"
        "preprocessing:\n  scaler: {type: categorical, choices: [standard, fancy]}\n")
    result = cli("validate-space", "bad.yaml")
    assert result.exit_code == 2
    problems = [line.split(": ", 1)[1] for line in result.stderr.strip().splitlines()]
    assert len(problems) == 5
    assert problems[0] == "models.svm.C.low: must be > 0 when log is true, got 0"
    assert problems[1] == "models.knn.n_neighbors.low: must be <= high (1), got 5"
    assert problems[2].startswith("models.knn.colour: unknown parameter; allowed: ")
    assert "n_neighbors" in problems[2]
    assert problems[3].startswith("models.nope: unknown model family; choose one of ")
    assert problems[4].startswith("preprocessing.scaler: 'fancy' is not allowed")


def test_validate_space_missing_file(cli, user_error):
    user_error(cli("validate-space", "nope.yaml"), r"search-space file not found")


# --- subprocess: the installed entry point --------------------------------------------------

def test_python_m_automl_runs_and_writes_nothing_outside_workdir(workdir):
    cmd = [sys.executable, "-m", "automl", "run", "--data", "demo:iris", "--space", "fast.yaml",
           "--n-trials", "2", "--cv", "3", "--n-jobs", "1", "--no-tracking", "--quiet",
           "--summary-json", "s.json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((workdir / "s.json").read_text())["storage"].endswith(
        f"{workdir}/mlruns/optuna.db")


def test_python_m_automl_user_error_has_no_traceback(workdir):
    proc = subprocess.run([sys.executable, "-m", "automl", "run", "--data", "nope.csv", "--no-tracking"],
                          capture_output=True, text=True, cwd=workdir, timeout=60)
    assert proc.returncode == 2
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith(f"error: {workdir / 'nope.csv'}: file not found; use .csv, .tsv")


def test_a_debug_traceback_is_masked(capsys):
    """--debug prints the traceback: a library's message quoting a URL with its password (as
    SQLAlchemy and requests do) must come out masked."""
    from automl.cli import _print_traceback
    from automl.config import mask_url

    try:
        raise RuntimeError("could not connect to postgresql://bob:pa/ss w0rd@db:5432/x")
    except RuntimeError:
        _print_traceback(mask_url)
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError" in err
    assert "w0rd" not in err and "postgresql://bob:***@db:5432/x" in err


def test_an_unwritable_summary_path_is_refused_before_the_search(run_cli, workdir, user_error):
    (workdir / "file").write_text("a file, not a folder")
    result = run_cli("--data", "demo:iris", "--summary-json", str(workdir / "file" / "s.json"))
    user_error(result, r"summary_json: cannot write to .*file")
    assert not (workdir / "mlruns" / "models").exists()  # nothing was searched or saved


def test_names_that_look_like_markup_are_printed_not_parsed(run_cli, write_csv, make_table, workdir):
    frame = make_table(n=60).rename(columns={"x1": "[/b]", "x2": "[bold red]x"}).assign(**{"[/]": 1})
    path = write_csv(frame, "markup.csv")
    result = run_cli("--data", path, "--target", "label", "--study-name", "a b", quiet=False)
    assert result.exit_code == 0, result.output
    assert "dropped column '[/]'" in result.stderr  # the constant column, named as it is


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_a_stop_lost_in_a_garbage_collection_callback_still_stops_the_command(name):
    # Seen in the kill campaign: the handler ran inside a ``__del__``/weakref callback, where
    # Python prints "Exception ignored ... Traceback ... KeyboardInterrupt" and drops it; the run
    # went on and exited 0.
    done = _python(f"""
        import signal, time
        from automl.cli import _stop_on_signals

        class SignalledWhileCollected:
            def __del__(self):
                signal.raise_signal(signal.{name})

        _stop_on_signals()
        try:
            SignalledWhileCollected()
            for _ in range(600):
                time.sleep(0.05)
            print("went on")
        except KeyboardInterrupt:
            print("stopped")
    """)
    assert done.stdout.strip() == "stopped", done
    assert "Traceback" not in done.stderr and "ignored" not in done.stderr, done.stderr


def test_a_sigterm_after_the_work_is_not_lost_and_not_printed():
    script = """
        import signal, sys
        from automl.cli import _errors, _exit_code, _stop_on_signals

        _stop_on_signals()
        with _errors(False):
            pass
        if sys.argv[1:] == ["stop"]:
            signal.raise_signal(signal.SIGTERM)  # after the work: nothing left to interrupt
        print(_exit_code(2), _exit_code(0))
    """
    quiet = _python(script)
    assert quiet.stdout.split() == ["2", "0"] and not quiet.stderr, quiet
    stopped = subprocess.run([sys.executable, "-c", textwrap.dedent(script), "stop"],
                             capture_output=True, text=True, timeout=120)
    assert stopped.stdout.split() == ["2", "130"], stopped
    assert "Traceback" not in stopped.stderr and "results are complete" in stopped.stderr, stopped


def test_after_a_stop_what_finalizers_raise_is_not_printed_unless_debugging():
    # Seen in CI: Ctrl-C cut a database connection mid-transaction; the garbage collector closed
    # it later and Python printed its error with a traceback after "interrupted".
    script = """
        import signal, sys
        from automl import cli

        class FailsWhenCollected:
            def __del__(self):
                raise ValueError("rollback failed")

        cli._stop_on_signals()
        cli._Stop.debug = sys.argv[1:] == ["debug"]
        FailsWhenCollected()  # before any stop: shown as Python shows it
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            FailsWhenCollected()
    """
    plain = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True,
                           text=True, timeout=120)
    assert plain.stderr.count("rollback failed") == 1, plain.stderr
    debug = subprocess.run([sys.executable, "-c", textwrap.dedent(script), "debug"],
                           capture_output=True, text=True, timeout=120)
    assert debug.stderr.count("rollback failed") == 2, debug.stderr


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_a_stop_before_the_command_began_exits_130_in_one_line(name):
    # python -m automl puts this in place on its first line; the command's own handler (which
    # closes what is open) replaces it. Before, SIGTERM there ended the process with -15.
    done = _python(f"""
        import signal
        from automl._stop import stop_before_start

        stop_before_start()
        import automl.cli  # the import that takes a moment
        signal.raise_signal(signal.{name})
        print("not stopped")
    """)
    assert done.returncode == 130 and done.stdout == ""
    assert done.stderr == "interrupted: stopped before the command began; nothing was started\n"


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB file system of its own (tmpfs; needs root), unmounted after the test."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_one_line_naming_it_and_the_next_run_cleans_up(small_disk):
    """Optuna's storage wraps SQLite's "database or disk is full" in an AssertionError ("Should
    not reach."): the line said that, not what to do. Once there is room, a rerun resumes the
    study and marks the trial left RUNNING failed."""
    import sqlite3

    args = [sys.executable, "-m", "automl", "run", "--data", "demo:breast_cancer", "--space", "fast.yaml",
            "--n-trials", "2", "--cv", "2", "--n-jobs", "1", "--quiet", "--workdir", "."]
    proc = subprocess.run(args, cwd=small_disk, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("error: no space left on the disk ("), lines[0]
    subprocess.run(["mount", "-o", "remount,size=400m", str(small_disk)], check=True)
    proc = subprocess.run(args, cwd=small_disk, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    with sqlite3.connect(small_disk / "mlruns" / "optuna.db") as db:
        states = dict(db.execute("SELECT state, COUNT(*) FROM trials GROUP BY state").fetchall())
    assert "RUNNING" not in states and states.get("COMPLETE") == 2, states
    with sqlite3.connect(small_disk / "mlruns" / "mlflow.db") as db:
        statuses = {s for (s,) in db.execute("SELECT status FROM runs")}
    assert "RUNNING" not in statuses, statuses

