"""What automl agrees to load: model files are code until proven otherwise.

Two rules, one per way a model reaches automl:

- **MLflow models** are skops files. skops refuses types it was not told to trust, and MLflow
  tells it the list written in the model's own ``MLmodel`` file, which whoever wrote the store
  controls. automl ignores that list: the types in the file are read first and every one must
  come from the libraries automl builds models from (:data:`TRUSTED_MODULES`), else the model
  is refused.
- **Local files** (``model.joblib``) are pickles, which run code when loaded. automl signs each
  one it writes (an HMAC-SHA256 of the file with a key only this user can read) and loads a
  pickle only when its signature checks out.

``--trust-model`` skips both for a file the user vouches for.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from automl.errors import ModelLoadError

# Modules whose types and functions a model automl wrote may hold.
TRUSTED_MODULES = ("automl", "sklearn", "numpy", "scipy", "lightgbm", "catboost", "pandas")
# Containers and scalars skops lists as untrusted although loading them runs nothing.
TRUSTED_BUILTINS = ("builtins.slice", "builtins.complex", "builtins.bytearray", "builtins.frozenset",
                    "collections.OrderedDict", "collections.defaultdict", "collections.Counter")
SIGNATURE_SUFFIX = ".sig"


def vet_types(types: list[str], source: str) -> list[str]:
    """``types`` (skops' untrusted types of a file) if every one is automl's kind; else refuse."""
    foreign = [t for t in types if t not in TRUSTED_BUILTINS and t.split(".")[0] not in TRUSTED_MODULES]
    if foreign:
        shown = ", ".join(sorted(foreign)[:5]) + (" ..." if len(foreign) > 5 else "")
        raise ModelLoadError(f"{source}: refused: the model holds types automl does not load ({shown}); "
                             "pass --trust-model only for a file you trust")
    return types


def _key() -> bytes:
    """``$AUTOML_SIGNING_KEY``, else this user's key file (created on first use, mode 0600)."""
    env = os.environ.get("AUTOML_SIGNING_KEY")
    if env:
        return env.encode()
    home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "automl"
    path = home / "signing.key"
    if not path.is_file():
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as src:
        for block in iter(lambda: src.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _mac(digest: str) -> str:
    return hmac.new(_key(), digest.encode(), hashlib.sha256).hexdigest()


def sign(path: Path) -> Path:
    """Write ``<path>.sig``: the file's SHA-256 and its HMAC under this user's key."""
    digest = _digest(path)
    sig = path.with_name(path.name + SIGNATURE_SUFFIX)
    tmp = sig.with_name(f".{sig.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"sha256": digest, "hmac": _mac(digest)}))
    os.replace(tmp, sig)
    return sig


def verify(path: Path, source: str) -> None:
    """Refuse a pickle automl did not write (no signature, another key, or changed since)."""
    sig = path.with_name(path.name + SIGNATURE_SUFFIX)
    try:
        claimed = json.loads(sig.read_text())
    except (OSError, ValueError):
        raise ModelLoadError(f"{source}: refused: no valid automl signature next to it ({sig.name}); a "
                             "pickle runs code when loaded, pass --trust-model only for a file you "
                             "trust") from None
    digest = _digest(path)
    if not (hmac.compare_digest(str(claimed.get("sha256")), digest)
            and hmac.compare_digest(str(claimed.get("hmac")), _mac(digest))):
        raise ModelLoadError(f"{source}: refused: its signature does not match (changed since automl "
                             "wrote it, or signed with another key; set AUTOML_SIGNING_KEY to share "
                             "one between hosts); pass --trust-model only for a file you trust")


def load_skops_model(folder: Path):
    """An MLflow model folder's skops file, trusting only the types :func:`vet_types` accepts,
    read from the file itself, whatever the model's own MLmodel file lists; any other format is
    refused. For ``automl predict``, the retrain gate and a model server (``automl._serving``)."""
    import skops.io
    import yaml

    try:
        flavor = yaml.safe_load((folder / "MLmodel").read_text())["flavors"]["sklearn"]
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        raise ModelLoadError("refused: not a scikit-learn model as automl logs them (no sklearn "
                             "flavour in MLmodel)") from None
    if flavor.get("serialization_format") != "skops":
        raise ModelLoadError(f"refused: saved as {flavor.get('serialization_format')!r}, which runs code "
                             "when loaded; automl loads skops models only (--trust-model to override)")
    path = folder / str(flavor.get("pickled_model", "model.skops"))
    if not path.resolve().is_relative_to(folder.resolve()) or not path.is_file():
        raise ModelLoadError("refused: the MLmodel file names a model file outside the model")
    types = vet_types(skops.io.get_untrusted_types(file=path), path.name)
    return skops.io.load(path, trusted=types)
