"""automl.data: reading tables, checking the target, inferring the task, cleaning columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.data import (
    align_test_frame,
    column_types,
    drop_useless_columns,
    fingerprint,
    infer_task,
    prepare,
    read_table,
)
from automl.errors import DataError


@pytest.mark.parametrize("name", ["iris", "breast_cancer", "diabetes"])
def test_read_demo(name):
    frame, short = read_table(f"demo:{name}")
    assert short == name and "target" in frame.columns and len(frame) > 100


def test_demo_labels_are_class_names():
    frame, _ = read_table("demo:iris")
    assert set(frame["target"]) == {"setosa", "versicolor", "virginica"}


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet"])
def test_read_table_round_trips(frame, workdir, suffix):
    path = workdir / f"t{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, sep="\t" if suffix == ".tsv" else ",", index=False)
    read, name = read_table(str(path))
    assert name == "t"
    pd.testing.assert_frame_equal(read, frame, check_dtype=False)


@pytest.mark.parametrize("decimal", [".", ","])
def test_a_semicolon_csv_is_read_as_its_columns(frame, workdir, decimal):
    """Spreadsheets in many locales save CSV with ``;`` and decimal commas: read with ``,``
    the whole header was one column (and "5,1" split in two)."""
    path = workdir / "t.csv"
    frame.to_csv(path, sep=";", decimal=decimal, index=False)
    read, _ = read_table(str(path))
    pd.testing.assert_frame_equal(read, frame, check_dtype=False)


@pytest.mark.parametrize("content", [
    "name,note\nx,a;b;c\ny,d;e;f\n",  # semicolons inside values of a comma-separated file
    "code;label,count\n1,2\n3,4\n",  # a semicolon in a header name
    "a|b,c\n1,2\n",
])
def test_a_comma_csv_keeps_its_commas(workdir, content):
    path = workdir / "t.csv"
    path.write_text(content)
    read, _ = read_table(str(path))
    assert list(read.columns) == content.splitlines()[0].split(",")


def test_a_semicolon_csv_keeps_text_that_is_not_a_number(workdir):
    path = workdir / "t.csv"
    path.write_text("price;code;target\n1,5;0,1;a\n2,25;A,2;b\n3;1,0;a\n")
    read, _ = read_table(str(path))
    assert read["price"].tolist() == [1.5, 2.25, 3.0]
    assert read["code"].tolist() == ["0,1", "A,2", "1,0"]


@pytest.mark.parametrize("suffix", [".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zip", ".tsv.gz", ".CSV.GZ"])
def test_a_compressed_csv_is_read(frame, workdir, suffix):
    path = workdir / f"my.table{suffix}"
    frame.to_csv(path, sep="\t" if ".tsv" in suffix else ",", index=False,
                 compression={"gz": "gzip"}.get(suffix.rsplit(".", 1)[1].lower(), suffix.rsplit(".", 1)[1].lower()))
    read, name = read_table(str(path))
    assert name == "my.table"
    pd.testing.assert_frame_equal(read, frame, check_dtype=False)


def test_a_compressed_csv_is_checked_like_a_plain_one(workdir):
    import gzip
    import zipfile

    (workdir / "latin.csv.gz").write_bytes(gzip.compress("a,b\ncafé,1\n".encode("latin-1")))
    with pytest.raises(DataError, match=r"latin\.csv\.gz: cannot read \(not UTF-8 text: byte 0xe9 at offset 7\)"):
        read_table(str(workdir / "latin.csv.gz"))
    (workdir / "dupe.csv.gz").write_bytes(gzip.compress(b"a,b,a\n1,2,3\n"))
    with pytest.raises(DataError, match=r"duplicate column names \['a'\]"):
        read_table(str(workdir / "dupe.csv.gz"))
    with zipfile.ZipFile(workdir / "two.csv.zip", "w") as archive:
        archive.writestr("a.csv", "a,b\n1,2\n")
        archive.writestr("b.csv", "a,b\n1,2\n")
    with pytest.raises(DataError, match=r"two\.csv\.zip: cannot read \(a ZIP archive of 2 files\)"):
        read_table(str(workdir / "two.csv.zip"))
    (workdir / "fake.csv.gz").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=r"fake\.csv\.gz: cannot read \(BadGzipFile"):
        read_table(str(workdir / "fake.csv.gz"))


@pytest.mark.parametrize(("content", "name", "match"), [
    (None, "absent.csv", "file not found"),
    ("", "e.csv", "file is empty"),
    ("a,b\n", "h.csv", "no data rows"),
    ("a,b,a\n1,2,3\n", "d.csv", r"duplicate column names \['a'\]"),
    ("a\tb\ta\n1\t2\t3\n", "d.tsv", r"duplicate column names \['a'\]"),
    ("garbage", "p.parquet", r"cannot read \(\w+"),
    ('a,b\n1,"2\n', "q.csv", r"cannot read \(\w+"),
    ("{}", "j.json", "unsupported data file"),
    ("{}", "j.json.gz", "unsupported data file"),
    ("PAR1", "p.parquet.gz", "unsupported data file"),
])
def test_read_table_errors(workdir, content, name, match):
    if content is not None:
        (workdir / name).write_text(content)
    with pytest.raises(DataError, match=match):
        read_table(str(workdir / name))


def test_prepare_drops_rows_without_target_and_treats_inf_as_missing(messy_frame):
    data = prepare(messy_frame, "label", "auto", "messy")
    assert data.rows_dropped == 3
    assert len(data.y) == len(messy_frame) - 3 and data.y.notna().all()
    assert data.X["num"].isna().sum() == 2  # +inf and -inf became missing
    assert not np.isinf(data.X[data.numeric].to_numpy(dtype=float)).any()


def test_prepare_types_and_drops_useless_columns(messy_frame):
    data = prepare(messy_frame, "label", "auto", "messy")
    assert data.task == "binary"
    assert (data.numeric, data.categorical, data.datetime) == (["num", "num_nan"], ["colour"], ["when"])
    assert data.dropped_columns == {
        "empty": "all values missing", "const": "constant",
        "ident": "identifier-like (almost all values unique strings of few words)"}
    assert set(data.feature_columns) == set(data.X.columns)


def test_free_text_is_kept_identifiers_dropped_and_repeated_strings_kept(rng):
    n = 40
    X = pd.DataFrame({"text": [f"comment number {i} about things" for i in range(n)],
                      "city": rng.choice(["Oslo", "Lima", "Pune"], n),
                      "code": np.arange(n)})  # unique integers are numbers, not identifiers
    X["ident"] = [f"AB-{i:05d}" for i in range(n)]
    kept, dropped = drop_useless_columns(X)
    # Unique codes are identifiers; unique sentences are free text, kept for word features.
    assert list(dropped) == ["ident"] and list(kept.columns) == ["text", "city", "code"]


def test_prepare_types_free_text_as_text(rng):
    n = 60
    frame = pd.DataFrame({"review": [f"the {w} was {v} today" for w, v in
                                     zip(rng.choice(["food", "room", "staff"], n), rng.integers(0, 99, n))],
                          "size": rng.choice(["small large", "medium"], n),  # few distinct: categorical
                          "y": rng.choice(["a", "b"], n)})
    data = prepare(frame, "y", "auto", "reviews")
    assert data.text == ["review"] and data.categorical == ["size"]
    assert data.columns_by_kind == ([], ["size"], [], ["review"])


def test_small_tables_keep_unique_strings():
    X = pd.DataFrame({"name": ["a", "b", "c"], "x": [1.0, 2.0, 3.0]})
    assert drop_useless_columns(X)[1] == {}


def test_column_types_bool_is_categorical_and_numbers_are_not_dates():
    X = pd.DataFrame({"flag": [True, False, True], "year": ["2001", "2002", "2003"],
                      "d": ["2020-01-01", "2020-02-01", "2020-03-05"], "x": [1.5, 2.0, 3.0]})
    assert column_types(X) == (["x"], ["flag", "year"], ["d"])


@pytest.mark.parametrize(("values", "task", "expected"), [
    (["a", "b", "a"], "auto", "binary"),
    (["a", "b", "c"], "auto", "multiclass"),
    ([0, 1, 2, 1], "auto", "multiclass"),
    ([0.5, 1.25, 2.0, 3.75], "auto", "regression"),
    (list(range(30)), "auto", "regression"),  # too many integer values to be classes
    ([0, 1, 2, 1], "regression", "regression"),
    (["1.5", "2", "3"], "regression", "regression"),  # numeric strings can be a quantity
    ([1, 2, 1], "binary", "binary"),
    ([True, False, True], "auto", "binary"),
])
def test_infer_task(values, task, expected):
    assert infer_task(pd.Series(values), task, "src", "y") == expected


@pytest.mark.parametrize(("values", "task", "match"), [
    (["a", "a"], "auto", r"src: target 'y' has a single class \('a'\)"),
    ([1, 1, 1], "multiclass", "has a single class"),
    (["a", "b", "c"], "binary", r"--task binary but target 'y' has 3 classes"),
    (["a", "b"], "regression", r"target 'y' is not numeric, so it cannot be a regression target"),
    (["1", "x"], "regression", r"not numeric.* \(e\.g\. 'x'\)"),  # names the bad value
])
def test_infer_task_errors(values, task, match):
    with pytest.raises(DataError, match=match):
        infer_task(pd.Series(values), task, "src", "y")


def test_regression_target_from_numeric_strings_becomes_numbers(frame):
    frame["amount"] = [str(v) for v in np.linspace(0, 10, len(frame))]
    data = prepare(frame, "amount", "regression", "src")
    assert pd.api.types.is_float_dtype(data.y)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"target": "nope"}, r"src: unknown target column 'nope'; columns are x1, x2, label"),
    ({"target": None}, r"src: no --target given; choose one of the columns x1, x2, label"),
    ({"target": "label", "group_column": "g"}, r"group_column 'g' is not a column"),
    ({"target": "label", "time_column": "t"}, r"time_column 't' is not a column"),
])
def test_prepare_column_errors(frame, kwargs, match):
    with pytest.raises(DataError, match=match):
        prepare(frame, task="auto", source="src", **kwargs)


def test_prepare_uses_target_column_by_default(frame):
    data = prepare(frame.rename(columns={"label": "target"}), None, "auto", "src")
    assert data.y.name == "target"


@pytest.mark.parametrize(("change", "match"), [
    (lambda f: f.assign(label=np.nan), "target column 'label' has no values"),
    (lambda f: f.assign(x1=np.nan, x2=1.0), r"no usable feature columns left after dropping \['x1', 'x2'\]"),
])
def test_prepare_nothing_left(frame, change, match):
    with pytest.raises(DataError, match=match):
        prepare(change(frame), "label", "auto", "src")


def test_group_and_time_columns_are_not_features(frame):
    frame["g"] = np.arange(len(frame)) % 5
    data = prepare(frame, "label", "auto", "src", group_column="g")
    assert "g" not in data.X.columns and data.groups.tolist() == frame["g"].tolist()
    frame["t"] = np.arange(len(frame))[::-1]
    data = prepare(frame.drop(columns="g"), "label", "auto", "src", time_column="t")
    assert "t" not in data.X.columns
    assert data.X.index.tolist() == list(range(len(frame)))[::-1]  # sorted by time


def test_align_test_frame(frame):
    data = prepare(frame, "label", "auto", "src")
    test = frame.assign(extra=1.0)[["extra", "label", "x2", "x1"]]
    test.loc[0, "label"] = np.nan
    test.loc[1, "x1"] = np.inf
    X, y, dropped = align_test_frame(test, data, "label", "t.csv")
    assert list(X.columns) == data.feature_columns  # training order, extra column gone
    assert dropped == 1 and len(X) == len(frame) - 1 and np.isnan(X.loc[1, "x1"])


@pytest.mark.parametrize(("drop", "match"), [
    (["x2"], r"t\.csv: test data is missing training columns \['x2'\]"),
    (["label"], r"missing training columns \['label'\]"),
])
def test_align_test_frame_missing_columns(frame, drop, match):
    data = prepare(frame, "label", "auto", "src")
    with pytest.raises(DataError, match=match):
        align_test_frame(frame.drop(columns=drop), data, "label", "t.csv")


@pytest.mark.parametrize(("change", "match"), [
    (lambda t: t.assign(x1=["oops"] + [1.0] * (len(t) - 1)),
     r"t\.csv: column 'x1' is numeric in the training data but has non-numeric values in the test "
     r"data \(e\.g\. 'oops'\)"),
    (lambda t: t.assign(label=["zzz"] + ["a"] * (len(t) - 1)),
     r"test target 'label' has classes not in the training data \['zzz'\]; the model can only "
     r"predict \['a', 'b'\]"),
])
def test_align_test_frame_bad_values(frame, change, match):
    data = prepare(frame, "label", "auto", "src")
    with pytest.raises(DataError, match=match):
        align_test_frame(change(frame.copy()), data, "label", "t.csv")


def test_integer_classes_read_as_floats_in_test_data_match(frame):
    data = prepare(frame.assign(label=np.arange(len(frame)) % 2), "label", "auto", "src")
    test = frame.assign(label=(np.arange(len(frame)) % 2).astype(float))
    test.loc[0, "label"] = np.nan  # what makes pandas read an integer column as floats
    assert align_test_frame(test, data, "label", "t.csv")[1].tolist()[:2] == [1.0, 0.0]


def test_align_test_frame_regression_target_must_be_numeric(frame):
    frame["amount"] = np.linspace(0, 1, len(frame))
    data = prepare(frame.drop(columns="label"), "amount", "auto", "src")
    with pytest.raises(DataError, match=r"column 'amount' is numeric .* \(e\.g\. 'n/a!'\)"):
        align_test_frame(frame.assign(amount=["n/a!"] * len(frame)), data, "amount", "t.csv")


def test_align_test_frame_without_targets(frame):
    data = prepare(frame, "label", "auto", "src")
    with pytest.raises(DataError, match="test data has no rows with a target value"):
        align_test_frame(frame.assign(label=None), data, "label", "t.csv")


def test_fingerprint_depends_on_rows_order_and_values(frame):
    X, y = frame[["x1", "x2"]], frame["label"]
    base = fingerprint(X, y)
    assert base == fingerprint(X.copy(), y.copy())
    assert base != fingerprint(X.iloc[::-1], y.iloc[::-1])
    assert base != fingerprint(X.assign(x1=X["x1"] + 1e-9), y)
    assert base != fingerprint(X.iloc[1:], y.iloc[1:])


def test_time_column_text_dates_are_ordered_by_time_not_as_text():
    frame = pd.DataFrame({"when": ["06/30/2023", "01/15/2024", "12/01/2023", "02/01/2023"],
                          "x": [1.0, 2.0, 3.0, 4.0], "target": [0.1, 0.2, 0.3, 0.4]})
    data = prepare(frame, "target", "regression", "t.csv", time_column="when")
    assert data.X["x"].tolist() == [4.0, 1.0, 3.0, 2.0]


def test_time_column_with_unparseable_values_is_refused():
    frame = pd.DataFrame({"when": ["2024-01-01", "soon", "2024-01-03"], "x": [1.0, 2.0, 3.0],
                          "target": [0.1, 0.2, 0.3]})
    with pytest.raises(DataError, match="time_column 'when' has 1 missing or unparseable"):
        prepare(frame, "target", "regression", "t.csv", time_column="when")
