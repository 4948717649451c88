"""Files people really send: every column type Parquet and CSV carry (dates with and without a
zone, categories, nullable integers, numbers past float32, tiny targets) ends in a model, exit 0,
or in one line naming the column and what is allowed, exit 2; never a traceback or a numpy
warning."""

from __future__ import annotations

import datetime as dt
import decimal

import numpy as np
import pandas as pd
import pytest

from automl.data import infer_task, prepare

N = 60


def _table(rng) -> pd.DataFrame:
    label = np.asarray(["a", "b"])[np.arange(N) % 2]
    return pd.DataFrame({"x": rng.normal(size=N) + (label == "b"), "label": label})


def _nullable(rng) -> pd.DataFrame:
    frame = _table(rng)
    frame["count"] = pd.array(rng.integers(0, 5, N), dtype="Int64")
    frame["flag"] = pd.array(rng.random(N) < 0.5, dtype="boolean")
    frame["word"] = pd.array(rng.choice(["p", "q"], N), dtype="string[pyarrow]")
    frame["share"] = pd.array(rng.random(N), dtype="Float64")
    frame.loc[[3, 4], ["count", "flag", "word", "share"]] = pd.NA
    return frame


def _with_nat(rng) -> pd.DataFrame:
    frame = _table(rng).assign(when=pd.date_range("2024-01-01", periods=N, freq="D"))
    frame.loc[[3, 4], "when"] = pd.NaT
    return frame


# name: (table builder, target); each is written as Parquet and run with the fast flags.
TABLES = {
    "naive datetime": (lambda rng: _table(rng).assign(when=pd.date_range("2024-01-01", periods=N, freq="D")),
                       "label"),
    "tz-aware datetime": (lambda rng: _table(rng).assign(
        when=pd.date_range("2024-01-01", periods=N, freq="h", tz="Europe/Paris")), "label"),
    "datetime with missing times": (_with_nat, "label"),
    "dictionary columns and target": (lambda rng: _table(rng).assign(
        colour=pd.Categorical(rng.choice(["r", "g"], N)), label=lambda f: pd.Categorical(f["label"])),
        "label"),
    "nullable dtypes": (_nullable, "label"),
    "nullable string target": (lambda rng: _table(rng).assign(
        label=lambda f: f["label"].astype("string[pyarrow]")), "label"),
    "an all-missing column": (lambda rng: _table(rng).assign(empty=np.nan), "label"),
    "a bool target": (lambda rng: _table(rng).assign(label=lambda f: f["label"] == "a"), "label"),
    "a target of values below 1e-8": (lambda rng: _table(rng).assign(
        label=rng.choice([1e-9, 2.5e-9, 7e-9], N)), "label"),
    "a decimal target": (lambda rng: _table(rng).assign(
        label=[decimal.Decimal(f"{v:.2f}") for v in rng.normal(size=N)]), "label"),
    "a bytes target": (lambda rng: _table(rng).assign(label=lambda f: f["label"].map(str.encode)), "label"),
}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_a_parquet_file_of_any_column_type_makes_a_model(name, rng, workdir, run_cli):
    build, target = TABLES[name]
    build(rng).to_parquet(workdir / "t.parquet")
    result = run_cli("--data", "t.parquet", "--target", target, "--n-trials", "2")
    assert result.exit_code == 0, (result.exit_code, result.stderr, result.exception)
    assert "Warning" not in result.stderr, result.stderr


@pytest.mark.parametrize("tz", [None, "UTC", "America/New_York"])
def test_datetime_columns_become_the_same_parts_from_parquet_and_csv(tz, rng, workdir):
    from automl.preprocess import DatetimeExpander

    frame = _table(rng).assign(when=pd.date_range("2024-01-01 06:00", periods=N, freq="7h", tz=tz))
    frame.to_parquet(workdir / "t.parquet")
    frame.to_csv(workdir / "t.csv", index=False)
    from automl.data import read_table

    parts = []
    for file in ("t.parquet", "t.csv"):
        data = prepare(read_table(str(workdir / file))[0], "label", "auto", file)
        assert data.datetime == ["when"] and data.numeric == ["x"], file
        parts.append(DatetimeExpander().fit(data.X[["when"]]).transform(data.X[["when"]]))
    pd.testing.assert_frame_equal(*parts)
    assert parts[0]["when_hour"].iloc[1] == 13  # the wall-clock hour where the time was written


def test_a_model_from_parquet_dates_predicts_from_parquet_and_csv(rng, workdir, run_cli, cli):
    frame = _table(rng).assign(when=pd.date_range("2024-01-01", periods=N, freq="D", tz="UTC"))
    frame.to_parquet(workdir / "t.parquet")
    assert run_cli("--data", "t.parquet", "--target", "label", "--n-trials", "2").exit_code == 0
    model = str(next((workdir / "mlruns" / "models").glob("*/model.joblib")))
    rows = frame.drop(columns="label").head(7)
    rows.to_parquet(workdir / "rows.parquet")
    rows.to_csv(workdir / "rows.csv", index=False)
    predicted = []
    for file in ("rows.parquet", "rows.csv"):
        result = cli("predict", "--model", model, "--data", file, "--output", f"{file}.out.csv")
        assert result.exit_code == 0, (result.stderr, result.exception)
        predicted.append(pd.read_csv(workdir / f"{file}.out.csv")["prediction"].tolist())
    assert predicted[0] == predicted[1] and len(predicted[0]) == 7


def _huge(rng) -> pd.DataFrame:
    frame = _table(rng).assign(big=rng.normal(size=N))
    frame["big"] = frame["big"].astype(object)
    frame.loc[[1, 2, 3, 4], "big"] = ["1e308", "-1e308", "inf", "3e39"]
    return frame


def test_numbers_beyond_float32_are_missing_with_one_warning_naming_the_column(rng, workdir, run_cli, cli):
    _huge(rng).to_csv(workdir / "t.csv", index=False)
    result = run_cli("--data", "t.csv", "--target", "label", "--n-trials", "2", quiet=False)
    assert result.exit_code == 0, (result.stderr, result.exception)
    notes = [line for line in result.stderr.splitlines() if "3.4e+38" in line]
    assert len(notes) == 1 and "'big'" in notes[0] and "3 values" in notes[0], result.stderr
    assert "RuntimeWarning" not in result.stderr and "overflow" not in result.stderr
    model = str(next((workdir / "mlruns" / "models").glob("*/model.joblib")))
    _huge(rng).drop(columns="label").to_csv(workdir / "rows.csv", index=False)
    result = cli("predict", "--model", model, "--data", "rows.csv", "--output", "p.csv")
    assert result.exit_code == 0 and "Warning" not in result.stderr, (result.stderr, result.exception)
    assert len(pd.read_csv(workdir / "p.csv")) == N


def test_a_regression_target_beyond_float32_counts_as_missing(rng, workdir, run_cli):
    frame = _table(rng).assign(label=rng.normal(size=N))
    frame.loc[[2, 9], "label"] = [1e308, -1e300]
    frame.to_csv(workdir / "t.csv", index=False)
    result = run_cli("--data", "t.csv", "--target", "label", "--n-trials", "2", quiet=False)
    assert result.exit_code == 0, (result.stderr, result.exception)
    assert "dropped 2 rows with a missing target" in result.stderr
    assert "RuntimeWarning" not in result.stderr


@pytest.mark.parametrize("values", [[1e-9, 2.5e-9, 7e-9], [0.0, 3e-10, 1e-9], [1e-12, 2e-12]])
def test_a_float_target_of_tiny_values_is_a_quantity_not_classes(values):
    y = pd.Series(values * 20)
    assert infer_task(y, "auto", "src", "y") == "regression"


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_classes_given_as_fractional_numbers_are_learnt_as_classes(task, rng, workdir, run_cli, cli):
    classes = [1.5, 2.25] if task == "binary" else [1.5, 2.25, 1e-9]
    frame = _table(rng).assign(label=np.asarray(classes)[np.arange(N) % len(classes)])
    frame.to_csv(workdir / "t.csv", index=False)
    frame.tail(20).to_csv(workdir / "test.csv", index=False)
    result = run_cli("--data", "t.csv", "--target", "label", "--task", task, "--n-trials", "2",
                     "--test-data", "test.csv")
    assert result.exit_code == 0, (result.stderr, result.exception)


@pytest.mark.parametrize("kind", ["datetime64", "dates"])
@pytest.mark.parametrize("task", ["auto", "multiclass", "regression"])
def test_a_datetime_target_is_refused_in_one_line(task, kind, rng, workdir, run_cli, user_error):
    frame = _table(rng).assign(label=pd.date_range("2024-01-01", periods=N, freq="D"))
    frame.loc[N // 2:, "label"] = pd.Timestamp("2024-01-01")  # few distinct times: still no classes
    if kind == "dates":  # Parquet's date32: Python dates in an object column
        frame["label"] = [dt.date(2024, 1, 1 + i % 3) for i in range(N)]
    frame.to_parquet(workdir / "t.parquet")
    user_error(run_cli("--data", "t.parquet", "--target", "label", "--task", task),
               r"target 'label' holds dates or times; automl predicts classes or numbers")


def test_a_constant_target_and_repeated_csv_columns_are_refused_in_one_line(rng, workdir, run_cli, user_error):
    _table(rng).assign(label="same").to_parquet(workdir / "c.parquet")
    user_error(run_cli("--data", "c.parquet", "--target", "label"), r"target 'label' has a single class")
    (workdir / "d.csv").write_text("a,a,label\n" + "".join(f"{i},{i},{'ab'[i % 2]}\n" for i in range(N)))
    user_error(run_cli("--data", "d.csv", "--target", "label"), r"duplicate column names \['a'\]")
