"""Files under the work folder, written so that a link planted there is never followed.

Every file automl writes under ``<workdir>/mlruns`` (and in a model folder) goes through these:

- :func:`private_folder` makes or checks each folder from a root down: a real folder (not a
  symbolic link), this user's, that not every user may write into; new ones are made 0700. In
  such a folder nobody else can put a link in place of a name after the check.
- :func:`write_atomic` and :func:`atomic_path`: a new file under a unique name (``O_EXCL``, mode
  0600), renamed over the old name: a link found at the name is replaced, never written through,
  and a crash never leaves half a file where a reader expects one.
- :func:`private_file` (a lock file, opened with ``O_NOFOLLOW``) and :func:`ensure_file` (a
  database its library opens by name, checked with ``lstat``), mode 0600, refused unless a plain
  file of this user; :func:`new_file`, a log made afresh.
- :class:`FileLock`: an exclusive lock on such a file; the operating system ends it with the process.

A refusal is a :class:`~automl.errors.ConfigError` that names the path (exit 2).
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from automl.errors import ConfigError


def _refuse(path: Path, what: str) -> ConfigError:
    return ConfigError(f"{path}: refused: {what}; automl writes only into plain files and folders "
                       "of its own, never through a link (remove it, or choose another --workdir)")


def _check(path: Path, info: os.stat_result, folder: bool) -> None:
    if stat.S_ISLNK(info.st_mode):
        raise _refuse(path, "a symbolic link")
    if folder and not stat.S_ISDIR(info.st_mode):
        raise _refuse(path, "not a folder")
    if not folder and not stat.S_ISREG(info.st_mode):
        raise _refuse(path, "not a plain file")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise _refuse(path, f"owned by another user (uid {info.st_uid})")
    if folder and info.st_mode & stat.S_IWOTH:
        raise _refuse(path, "every user may write into it")
    if not folder and info.st_nlink > 1:  # a hard link: writing in place would change another file
        raise _refuse(path, "a file with other names (hard links)")


def private_folder(root: Path, *parts: str, create: bool = True) -> Path:
    """``root/part/...``, each folder below ``root`` checked (see the module) and, with
    ``create``, made (mode 0700) where missing. ``root`` is the caller's choice (the work folder,
    an output folder) and is only made if missing. Without ``create``, checks what exists."""
    folder = Path(root)
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    for i, part in enumerate(parts):
        if part in ("", ".", "..") or "/" in part or os.sep in part or "\0" in part:
            raise ConfigError(f"{folder}: refused: {part!r} is not a plain folder name")
        folder = folder / part
        if create:
            try:
                os.mkdir(folder, 0o700)
            except FileExistsError:
                pass
        try:
            _check(folder, os.lstat(folder), folder=True)
        except NotADirectoryError:  # something above it is a file: name that one
            above = next(p for p in folder.parents if os.path.lexists(p))
            named = Path(root) if Path(root) != above else folder
            raise _refuse(named, f"not a folder ({above} is a file)") from None
        except FileNotFoundError:
            if create:
                raise
            return folder.joinpath(*parts[i + 1:])  # nothing further down exists to check
    return folder


def private_file(path: Path) -> int:
    """Open ``path`` to read and write (made, mode 0600, if missing) without following a link, in
    a folder :func:`private_folder` checked (for a lock: never a SQLite file, see
    :func:`ensure_file`); refuse anything but a plain file of this user. Returns the descriptor
    (the caller closes it)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _refuse(path, "a symbolic link") from None
        if exc.errno == errno.EISDIR:
            raise _refuse(path, "not a plain file") from None
        raise
    try:
        _check(path, os.fstat(fd), folder=False)
    except ConfigError:
        os.close(fd)
        raise
    return fd


def ensure_file(path: Path, create: bool = True) -> Path:
    """Make ``path`` a private file if missing (a database its library then opens by name), or
    check the one there (without ``create``, only that); return it. A file that exists is
    checked with ``lstat``, never opened: closing any descriptor of a SQLite file drops the
    locks this process's connections hold on it."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        if not create:
            return path
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            os.close(os.open(path, flags, 0o600))
            return path
        except FileExistsError:  # made meanwhile by another process
            info = os.lstat(path)
    _check(path, info, folder=False)
    return path


def new_file(path: Path, mode: str = "w"):
    """``path`` afresh, open for writing (a log): whatever was there (a link too) is removed first."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    return os.fdopen(fd, mode)


@contextmanager
def atomic_path(path: Path):
    """Yield a new private file's path next to ``path`` (for a writer that takes a path); rename
    it over ``path`` if the block succeeds, else remove it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through :func:`atomic_path`; return ``path``."""
    with atomic_path(path) as tmp:
        if isinstance(data, str):
            tmp.write_text(data)
        else:
            tmp.write_bytes(data)
    return path


class FileLock:
    """An exclusive ``flock`` on a private file (:func:`private_file`), among processes of one
    host. Not re-entrant: one holder per process and path."""

    POLL_S = 0.05

    def __init__(self, path: Path, timeout: float | None = None):
        self.path, self.timeout, self.fd = path, timeout, None

    def acquire(self, wait: bool = True) -> bool:
        """Take the lock: wait for it (up to ``timeout``, then ``TimeoutError``), or with
        ``wait=False`` return False at once if another process holds it."""
        fd = private_file(self.path)
        try:
            taken = self._take(fd, wait)
        except BaseException:
            os.close(fd)
            raise
        if not taken:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def _take(self, fd: int, wait: bool) -> bool:
        import fcntl

        if wait and self.timeout is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return True
        deadline = time.monotonic() + (self.timeout or 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if not wait:
                    return False
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.path}: held by another process for "
                                       f"{self.timeout:.0f} s") from None
                time.sleep(self.POLL_S)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the file ends its lock
            self.fd = None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> bool:
        self.release()
        return False
