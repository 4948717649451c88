"""The ensemble or the best trial: greedy selection over the best trials' out-of-fold predictions,
and the members whose refit, test, explanation and logging fit the time left."""

from __future__ import annotations

import json
from itertools import combinations
from typing import Callable

from automl.evaluate import score_subsets, select_ensemble
from automl.tracking import Artifact

from ._outcome import Outcome
from ._time_left import overhead_to_come

SELECT_SHARE = 0.02  # of the budget, at most, for the ensemble's selection rounds
# When an ensemble does not fit the time left, the subsets of its heaviest members that do are
# scored out of fold: at most 26 subsets of two or more of five.
SUBSET_MEMBERS = 5


def choose(o: Outcome) -> None:
    """Ensemble selection over the best trials' out-of-fold predictions; the ensemble becomes the
    final model only if it beats the best trial on the same rows and its refit fits the budget."""
    ctx = o.ctx
    if ctx.oof is None or ctx.cfg.select == "simplest":
        return
    prep = ctx.prep
    classes = None if prep.data.task == "regression" else sorted(prep.split.y_train.unique())
    total = ctx.budget.total
    candidates = ctx.oof.best()
    choice = select_ensemble(prep.split.y_train, candidates, prep.metric, classes,
                             ctx.cfg.ensemble_rounds, None if total is None else SELECT_SHARE * total)
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
    """The members to refit, weights summing to one: all of them when their refit, test,
    explanation and logging fit the time left; else, of the SUBSET_MEMBERS heaviest, the two or
    more that fit and score best out of fold; [] and why when no two fit. (Dropping the costliest
    per unit of weight one at a time kept a costly pair over cheap ones that fitted, and lost
    the ensemble on diamonds at 300 s.)"""
    trials = {t.number: t for t in o.ctx.study.get_trials(deepcopy=False)}
    members = sorted(((trials[n], w) for n, w in weights.items()), key=lambda tw: -tw[1])
    left = o.ctx.budget.left()
    if len(members) < 2:
        return [], None
    if left is None:
        return _normalised(members), None
    plan = o.ctx.plan()
    room = left - overhead_to_come(o.ctx, plan) - plan.exit_s
    if plan.final_estimate([t for t, _ in members]) <= room:
        return _normalised(members), None
    heaviest = members[:SUBSET_MEMBERS]
    fitting = [list(c) for size in range(2, len(heaviest) + 1) for c in combinations(heaviest, size)
               if plan.final_estimate([t for t, _ in c]) <= room]
    if not fitting:
        cheapest = min(plan.final_estimate([a, b]) for (a, _), (b, _) in combinations(heaviest, 2))
        return [], f"the cheapest two members need about {cheapest:.1f} s; {max(room, 0.0):.1f} s were left for them"
    scores = score_of([{t.number: w for t, w in _normalised(c)} for c in fitting])
    sign = 1.0 if o.ctx.prep.metric.direction == "maximize" else -1.0
    best = max(range(len(fitting)), key=lambda i: (sign * scores[i], -i))
    return _normalised(fitting[best]), None


def _normalised(members: list) -> list:
    total = sum(w for _, w in members)
    return [(t, w / total) for t, w in members]
