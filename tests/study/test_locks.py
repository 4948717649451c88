"""Named locks and a study's presence on PostgreSQL hold for as long as their holder runs, on a
server that ends idle sessions (as DBAs set it: a retrain holds its lock for its whole length)."""

from __future__ import annotations

import time

import pytest

from automl.study import named_lock
from automl.study._locks import StudyPresence

# A session idle this long, inside a transaction or not, is ended by the server.
IDLE_LIMITS = {"idle_in_transaction_session_timeout": "200ms", "idle_session_timeout": "200ms"}
IDLE_S = 0.8  # a holder sits idle past the limits


@pytest.fixture
def strict_postgres(fresh_postgres):
    with fresh_postgres(IDLE_LIMITS) as url:
        yield url


def test_a_named_lock_is_still_held_after_the_server_ends_idle_sessions(strict_postgres, tmp_path):
    with named_lock(strict_postgres, tmp_path, "retrain-m", wait=False) as held:
        assert held
        time.sleep(IDLE_S)
        with named_lock(strict_postgres, tmp_path, "retrain-m", wait=False) as second:
            assert not second  # another session still cannot take it
    with named_lock(strict_postgres, tmp_path, "retrain-m", wait=False) as after:
        assert after  # and it was released


def test_a_study_presence_is_still_held_after_the_server_ends_idle_sessions(strict_postgres):
    first = StudyPresence(strict_postgres, "st")
    assert first.join(lambda: None)  # alone: nobody else was there
    time.sleep(IDLE_S)
    second = StudyPresence(strict_postgres, "st")
    try:
        assert not second.join(lambda: None)  # the first is still there
    finally:
        second.leave()
        first.leave()
