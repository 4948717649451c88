"""Files on disk, written so that a crash never leaves half a file where one is expected.

Each file is written under a unique temporary name in its folder and renamed into place: two runs
writing the same file never share a temporary file, and a reader sees the old or the new file.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any

MODEL_FILE = "model.joblib"
SCHEMA_FILE = "schema.json"


@contextmanager
def _atomic(path: Path):
    """Yield a temporary path next to ``path``; rename it into place if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_leftovers(folder: Path) -> int:
    """Delete the temporary files a killed process left in ``folder`` (writes it never renamed
    into place); call only when no live process can be writing there. Returns how many."""
    if not folder.is_dir():
        return 0
    left = [p for pattern in (".*.tmp", ".automl-check-*") for p in folder.rglob(pattern) if p.is_file()]
    for path in left:
        path.unlink(missing_ok=True)
    return len(left)


def write_text_atomic(path: Path, text: str) -> Path:
    with _atomic(path) as tmp:
        tmp.write_text(text)
    return path


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    with _atomic(path) as tmp:
        tmp.write_bytes(data)
    return path


# What a run writes into its model folder; a later run of the study moves them aside first.
RUN_FILES = (MODEL_FILE, MODEL_FILE + ".sig", SCHEMA_FILE, "leaderboard.csv", "model_card.md", "report.html", "plots")


def keep_previous(folder: Path) -> Path | None:
    """Move an earlier run's files out of ``folder`` into ``folder/previous/<time of its
    model>/`` so that a resumed study does not overwrite them; return where, or None."""
    import time

    model = folder / MODEL_FILE
    if not model.is_file():
        return None
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(model.stat().st_mtime))
    dest = folder / "previous" / stamp
    n = 1
    while dest.exists():
        n += 1
        dest = folder / "previous" / f"{stamp}-{n}"
    dest.mkdir(parents=True)
    for name in RUN_FILES:
        if (folder / name).exists():
            os.replace(folder / name, dest / name)
    return dest


def save_model(pipeline, model_schema: dict[str, Any], folder: Path) -> Path:
    """Write the fitted pipeline (joblib) and its schema next to it; return the model path."""
    import joblib

    from automl._trust import sign

    path = folder / MODEL_FILE
    with _atomic(path) as tmp:
        joblib.dump(pipeline, tmp)
    sign(path)  # automl predict loads this pickle only with a valid signature
    write_text_atomic(folder / SCHEMA_FILE, json.dumps(model_schema, indent=2))
    return path
