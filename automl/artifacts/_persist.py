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


def write_text_atomic(path: Path, text: str) -> Path:
    with _atomic(path) as tmp:
        tmp.write_text(text)
    return path


def save_model(pipeline, model_schema: dict[str, Any], folder: Path) -> Path:
    """Write the fitted pipeline (joblib) and its schema next to it; return the model path."""
    import joblib

    path = folder / MODEL_FILE
    with _atomic(path) as tmp:
        joblib.dump(pipeline, tmp)
    write_text_atomic(folder / SCHEMA_FILE, json.dumps(model_schema, indent=2))
    return path
