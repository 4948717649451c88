"""The ensemble or the best trial: greedy selection over the best trials' out-of-fold predictions,
and the members whose refit, test, explanation and logging fit the time left."""

from __future__ import annotations

import json
from typing import Callable

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
    maximize = prep.metric.direction == "maximize"
    if not choice.beats_single(maximize):
        choice.not_chosen = "it does not beat the best trial out of fold"
        return _note_ensemble(o, choice)
    def score_of(subsets: list[dict[int, float]]) -> list[float]:
        return score_subsets(prep.split.y_train, candidates, prep.metric, classes, subsets)

    o.members, short = _affordable(o, choice.weights, score_of)
    if short:
        choice.not_chosen = short
    if o.members and len(o.members) < len(choice.weights):
        # What is left after dropping members must still beat the best trial on the same rows.
        kept = {t.number: w for t, w in o.members}
        left = score_of([kept])[0]
        better = left > choice.single_score if maximize else left < choice.single_score
        if not better:
            o.members = []
            choice.not_chosen = "the members that fit the time left do not beat the best trial out of fold"
        choice.kept_score, choice.kept_weights = left, kept
    _note_ensemble(o, choice)


def _note_ensemble(o: Outcome, choice) -> None:
    metric = o.ctx.prep.metric.name
    o.metrics[f"ensemble_cv_{metric}"] = choice.score
    o.artifacts.append(Artifact.of_text("ensemble.json", json.dumps(
        choice.summary(chosen=bool(o.members)), indent=2)))


def _affordable(o: Outcome, weights: dict[int, float],
                score_of: Callable[[list[dict[int, float]]], list[float]]) -> tuple[list, str | None]:
    """The members to refit, weights summing to one, as the plan finds they fit the time left
    (:func:`automl.plan.members_that_fit`); [] and why when no two fit."""
    trials = {t.number: t for t in o.ctx.study.get_trials(deepcopy=False)}
    kept, why = members_that_fit(o.ctx.plan, [(cost_of(trials[n]), w) for n, w in weights.items()],
                                 o.ctx.prep.metric.direction == "maximize", score_of)
    return [(trials[c.number], w) for c, w in kept], why
