"""Ensemble selection (Caruana et al. 2004) over the out-of-fold predictions of the best trials.

Greedy forward selection with replacement: each round adds the trial whose predictions, averaged
with those chosen so far, score best on the validation rows. Members that are picked more often
weigh more. The ensemble is the final model only when its out-of-fold score beats the best single
trial's on the very same rows; it is then a scikit-learn ``VotingClassifier`` (soft voting) or
``VotingRegressor`` (saved compactly: ``_voting.py``) of fresh pipelines refitted on every
training row, so it is saved, served, registered and gated like any model.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from automl.metrics import Metric, Predictions, compute

ROUNDS = 25  # rounds of greedy selection
CANDIDATES = 10  # best trials considered


@dataclass
class EnsembleChoice:
    """The selected weights (trial number -> share of rounds) and both out-of-fold scores."""

    weights: dict[int, float]
    score: float
    single_trial: int
    single_score: float
    rows: int  # validation rows both scores were computed on
    history: list[float] = field(default_factory=list)  # the ensemble's score after each round
    kept_score: float | None = None  # after members that did not fit the budget were dropped
    kept_weights: dict[int, float] | None = None  # the members left then, weights summing to one
    not_chosen: str | None = None  # why the final model is the best trial after all

    def beats_single(self, maximize: bool) -> bool:
        if len(self.weights) < 2:
            return False
        return self.score > self.single_score if maximize else self.score < self.single_score

    def accept(self, fit: Callable[[dict[int, float]], tuple[dict[int, float], str | None]],
               score_of: Callable[[list[dict[int, float]]], list[float]], maximize: bool) -> dict[int, float]:
        """The members the final model keeps (trial number -> weight; {} keeps the best trial):
        the ensemble must beat the best trial out of fold; ``fit`` gives the members whose refit
        fits the time left (and why none, when none); what is left after dropping members must
        still beat the best trial on the same rows (``score_of`` scores weight maps). Says why in
        ``not_chosen``."""
        if not self.beats_single(maximize):
            self.not_chosen = "it does not beat the best trial out of fold"
            return {}
        kept, short = fit(self.weights)
        if short:
            self.not_chosen = short
        if kept and len(kept) < len(self.weights):
            left = score_of([kept])[0]
            self.kept_score, self.kept_weights = left, dict(kept)
            if not (left > self.single_score if maximize else left < self.single_score):
                self.not_chosen = "the members that fit the time left do not beat the best trial out of fold"
                return {}
        return kept

    def summary(self, chosen: bool) -> dict:
        """What was selected (``members``) and, when members that did not fit the budget were
        dropped, what the final model kept (``kept_members``, ``kept_cv_score``)."""
        out = {"chosen": chosen, "cv_score": self.score, "single_cv_score": self.single_score,
               "rows": self.rows, "members": _listed(self.weights)}
        if self.kept_weights is not None:
            out.update(kept_members=_listed(self.kept_weights), kept_cv_score=self.kept_score)
        if not chosen and self.not_chosen:
            out["not_chosen"] = self.not_chosen
        return out


def _listed(weights: dict[int, float]) -> list[dict]:
    return [{"trial": n, "weight": round(w, 6)} for n, w in sorted(weights.items(), key=lambda kv: -kv[1])]


def select_ensemble(y: pd.Series, candidates: list[tuple[int, np.ndarray]], metric: Metric,
                    classes, rounds: int = ROUNDS, seconds: float | None = None) -> EnsembleChoice | None:
    """Caruana selection over ``(trial number, out-of-fold predictions)``, best trial first.

    Only rows every candidate has a prediction for take part (all rows under K-fold CV; the
    validation rows of a holdout split). None without two candidates to choose between. With
    ``seconds``, the rounds stop early when that time is up (the budget's end comes first).
    """
    candidates = candidates[:CANDIDATES]
    if len(candidates) < 2:
        return None
    shapes = {oof.shape for _, oof in candidates}
    if len(shapes) != 1:
        return None  # e.g. a classifier without probabilities among them
    stack, scorer, n_rows = _stacked(y, candidates, metric, classes)
    if n_rows < 2:
        return None
    maximize = metric.direction == "maximize"
    singles = [scorer(p) for p in stack]
    counts, total, history = Counter(), np.zeros_like(stack[0]), []
    stop = None if seconds is None else time.monotonic() + seconds
    for _ in range(rounds):
        if stop is not None and history and time.monotonic() > stop:
            break
        n = sum(counts.values()) + 1
        scores = [scorer((total + p) / n) for p in stack]
        pick = int(np.nanargmax(scores) if maximize else np.nanargmin(scores))
        counts[pick] += 1
        total += stack[pick]
        history.append(scores[pick])
    weights = {candidates[i][0]: c / len(history) for i, c in counts.items()}
    return EnsembleChoice(weights, history[-1], candidates[0][0], singles[0], n_rows, history)


def score_weights(y: pd.Series, candidates: list[tuple[int, np.ndarray]], metric: Metric, classes,
                  weights: dict[int, float]) -> float:
    """The out-of-fold score of ``weights`` (trial number -> weight, summing to one) on the rows
    the selection used: what is left of an ensemble after members were dropped."""
    return score_subsets(y, candidates, metric, classes, [weights])[0]


def score_subsets(y: pd.Series, candidates: list[tuple[int, np.ndarray]], metric: Metric, classes,
                  subsets: list[dict[int, float]]) -> list[float]:
    """:func:`score_weights` of each of ``subsets``, the predictions stacked once."""
    stack, scorer, _ = _stacked(y, candidates, metric, classes)
    index = {n: i for i, (n, _) in enumerate(candidates)}
    return [scorer(sum(w * stack[index[n]] for n, w in weights.items())) for weights in subsets]


def _stacked(y, candidates, metric, classes):
    """The candidates' predictions on the rows every one of them has, and the metric on those."""
    stack = np.stack([oof for _, oof in candidates]).astype(np.float64)
    rows = ~np.isnan(stack).any(axis=(0, 2))
    return stack[:, rows], _scorer(np.asarray(y)[rows], metric, classes), int(rows.sum())


def _scorer(y: np.ndarray, metric: Metric, classes):
    """``predictions -> metric`` on the selection rows. Labels are coded 0..k-1 once: the metrics
    sort their labels on every call, and sorting 40,000 strings 800 times took 7 s."""
    name = (metric.name,)
    if classes is None:
        return lambda p: _safe(compute(y, Predictions(p[:, 0], None, None), name)[metric.name])
    codes = np.asarray(pd.Categorical(y, categories=classes).codes)
    coded = np.arange(len(classes))

    def score(p: np.ndarray) -> float:
        proba = p / np.clip(p.sum(axis=1, keepdims=True), 1e-12, None)
        return _safe(compute(codes, Predictions(proba.argmax(axis=1), proba, coded), name)[metric.name])
    return score


def _safe(value) -> float:
    return float("nan") if value is None else float(value)


def build_ensemble(members: list[tuple[str, object, float]], task: str):
    """An unfitted soft-voting ensemble of ``(name, unfitted pipeline, weight)``."""
    from ._voting import EnsembleClassifier, EnsembleRegressor

    estimators = [(name, pipeline) for name, pipeline, _ in members]
    weights = [weight for _, _, weight in members]
    if task == "regression":
        return EnsembleRegressor(estimators, weights=weights)
    return EnsembleClassifier(estimators, voting="soft", weights=weights)
