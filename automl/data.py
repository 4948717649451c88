"""Load a table, check it, and decide the task.

Everything a user can get wrong about their data is caught here with a one-line
:class:`~automl.errors.DataError`; columns that cannot help a model are dropped with a warning.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from automl.errors import DataError

DEMOS = ("breast_cancer", "iris", "wine", "digits", "diabetes")
READERS = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
# A string column is identifier-like or free text when almost every value is distinct.
ID_UNIQUE_RATIO = 0.9
ID_MIN_ROWS = 20
MAX_CLASSES_FOR_INTEGER_TARGET = 20


@dataclass
class Dataset:
    """Features and target ready for splitting, with what was done to get there."""

    X: pd.DataFrame
    y: pd.Series
    name: str
    task: str
    numeric: list[str]
    categorical: list[str]
    datetime: list[str]
    groups: pd.Series | None = None
    rows_dropped: int = 0
    dropped_columns: dict[str, str] = field(default_factory=dict)

    @property
    def feature_columns(self) -> list[str]:
        return [*self.numeric, *self.categorical, *self.datetime]


def read_table(spec: str) -> tuple[pd.DataFrame, str]:
    """Read ``demo:NAME``, a CSV or a Parquet file. Returns the frame and a short name for it."""
    if spec.startswith("demo:"):
        return _load_demo(spec.removeprefix("demo:")), spec.removeprefix("demo:")
    path = Path(spec)
    kind = READERS.get(path.suffix.lower())
    if not path.exists():
        raise DataError(f"{spec}: file not found")
    if path.is_dir() or kind is None:
        raise DataError(
            f"{spec}: unsupported data file; use .csv, .tsv, .parquet or demo:NAME ({', '.join(DEMOS)})"
        )
    try:
        if kind == "parquet":
            frame = pd.read_parquet(path)
        else:
            _check_header(path, "\t" if kind == "tsv" else ",")
            frame = pd.read_csv(path, sep="\t" if kind == "tsv" else ",", low_memory=False)
    except DataError:
        raise
    except pd.errors.EmptyDataError:
        raise DataError(f"{spec}: file is empty") from None
    except Exception as exc:  # any reader failure is the file's fault from the user's view
        raise DataError(f"{spec}: cannot read ({type(exc).__name__}: {_first_line(exc)})") from None
    if frame.empty:
        raise DataError(f"{spec}: no data rows")
    _check_unique_columns(frame.columns, spec)
    return frame, path.stem


def _check_header(path: Path, sep: str) -> None:
    # pandas silently renames a repeated header to "a.1", so read the raw header ourselves.
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        header = next(csv.reader(fh, delimiter=sep), None)
    if not header:
        raise DataError(f"{path}: file is empty")
    _check_unique_columns(header, str(path))


def _check_unique_columns(columns, source: str) -> None:
    dupes = sorted(str(c) for c, n in Counter(columns).items() if n > 1)
    if dupes:
        raise DataError(f"{source}: duplicate column names {dupes}; every column needs a unique name")


def _load_demo(name: str) -> pd.DataFrame:
    import sklearn.datasets as skd

    if name not in DEMOS:
        raise DataError(f"demo:{name}: unknown demo data set; choose one of {', '.join(DEMOS)}")
    bunch = getattr(skd, f"load_{name}")(as_frame=True)
    frame = bunch.frame.copy()
    names = getattr(bunch, "target_names", None)
    if name != "digits" and names is not None and len(names) == frame["target"].nunique():
        # Real class names make predictions and confusion matrices readable.
        frame["target"] = np.asarray(names)[frame["target"].to_numpy()]
    return frame


def prepare(frame: pd.DataFrame, target: str | None, task: str, source: str,
            group_column: str | None = None, time_column: str | None = None) -> Dataset:
    """Check the target, infer the task, clean the feature columns."""
    target = _resolve_target(frame, target, source)
    for col, what in ((group_column, "group_column"), (time_column, "time_column")):
        if col is not None and col not in frame.columns:
            raise DataError(f"{source}: {what} {col!r} is not a column; columns are {_preview(frame.columns)}")
    frame = frame.replace([np.inf, -np.inf], np.nan)
    keep = frame[target].notna()
    frame = frame.loc[keep]
    rows_dropped = int((~keep).sum())
    if frame.empty:
        raise DataError(f"{source}: target column {target!r} has no values")
    if time_column:
        frame = frame.iloc[_time_order(frame[time_column], source, time_column)]
    y = frame[target]
    task = infer_task(y, task, source, target)
    if task == "regression":
        y = pd.to_numeric(y)
    groups = frame[group_column] if group_column else None
    X = frame.drop(columns=[c for c in (target, group_column, time_column) if c])
    X, dropped = drop_useless_columns(X)
    if X.shape[1] == 0:
        raise DataError(f"{source}: no usable feature columns left after dropping {sorted(dropped)}")
    numeric, categorical, datetimes = column_types(X)
    return Dataset(X=X, y=y, name=source, task=task, numeric=numeric, categorical=categorical,
                   datetime=datetimes, groups=groups, rows_dropped=rows_dropped,
                   dropped_columns=dropped)


def _time_order(values: pd.Series, source: str, column: str) -> np.ndarray:
    """Row order by time (TimeSeriesSplit and the newest-rows test set need it); dates written
    as text are parsed, never sorted as strings ("01/15/2024" < "06/30/2023" as text)."""
    stamps = values if pd.api.types.is_numeric_dtype(values) else \
        pd.to_datetime(values, errors="coerce", format="mixed")
    bad = stamps.isna()
    if bad.any():
        raise DataError(f"{source}: time_column {column!r} has {int(bad.sum())} missing or "
                        f"unparseable values (e.g. {values[bad].iloc[0]!r}); every row needs a time")
    return np.argsort(stamps.to_numpy(), kind="stable")


def _resolve_target(frame: pd.DataFrame, target: str | None, source: str) -> str:
    if target is None:
        if "target" in frame.columns:
            return "target"
        raise DataError(f"{source}: no --target given; choose one of the columns {_preview(frame.columns)}")
    if target not in frame.columns:
        raise DataError(f"{source}: unknown target column {target!r}; columns are {_preview(frame.columns)}")
    return target


def infer_task(y: pd.Series, task: str, source: str, target: str) -> str:
    """``binary``/``multiclass`` for labels, ``regression`` for quantities; ``task`` may force one."""
    n_classes = y.nunique()
    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    if task == "regression":
        bad = y[pd.to_numeric(y, errors="coerce").isna()] if not numeric else y.iloc[:0]
        if len(bad):
            raise DataError(f"{source}: target {target!r} is not numeric, so it cannot be a regression "
                            f"target (e.g. {bad.iloc[0]!r}); use --task binary or multiclass")
        return task
    if task == "auto":
        integer_like = numeric and np.allclose(y, np.round(y))
        if numeric and not (integer_like and n_classes <= MAX_CLASSES_FOR_INTEGER_TARGET):
            return "regression"
        task = "binary" if n_classes <= 2 else "multiclass"
    if n_classes < 2:
        raise DataError(f"{source}: target {target!r} has a single class ({y.iloc[0]!r}); "
                        "classification needs at least two")
    if task == "binary" and n_classes > 2:
        raise DataError(f"{source}: --task binary but target {target!r} has {n_classes} classes")
    return task


def drop_useless_columns(X: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Drop all-empty, constant, identifier-like and free-text columns; say why for each."""
    dropped: dict[str, str] = {}
    for col in X.columns:
        values = X[col].dropna()
        if values.empty:
            dropped[col] = "all values missing"
        elif values.nunique() == 1:
            dropped[col] = "constant"
        elif _is_identifier_like(values):
            dropped[col] = "identifier-like or free text (almost all values unique strings)"
    return X.drop(columns=list(dropped)), dropped


def _is_identifier_like(values: pd.Series) -> bool:
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return False
    if len(values) < ID_MIN_ROWS or _looks_like_dates(values):
        return False
    return values.nunique() / len(values) > ID_UNIQUE_RATIO


def column_types(X: pd.DataFrame) -> tuple[list[str], list[str], list[str]]:
    """Split feature columns into numeric, categorical and datetime."""
    numeric, categorical, datetimes = [], [], []
    for col in X.columns:
        s = X[col]
        if pd.api.types.is_bool_dtype(s):
            categorical.append(col)
        elif pd.api.types.is_numeric_dtype(s):
            numeric.append(col)
        elif pd.api.types.is_datetime64_any_dtype(s) or _looks_like_dates(s.dropna()):
            datetimes.append(col)
        else:
            categorical.append(col)
    return numeric, categorical, datetimes


def _looks_like_dates(values: pd.Series) -> bool:
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return False
    sample = values.astype(str).head(200)
    if sample.empty or sample.str.fullmatch(r"[-+]?\d+(\.\d*)?").any():
        return False  # plain numbers would parse as epochs or years
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() > 0.95)


def align_test_frame(test: pd.DataFrame, data: Dataset, target: str, source: str) -> tuple[pd.DataFrame, pd.Series, int]:
    """Check a given test file has every training column; drop rows without a target."""
    missing = [c for c in (*data.feature_columns, target) if c not in test.columns]
    if missing:
        raise DataError(f"{source}: test data is missing training columns {missing}")
    test = test.replace([np.inf, -np.inf], np.nan)
    keep = test[target].notna()
    test = test.loc[keep]
    if test.empty:
        raise DataError(f"{source}: test data has no rows with a target value")
    for col in (*data.numeric, *([target] if data.task == "regression" else [])):
        check_numeric(test[col], f"{source}: column {col!r}", "test data")
    y = pd.to_numeric(test[target]) if data.task == "regression" else test[target]
    if data.task != "regression":
        unseen = sorted(map(str, set(y.unique()) - set(data.y.unique())))  # 1.0 == 1: NaN-widened ints
        if unseen:
            raise DataError(f"{source}: test target {target!r} has classes not in the training data "
                            f"{unseen[:5]}; the model can only predict {sorted(map(str, data.y.unique()))}")
    return test[data.feature_columns], y, int((~keep).sum())


def check_numeric(values: pd.Series, where: str, what: str) -> None:
    """Raise if a column that was numeric in training holds values that are not numbers."""
    bad = values[values.notna() & pd.to_numeric(values, errors="coerce").isna()]
    if len(bad):
        raise DataError(f"{where} is numeric in the training data but has non-numeric values in the "
                        f"{what} (e.g. {bad.iloc[0]!r})")


def fingerprint(X: pd.DataFrame, y: pd.Series) -> str:
    """sha256 over column names and row contents (order-sensitive), to prove which rows were used."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, [*X.columns, y.name])).encode())
    digest.update(pd.util.hash_pandas_object(X, index=False).to_numpy().tobytes())
    digest.update(pd.util.hash_pandas_object(y, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _preview(columns, limit: int = 12) -> str:
    names = [str(c) for c in columns]
    more = f", ... (+{len(names) - limit})" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
