"""The final model: the best trial or an ensemble of the best, refitted afresh on every training
row, and the one evaluation on the test rows."""

from ._ensemble import ROUNDS, EnsembleChoice, build_ensemble, score_weights, select_ensemble
from ._refit import refit, refit_ensemble
from ._test_once import test_once

__all__ = ["ROUNDS", "EnsembleChoice", "build_ensemble", "refit", "refit_ensemble",
           "score_weights", "select_ensemble", "test_once"]
