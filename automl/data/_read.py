"""Read a table: CSV, TSV, Parquet or a bundled ``demo:NAME`` data set."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from automl.config import input_file, text_encoding
from automl.errors import DataError, first_line

DEMOS = ("breast_cancer", "iris", "wine", "digits", "diabetes")
ALLOWED = f"use .csv, .tsv, .parquet or demo:NAME ({', '.join(DEMOS)})"
READERS = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}


def read_table(spec: str) -> tuple[pd.DataFrame, str]:
    """Read ``demo:NAME``, a CSV or a Parquet file. Returns the frame and a short name for it."""
    if spec.startswith("demo:"):
        return _load_demo(spec.removeprefix("demo:")), spec.removeprefix("demo:")
    path = input_file(spec, "file", ALLOWED, DataError)
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise DataError(f"{spec}: unsupported data file; {ALLOWED}")
    try:
        if kind == "parquet":
            _check_parquet(path)
            frame = pd.read_parquet(path)
        else:
            encoding = text_encoding(path, DataError)
            sep = _separator(path, "\t" if kind == "tsv" else ",", encoding)
            _check_header(path, sep, encoding)
            frame = pd.read_csv(path, sep=sep, encoding=encoding, low_memory=False)
            if sep == ";":
                frame = _decimal_commas(frame)
    except DataError:
        raise
    except pd.errors.EmptyDataError:
        raise DataError(f"{spec}: file is empty") from None
    except Exception as exc:  # any reader failure is the file's fault from the user's view
        raise DataError(f"{spec}: cannot read ({type(exc).__name__}: {first_line(exc)})") from None
    if frame.empty:
        raise DataError(f"{spec}: no data rows")
    _check_unique_columns(frame.columns, spec)
    return frame, path.stem


def _check_parquet(path: Path) -> None:
    # A Parquet file begins and ends with its magic; a CSV named .parquet is named as one.
    with path.open("rb") as fh:
        head = fh.read(4)
        fh.seek(max(path.stat().st_size - 4, 0))
        tail = fh.read(4)
    if head != b"PAR1" or tail != b"PAR1":
        raise DataError(f"{path}: cannot read (not a Parquet file: it does not begin and end with "
                        "PAR1); give a Parquet file, or name a CSV file .csv")


SEPARATORS = (",", ";", "\t", "|")
SNIFF_LINES = 20


def _separator(path: Path, default: str, encoding: str) -> str:
    """``default``, unless it does not split the first lines into one same number of columns and
    exactly one other separator does: spreadsheets in many locales save CSV with ``;`` (and
    decimal commas), which read with ``,`` is one column named after the whole header."""
    with path.open(newline="", encoding=encoding) as fh:
        lines = [line for _, line in zip(range(SNIFF_LINES + 1), fh)]
    lines = lines[:SNIFF_LINES]  # whole rows only: a quoted value may go on past the last line read

    def consistent(sep: str) -> bool:
        rows = list(csv.reader(lines, delimiter=sep))
        widths = {len(row) for row in (rows[:-1] if len(rows) > 1 else rows) if row}
        return len(widths) == 1 and widths != {1}

    if not lines or consistent(default):
        return default
    found = [sep for sep in SEPARATORS if sep != default and consistent(sep)]
    return found[0] if len(found) == 1 else default


# A number written with a decimal comma (and no thousands separator): "5,1", "-0,25", "3".
_DECIMAL_COMMA = r"[+-]?\d*,\d+|[+-]?\d+"


def _decimal_commas(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns of a ``;``-separated file whose every value is a number with a decimal comma
    become numbers (where ``;`` separates, ``,`` is the decimal mark); other columns are left."""
    for name in frame.columns:
        column = frame[name]
        if column.dtype.kind in "biufcmM":
            continue
        values = column.dropna().astype(str).str.strip()
        if len(values) and values.str.fullmatch(_DECIMAL_COMMA).all() and values.str.contains(",").any():
            frame[name] = pd.to_numeric(column.astype(str).str.strip().str.replace(",", ".", regex=False)
                                        .where(column.notna()), errors="coerce")
    return frame


def _check_header(path: Path, sep: str, encoding: str) -> None:
    # pandas silently renames a repeated header to "a.1", so read the raw header ourselves.
    with path.open(newline="", encoding=encoding) as fh:
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
