"""Orchestration: config -> data -> split -> space -> objective -> study -> tracking -> refit/test.

This is the one module that sees every step; each step lives in its own module.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl.config import ExperimentConfig, resolve_workdir
from automl.data import Dataset, align_test_frame, fingerprint, prepare, read_table
from automl.metrics import Metric, get_metric
from automl.report import Reporter
from automl.split import Split, cv_folds, given_test, holdout


@dataclass
class Prepared:
    """The data side of an experiment, ready to search."""

    data: Dataset
    split: Split
    folds: list[tuple]
    metric: Metric
    data_fingerprint: str
    test_rows_dropped: int = 0


def default_study_name(cfg: ExperimentConfig, data_name: str, target: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{data_name}-{target}")


def prepare_data(cfg: ExperimentConfig, reporter: Reporter) -> Prepared:
    """Read and check the data, lock away the test rows, materialise the CV folds."""
    frame, name = read_table(cfg.data)
    data = prepare(frame, cfg.target, cfg.task, cfg.data, cfg.group_column, cfg.time_column)
    data.name = name
    for col, why in data.dropped_columns.items():
        reporter.warn(f"dropped column {col!r}: {why}")
    if data.rows_dropped:
        reporter.warn(f"dropped {data.rows_dropped} rows with a missing target")
    time_ordered = cfg.time_column is not None
    test_dropped = 0
    if cfg.test_data:
        test_frame, _ = read_table(cfg.test_data)
        X_test, y_test, test_dropped = align_test_frame(test_frame, data, str(data.y.name), cfg.test_data)
        split = given_test(data, X_test, y_test)
    else:
        split = holdout(data, cfg.test_size, cfg.seed, time_ordered)
    folds = cv_folds(split, data.task, cfg.cv, cfg.seed, time_ordered)
    metric = get_metric(data.task, cfg.metric)
    return Prepared(data, split, folds, metric, fingerprint(split.X_train, split.y_train), test_dropped)


def fold_jobs(cfg: ExperimentConfig) -> int:
    cores = os.cpu_count() or 1
    wanted = cores if cfg.n_jobs == -1 else cfg.n_jobs
    return max(1, min(wanted, cfg.cv))


@dataclass
class Context:
    """One experiment, set up: data prepared, space loaded, study open."""

    cfg: ExperimentConfig
    reporter: Reporter
    workdir: Path
    prep: Prepared
    space: Any
    storage: str
    study: Any
    started: float

    @property
    def parent_tags(self) -> dict[str, str]:
        prep = self.prep
        return {"automl.data_fingerprint": prep.data_fingerprint,
                "automl.test_fingerprint": prep.split.test_fingerprint,
                "automl.task": prep.data.task, "automl.metric": prep.metric.name,
                "automl.data": self.cfg.data}

    def objective(self, on_start, n_jobs: int):
        from automl.objective import CVObjective

        data, split = self.prep.data, self.prep.split
        columns = (data.numeric, data.categorical, data.datetime)
        return CVObjective(self.space, split.X_train, split.y_train, self.prep.folds, columns,
                           self.prep.metric, self.cfg.seed, n_jobs, on_start=on_start)

    def tracker(self, gate=None, parent_run_id: str | None = None, close_parent: bool = True):
        from automl.study import mask_url
        from automl.tracking import open_tracker

        return open_tracker(self.cfg, self.workdir, self.study.study_name, mask_url(self.storage),
                            self.space.source, self.parent_tags, self.reporter.warn,
                            retrain_of=gate.model_name if gate is not None else None,
                            parent_run_id=parent_run_id, close_parent=close_parent)


def setup(cfg: ExperimentConfig, reporter: Reporter, gate=None, heartbeat: bool = False,
          parallel: bool = False) -> Context:
    """Data, space and study: everything before the first trial."""
    from automl.space import load_space
    from automl.study import default_storage, mask_url, open_study

    started = time.perf_counter()
    workdir = resolve_workdir(cfg)
    prep = prepare_data(cfg, reporter)
    data, split = prep.data, prep.split
    if gate is not None:
        gate.check_data(data, split)  # refuses (exit 3) before any search
    space = load_space(cfg.space, data.task)
    storage = cfg.storage or default_storage(workdir, parallel=parallel or cfg.workers > 1)
    study_name = cfg.study_name or default_study_name(cfg, data.name, str(data.y.name))
    if gate is not None:
        study_name = gate.study_name(study_name, prep.data_fingerprint)
    reporter.info(f"[bold]{study_name}[/bold]: {data.task} on {data.name} "
                  f"({len(split.y_train)} train / {len(split.y_test)} test rows, {cfg.cv}-fold CV), "
                  f"metric {prep.metric.name}; storage {mask_url(storage)}; output {workdir / 'mlruns'}")
    # Scores from another space (Optuna refuses changed choices) or fold count are not comparable.
    guards = {"metric": prep.metric.name, "task": data.task, "data_fingerprint": prep.data_fingerprint,
              "test_fingerprint": split.test_fingerprint, "space_digest": space.digest,
              "cv": str(cfg.cv)}
    heartbeat_cfg = (cfg.heartbeat_interval, cfg.grace_period) if heartbeat else None
    study = open_study(storage, study_name, prep.metric.direction, cfg.seed, cfg.pruner, guards,
                       heartbeat=heartbeat_cfg)
    if gate is not None:
        queued = gate.prepare_study(study, space)
        reporter.info(f"warm start: {queued} trials from the champion and its study enqueued")
    return Context(cfg, reporter, workdir, prep, space, storage, study, started)


def run_experiment(cfg: ExperimentConfig, reporter: Reporter | None = None,
                   gate=None) -> dict[str, Any]:
    """Run the whole experiment and return the summary (also written to ``summary_json``).

    ``gate`` (an :class:`automl.retrain.Gate`) turns the run into a retrain: data checked against
    the champion, warm start, and the champion alias moved only for a better challenger.
    With ``cfg.workers > 1`` the trials run in that many worker processes sharing the study.

    Examples
    --------
    >>> from automl.config import ExperimentConfig
    >>> summary = run_experiment(ExperimentConfig(data="demo:iris", space="fast.yaml",
    ...                                           n_trials=3, quiet=True))  # doctest: +SKIP
    >>> summary["task"]  # doctest: +SKIP
    'multiclass'
    """
    from automl.study import run_study

    reporter = reporter or Reporter(cfg.quiet)
    if cfg.workers > 1:
        from automl.workers import run_parallel

        return run_parallel(cfg, reporter)
    ctx = setup(cfg, reporter, gate)
    tracker = ctx.tracker(gate)
    objective = ctx.objective(tracker.on_trial_start, fold_jobs(cfg))
    with tracker:
        reporter.start_search(cfg.n_trials)
        try:
            run_study(ctx.study, objective, cfg.n_trials, cfg.timeout,
                      [tracker.on_trial, reporter.on_trial])
        finally:
            reporter.end_search()
        summary = conclude(ctx, tracker, gate)
    return report(ctx, summary)


def conclude(ctx: Context, tracker, gate=None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """After the search: refit the best trial, test it once, log it; the summary."""
    from automl.study import best_trial

    tracker.flush()
    summary = finish(ctx.cfg, ctx.study, best_trial(ctx.study), ctx.prep, ctx.workdir, tracker,
                     ctx.storage, gate)
    summary.update(extra or {})
    summary["elapsed_s"] = round(time.perf_counter() - ctx.started, 3)
    tracker.log_summary(summary)
    return summary


def report(ctx: Context, summary: dict[str, Any]) -> dict[str, Any]:
    """Write the summary JSON and print the leaderboard and test metrics."""
    from automl.refit import leaderboard

    cfg = ctx.cfg
    if cfg.summary_json:
        Path(cfg.summary_json).parent.mkdir(parents=True, exist_ok=True)
        Path(cfg.summary_json).write_text(json.dumps(summary, indent=2, default=str))
    ctx.reporter.final(summary, leaderboard(ctx.study, limit=10))
    return summary


def finish(cfg: ExperimentConfig, study, trial, prep: Prepared, workdir: Path, tracker,
           storage: str, gate=None) -> dict[str, Any]:
    """Refit the best trial, test it once, save and log it; build the summary."""
    from automl.objective import TrialSpec
    from automl.refit import leaderboard, refit, save_model, schema, test_once
    from automl.study import count_states, mask_url

    data, split = prep.data, prep.split
    pipeline = refit(trial, data, split, cfg.seed)
    test_metrics, predictions = test_once(pipeline, split, data.task)
    model_schema = schema(data, split)
    out_dir = Path(cfg.output_dir) if cfg.output_dir else workdir / "mlruns" / "models" / study.study_name
    model_path = save_model(pipeline, model_schema, out_dir)
    board = leaderboard(study)
    board.to_csv(out_dir / "leaderboard.csv", index=False)
    plots = make_plots(study, split.y_test, predictions, data.task, out_dir / "plots")
    metrics = {f"test_{k}": v for k, v in test_metrics.items()}
    metrics[f"best_cv_{prep.metric.name}"] = trial.value
    version_tags = {"study_name": study.study_name, "best_trial": trial.number,
                    f"cv_{prep.metric.name}": trial.value, **metrics}
    decision = gate.decide(split, prep.metric, test_metrics) if gate is not None else None
    texts = {}
    if decision is not None:
        version_tags.update({f"automl.{k}": decision[k] for k in ("decision", "reason",
                             "challenger_score", "champion_score", "champion_version")})
        metrics.update({f"drift_psi_{c}": v for c, v in decision["drift"].items()})
        texts["drift.json"] = json.dumps(decision["drift"], indent=2)
    logged = tracker.log_model(
        pipeline=pipeline, input_example=split.X_train.head(5), schema=model_schema,
        metrics=metrics, leaderboard_csv=board.to_csv(index=False), plots=[str(p) for p in plots],
        best_run_id=trial.user_attrs.get("mlflow_run_id"), register_name=cfg.register_model,
        version_tags=version_tags, texts=texts,
        alias="champion" if decision is not None and decision["promote"] else None)
    best_params = TrialSpec.from_trial(trial).flat_params()
    return {
        "study_name": study.study_name, "task": data.task, "metric": prep.metric.name,
        "direction": prep.metric.direction, "best_trial": trial.number, "best_params": best_params,
        "best_cv_score": trial.value, "best_cv_std": trial.user_attrs.get("cv_std"),
        "test_metrics": test_metrics, "n_trials": count_states(study),
        "rows_dropped": data.rows_dropped + prep.test_rows_dropped,
        "dropped_columns": data.dropped_columns, "train_rows": int(len(split.y_train)),
        "test_rows": int(len(split.y_test)), "test_fingerprint": split.test_fingerprint,
        "data_fingerprint": prep.data_fingerprint, "data": cfg.data, "seed": cfg.seed,
        "storage": mask_url(storage), "model_path": str(model_path),
        "plots": [str(p) for p in plots], **logged,
        **({k: v for k, v in decision.items() if k != "promote"} if decision is not None else {}),
    }


def make_plots(study, y_test, predictions, task: str, folder: Path) -> list[Path]:
    """Search history, parameter importances and test diagnostics as PNG files."""
    from automl import plots

    folder.mkdir(parents=True, exist_ok=True)
    paths = [plots.optimization_history(study, folder / "optimization_history.png"),
             plots.param_importances(study, folder / "param_importances.png")]
    if task == "regression":
        paths += plots.regression_plots(y_test, predictions.labels, folder)
    else:
        paths += plots.classification_plots(y_test, predictions.labels, predictions.scores,
                                            list(predictions.classes), folder)
    return [p for p in paths if p is not None]
