"""The search process's end of the writer process: start it, send requests down one pipe, read
replies from the other, and notice when it is gone. No MLflow here, and no run logic: the
tracker (``_front.py``) decides what to send and what a reply means."""

from __future__ import annotations

import subprocess
import time
from typing import Callable

from automl.errors import TrackingError, WriterGoneError

from ._writer import start_writer


class WriterProcess:
    """A started writer process and its pipes; it opens the store from the moment it starts."""

    def __init__(self, uri: str):
        self.proc, self.send, self.recv = start_writer()
        try:
            self.send.send(("open", uri))
        except OSError:  # killed as it started: the tracker's first request says so, in one line
            pass

    def abandon(self) -> None:
        """The run never began (e.g. bad data): let the writer go."""
        _let_go(self.send, self.proc, 10)


class WriterClient:
    """Requests to a :class:`WriterProcess` and its replies, each handed to ``on_reply`` (which
    may raise: a fatal reply ends the run)."""

    def __init__(self, writer: WriterProcess, on_reply: Callable[[tuple], None]):
        self.proc, self._send, self._recv, self._on_reply = writer.proc, writer.send, writer.recv, on_reply

    def gone(self) -> bool:
        return self.proc.poll() is not None

    def post(self, msg) -> None:
        """Send to the writer; if it is gone, say why (its last reply) in one line."""
        try:
            self._send.send(msg)
        except OSError:  # BrokenPipeError: the writer exited
            try:
                self.drain()
            except WriterGoneError:
                pass  # no last word; any other error is the writer's reason for stopping
            raise WriterGoneError() from None

    def drain(self) -> None:
        """Handle every reply already waiting, without blocking."""
        try:
            while self._recv.poll(0):
                self._on_reply(self._recv.recv())
        except (EOFError, OSError):  # the writer is gone: the pipe says EOF
            raise WriterGoneError() from None

    def wait_for(self, kind: str, timeout: float) -> tuple:
        """Handle replies until one of ``kind`` arrives, and return it."""
        deadline = time.monotonic() + timeout
        while True:
            if not self._recv.poll(0.5):
                if self.gone():
                    raise WriterGoneError()
                if time.monotonic() > deadline:
                    raise TrackingError(f"MLflow did not answer within {timeout:.0f} s")
                continue
            try:
                msg = self._recv.recv()
            except EOFError:
                raise WriterGoneError() from None
            self._on_reply(msg)
            if msg[0] == kind:
                return msg

    def send_raw(self, msg) -> None:
        """Send without the gone-writer handling (closing: the caller handles OSError)."""
        self._send.send(msg)

    def release(self) -> None:
        """Close the pipe and wait for the writer to exit (killed if it does not within 30 s)."""
        _let_go(self._send, self.proc, 30)


def _let_go(send, proc: subprocess.Popen, seconds: float) -> None:
    """Close the request pipe (the writer ends what is open and exits) and wait for it, killed
    past ``seconds``."""
    send.close()
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()


def end_runs_directly(uri: str, experiment: str, parent: str, status: str) -> None:
    """The writer is gone (killed alone, crashed): end from here the runs it left RUNNING, the
    parent and its children, so nothing stays RUNNING. Best effort: the error that brought us
    here is the one to report."""
    try:
        from ._store import literal, open_store

        client = open_store(uri, set_globals=False)
        children = client.search_runs([experiment], max_results=10000,
                                      filter_string=f"tags.`mlflow.parentRunId` = {literal(parent)} "
                                                    "AND attributes.status = 'RUNNING'")
        for run in children:
            client.set_terminated(run.info.run_id, status)
        client.set_terminated(parent, status)
    except Exception:  # noqa: BLE001 - nothing more to do without a store
        pass
