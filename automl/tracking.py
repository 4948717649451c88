"""MLflow tracking (placeholder interface while the writer is built)."""

from __future__ import annotations


class NullTracker:
    """Tracking turned off: every hook does nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def on_trial_start(self, trial) -> None:
        pass

    def on_trial(self, study, trial) -> None:
        pass

    def flush(self) -> None:
        pass

    def log_model(self, *args, **kwargs) -> dict:
        return {}

    def log_summary(self, summary) -> None:
        pass


def open_tracker(cfg, workdir, study_name, storage, space_source, prep):
    return NullTracker()
