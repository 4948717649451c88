"""The ensemble or the best trial: greedy selection over the best trials' out-of-fold predictions
(automl.evaluate), kept by its rule (EnsembleChoice.accept) with the members the plan finds time
for (automl.plan.members_that_fit)."""

from __future__ import annotations

import json
from automl.evaluate import score_subsets, select_ensemble
from automl.plan import members_that_fit
from automl.tracking import Artifact
from automl.trial import cost_of

from ._outcome import Outcome


def choose(o: Outcome) -> None:
    """Ensemble selection over the best trials' out-of-fold predictions; the ensemble becomes the
    final model only if it beats the best trial on the same rows and its refit fits the budget."""
    ctx = o.ctx
    if ctx.oof is None or ctx.cfg.select == "simplest":
        return
    prep = ctx.prep
    classes = None if prep.data.task == "regression" else sorted(prep.split.y_train.unique())
    candidates = ctx.oof.best()
    choice = select_ensemble(prep.split.y_train, candidates, prep.metric, classes,
                             ctx.cfg.ensemble_rounds, ctx.plan.selection_seconds())
    if choice is None:
        return
    o.ensemble = choice
    trials = {t.number: t for t in ctx.study.get_trials(deepcopy=False)}

    def fit(weights: dict[int, float]) -> tuple[dict[int, float], str | None]:
        kept, why = members_that_fit(ctx.plan, [(cost_of(trials[n]), w) for n, w in weights.items()],
                                     prep.metric.direction == "maximize", score_of)
        return {c.number: w for c, w in kept}, why

    def score_of(subsets: list[dict[int, float]]) -> list[float]:
        return score_subsets(prep.split.y_train, candidates, prep.metric, classes, subsets)

    kept = choice.accept(fit, score_of, prep.metric.direction == "maximize")
    o.members = [(trials[n], w) for n, w in kept.items()]
    _note_ensemble(o, choice)


def _note_ensemble(o: Outcome, choice) -> None:
    metric = o.ctx.prep.metric.name
    o.metrics[f"ensemble_cv_{metric}"] = choice.score
    o.artifacts.append(Artifact.of_text("ensemble.json", json.dumps(
        choice.summary(chosen=bool(o.members)), indent=2)))
