"""Which trial becomes the final model: the best CV score, or the one-standard-error rule.

``simplest`` (Breiman et al. 1984; Hastie, Tibshirani and Friedman, ESL 7.10): among the complete
trials whose CV score is within one standard error of the best, take the cheapest to run.
The standard error is that of the *paired* fold differences (every trial is scored on the same
folds, so fold difficulty cancels out): a trial is within it when its mean shortfall is at most
``std(differences, ddof=1) / sqrt(folds)``. Cheapest means the lowest measured prediction time
per row (what serving it costs), then the shortest fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from automl.trial import attrs

RULES = ("best", "simplest")


@dataclass
class Selection:
    rule: str
    best: dict
    chosen: dict
    within: list[int] = field(default_factory=list)  # trials within one standard error of the best
    reason: str = ""

    @property
    def chosen_number(self) -> int:
        return self.chosen["trial"]

    def summary(self) -> dict:
        return {"rule": self.rule, "best": self.best, "chosen": self.chosen, "within_one_se": self.within,
                "reason": self.reason}


def _card(trial) -> dict:
    fit = attrs.fit_time(trial)
    return {"trial": trial.number, "family": attrs.family(trial), "cv_score": trial.value,
            "predict_ms_per_1000_rows": round(1e6 * attrs.predict_rate(trial), 3),
            "fit_time_s": None if fit is None else round(fit, 3)}


def shortfall(best_folds: list[float], folds: list[float], maximize: bool) -> tuple[float, float]:
    """Mean paired shortfall of ``folds`` against ``best_folds`` (>= 0 when worse) and its
    standard error."""
    d = np.asarray(best_folds, float) - np.asarray(folds, float)
    d = d if maximize else -d
    se = float(np.std(d, ddof=1) / math.sqrt(len(d))) if len(d) > 1 else 0.0
    return float(np.mean(d)), se


def select(trials, best, rule: str, maximize: bool) -> Selection:
    """The final trial under ``rule`` among the complete ``trials`` (``best`` is the best one)."""
    if rule == "best":
        card = _card(best)
        return Selection("best", card, card, [best.number], "the best CV score")
    best_folds = attrs.fold_scores(best)
    within = []
    for trial in trials:
        folds = attrs.fold_scores(trial)
        if len(folds) != len(best_folds) or trial.value is None:
            continue  # not scored on the same folds: no paired comparison
        mean, se = shortfall(best_folds, folds, maximize)
        if trial.number == best.number or mean <= se:
            within.append(trial)
    chosen = min(within, key=lambda t: (attrs.predict_rate(t), attrs.fit_time(t) or 0.0, t.number))
    b, c = _card(best), _card(chosen)
    if chosen.number == best.number:
        reason = (f"the best trial is also the cheapest of the {len(within)} within one standard "
                  "error of it")
    else:
        mean, se = shortfall(best_folds, attrs.fold_scores(chosen), maximize)
        reason = (f"trial {c['trial']} ({c['family']}) is {mean:.4g} behind the best on average over the "
                  f"same folds, within one standard error ({se:.4g}), and predicts in "
                  f"{c['predict_ms_per_1000_rows']:.3g} ms per 1,000 rows against "
                  f"{b['predict_ms_per_1000_rows']:.3g} ms for trial {b['trial']} ({b['family']})")
    return Selection("simplest", b, c, sorted(t.number for t in within), reason)


def pareto(trials, maximize: bool):
    """Every complete trial's CV score, measured prediction time per 1,000 rows and model size,
    best first, with ``front`` marking those no other trial beats on all three (score at least as
    good, as fast and as small, better on one)."""
    import pandas as pd

    rows = [{"trial": t.number, "family": attrs.family(t), "cv_score": t.value,
             "predict_ms_per_1000_rows": 1e6 * attrs.predict_rate(t),
             "model_kb": attrs.model_bytes(t) / 1024} for t in trials if t.value is not None]
    columns = ["trial", "family", "cv_score", "predict_ms_per_1000_rows", "model_kb"]
    table = pd.DataFrame(rows, columns=columns)
    sign = 1.0 if maximize else -1.0
    points = [(sign * r.cv_score, -r.predict_ms_per_1000_rows, -r.model_kb) for r in table.itertuples()]
    table["front"] = [not any(_dominates(q, p) for q in points) for p in points]
    table = table.sort_values(["cv_score", "trial"], ascending=[not maximize, True], kind="stable")
    return table.reset_index(drop=True)


def _dominates(q, p) -> bool:
    return all(a >= b for a, b in zip(q, p)) and any(a > b for a, b in zip(q, p))
