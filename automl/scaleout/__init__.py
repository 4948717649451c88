"""Many workers on one study: claiming trials under a lock (an exact global budget), heartbeats,
stale trials retried, the shared config, and spawning local workers.

``automl.run`` uses these for ``automl run --workers N``, ``automl worker`` and ``automl finalize``.
"""

from ._claim import IDLE_POLL_S, budget_used, claim_lock, fail_stale, host_id, next_trial
from ._heartbeat import Heartbeat, heartbeat_enabled
from ._loop import work
from ._shared import config_from_study, init_budget, seconds_to_deadline, shareable_config
from ._spawn import refuse_sqlite, spawn_workers, wait_workers

__all__ = ["IDLE_POLL_S", "Heartbeat", "budget_used", "claim_lock", "config_from_study",
           "fail_stale", "heartbeat_enabled", "host_id", "init_budget", "next_trial",
           "refuse_sqlite", "seconds_to_deadline", "shareable_config", "spawn_workers",
           "wait_workers", "work"]
