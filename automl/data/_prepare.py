"""Check the target, infer the task, and keep the columns that can help a model.

Everything a user can get wrong about their data is caught here with a one-line
:class:`~automl.errors.DataError`; columns that cannot help a model are dropped with a reason.
"""

from __future__ import annotations

import datetime as dt
import decimal

import numpy as np
import pandas as pd

from automl.errors import DataError, MixedOffsetsError, shown

from ._dataset import (LARGEST, Dataset, as_missing_beyond_float32, beyond_float32, numbers_with_placeholders,
                       preview, rows_with_target)

# A string column is identifier-like when almost every value is distinct, and free text (kept,
# turned into word features inside the pipeline) when its values are mostly several words long.
ID_UNIQUE_RATIO = 0.9
ID_MIN_ROWS = 20
TEXT_MIN_WORDS = 3  # median words per value
TEXT_MIN_DISTINCT = 20
MAX_CLASSES_FOR_INTEGER_TARGET = 20


def prepare(frame: pd.DataFrame, target: str | None, task: str, source: str,
            group_column: str | None = None, time_column: str | None = None) -> Dataset:
    """Check the target, infer the task, clean the feature columns."""
    _refuse_nested(frame, source)
    target = _resolve_target(frame, target, source)
    for col, what in ((group_column, "group_column"), (time_column, "time_column")):
        if col is not None and col not in frame.columns:
            raise DataError(f"{source}: {what} {shown(col)} is not a column; columns are {preview(frame.columns)}")
    frame, rows_dropped = rows_with_target(frame, target)
    if frame.empty:
        raise DataError(f"{source}: target column {shown(target)} has no values")
    times = time_kind = None
    if time_column:
        order, times, time_kind = _time_order(frame[time_column], source, time_column)
        frame = frame.iloc[order]
    y = frame[target]
    if isinstance(y.dtype, pd.CategoricalDtype):
        # Its values, not its categories: an unused category is no class (stratification would
        # refuse a class with 0 rows).
        y = pd.Series(np.asarray(y), index=y.index, name=y.name)
    _refuse_times(y, source, target)
    y = _decimals_as_numbers(y)
    task = infer_task(y, task, source, target)
    if task == "regression":
        y = pd.to_numeric(y)
        if y.nunique() < 2:
            raise DataError(f"{source}: target {shown(target)} has a single value ({plain_value(y.iloc[0])}); "
                            "there is nothing to learn")
    else:
        y = class_labels(y)
    groups = frame[group_column] if group_column else None
    if groups is not None and groups.isna().any():
        raise DataError(f"{source}: group_column {shown(group_column)} is missing in {int(groups.isna().sum())} "
                        "rows; every row needs a group (rows of one group stay on one side of a split)")
    X = frame.drop(columns=[c for c in (target, group_column, time_column) if c])
    X = _numbers_despite_placeholders(X)
    X, huge = _beyond_float32_as_missing(X)
    X, dropped = drop_useless_columns(X)
    if X.shape[1] == 0:
        raise DataError(f"{source}: no usable feature columns left after dropping {sorted(dropped)}")
    try:
        numeric, categorical, datetimes = column_types(X)
    except MixedOffsetsError as exc:
        raise DataError(f"{source}: {exc}") from None
    text = [c for c in categorical if is_free_text(X[c].dropna())]
    categorical = [c for c in categorical if c not in text]
    return Dataset(X=X, y=y, name=source, task=task, numeric=numeric, categorical=categorical,
                   datetime=datetimes, text=text, groups=groups, rows_dropped=rows_dropped,
                   dropped_columns=dropped, warnings=huge + _integer_identifiers(X, numeric),
                   times=times, time_kind=time_kind)


def _refuse_times(y: pd.Series, source: str, target: str) -> None:
    # Parquet's date and time columns arrive as datetime64, or as Python dates and times.
    times = pd.api.types.is_datetime64_any_dtype(y) or pd.api.types.is_timedelta64_dtype(y) or (
        pd.api.types.is_object_dtype(y) and all(isinstance(v, (dt.date, dt.time, dt.timedelta)) for v in y))
    if times:
        raise DataError(f"{source}: target {shown(target)} holds dates or times; automl predicts classes or "
                        "numbers: choose another target (a time column can order the rows as time_column)")


def class_labels(y: pd.Series) -> pd.Series:
    """Classes as scikit-learn takes them: numbers that are not whole (1.5, 2.25), which it
    reads as a quantity, become their text ("1.5"); other labels stay as they are."""
    if pd.api.types.is_float_dtype(y) and not _whole(y):
        return y.map(lambda v: str(float(v)))
    if pd.api.types.is_object_dtype(y) and not all(isinstance(v, str) for v in y) and \
            not all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in y):
        # Bytes, or numbers mixed with words: scikit-learn takes neither; as text they are classes.
        return y.map(lambda v: v.decode("utf-8", "backslashreplace") if isinstance(v, bytes) else str(v))
    return y


def _decimals_as_numbers(y: pd.Series) -> pd.Series:
    """Parquet's decimal columns (money from a database) arrive as Python Decimals: numbers."""
    if pd.api.types.is_object_dtype(y) and all(isinstance(v, decimal.Decimal) for v in y):
        return pd.to_numeric(y).astype("float64")
    return y


def _whole(values: pd.Series) -> bool:
    # Exactly whole: a tolerance (np.allclose's 1e-8) calls a target of 1e-9-scale values whole.
    numbers = values.to_numpy(dtype="float64")
    return bool(np.all(numbers == np.round(numbers)))


def _beyond_float32_as_missing(X: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Numbers too large for float32 count as missing (as the pipeline treats them when it
    predicts), with one warning naming the columns."""
    counts = {col: int(beyond_float32(X[col]).sum()) for col in X.columns}
    counts = {col: n for col, n in counts.items() if n}
    if not counts:
        return X, []
    X = X.copy()
    for col in counts:
        X[col] = as_missing_beyond_float32(X[col])
    named = ", ".join(f"{shown(col)} ({n} values)" for col, n in counts.items())
    return X, [f"columns with numbers beyond ±{LARGEST:.2g}, the largest a model computes with: {named}; "
               "they are treated as missing"]


def _refuse_nested(frame: pd.DataFrame, source: str) -> None:
    """Lists, dicts or arrays in cells (Parquet allows them) are not one value per cell."""
    for col in frame.columns:
        if pd.api.types.is_object_dtype(frame[col]):
            nested = frame[col].map(lambda v: isinstance(v, (list, tuple, dict, set, np.ndarray)))
            if nested.any():
                example = frame[col][nested].iloc[0]
                if isinstance(example, np.ndarray):  # how Parquet lists arrive
                    example = list(example)
                raise DataError(f"{source}: column {shown(col)} holds {type(example).__name__}s (e.g. "
                                f"{str(example)[:60]}); automl needs one value per cell: flatten or "
                                "drop the column")


def parse_times(values: pd.Series, column) -> pd.Series:
    """Dates and times written any way pandas reads (unreadable ones missing); mixed UTC offsets,
    which pandas cannot put in one column, are :class:`MixedOffsetsError` naming two of them."""
    try:
        return pd.to_datetime(values, errors="coerce", format="mixed")
    except ValueError as exc:
        if "timezone" not in str(exc).lower() and "offset" not in str(exc).lower():
            raise
        raise MixedOffsetsError(f"column {shown(column)} mixes UTC offsets{_offset_examples(values)}; write "
                                "its times in one offset or in UTC") from None


def _offset_examples(values: pd.Series) -> str:
    """Two values that disagree: one with an offset and one with another or none."""
    text = values.dropna().astype(str)
    aware = text[text.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True)]
    if aware.empty:
        return ""
    other = text[text.str.replace(r"^.*?((?:[+-]\d\d:?\d\d|Z)?)$", r"\1", regex=True) !=
                 aware.str.replace(r"^.*?((?:[+-]\d\d:?\d\d|Z)?)$", r"\1", regex=True).iloc[0]]
    first = shown(aware.iloc[0])
    return f" (e.g. {first} and {shown(other.iloc[0])})" if len(other) else f" (e.g. {first})"


def _numbers_despite_placeholders(X: pd.DataFrame) -> pd.DataFrame:
    """A column of numbers with a stray ``?`` or ``N/A`` is numeric with missing values, not text
    (as text it would become one-hot categories of every distinct number)."""
    for col in X.columns:
        if not pd.api.types.is_numeric_dtype(X[col]) and not pd.api.types.is_bool_dtype(X[col]):
            numbers = numbers_with_placeholders(X[col])
            if numbers is not None:
                X = X.assign(**{col: numbers})
    return X


def _time_order(values: pd.Series, source: str, column: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Row order by time (TimeSeriesSplit and the newest-rows test set need it), and the times
    in that order as numbers (seconds since the epoch for instants); dates written as text
    are parsed, never sorted as strings ("01/15/2024" < "06/30/2023" as text)."""
    try:
        stamps = values if pd.api.types.is_numeric_dtype(values) else parse_times(values, column)
    except MixedOffsetsError as exc:
        raise DataError(f"{source}: time_column: {exc}") from None
    bad = stamps.isna()
    if bad.any():
        raise DataError(f"{source}: time_column {shown(column)} has {int(bad.sum())} missing or "
                        f"unparseable values (e.g. {shown(values[bad].iloc[0])}); every row needs a time")
    order = np.argsort(stamps.to_numpy(), kind="stable")
    if pd.api.types.is_datetime64_any_dtype(stamps):
        # Seconds from the epoch, computed in the column's own unit: a cast to nanoseconds would
        # wrap a date outside 1677-2262 (a year 1500 or 2500 placeholder) without a word.
        naive = stamps.dt.tz_convert("UTC").dt.tz_localize(None) if stamps.dt.tz is not None else stamps
        ticks = naive.to_numpy()
        per_second = np.timedelta64(1, "s") / np.timedelta64(1, np.datetime_data(ticks.dtype)[0])
        times, kind = ticks.astype(np.int64) / per_second, "instant"
    else:
        times, kind = stamps.to_numpy(dtype=float), "number"
    return order, times[order], kind


def plain_value(value) -> str:
    """A value as the user wrote it: ``7``, not ``np.int64(7)``; text quoted."""
    value = value.item() if hasattr(value, "item") else value
    return shown(value) if isinstance(value, str) else str(value)[:60]


def _resolve_target(frame: pd.DataFrame, target: str | None, source: str) -> str:
    if target is None:
        if "target" in frame.columns:
            return "target"
        raise DataError(f"{source}: no --target given; choose one of the columns {preview(frame.columns)}")
    if target not in frame.columns:
        raise DataError(f"{source}: unknown target column {shown(target)}; columns are {preview(frame.columns)}")
    return target


def infer_task(y: pd.Series, task: str, source: str, target: str) -> str:
    """``binary``/``multiclass`` for labels, ``regression`` for quantities; ``task`` may force one."""
    n_classes = y.nunique()
    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    if task == "regression":
        bad = y[pd.to_numeric(y, errors="coerce").isna()] if not numeric else y.iloc[:0]
        if len(bad):
            raise DataError(f"{source}: target {shown(target)} is not numeric, so it cannot be a regression "
                            f"target (e.g. {shown(bad.iloc[0])}); use --task binary or multiclass")
        return task
    if task == "auto":
        integer_like = numeric and _whole(y)
        if numeric and not (integer_like and n_classes <= MAX_CLASSES_FOR_INTEGER_TARGET):
            return "regression"
        task = "binary" if n_classes <= 2 else "multiclass"
    if n_classes < 2:
        raise DataError(f"{source}: target {shown(target)} has a single class ({plain_value(y.iloc[0])}); "
                        "classification needs at least two")
    if task == "binary" and n_classes > 2:
        raise DataError(f"{source}: --task binary but target {shown(target)} has {n_classes} classes")
    return task


def drop_useless_columns(X: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Drop all-empty, constant and identifier-like columns; say why for each. Free text stays."""
    dropped: dict[str, str] = {}
    for col in X.columns:
        values = X[col].dropna()
        if values.empty:
            dropped[col] = "all values missing"
        elif values.nunique() == 1:
            dropped[col] = "constant"
        elif _is_identifier_like(values) and not is_free_text(values):
            dropped[col] = "identifier-like (almost all values unique strings of few words)"
    return X.drop(columns=list(dropped)), dropped


def _integer_identifiers(X: pd.DataFrame, numeric: list[str]) -> list[str]:
    """Numeric columns that look like row numbers or IDs: every value a distinct integer. Kept
    (a count can look like that), but a model may learn the order rows were written in."""
    out = []
    for col in numeric:
        values = X[col].dropna()
        if len(values) >= ID_MIN_ROWS and values.nunique() == len(values) and _whole(values):
            out.append(f"column {shown(col)} looks like an identifier ({len(values)} distinct whole numbers); "
                       "it is used as a number: drop it if it only names rows")
    return out


def _is_identifier_like(values: pd.Series) -> bool:
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return False
    if len(values) < ID_MIN_ROWS or _looks_like_dates(values):
        return False
    return values.nunique() / len(values) > ID_UNIQUE_RATIO


def is_free_text(values: pd.Series) -> bool:
    """Strings of several words with many distinct values: a comment, a title, a description."""
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return False
    if len(values) < ID_MIN_ROWS or values.nunique() < TEXT_MIN_DISTINCT:
        return False
    words = values.head(1000).astype(str).str.split().str.len()
    return bool(words.median() >= TEXT_MIN_WORDS)


def column_types(X: pd.DataFrame) -> tuple[list[str], list[str], list[str]]:
    """Split feature columns into numeric, categorical and datetime."""
    numeric, categorical, datetimes = [], [], []
    for col in X.columns:
        s = X[col]
        if pd.api.types.is_bool_dtype(s):
            categorical.append(col)
        elif pd.api.types.is_numeric_dtype(s):
            numeric.append(col)
        elif pd.api.types.is_datetime64_any_dtype(s) or _looks_like_dates(s.dropna(), col):
            datetimes.append(col)
        else:
            categorical.append(col)
    return numeric, categorical, datetimes


def _looks_like_dates(values: pd.Series, column=None) -> bool:
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return False
    sample = values.astype(str).head(200)
    if sample.empty or sample.str.fullmatch(r"[-+]?\d+(\.\d*)?").any():
        return False  # plain numbers would parse as epochs or years
    try:
        parsed = parse_times(sample, column)
    except MixedOffsetsError:
        if column is None:  # the identifier check only asks whether these are dates: they are
            return True
        raise
    return bool(parsed.notna().mean() > 0.95)
