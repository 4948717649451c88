"""The decisions after the search: is there time for the ensemble's members, the final fit, the
explanation, the refit on every row? Each is a function of the plan (its clock and cost model)
and the measured costs of the trials concerned, and says why when the answer is no."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Callable

from ._costs import TRANSFER_BPS, TrialCost
from ._plan import SearchPlan

# When an ensemble does not fit the time left, the subsets of its heaviest members that do are
# scored out of fold: at most 26 subsets of two or more of five.
SUBSET_MEMBERS = 5
LAST_RESORT_FACTOR = 2.0  # the last fallback's deadline: twice its planned time, at least what is left


@dataclass(frozen=True)
class Verdict:
    """Whether a step fits the time left: the seconds it needs and those it has."""

    fits: bool
    need_s: float
    room_s: float | None  # None: no budget


def overhead_to_come(plan: SearchPlan) -> float:
    """The plan's end-of-run overhead less what of it is behind: every second since the search
    ended but the fits and the explanation (the measured overhead leaves them out too; the plan
    counts them with the model). Counting those again left an ensemble no room at all."""
    budget = plan.budget
    ended = budget.marks.get("search")
    if ended is None:
        return plan.overhead_s
    timings = budget.timings()
    behind = budget.clock() - ended - sum(timings.get(k, 0.0) for k in ("final_fit", "explain", "refit_full"))
    return max(plan.overhead_s - max(behind, 0.0), 0.0)


def room(plan: SearchPlan) -> float | None:
    """Seconds left for the fits still to come (None without a budget): the budget less the
    overhead still to come and the exit."""
    left = plan.budget.left()
    return None if left is None else left - overhead_to_come(plan) - plan.exit_s


def refit_full_need(plan: SearchPlan, costs: list[TrialCost], growth: float) -> float:
    """Seconds the refit on every row is expected to take: the final model's trials refitted on
    ``growth`` times the training rows."""
    return sum(plan.trial_refit_estimate(c) for c in costs) * growth


def refit_full_fits(plan: SearchPlan, costs: list[TrialCost], growth: float) -> Verdict:
    """Whether the refit on every row (refit_full) fits the time left."""
    need, left = refit_full_need(plan, costs, growth), room(plan)
    return Verdict(left is None or need <= left, need, left)


def explain_seconds(plan: SearchPlan, refit_full_s: float) -> float | None:
    """How long the explanation may take: up to its share, as long as what comes after it (the
    end of the run, ``refit_full_s`` for the refit on every row) still fits; None: no budget (the
    caller's own bound applies). The plan kept what its passes were expected to take; a model
    faster than that leaves the rest to the end of the run."""
    left = room(plan)
    return None if left is None else min(plan.explain_share(), left - refit_full_s)


def final_fit(plan: SearchPlan, costs: list[TrialCost], cheap: bool, last: bool) -> Verdict:
    """The final model's fit: its refit estimate (plus the pipe back from a worker process unless
    it runs here, ``cheap``) against the time left once its test and logging are counted. The
    ``last`` fallback always runs, with at least twice its planned time."""
    need = sum(plan.trial_refit_estimate(c) for c in costs) + \
        (0.0 if cheap else sum(c.model_bytes for c in costs) / TRANSFER_BPS)
    seconds = room(plan) - plan.after_fit_estimate(costs)
    if last:
        return Verdict(True, need, max(seconds, LAST_RESORT_FACTOR * need + 1.0))
    return Verdict(need <= seconds, need, seconds)


def members_that_fit(plan: SearchPlan, members: list[tuple[TrialCost, float]], maximize: bool,
                     score_of: Callable[[list[dict[int, float]]], list[float]]) -> tuple[list, str | None]:
    """The ensemble members to refit (heaviest first), weights summing to one: all of them when
    their refit, test, explanation and logging fit the time left; else, of the SUBSET_MEMBERS
    heaviest, the two or more that fit and score best out of fold (``score_of`` scores weight
    maps of trial numbers); [] and why when no two fit. Dropping the costliest per unit of weight
    one at a time kept a costly pair over cheap ones that fitted."""
    members = sorted(members, key=lambda cw: -cw[1])
    if len(members) < 2:
        return [], None
    left = room(plan)
    if left is None or plan.final_estimate([c for c, _ in members]) <= left:
        return _normalised(members), None
    heaviest = members[:SUBSET_MEMBERS]
    fitting = [list(c) for size in range(2, len(heaviest) + 1) for c in combinations(heaviest, size)
               if plan.final_estimate([t for t, _ in c]) <= left]
    if not fitting:
        cheapest = min(plan.final_estimate([a, b]) for (a, _), (b, _) in combinations(heaviest, 2))
        return [], f"the cheapest two members need about {cheapest:.1f} s; {max(left, 0.0):.1f} s were left for them"
    scores = score_of([{c.number: w for c, w in _normalised(subset)} for subset in fitting])
    sign = 1.0 if maximize else -1.0
    best = max(range(len(fitting)), key=lambda i: (sign * scores[i], -i))
    return _normalised(fitting[best]), None


def _normalised(members: list) -> list:
    total = sum(w for _, w in members)
    return [(c, w / total) for c, w in members]


def seconds_to_deadline(deadline: float | None, now: float, trial_timeout: float | None) -> float | None:
    """How long a trial starting ``now`` may run: to a shared ``deadline`` (the workers' study,
    on the same clock) or ``trial_timeout``, whichever is sooner."""
    limits = [s for s in (None if deadline is None else deadline - now, trial_timeout) if s is not None]
    return min(limits) if limits else None
