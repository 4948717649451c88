"""``automl run``: set up, search, then the final steps."""

from __future__ import annotations

from typing import Any

from automl.plan import Budget
from automl.finish import conclude, report
from automl.config import ExperimentConfig
from automl.report import Reporter
from automl.study import run_study

from ._parallel import run_parallel
from ._setup import setup


def run_experiment(cfg: ExperimentConfig, reporter: Reporter | None = None,
                   gate=None, budget: Budget | None = None) -> dict[str, Any]:
    """Run the whole experiment and return the summary (also written to ``summary_json``).

    ``gate`` (an :class:`automl.retrain.Gate`) turns the run into a retrain: data checked against
    the champion, warm start, and the champion alias moved only for a better challenger.
    With ``cfg.workers > 1`` the trials run in that many worker processes sharing the study.
    ``budget`` counts ``cfg.timeout`` from its start (the CLI starts it when the process started;
    by default it starts now).

    Examples
    --------
    >>> from automl.config import ExperimentConfig
    >>> summary = run_experiment(ExperimentConfig(data="demo:iris", space="fast.yaml",
    ...                                           n_trials=3, quiet=True))  # doctest: +SKIP
    >>> summary["task"]  # doctest: +SKIP
    'multiclass'
    """
    reporter = reporter or Reporter(cfg.quiet)
    if cfg.workers > 1:
        return run_parallel(cfg, reporter)
    with setup(cfg, reporter, gate, budget=budget) as ctx:
        tracker, plan = ctx.open_tracker(), ctx.plan
        with tracker:
            objective = ctx.objective(tracker, ctx.fold_jobs(), plan)
            ctx.budget.mark("setup")
            reporter.start_search(cfg.n_trials, ctx.budget.total, ctx.budget.elapsed())
            try:
                try:
                    if plan.should_stop(ctx.top_costs()):
                        raise plan.too_small(ctx.top_costs())
                    run_study(ctx.study, objective, cfg.n_trials, lambda: plan.should_stop(ctx.top_costs()),
                              [tracker.on_trial, reporter.on_trial], ctx.fixed)
                finally:
                    reporter.end_search()
                ctx.budget.mark("search")
                ctx.fitter = objective.runner  # its warm workers fit the final model
                ctx.fitter.warm()  # a worker killed at the search's end is replaced meanwhile
                outcome = conclude(ctx.finishing(), tracker)
            finally:
                objective.runner.close()
        return report(outcome)
