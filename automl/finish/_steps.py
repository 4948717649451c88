"""The end of a run as a sequence of small steps over one :class:`Outcome`.

selection rule -> ensemble or the chosen trial -> refit it -> test it once -> explain it
(permutation importance) -> (refit_full: refit on every row) -> schema -> save -> leaderboard ->
plots -> the retrain gate -> log (and register) in MLflow. Each step reads what earlier ones left
on the outcome; a new output is one more step and one more artifact entry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from automl.artifacts import (families, html_report, keep_previous, make_plots, model_card, model_folder, own_folder,
                              run_facts, save_model, training_schema, write_text_atomic)
from automl.config import mask_url
from automl.data import ROWS_FILE, to_bytes
from automl.errors import describe
from automl.evaluate import explain as explain_model
from automl.evaluate import pareto, refit_on_all_rows, select, test_once
from automl.report import Summary
from automl.plan import explain_seconds, refit_full_fits, refit_full_need
from automl.retrain import ALIAS
from automl.tracking import Artifact, FinalLog
from automl.trial import (TrialSpec, attrs, best_trial, complete_trials, cost_of, count_states, leaderboard,
                          why_stopped)

from ._choose import choose
from ._final_fit import refit_best
from ._context import FinishContext
from ._outcome import Outcome


# Without --timeout, importance still must not dwarf the search: a wide table and a slow ensemble
# would otherwise take columns x 5 scoring passes.
EXPLAIN_UNTIMED_S = 30.0


def pick(o: Outcome) -> None:
    """The selection rule: the best trial, or (``select: simplest``) the cheapest trial within
    one standard error of it, which then is the final model without an ensemble."""
    ctx = o.ctx
    trials = complete_trials(ctx.study)
    maximize = ctx.prep.metric.direction == "maximize"
    o.selection = select(trials, o.trial, ctx.cfg.select, maximize)
    o.costs = pareto(trials, maximize)
    o.artifacts.append(Artifact.of_text("pareto.csv", o.costs.to_csv(index=False)))
    if o.selection.chosen_number != o.trial.number:
        o.trial = next(t for t in trials if t.number == o.selection.chosen_number)
    o.artifacts.append(Artifact.of_text("selection.json", json.dumps(o.selection.summary(), indent=2)))


def test(o: Outcome) -> None:
    split = o.ctx.prep.split
    started = o.ctx.budget.clock()
    o.test_metrics, o.predictions = test_once(o.model, split, o.ctx.prep.data.task)
    # Every prediction pass the metrics needed (labels, probabilities), per 1,000 rows.
    spent = o.ctx.budget.clock() - started
    o.metrics["test_predict_ms_per_1000_rows"] = 1e6 * spent / max(len(split.y_test), 1)


def explain(o: Outcome) -> None:
    """What the tested model relies on, in the time the budget gives it; tables and a plot, the
    strongest columns in the summary."""
    ctx = o.ctx
    seconds = explain_seconds(ctx.plan, _refit_full_need(o))
    found = explain_model(o.model, ctx.prep.split, ctx.prep.metric, ctx.cfg.seed,
                          EXPLAIN_UNTIMED_S if seconds is None else seconds, ctx.budget.clock)
    o.importance, o.importance_table = found.summary, found.table
    if found.table is not None:
        o.artifacts.append(Artifact.of_text("importance/permutation_importance.csv", found.table.to_csv(index=False)))
    if found.shap_table is not None:
        o.artifacts.append(Artifact.of_text("importance/shap_mean_abs.csv", found.shap_table.to_csv(index=False)))


def _final_costs(o: Outcome) -> list:
    return [cost_of(t) for t in [t for t, _ in o.members] or [o.trial]]


def _refit_full_need(o: Outcome) -> float:
    """Seconds the refit on every row is expected to take (0 when not asked)."""
    if not o.ctx.cfg.refit_full:
        return 0.0
    return refit_full_need(o.ctx.plan, _final_costs(o), o.ctx.prep.refit_growth)


def refit_full(o: Outcome) -> None:
    """With ``refit_full``, after the one test: the same model afresh on the training and test
    rows together, when its fit is expected to fit the time left (the plan reserved it)."""
    ctx = o.ctx
    if not ctx.cfg.refit_full:
        return
    split = ctx.prep.split
    rows = len(split.y_train) + len(split.y_test)
    left = ctx.budget.left()
    if left is not None:
        verdict = refit_full_fits(ctx.plan, _final_costs(o), ctx.prep.refit_growth)
        if not verdict.fits:
            _keep_tested(o, f"a refit on {rows} rows needs about {verdict.need_s:.1f} s; {max(left, 0.0):.1f} s were left")
            return
    try:
        o.model = refit_on_all_rows(o.model, split)
    except Exception as exc:  # noqa: BLE001 - the tested model is whole: a failed refit must not cost it
        _keep_tested(o, f"the refit on {rows} rows failed: {describe(exc, 200)}")
        return
    o.refit_full = {"rows": rows}


def _keep_tested(o: Outcome, why: str) -> None:
    o.refit_full = {"rows": len(o.ctx.prep.split.y_train), "skipped": why}
    o.ctx.reporter.warn(f"refit_full skipped: {why}; the tested model is saved")


def describe_schema(o: Outcome) -> None:
    """What the model was trained on, with the hashes of the rows it was fitted on."""
    prep, refit = o.ctx.prep, o.refit_full is not None and "skipped" not in o.refit_full
    o.schema, o.rows, o.row_groups = training_schema(prep.data, prep.split, prep.prints, refit)
    o.artifacts.append(Artifact.of_text("schema.json", json.dumps(o.schema, indent=2)))


CONCURRENT_WAIT_S = 1.0  # with a budget, how long a run waits for another run's end to pass


def save(o: Outcome) -> None:
    cfg, study = o.ctx.cfg, o.ctx.study
    folder = model_folder(cfg, o.ctx.workdir, study.study_name)
    o.out_dir, apart = own_folder(folder, None if o.ctx.budget.left() is None else CONCURRENT_WAIT_S, o.ctx.held)
    if apart:
        o.ctx.reporter.warn(f"another run of this study is saving into {folder}; this run's files are in {o.out_dir}")
    kept = keep_previous(o.out_dir)
    if kept is not None:
        o.ctx.reporter.info(f"the previous run's model and files were moved to {kept}")
    o.model_path = save_model(o.model, o.schema, o.out_dir, to_bytes(o.rows, o.row_groups))
    o.artifacts.append(Artifact.of_file(None, o.out_dir / ROWS_FILE))


def rank(o: Outcome) -> None:
    o.leaderboard = leaderboard(o.ctx.study, {t.number: w for t, w in o.members})
    csv = o.leaderboard.to_csv(index=False)
    write_text_atomic(o.out_dir / "leaderboard.csv", csv)
    o.artifacts.append(Artifact.of_text("leaderboard.csv", csv))


def plot(o: Outcome) -> None:
    prep = o.ctx.prep
    o.plots = make_plots(o.ctx.study, prep.split.y_test, o.predictions, prep.data.task,
                         o.out_dir / "plots", importance=o.importance_table, costs=o.costs)
    o.artifacts += [Artifact.of_file("plots", path) for path in o.plots]


def judge(o: Outcome) -> None:
    """A retrain's gate: both models on the test rows neither learnt from (the challenger as it
    was tested, before any refit on every row), and the decision on the alias."""
    gate, prep = o.ctx.gate, o.ctx.prep
    if gate is None:
        return
    o.decision = gate.decide(prep.data, prep.split, prep.prints, prep.metric, o.predictions, o.test_metrics,
                             _final_cv(o))
    o.version_tags.update(o.decision.version_tags())
    o.metrics.update({f"drift_psi_{c}": v for c, v in o.decision.drift.items()})
    o.artifacts.append(Artifact.of_text("drift.json", json.dumps(o.decision.drift, indent=2)))


def _final_cv(o: Outcome) -> float:
    """The CV estimate of the final model: the ensemble's when one was chosen."""
    return o.ensemble.score if o.members else o.trial.value


def card(o: Outcome) -> None:
    """The model card: ``model_card.md`` next to the model and on the run, and the registered
    version's description."""
    ctx, prep = o.ctx, o.ctx.prep
    o.facts = run_facts(name=ctx.cfg.register_model or ctx.study.study_name, study=ctx.study.study_name,
                        seed=ctx.cfg.seed, data=ctx.cfg.data, data_fingerprint=prep.data_fingerprint,
                        metric=prep.metric.name, space=ctx.cfg.space, time_column=ctx.cfg.time_column,
                        test_metrics=o.test_metrics, test_rows=len(prep.split.y_test),
                        n_trials=count_states(ctx.study), trial=o.trial, members=o.members,
                        ensemble=o.ensemble, importance=o.importance, selection=o.selection,
                        refit_full=o.refit_full,
                        decision=f"{o.decision.summary()['decision']}: {o.decision.reason}" if o.decision else None,
                        comparison=o.decision.comparison if o.decision else None)
    o.card = model_card(o.facts, o.ctx.prep.data, o.ctx.prep.split)
    write_text_atomic(o.out_dir / "model_card.md", o.card)
    o.artifacts.append(Artifact.of_text("model_card.md", o.card))


def page(o: Outcome) -> None:
    """``report.html``: the run on one self-contained page, next to the summary and named after
    it (``credit.json`` -> ``credit.report.html``: studies sharing a summary folder keep their own
    report), else next to the model; and on the run."""
    ctx = o.ctx
    trials = ctx.study.get_trials(deepcopy=False)
    facts = {**o.facts, "reasons": why_stopped(trials), "families": families(o.leaderboard),
             "drift": o.decision.drift if o.decision else None}
    text = html_report(facts, ctx.prep.data, ctx.prep.split, o.leaderboard, o.plots, o.importance_table,
                       o.costs)
    summary = ctx.cfg.summary_json
    path = Path(summary).with_suffix(".report.html") if summary else o.out_dir / "report.html"
    o.report_path = write_text_atomic(path, text)
    o.artifacts.append(Artifact.of_text("report.html", text))


def log(o: Outcome) -> None:
    """Everything on the parent run; a version registered (and the alias moved) last."""
    cfg, study, metric = o.ctx.cfg, o.ctx.study, o.ctx.prep.metric.name
    scores = {f"test_{k}": v for k, v in o.test_metrics.items()}
    scores[f"best_cv_{metric}"] = o.trial.value
    tags = {"study_name": study.study_name, "best_trial": o.trial.number,
            f"cv_{metric}": o.trial.value, f"final_cv_{metric}": _final_cv(o), "final_model": "ensemble" if o.members else "best_trial",
            "selection_rule": o.selection.rule,
            "fit_rows": (o.refit_full or {}).get("rows", len(o.ctx.prep.split.y_train)),
            **scores, **o.version_tags}
    promote = o.decision is not None and o.decision.promote
    final = FinalLog(model=o.model, input_example=o.ctx.prep.split.X_train.head(5),
                     metrics={**scores, **o.metrics}, artifacts=o.artifacts,
                     best_run_id=attrs.run_id(o.trial), register_name=cfg.register_model,
                     version_tags=tags, alias=ALIAS if promote else None, description=o.card,
                     datasets=_datasets(o))
    o.logged = o.tracker.log_final(final)


def _datasets(o: Outcome) -> list[tuple[str, object, str, str]]:
    split, target = o.ctx.prep.split, str(o.ctx.prep.data.y.name)
    name = o.ctx.study.study_name
    return [(f"{name}-train", split.X_train.assign(**{target: split.y_train}), target, "training"),
            (f"{name}-test", split.X_test.assign(**{target: split.y_test}), target, "testing")]


FINAL_STEPS: tuple[Callable[[Outcome], None], ...] = (
    pick, choose, refit_best, test, explain, refit_full, describe_schema, save, rank, plot, judge, card, page,
    log)
# The summary's ``timings``: the phase that ends with each of these steps.
PHASE_ENDS = {"choose": "ensemble", "refit_best": "final_fit", "test": "test", "explain": "explain",
              "refit_full": "refit_full",
              "judge": "artifacts", "log": "logging"}


def summarize(o: Outcome) -> Summary:
    ctx, trial = o.ctx, o.trial
    prep, cfg = ctx.prep, ctx.cfg
    data, split = prep.data, prep.split
    return Summary(
        study_name=ctx.study.study_name, task=data.task, metric=prep.metric.name,
        direction=prep.metric.direction, best_trial=trial.number,
        best_params=TrialSpec.from_trial(trial).flat_params(), best_cv_score=trial.value,
        best_cv_std=attrs.cv_std(trial), test_metrics=o.test_metrics,
        n_trials=count_states(ctx.study), rows_dropped=data.rows_dropped + prep.test_rows_dropped,
        dropped_columns=data.dropped_columns, train_rows=int(len(split.y_train)),
        test_rows=int(len(split.y_test)), test_fingerprint=split.test_fingerprint,
        data_fingerprint=prep.data_fingerprint, data=cfg.data, seed=cfg.seed,
        storage=mask_url(ctx.storage), model_path=str(o.model_path),
        plots=[str(p) for p in o.plots], decision=o.decision,
        ensemble=o.ensemble.summary(chosen=bool(o.members)) if o.ensemble else None,
        refit_full=o.refit_full, final_fit=o.final_fit, importance=o.importance, selection=o.selection.summary(),
        report=str(o.report_path) if o.report_path else None, **o.logged)


def conclude(ctx: FinishContext, tracker, workers: tuple[int, list[int]] | None = None) -> Outcome:
    """After the search: run the final steps on the best trial; the summary, logged too."""
    tracker.flush()
    outcome = Outcome(ctx, tracker, best_trial(ctx.study))
    budget, started = ctx.budget, ctx.budget.clock()
    for step in FINAL_STEPS:
        step(outcome)
        if step.__name__ in PHASE_ENDS and not (step is refit_full and outcome.refit_full is None):
            budget.mark(PHASE_ENDS[step.__name__])
    summary = summarize(outcome)
    if workers is not None:
        summary.workers, summary.worker_exit_codes = workers
    summary.timings = budget.timings()
    summary.elapsed_s = summary.timings["total"]
    tracker.log_summary(summary.to_dict())
    # What the end of a run costs besides the refit, for the next run of this study to plan with.
    # The explanation is planned as a share of the budget, apart from this.
    fits = sum(summary.timings.get(k, 0) for k in ("final_fit", "refit_full", "explain"))
    attrs.set_final_overhead(ctx.study, budget.clock() - started - fits)
    outcome.summary = summary
    return outcome


def report(outcome: Outcome) -> dict:
    """Write the summary JSON and print the leaderboard and test metrics; return the summary."""
    ctx = outcome.ctx
    summary = outcome.summary.to_dict()
    if ctx.cfg.summary_json:
        write_text_atomic(Path(ctx.cfg.summary_json), json.dumps(summary, indent=2, default=str))
    ctx.reporter.final(summary, outcome.leaderboard.head(10))
    return summary
