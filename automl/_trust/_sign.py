"""Signing the pickles automl writes, and loading a pickle only from bytes whose signature holds.

The key is ``$AUTOML_SIGNING_KEY`` (to share one between hosts), else this user's key file,
made on first use. The file appears whole or not at all (written under a temporary name, then
hard-linked into place: of processes starting at once, the first link wins and every other
process reads that key), and it is refused when it is short, empty, or readable by others, or
when others may write its folder.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import secrets
import stat
import tempfile
from pathlib import Path

from automl._files import write_atomic
from automl.errors import ModelLoadError, SigningKeyError

KEY_ENV = "AUTOML_SIGNING_KEY"
MIN_KEY_CHARS = 32  # a generated key has 64 hex characters: 256 bits
SIGNATURE_SUFFIX = ".sig"
MAX_SIGNATURE_BYTES = 4096
NEW_KEY = "python -c 'import secrets; print(secrets.token_hex(32))'"


def key_path() -> Path:
    """This user's key file: ``$XDG_CONFIG_HOME/automl/signing.key`` (``~/.config`` by default)."""
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "automl" / "signing.key"


def _key() -> bytes:
    env = os.environ.get(KEY_ENV)
    if env is not None:
        key = env.strip()
        if len(key) < MIN_KEY_CHARS:
            raise SigningKeyError(f"{KEY_ENV}: the signing key has {len(key)} characters, at least "
                                  f"{MIN_KEY_CHARS} are needed (make one with {NEW_KEY})")
        return key.encode()
    path = key_path()
    _check_folder(path.parent)
    key = _read_key(path)
    return key if key is not None else _create_key(path)


def _check_folder(folder: Path) -> None:
    """Refuse a key folder that another user owns or may write: whoever can write it can swap
    the key for one they know (or delete it so that a new one is made) and sign their pickle."""
    try:
        info = os.stat(folder)
    except FileNotFoundError:
        return  # made private by _create_key
    except OSError as exc:
        raise SigningKeyError(f"{folder}: cannot read the signing key's folder ({exc.strerror})") from None
    if info.st_uid != os.geteuid():
        raise SigningKeyError(f"{folder}: the signing key's folder belongs to another user (uid {info.st_uid})")
    if info.st_mode & 0o022:
        raise SigningKeyError(f"{folder}: the signing key's folder can be written by others (mode "
                              f"{stat.S_IMODE(info.st_mode):o}); run chmod 700 {folder}")


def _read_key(path: Path) -> bytes | None:
    """The key in ``path``, None if there is no such file; refused unless it is a regular file
    of this user's that nobody else can read or write, holding a key long enough."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SigningKeyError(f"{path}: cannot read the signing key ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as src:
        info = os.fstat(src.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SigningKeyError(f"{path}: the signing key must be a regular file")
        if info.st_uid != os.geteuid():
            raise SigningKeyError(f"{path}: the signing key belongs to another user (uid {info.st_uid})")
        if info.st_mode & 0o077:
            raise SigningKeyError(f"{path}: the signing key can be read or written by others (mode "
                                  f"{stat.S_IMODE(info.st_mode):o}); run chmod 600 {path}")
        key = src.read(MAX_SIGNATURE_BYTES).strip()
    if len(key) < MIN_KEY_CHARS:
        raise SigningKeyError(f"{path}: the signing key has {len(key)} characters, at least "
                              f"{MIN_KEY_CHARS} are needed; delete the file to have a new one made "
                              "(models signed with the old key then need signing again)")
    return key


def _create_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".signing.key.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first: its key is the key
    finally:
        os.unlink(tmp)
    key = _read_key(path)
    if key is None:  # deleted between the link and the read
        raise SigningKeyError(f"{path}: the signing key vanished as it was made; try again")
    return key


def check_key() -> None:
    """Make sure a usable key is there (made now if it is missing): a run refuses a weak key
    before its search, not when it saves the model at the end."""
    _key()


def _mac(digest: str, key: bytes | None = None) -> str:
    return hmac.new(key or _key(), digest.encode(), hashlib.sha256).hexdigest()


def sign(path: Path) -> Path:
    """Write ``<path>.sig``: the file's SHA-256 and its HMAC under this user's key."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    sig = path.with_name(path.name + SIGNATURE_SUFFIX)
    return write_atomic(sig, json.dumps({"sha256": digest, "hmac": _mac(digest)}))


def _claimed(sig: Path, source: str) -> tuple[str, str]:
    refusal = (f"{source}: refused: no valid automl signature next to it ({sig.name}); a pickle "
               "runs code when loaded, pass --trust-model only for a file you trust")
    try:
        with open(sig, "rb") as src:
            claimed = json.loads(src.read(MAX_SIGNATURE_BYTES + 1)[:MAX_SIGNATURE_BYTES])
    except (OSError, ValueError, RecursionError):
        raise ModelLoadError(refusal) from None
    if not (isinstance(claimed, dict) and isinstance(claimed.get("sha256"), str)
            and isinstance(claimed.get("hmac"), str)):
        raise ModelLoadError(refusal)
    return claimed["sha256"], claimed["hmac"]


def load_signed_pickle(path: Path, source: str):
    """Load the pickle at ``path`` if its signature holds, from the very bytes that were checked
    (reading the file twice would let it change between the check and the load)."""
    key = _key()  # a weak key is refused whatever the file
    digest_claimed, mac_claimed = _claimed(path.with_name(path.name + SIGNATURE_SUFFIX), source)
    try:
        with open(path, "rb") as src:
            data = src.read()
    except OSError as exc:
        raise ModelLoadError(f"{source}: cannot read model ({exc.strerror})") from None
    digest = hashlib.sha256(data).hexdigest()
    if not (hmac.compare_digest(digest_claimed, digest) and hmac.compare_digest(mac_claimed, _mac(digest, key))):
        raise ModelLoadError(f"{source}: refused: its signature does not match (changed since automl "
                             "wrote it, or signed with another key; set AUTOML_SIGNING_KEY to share "
                             "one between hosts); pass --trust-model only for a file you trust")
    import joblib

    return joblib.load(io.BytesIO(data))
