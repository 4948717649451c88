"""Where a stop (Ctrl-C, SIGTERM) may land.

The CLI's signal handler raises KeyboardInterrupt in the main thread at whatever line it is
running. A few storage calls must not be cut in half: a trial created in Optuna's ``ask`` but not
yet handed back would stay RUNNING, since nobody would know its id to close it. Code that wraps such
a call in :func:`deferred` receives the stop when the call returns instead.

Before the command has put its handler in place (importing it takes a moment),
:func:`stop_before_start` makes a stop a clean exit 130: nothing is open yet.
"""

from __future__ import annotations

import os
import signal
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


def _exit_before_start(signum, frame) -> None:
    os.write(2, b"interrupted: stopped before the command began; nothing was started\n")
    os._exit(130)


def stop_before_start() -> None:
    """From the process's first lines until the command puts its own handlers in place (nothing
    is open before that): Ctrl-C or SIGTERM exits 130 with one line, not a traceback from an
    import (Ctrl-C) or a death by signal (SIGTERM, exit -15)."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _exit_before_start)


def quiet_pool_debris() -> None:
    """Once stopped: a stop that lands while SQLAlchemy returns a connection to its pool makes
    the pool log "Exception during reset or similar" with the KeyboardInterrupt's traceback.
    That connection is the stop's own debris (the command closes what is open): not shown."""
    import logging

    logging.getLogger("sqlalchemy.pool").setLevel(logging.CRITICAL + 1)
