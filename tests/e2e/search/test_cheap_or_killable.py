"""A space no model of which fits its time, run from the command line as a user starts it."""

from __future__ import annotations

import json
import subprocess
import sys


def test_an_absurd_space_on_a_tiny_table_ends_with_the_model_that_fits(workdir):
    """The command-line run as a user starts it; the outer timeout only guards the test."""
    (workdir / "absurd.yaml").write_text(
        "models:\n  logistic:\n    C: 1.0\n  hist_gradient_boosting:\n    max_iter: 100000000\n"
        "    early_stopping: false\n")
    done = subprocess.run([sys.executable, "-m", "automl", "run", "--data", "demo:iris", "--space",
                           "absurd.yaml", "--n-trials", "2", "--trial-timeout", "1", "--cv", "2",
                           "--n-jobs", "1", "--no-tracking", "--quiet", "--ensemble-rounds", "0",
                           "--summary-json", "s.json"], cwd=workdir, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads((workdir / "s.json").read_text())
    assert summary["best_params"]["model"] == "logistic"
    assert summary["n_trials"] == {"COMPLETE": 1, "PRUNED": 1}
