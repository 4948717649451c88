"""Property test: whatever small table, target and flags a user gives, `automl run` ends with
exit 0, or exit 2 and one line saying what is wrong; never a traceback, never exit 1."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pandas as pd
import yaml
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from automl.cli import app  # noqa: E402

CELLS = {
    "number": st.one_of(st.floats(-1e6, 1e6), st.just(float("nan")), st.integers(-5, 5)),
    "word": st.sampled_from(["a", "b", "c", "[/b]", "x y", "", "?", "N/A", "é", "\x1b]0;t\x07", "r\u202el"]),
    "date": st.sampled_from(["2024-01-01", "2024-02-03", "01/05/2023", "2024-06-01T10:00:00+02:00", "never"]),
}


@st.composite
def tables(draw):
    """Mostly tables a run can learn from (a label of a few classes or numbers, 20-60 rows), with
    hostile cells mixed in; sometimes hopeless ones (one row, a target that is not a column)."""
    rows = draw(st.integers(20, 60)) if draw(st.integers(0, 9)) else draw(st.integers(1, 5))
    kinds = draw(st.lists(st.sampled_from(sorted(CELLS)), min_size=1, max_size=4))
    odd = {1: "[x]", 2: "\x1b[31m", 3: "\x1b]0;t\x07"}  # names that look like markup or drive a terminal
    cells = {f"c{i}{odd.get(i, '')}": st.lists(CELLS[k], min_size=rows, max_size=rows)
             for i, k in enumerate(kinds)}
    frame = pd.DataFrame({name: draw(values) for name, values in cells.items()})
    labels = draw(st.sampled_from([["yes", "no"], ["a", "b", "c"], [1.5, 2.25, 3.0, 9.5, 11.0, 0.1],
                                   ["y\x1b[5m", "n\x07"]]))
    frame["label"] = [labels[i % len(labels)] for i in range(rows)]
    target = "label" if draw(st.integers(0, 9)) else draw(st.sampled_from([*frame.columns, "absent"]))
    return frame, target


@st.composite
def flags(draw):
    out = []
    if draw(st.integers(0, 3)) == 0:
        out += ["--task", draw(st.sampled_from(["auto", "binary", "multiclass", "regression"]))]
    if draw(st.integers(0, 3)) == 0:
        out += ["--metric", draw(st.sampled_from(["roc_auc", "rmse", "log_loss", "accuracy", "bogus"]))]
    if draw(st.integers(0, 3)) == 0:
        out += ["--cv", str(draw(st.integers(1, 6)))]
    if draw(st.integers(0, 5)) == 0:
        out += ["--seed", str(draw(st.sampled_from([7, -1, 2**32])))]
    return out


def examples(n: int):
    """Fixed examples (the same on every machine), however slow a run is."""
    return settings(max_examples=n, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def assert_clean_end(result, case) -> None:
    """Exit 0, or exit 2 and one line on stderr; never a traceback, never a raw control character."""
    assert result.exit_code in (0, 2), (result.exit_code, result.stderr, case)
    assert "Traceback" not in result.output
    assert not RAW_CONTROL.search(result.stdout + result.stderr), (result.stderr, case)
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1, (result.stderr, case)


@examples(25)
@given(table=tables(), extra=flags())
def test_any_table_and_flags_end_in_exit_0_or_a_one_line_exit_2(table, extra):
    frame, target = table
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        frame.to_csv(path, index=False)
        args = ["run", "--data", str(path), "--target", target, "--n-trials", "1", "--space", "fast.yaml",
                "--no-tracking", "--quiet", "--n-jobs", "1", "--workdir", tmp, *extra]
        result = CliRunner().invoke(app, args)
    assert_clean_end(result, (target, extra))


FAMILY_PARAMS = {
    "knn": ["n_neighbors", "weights", "p"],
    "decision_tree": ["max_depth", "min_samples_leaf", "criterion"],
    "logistic": ["C", "max_iter", "l1_ratio"],
    "bogus_family": ["x"],
}
VALUES = st.one_of(st.integers(-3, 40), st.floats(-1.0, 100.0), st.sampled_from(
    ["1e-4", "1.0e-4", "", "uniform", "gini", None, True, [], "[/b]"]))


@st.composite
def param_specs(draw):
    kind = draw(st.sampled_from(["int", "float", "categorical", "fixed", "weird", "bogus_type"]))
    if kind == "fixed":
        return draw(VALUES)
    if kind == "weird":
        return draw(st.sampled_from([[1, 2], {"low": 1}, {"type": "int"}, "n/a"]))
    if kind == "categorical":
        return {"type": kind, "choices": draw(st.lists(VALUES, max_size=3))}
    spec = {"type": kind, "low": draw(VALUES), "high": draw(VALUES)}
    if draw(st.booleans()):
        spec["log"] = draw(st.sampled_from([True, False, "yes", 3]))
    if draw(st.integers(0, 3)) == 0:
        spec["step"] = draw(VALUES)
    return spec


@st.composite
def spaces(draw):
    """Search-space YAML a user might write: mostly well-formed with odd values, sometimes
    broken outright."""
    if draw(st.integers(0, 7)) == 0:
        return draw(st.sampled_from(["", "models: [", "- 1\n- 2", "models: null", "models: {}",
                                     "preprocessing: 3\nmodels: {knn: {}}", "\t models:", "models: 1e-4"]))
    families = draw(st.lists(st.sampled_from(sorted(FAMILY_PARAMS)), min_size=1, max_size=2, unique=True))
    models = {}
    for family in families:
        names = draw(st.lists(st.sampled_from(FAMILY_PARAMS[family] + ["unknown_param"]), max_size=3,
                              unique=True))
        models[family] = {name: draw(param_specs()) for name in names}
    space = {"models": models}
    if draw(st.integers(0, 3)) == 0:
        space["preprocessing"] = {"scaler": draw(param_specs())}
    return yaml.safe_dump(space)


@examples(30)
@given(text=spaces())
def test_any_search_space_ends_in_exit_0_or_a_one_line_exit_2(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "space.yaml"
        path.write_text(text)
        checked = CliRunner().invoke(app, ["validate-space", str(path)])
        # The validator lists every problem, one line each, each naming the file.
        assert checked.exit_code in (0, 2) and "Traceback" not in checked.output, (checked.stderr, text)
        lines = checked.stderr.strip().splitlines()
        assert checked.exit_code == 0 or (lines and all(str(path) in line for line in lines)), text
        args = ["run", "--data", "demo:iris", "--space", str(path), "--n-trials", "2", "--cv", "2",
                "--no-tracking", "--quiet", "--n-jobs", "1", "--workdir", tmp]
        result = CliRunner().invoke(app, args)
        assert_clean_end(result, text)


CONFIG_VALUES = {
    "target": st.sampled_from(["target", "absent", "", None, 3]),
    "task": st.sampled_from(["auto", "binary", "multiclass", "regression", "cluster", 1]),
    "metric": st.sampled_from(["accuracy", "rmse", "roc_auc", "bogus", None]),
    "timeout": st.sampled_from([0, -5, 30, "1e-4", "soon", None]),
    "trial_timeout": st.sampled_from([0, -1, 5.0, "x"]),
    "trial_memory_mb": st.sampled_from([0, -1, 64, 2**40, "lots"]),
    "ensemble_rounds": st.sampled_from([-1, 0, 3, 1.5]),
    "select": st.sampled_from(["best", "simplest", "cheapest"]),
    "test_size": st.sampled_from([0, 0.2, 0.99, 1, -0.1, 5, "x"]),
    "cv": st.sampled_from([0, 1, 2, 3, 200, "five"]),
    "seed": st.sampled_from([0, -1, 2**32, 1.5, "x"]),
    "n_jobs": st.sampled_from([-2, -1, 0, 1, 10**6]),
    "pruner": st.sampled_from(["outclassed", "median", "none", "hyperband"]),
    "study_name": st.sampled_from(["ok", "../x", "/abs", "a/b", "it's", "[/b]", ""]),
    "group_column": st.sampled_from(["petal length (cm)", "absent", None]),
    "time_column": st.sampled_from(["absent", None]),
    "heartbeat_interval": st.sampled_from([0, 1, 10]),
    "grace_period": st.sampled_from([1, 2, 60]),
    "unknown_key": st.just(1),
}


@st.composite
def configs(draw):
    keys = draw(st.lists(st.sampled_from(sorted(CONFIG_VALUES)), max_size=4, unique=True))
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(["", "- a", "data: [", "n_trials: {a: 1}", "3"]))
    return yaml.safe_dump({key: draw(CONFIG_VALUES[key]) for key in keys})


@examples(30)
@given(text=configs())
def test_any_config_file_ends_in_exit_0_or_a_one_line_exit_2(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "experiment.yaml"
        path.write_text(text)
        args = ["run", "--config", str(path), "--data", "demo:iris", "--space", "fast.yaml",
                "--n-trials", "2", "--no-tracking", "--quiet", "--workdir", str(Path(tmp) / "work")]
        result = CliRunner().invoke(app, args)
        assert_clean_end(result, text)
        # A study name such as ../x or /abs writes nothing beside the work folder.
        assert {p.name for p in Path(tmp).iterdir()} <= {"experiment.yaml", "work"}, text
        assert not Path("/abs").exists()
