"""Where a stop (Ctrl-C, SIGTERM) may land.

The CLI's signal handler raises KeyboardInterrupt in the main thread at whatever line it is
running. A few storage calls must not be cut in half: a trial created in Optuna's ``ask`` but not
yet handed back would stay RUNNING, since nobody would know its id to close it. Code that wraps such
a call in :func:`deferred` receives the stop when the call returns instead.
"""

from __future__ import annotations

from contextlib import contextmanager


class _State:
    depth = 0  # how many deferred() blocks the main thread is in
    pending = False  # a stop came inside one: raised when the outermost ends


def interrupt() -> None:
    """Stop now, or when the deferred block the main thread is in ends. For signal handlers."""
    if _State.depth:
        _State.pending = True
        return
    raise KeyboardInterrupt


@contextmanager
def deferred():
    """A stop that comes inside the block is raised when the block ends (for short calls only:
    the stop waits for them)."""
    _State.depth += 1
    try:
        yield
    finally:
        _State.depth -= 1
        if not _State.depth and _State.pending:
            _State.pending = False
            raise KeyboardInterrupt
