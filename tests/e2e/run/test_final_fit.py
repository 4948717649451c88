"""The final fit is planned from the trials' measured fit times: a model whose fit does not fit
the time left gives way to a cheaper one, said in the summary. The budget's clock is moved by the
test (budget units, not seconds)."""

from __future__ import annotations

import re
import time

from automl.plan import Budget
from automl.report import Reporter
from automl.run import run_experiment


class Jump:
    """The real clock until the search ends, then ``left`` seconds before the budget's end."""

    def __init__(self, total: float):
        self.total, self.offset, self.started = total, 0.0, time.monotonic()

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def to_end(self, left: float) -> None:
        self.offset = self.started + self.total - left - time.monotonic()


class EndsLate(Reporter):
    def __init__(self, clock: Jump, left: float):
        super().__init__(quiet=True)
        self.clock, self.left, self.warnings = clock, left, []

    def end_search(self) -> None:
        super().end_search()
        self.clock.to_end(self.left)

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def test_a_final_fit_that_does_not_fit_gives_way_to_the_fastest_trial(config, workdir):
    # A 300-tree forest is the best trial on iris, a decision stump the fastest to fit by two orders
    # of magnitude (a logistic model against the stump was within what a loaded machine moves).
    (workdir / "space.yaml").write_text("models:\n  random_forest:\n    n_estimators: 300\n"
                                        "  decision_tree:\n    max_depth: 1\n")
    clock = Jump(600.0)
    reporter = EndsLate(clock, left=1.0)  # less than the end of the run needs: no room to fit
    budget = Budget(600.0, clock=clock, started=clock.started)
    summary = run_experiment(config(space="space.yaml", n_trials=4, timeout=600, ensemble_rounds=0,
                                    pruner="none"),
                             reporter, budget=budget)
    final = summary["final_fit"]
    best = re.match(r"the trial (\d+) needs ~", final["fallback"])  # the forest, the best trial
    assert best is not None and final["model"] != f"trial {best[1]}", final
    assert summary["best_params"]["model"] == "decision_tree"
    assert any(w.startswith(f"final model: the trial {best[1]} needs") for w in reporter.warnings)


def test_a_final_fit_within_its_time_is_the_planned_model(config, workdir):
    summary = run_experiment(config(n_trials=3, timeout=600, ensemble_rounds=0))
    final = summary["final_fit"]
    assert final["model"] == f"trial {summary['best_trial']}" and "fallback" not in final


def test_a_budget_spent_in_set_up_is_exit_2_naming_the_least_timeout(run_cli):
    # The budget counts from the process's start: a pytest process has spent 0.5 s long ago.
    result = run_cli("--timeout", "0.5")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --timeout 0.5: set-up took ")
    assert "the least that works here is --timeout " in lines[0]
