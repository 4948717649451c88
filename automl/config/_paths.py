"""The files and folders a user names, checked before any work.

Every file automl reads because a user named it goes through :func:`input_file` (and text files
through :func:`text_encoding`); every path it will write through :func:`output_file` or
:func:`output_folder`; a storage or tracking URL naming a file through :func:`store_file`. A wrong
path is then one line naming it and what is allowed (exit 2), never a traceback, a read that
waits forever on a FIFO, or a run that fails after its search.

Examples
--------
>>> from automl.config import input_file
>>> from automl.errors import ConfigError
>>> try:
...     input_file("/nonexistent/c.yaml", "config file", "give a YAML file")
... except ConfigError as exc:
...     print(exc)
/nonexistent/c.yaml: config file not found; give a YAML file
"""

from __future__ import annotations

import codecs
import errno
import json
import os
import stat
import tempfile
from pathlib import Path

from automl.errors import ConfigError

from ._model import ExperimentConfig

CHUNK = 1 << 20  # read and decoded at a time
SMALL_FILE = 1 << 20  # at most this much of a config or search space is read
# What a file that is not text most often is, by its first bytes, so the message can say so.
MAGIC = ((b"\x1f\x8b", "a gzip archive"), (b"PK\x03\x04", "a ZIP archive or an .xlsx workbook"),
         (b"SQLite format 3\x00", "an SQLite database"),
         (b"\x7fELF", "a program"), (b"\x28\xb5\x2f\xfd", "a zstd archive"))
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
TEXT = "save it as UTF-8 (or UTF-16 with a BOM) text"
KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
         (stat.S_ISBLK, "a device"))


def _kind(mode: int) -> str:
    return next((name for test, name in KINDS if test(mode)), "not a regular file")


def _lookup(path: Path) -> tuple[os.stat_result | None, str | None]:
    """``path``'s status through its links (None when nothing is there, a dangling link
    included), or what makes it impossible to look up."""
    try:
        return path.stat(), None
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, "is a symbolic link that loops"
        if exc.errno == errno.ENOTDIR:
            return None, "is inside a file, not a folder"
        return None, f"cannot be looked up ({exc.strerror})"


def input_file(path: str | Path, what: str, allowed: str, error: type[Exception] = ConfigError) -> Path:
    """``path`` as a regular file this process can read, or ``error`` naming what it is instead.

    A FIFO or device is refused before it is opened (opening a FIFO with no writer waits for
    one forever); readability is tried with a non-blocking open, as the reader will open it.
    """
    path = Path(path)
    found, problem = _lookup(path)
    if problem:
        raise error(f"{path}: {problem}; {allowed}")
    if found is None:
        dangling = f" (a symbolic link to {os.readlink(path)}, which does not exist)" if path.is_symlink() else ""
        raise error(f"{path}: {what} not found{dangling}; {allowed}")
    if stat.S_ISDIR(found.st_mode):
        raise error(f"{path}: is a folder, not a {what}; {allowed}")
    if not stat.S_ISREG(found.st_mode):
        raise error(f"{path}: is {_kind(found.st_mode)}, not a regular file; {allowed}")
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
    except OSError as exc:
        raise error(f"{path}: cannot read {what} ({exc.strerror}); check its permissions") from None
    return path


def text_encoding(path: Path, error: type[Exception] = ConfigError, opener=None) -> str:
    """The encoding ``path`` is text in: UTF-8, or UTF-8/UTF-16 announced by a byte-order mark.

    The whole file is decoded once, in chunks, so that an archive or a binary named ``.csv``, a
    latin-1 byte or a NUL (UTF-16 without a BOM) is one line naming it and where it is.
    ``opener`` opens the bytes to check (a compressed file's, decompressed); offsets are theirs."""
    with (opener or path.open)("rb") as fh:
        head = fh.read(CHUNK)
        magic = next((name for sig, name in MAGIC if head.startswith(sig)), None)
        if head.startswith(b"PAR1") and _ends_with(fh, b"PAR1"):  # not a CSV column named PAR1...
            magic = "a Parquet file"
        if magic:
            raise error(f"{path}: cannot read (it is {magic}, not text); {TEXT}")
        encoding = next((enc for bom, enc in BOMS if head.startswith(bom)), "utf-8")
        decoder, offset, seen, chunk = codecs.getincrementaldecoder(encoding)("strict"), 0, 0, head
        while True:
            pending = len(decoder.getstate()[0])  # bytes of a character split between chunks
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                label = encoding.upper().removesuffix("-SIG")
                raise error(f"{path}: cannot read (not {label} text: byte 0x{exc.object[exc.start]:02x} "
                            f"at offset {offset - pending + exc.start}); {TEXT}") from None
            if "\x00" in text:
                raise error(f"{path}: cannot read (a NUL at character {seen + text.index(chr(0))}: "
                            f"not text); {TEXT}")
            if not chunk:
                return encoding
            offset, seen, chunk = offset + len(chunk), seen + len(text), fh.read(CHUNK)


def _ends_with(fh, tail: bytes) -> bool:
    at = fh.tell()
    fh.seek(0, os.SEEK_END)
    fh.seek(max(fh.tell() - len(tail), 0))
    found = fh.read(len(tail)) == tail
    fh.seek(at)
    return found


def read_text(path: str | Path, what: str, allowed: str, limit: int = SMALL_FILE,
              error: type[Exception] = ConfigError) -> str:
    """The text of a small file a user wrote (a config, a search space), checked as above."""
    path = input_file(path, what, allowed, error)
    size = path.stat().st_size
    if size > limit:
        raise error(f"{path}: {what} is {size / 1e6:.1f} MB; at most {limit / 1e6:.0f} MB is read ({allowed})")
    return path.read_text(encoding=text_encoding(path, error))


def output_folder(folder: str | Path, what: str, target: Path | None = None) -> Path:
    """``folder``, created if needed, where this process can create files (``target``, the
    file to be written there, is the path named in a refusal); refused before any work otherwise
    (an output path that fails only after the search loses the run)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".automl-check-"):
            pass
    except (FileExistsError, NotADirectoryError) as exc:
        why = f"{exc.filename} is not a folder"
    except OSError as exc:
        why = "a symbolic link that loops" if exc.errno == errno.ELOOP else exc.strerror or exc
    else:
        return folder
    raise ConfigError(f"{what}: cannot write to {target or folder} ({why})")


def output_file(path: str | Path, what: str) -> Path:
    """``path`` as a file automl may write (by renaming a finished temporary file onto it, which
    replaces a link there rather than writing through it): not a folder, FIFO or device, in a
    folder where files can be created."""
    path = Path(path)
    try:
        found = path.stat()
    except OSError:  # nothing there, a dangling link or one that loops: the rename replaces it
        found = None
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise ConfigError(f"{what}: {path} is a folder; give the path of a file to write")
    if found is not None and not stat.S_ISREG(found.st_mode):
        raise ConfigError(f"{what}: {path} is {_kind(found.st_mode)}, not a regular file; "
                          "give the path of a file to write")
    output_folder(path.parent, what, path)
    return path


# Storage URLs that name a file, and how that file's first bytes look.
STORE_SCHEMES = {"sqlite:///": "an SQLite database", "journal://": "an Optuna journal file"}


def store_file(url: str | None, what: str = "storage", must_exist: bool = False) -> None:
    """Refuse a ``sqlite:///`` or ``journal://`` URL whose file is a folder, a FIFO, a dangling or
    looping link, or a file of another kind (SQLite would call it "not a database" only on first
    use; Optuna's journal reader would call it a study mismatch). Nothing is created or written."""
    scheme = next((s for s in STORE_SCHEMES if url and url.startswith(s)), None)
    if scheme is None:
        return
    path, kind = Path(url.removeprefix(scheme)), STORE_SCHEMES[scheme]
    allowed = f"give {kind} or a path where one can be created"
    found, problem = _lookup(path)
    if problem:
        raise ConfigError(f"{what}: {path} {problem}; {allowed}")
    if found is None and path.is_symlink():
        raise ConfigError(f"{what}: {path} is a symbolic link to {os.readlink(path)}, which does not "
                          f"exist; {allowed}")
    if found is None:
        if must_exist:
            raise ConfigError(f"{what}: {path} does not exist; run `automl run` first, or pass "
                              "--storage or --workdir")
        _existing_folder(path.parent, what)
        return
    if not stat.S_ISREG(found.st_mode):
        kind_here = "a folder" if stat.S_ISDIR(found.st_mode) else _kind(found.st_mode)
        raise ConfigError(f"{what}: {path} is {kind_here}, not a file; {allowed}")
    try:
        with path.open("rb") as fh:
            head = fh.read(1 << 16)
    except OSError as exc:
        raise ConfigError(f"{what}: cannot read {path} ({exc.strerror}); check its permissions") from None
    if head and not _looks_like(head, scheme):
        raise ConfigError(f"{what}: {path} is not {kind}; {allowed}")


def _looks_like(head: bytes, scheme: str) -> bool:
    if scheme == "sqlite:///":
        return head.startswith(b"SQLite format 3\x00")
    try:  # one JSON object per line, each an operation on the storage
        return "op_code" in json.loads(head.split(b"\n", 1)[0])
    except (ValueError, TypeError):
        return False


def _existing_folder(folder: Path, what: str) -> None:
    """The nearest existing folder at or above ``folder`` is a folder (it will be created in)."""
    for above in (folder, *folder.parents):
        if above.exists():
            if not above.is_dir():
                raise ConfigError(f"{what}: cannot create {folder} ({above} is not a folder)")
            return


def check_paths(cfg: ExperimentConfig, workdir: Path) -> None:
    """Every path a run will write (the work folder, the summary, the model folder, the storage
    and tracking files), checked before the data is read: a refusal costs nothing."""
    output_folder(workdir, "workdir")
    if cfg.summary_json:
        output_file(cfg.summary_json, "summary_json")
    if cfg.output_dir:
        output_folder(cfg.output_dir, "output_dir")
    store_file(cfg.storage)
    if cfg.tracking and cfg.tracking_uri and cfg.tracking_uri.startswith("sqlite:///"):
        store_file(cfg.tracking_uri, "tracking_uri")
