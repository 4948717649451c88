"""The final fit under the budget: planned from the members' measured fit times, stopped at its
deadline, and a cheaper model when it is.

The final model (the ensemble, or the chosen trial) is fitted with a deadline: the time left less
what comes after it (the test, the logging, the end's overhead). A fit known to be cheap runs in
this process; any other in a worker process that is killed at the deadline (the search's warm
pool when there is one, which already holds the training rows). A fit that does not fit its
deadline, or is stopped at it, gives way to the next of: the best trial alone, then the complete
trial that fitted fastest (measured), which always runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from automl.data import Dataset
from automl.errors import SearchFailedError
from automl.plan import SearchPlan, final_fit
from automl.trial import TrialSpec, attrs, cost_of

from ._refit import unfitted, unfitted_ensemble

if TYPE_CHECKING:  # types only
    from optuna.trial import FrozenTrial

    from automl.search import FoldRunner

Members = list[tuple["FrozenTrial", float]]


@dataclass
class FinalFit:
    """The model fitted in time, which candidate it is, and why the ones before it gave way."""

    model: object
    label: str  # "ensemble" or "trial N"
    members: Members
    planned_s: float
    fit_s: float
    gave_way: list[str] = field(default_factory=list)

    def record(self) -> dict:
        """The summary's ``final_fit``."""
        out = {"model": self.label, "planned_s": round(self.planned_s, 3), "fit_s": round(self.fit_s, 3)}
        if self.gave_way:
            out["fallback"] = "; ".join(self.gave_way)
        return out


def candidates(members: Members, trial: FrozenTrial, complete: list[FrozenTrial]) -> list[tuple[str, Members]]:
    """What to fit, in order: the planned ensemble (``members``), the chosen ``trial`` alone, the
    complete trial that fitted fastest."""
    out = [("ensemble", list(members))] if members else []
    out.append((f"trial {trial.number}", [(trial, 1.0)]))
    fastest = min(complete, key=lambda t: (attrs.fit_time(t) or 0.0, t.number), default=trial)
    if fastest.number != trial.number:
        out.append((f"trial {fastest.number}", [(fastest, 1.0)]))
    return out


def fit_in_time(options: list[tuple[str, Members]], fitter: FoldRunner, plan: SearchPlan, data: Dataset,
                seed: int) -> FinalFit:
    """The first of ``options`` whose fit the plan finds time for and that ``fitter`` fits by its
    deadline; the last is always tried. Raises :class:`SearchFailedError` when none is fitted."""
    why: list[str] = []
    for i, (label, members) in enumerate(options):
        trials = [t for t, _ in members]
        cheap = _cheap(fitter, trials, single=len(trials) == 1)
        verdict = final_fit(plan, [cost_of(t) for t in trials], cheap, last=i == len(options) - 1)
        need, seconds = verdict.need_s, max(verdict.room_s, 0.0)
        if not verdict.fits:
            why.append(f"the {label} needs ~{need:.1f} s, {seconds:.1f} s were left")
            continue
        model = unfitted_ensemble(members, data, seed) if len(members) > 1 else unfitted(trials[0], data, seed)
        result = fitter.refit(model, seconds, cheap)
        if result.kind == "ok":
            return FinalFit(result.model, label, members, need, result.fit_time, why)
        stopped = "was stopped at its deadline" if result.kind == "time" else f"failed ({result.error})"
        why.append(f"the {label}'s fit {stopped} after {seconds:.1f} s (planned ~{need:.1f} s)")
    raise SearchFailedError("no final model could be fitted: " + "; ".join(why))


def _cheap(fitter, trials, single: bool) -> bool:
    cheap = getattr(fitter, "cheap_all", None)
    if cheap is None:  # a worker pool: every fit there can be killed
        return False
    return cheap([TrialSpec.from_trial(t) for t in trials], chunked=single)
