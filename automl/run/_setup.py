"""Everything before the first trial: data read and split, space loaded, study opened."""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from automl._files import private_folder
from automl._trust import check_key
from automl.artifacts import check_model_folder, model_folder, remove_leftovers
from automl.config import ExperimentConfig, check_paths, mask_url, resolve_workdir
from automl.data import new_salt
from automl.report import Reporter
from automl.scaleout import seconds_to_deadline
from automl.finish import FinishContext
from automl.evaluate import explanation_size, shap_available, shap_size
from automl.plan import Budget, SearchPlan
from automl.search import CVObjective, FoldData, OOFStore, make_runner
from automl.study import default_study_name, default_storage, enqueue_all, join_study, open_study
from automl.trial import attrs, top_costs
from automl.space import SearchSpace, baseline_trials, load_space, portfolio_trials
from automl.split import Prepared, describe_folds, prepare_data
from automl.tracking import WriterProcess, open_tracker, start_writer_early

if TYPE_CHECKING:  # types only
    import optuna

    from automl.retrain import Gate
    from automl.search import FoldRunner
    from automl.study import StudyPresence

@dataclass
class Context:
    """One experiment, set up: data prepared, space loaded, study open."""

    cfg: ExperimentConfig
    reporter: Reporter
    workdir: Path
    prep: Prepared
    space: SearchSpace
    storage: str
    study: optuna.Study
    budget: Budget
    plan: SearchPlan  # the time plan: the search's stopping rule, what the end of the run may take
    gate: Gate | None = None  # when the run is a retrain
    writer: WriterProcess | None = None  # the MLflow writer, started before the data was read
    oof: OOFStore | None = None  # out-of-fold predictions of the best trials, for ensembles
    ensembles: bool = False  # keep them (one process runs every trial, and ensemble_rounds > 0)
    fixed: list = field(default_factory=list)  # configurations to run first, one at a time
    presence: StudyPresence | None = None  # held while this process may run the study's trials (join_study)
    held: ExitStack = field(default_factory=ExitStack)  # released when the run ends (its model folder's lock)
    fitter: FoldRunner | None = None  # the search's fold runner, kept for the final fit (its warm workers)

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc) -> bool:
        try:
            self.held.close()
        finally:
            if self.presence is not None:
                self.presence.leave()
        return False

    @property
    def parent_tags(self) -> dict[str, str]:
        prep = self.prep
        return {"automl.data_fingerprint": prep.data_fingerprint,
                "automl.test_fingerprint": prep.split.test_fingerprint,
                "automl.task": prep.data.task, "automl.metric": prep.metric.name,
                "automl.data": self.cfg.data}

    def fold_jobs(self) -> int:
        """Fold processes: ``n_jobs`` (-1: every core), never more than there are folds."""
        return fold_jobs(self.cfg.n_jobs, len(self.prep.folds))

    def top_costs(self) -> list:
        """The best complete trials so far as the plan counts them (best first)."""
        return top_costs(self.study, self.plan.members)

    def objective(self, tracker, n_jobs: int, plan: SearchPlan | None) -> CVObjective:
        """The objective, with its fold runner (close it with ``objective.runner.close()``)."""
        split = self.prep.split
        data = FoldData(split.X_train, split.y_train, self.prep.folds, keep_predictions=self.ensembles)
        runner = make_runner(data, self.prep.metric, n_jobs, self.cfg.trial_memory_mb, self.prep.data.task)
        if self.ensembles and self.oof is None:
            self.oof = OOFStore(private_folder(self.workdir, "mlruns", "oof") / self.study.study_name,
                                len(split.y_train), self.prep.metric.direction == "maximize")
            self.oof.adopt(self.study)
        if plan is not None:
            seconds_for = lambda trial: plan.trial_seconds(self.top_costs())  # noqa: E731
        else:  # a worker of a shared study: the study's deadline
            timeout = self.cfg.trial_timeout
            seconds_for = lambda trial: seconds_to_deadline(self.study, timeout)  # noqa: E731
        return CVObjective(self.space, data, self.prep.columns, self.prep.metric, self.cfg.seed,
                           runner, on_start=tracker.on_trial_start, on_end=tracker.on_trial_end,
                           seconds_for=seconds_for, clock=self.budget.clock, oof=self.oof)

    def finishing(self) -> FinishContext:
        """What the final steps read of this run (after the search: ``fitter`` is set)."""
        return FinishContext(self.cfg, self.reporter, self.workdir, self.prep, self.study, self.storage, self.budget,
                             self.plan, self.gate, self.oof, self.fitter, self.held)

    def open_tracker(self, parent_run_id: str | None = None, close_parent: bool = True):
        """The run's tracker (use it as a context manager); it takes over the MLflow writer
        started at set-up, so it is opened once."""
        retrain_of = self.gate.model_name if self.gate is not None else None
        writer, self.writer = self.writer, None  # a writer serves one tracker
        return open_tracker(self.cfg, self.workdir, self.study, mask_url(self.storage),
                            self.space.source, self.parent_tags, self.reporter.warn,
                            retrain_of=retrain_of, parent_run_id=parent_run_id,
                            close_parent=close_parent, writer=writer)


def fold_jobs(n_jobs: int, n_folds: int) -> int:
    """Fold processes: ``n_jobs`` (-1: every core), never more than there are folds."""
    cores = os.cpu_count() or 1
    return max(1, min(cores if n_jobs == -1 else n_jobs, n_folds))


def make_plan(cfg: ExperimentConfig, prep: Prepared, budget: Budget, measured_overhead_s: float | None) -> SearchPlan:
    """The run's time plan, from its settings and its data's size (the explanation's passes, and
    SHAP's when it is installed, counted at the model's prediction rate)."""
    split = prep.split
    rows, passes = explanation_size(len(split.X_test), split.X_test.shape[1])
    extra = shap_size(len(split.X_test), split.X_test.shape[1], len(split.X_train)) if shap_available() else None
    return SearchPlan.for_run(budget, len(prep.folds), measured_overhead_s, tracking=cfg.tracking,
                              ensembles=bool(cfg.ensemble_rounds),
                              refit_growth=prep.refit_growth if cfg.refit_full else None,
                              test_rows=len(split.y_test), fold_jobs=fold_jobs(cfg.n_jobs, len(prep.folds)),
                              explain_passes=(passes, rows, extra))


def setup(cfg: ExperimentConfig, reporter: Reporter, gate=None, heartbeat: bool = False,
          parallel: bool = False, budget: Budget | None = None) -> Context:
    """Data, space and study: everything before the first trial."""
    budget = budget or Budget(cfg.timeout, cfg.trial_timeout)
    workdir = resolve_workdir(cfg)
    check_paths(cfg, workdir)
    writer = start_writer_early(cfg, workdir)
    try:
        return _setup(cfg, reporter, gate, heartbeat, parallel, budget, workdir, writer)
    except BaseException:
        if writer is not None:
            writer.abandon()
        raise


def _setup(cfg, reporter, gate, heartbeat, parallel, budget, workdir, writer) -> Context:
    check_key()  # the model is signed at the end: a weak or unreadable key fails now
    prep = prepare_data(cfg, reporter.warn, gate.salt() if gate is not None else new_salt(),
                        gate.unseen if gate is not None else None)
    data, split = prep.data, prep.split
    if gate is not None:
        gate.check_data(data, split)  # refuses (exit 3) before any search
    space = load_space(cfg.space, data.task)
    storage = cfg.storage or default_storage(workdir, parallel=parallel or cfg.workers > 1)
    study_name = cfg.study_name or default_study_name(data.name, str(data.y.name))
    if gate is not None:
        study_name = gate.study_name(study_name, prep.data_fingerprint)
    # Scores from another space (Optuna refuses changed choices) or fold count are not comparable.
    guards = {"metric": prep.metric.name, "task": data.task, "data_fingerprint": prep.data_fingerprint,
              "test_fingerprint": split.test_fingerprint, "space_digest": space.digest,
              "cv": str(len(prep.folds))}
    heartbeat_cfg = (cfg.heartbeat_interval, cfg.grace_period) if heartbeat else None
    study = open_study(storage, study_name, prep.metric.direction, cfg.seed, cfg.pruner, guards,
                       heartbeat=heartbeat_cfg, sampler=cfg.sampler,
                       fork=cfg.study_name is None and gate is None, note=reporter.info)
    study_name = study.study_name
    reporter.info(f"{study_name}: {data.task} on {data.name} "
                  f"({len(split.y_train)} train / {len(split.y_test)} test rows, "
                  f"{describe_folds(len(prep.folds))}), "
                  f"metric {prep.metric.name}; storage {mask_url(storage)}; output {workdir / 'mlruns'}")
    # A link where the end of the run writes is refused now, not after the search.
    out_dir = check_model_folder(model_folder(cfg, workdir, study.study_name, create=False))
    # Workers share a budget: a dead worker's trial is retried whoever finds it.
    presence, stale = join_study(storage, study, also=lambda: remove_leftovers(out_dir), retry=heartbeat)
    if stale:
        again = " and queued once more" if heartbeat else ""
        reporter.info(f"{stale} trial(s) left RUNNING by a process that died were marked FAIL{again}")
    ctx = Context(cfg, reporter, workdir, prep, space, storage, study, budget,
                  make_plan(cfg, prep, budget, attrs.final_overhead(study)), gate, writer, presence=presence)
    try:
        return _first_trials(ctx, parallel)
    except BaseException:
        presence.leave()
        raise


def _first_trials(ctx: Context, parallel: bool) -> Context:
    """Warm start (a retrain), the configurations to run first, and whether to keep ensembles."""
    cfg, study, space = ctx.cfg, ctx.study, ctx.space
    fresh = not study.get_trials(deepcopy=False)
    if ctx.gate is not None:
        queued = ctx.gate.prepare_study(study, space)
        ctx.reporter.info(f"warm start: {queued} trials from the champion and its study enqueued")
    # Cheap, strong configurations first (a model even when the budget is tiny), then the space's
    # portfolio of configurations known to be strong (those a resumed study has not run), then TPE.
    fixed = (baseline_trials(space) if fresh else []) + portfolio_trials(space)
    if parallel or cfg.workers > 1:  # workers claim trials from the storage: put them all there
        if fresh:
            enqueue_all(study, fixed)
        fixed = []
    ctx.ensembles = cfg.ensemble_rounds > 0 and cfg.workers == 1 and not parallel
    ctx.fixed = fixed
    return ctx
