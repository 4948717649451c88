"""A stop (Ctrl-C, SIGTERM) wherever it lands prints one line, not a library's traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# A stop that lands while SQLAlchemy hands a connection back to its pool (its "reset" event):
# the pool catches the KeyboardInterrupt, logs it with its traceback, and re-raises it.
_STOP_IN_POOL_RESET = textwrap.dedent("""
    import signal, sqlalchemy
    from sqlalchemy import event
    from automl import cli

    cli._Stop.debug = {debug}
    cli._stop_on_signals()
    engine = sqlalchemy.create_engine("sqlite:///{db}")

    @event.listens_for(engine, "reset")
    def stop_now(dbapi_connection, record, reset_state):
        signal.raise_signal(signal.SIGINT)

    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("select 1")
    except KeyboardInterrupt:
        print("stopped", flush=True)
""")


@pytest.mark.parametrize("debug", [False, True])
def test_a_stop_inside_sqlalchemy_s_pool_prints_no_traceback_unless_debug(tmp_path, debug):
    code = _STOP_IN_POOL_RESET.format(debug=debug, db=tmp_path / "s.db")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["stopped"], done.stderr
    assert ("Traceback" in done.stderr) is debug, done.stderr
