"""Heartbeats of a running trial on RDB storages, so a dead worker's trial is noticed."""

from __future__ import annotations

import threading


def heartbeat_enabled(storage) -> bool:
    check = getattr(storage, "is_heartbeat_enabled", None)  # RDBStorage's heartbeat interface
    return bool(check and check())


class Heartbeat:
    """Record a trial's heartbeat on RDB storages while it runs (Optuna only does this inside
    ``Study.optimize``; workers use ask/tell so the claim lock can guard ``ask``)."""

    def __init__(self, study, trial):
        storage = study._storage
        self.enabled = heartbeat_enabled(storage)
        self.storage, self.trial_id = storage, trial._trial_id
        self._stop = threading.Event()

    def __enter__(self):
        if self.enabled:
            self.storage.record_heartbeat(self.trial_id)
            interval = self.storage.get_heartbeat_interval()
            self._thread = threading.Thread(target=self._beat, args=(interval,), daemon=True)
            self._thread.start()
        return self

    def _beat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.storage.record_heartbeat(self.trial_id)
            except Exception:  # a blip in the database: beat again next interval
                continue

    def __exit__(self, *exc):
        self._stop.set()
        return False
