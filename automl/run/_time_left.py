"""How much of the end of a run is still to come, for the steps that plan against the budget after
the search (the ensemble's members, the explanation, the refit on every row)."""

from __future__ import annotations


def overhead_to_come(ctx, plan) -> float:
    """The plan's end-of-run overhead less what of it is behind: every second since the search
    ended but the fits and the explanation (the measured overhead leaves them out too; the plan
    counts them with the model). Counting those again left an ensemble no room at all and
    skipped a 0.3 s refit with 4 s left on every 60 s run of the peer benchmark."""
    budget = ctx.budget
    ended = budget.marks.get("search")
    if ended is None:
        return plan.overhead_s
    timings = budget.timings()
    behind = budget.clock() - ended - sum(timings.get(k, 0.0) for k in ("final_fit", "explain", "refit_full"))
    return max(plan.overhead_s - max(behind, 0.0), 0.0)
