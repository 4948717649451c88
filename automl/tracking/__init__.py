"""MLflow tracking: one parent run per ``automl run``, a child run per trial, the final model.

The search process only queues small records (no mlflow there): ``_front`` the run's tracker (the
parent run's life, a child run per trial through Optuna's callbacks), ``_pipe`` the pipes to the
writer, ``_records`` what goes through them. A writer process owns the MlflowClient (``_writer``, ``_final``), and ``_models`` reads models back for
the retrain gate and ``automl predict``. mlflow is imported nowhere else in automl.
"""

from ._front import MlflowTracker, NullTracker, open_tracker, resolve_tracking_uri, start_writer_early
from ._pipe import WriterClient, WriterProcess
from ._models import fetch_champion, load_logged_model
from ._records import Artifact, FinalLog, trial_record

__all__ = ["Artifact", "FinalLog", "MlflowTracker", "NullTracker", "WriterClient", "WriterProcess", "fetch_champion",
           "load_logged_model", "open_tracker", "resolve_tracking_uri", "start_writer_early",
           "trial_record"]
