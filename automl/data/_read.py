"""Read a table: CSV, TSV, Parquet or a bundled ``demo:NAME`` data set."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from automl.config import input_file, text_encoding
from automl.errors import DataError, first_line

DEMOS = ("breast_cancer", "iris", "wine", "digits", "diabetes")
ALLOWED = f"use .csv, .tsv (either may end in .gz, .bz2, .xz or .zip), .parquet or demo:NAME ({', '.join(DEMOS)})"
READERS = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
COMPRESSED = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}  # pandas' names for them


def read_table(spec: str) -> tuple[pd.DataFrame, str]:
    """Read ``demo:NAME``, a CSV or a Parquet file. Returns the frame and a short name for it."""
    if spec.startswith("demo:"):
        return _load_demo(spec.removeprefix("demo:")), spec.removeprefix("demo:")
    path = input_file(spec, "file", ALLOWED, DataError)
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    compression = COMPRESSED.get(suffixes[-1]) if len(suffixes) == 2 else None
    kind = READERS.get(suffixes[0] if compression else path.suffix.lower())
    if kind is None or (compression and kind == "parquet"):
        raise DataError(f"{spec}: unsupported data file; {ALLOWED}")
    try:
        if kind == "parquet":
            _check_parquet(path)
            frame = pd.read_parquet(path)
        else:
            frame = _read_text_table(path, kind, compression)
    except DataError:
        raise
    except pd.errors.EmptyDataError:
        raise DataError(f"{spec}: file is empty") from None
    except Exception as exc:  # any reader failure is the file's fault from the user's view
        raise DataError(f"{spec}: cannot read ({type(exc).__name__}: {first_line(exc)})") from None
    if frame.empty:
        raise DataError(f"{spec}: no data rows")
    _check_unique_columns(frame.columns, spec)
    return frame, path.name[:-len("".join(path.suffixes[-2:]))] if compression else path.stem


def _read_text_table(path: Path, kind: str, compression: str | None) -> pd.DataFrame:
    opener = _opener(path, compression)
    encoding = text_encoding(path, DataError, opener)
    sep = _separator(opener, "\t" if kind == "tsv" else ",", encoding)
    _check_header(path, opener, sep, encoding)
    frame = pd.read_csv(path, sep=sep, encoding=encoding, compression=compression, low_memory=False)
    return _decimal_commas(frame) if sep == ";" else frame


def _opener(path: Path, compression: str | None):
    """A function that opens ``path``'s bytes, decompressed: ``opener("rb")``."""
    import bz2
    import gzip
    import lzma
    import zipfile

    if compression is None:
        return path.open
    if compression == "zip":
        def from_zip(mode: str):
            with zipfile.ZipFile(path) as archive:
                names = [i.filename for i in archive.infolist() if not i.is_dir()]
                if len(names) != 1:
                    raise DataError(f"{path}: cannot read (a ZIP archive of {len(names)} files); "
                                    "give a ZIP archive of one CSV/TSV file")
                return archive.open(names[0])  # the member keeps the archive's file open
        return from_zip
    module = {"gzip": gzip, "bz2": bz2, "xz": lzma}[compression]
    return lambda mode: module.open(path, mode)


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


def _separator(opener, default: str, encoding: str) -> str:
    """``default``, unless it does not split the first lines into one same number of columns and
    exactly one other separator does: spreadsheets in many locales save CSV with ``;`` (and
    decimal commas), which read with ``,`` is one column named after the whole header."""
    with io.TextIOWrapper(opener("rb"), encoding=encoding, newline="") as fh:
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


def _check_header(path: Path, opener, sep: str, encoding: str) -> None:
    # pandas silently renames a repeated header to "a.1", so read the raw header ourselves.
    with io.TextIOWrapper(opener("rb"), encoding=encoding, newline="") as fh:
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
