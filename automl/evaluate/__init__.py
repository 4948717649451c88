"""The final model: the best trial or an ensemble of the best, refitted afresh on every training
row, the one evaluation on the test rows, what the model relies on (permutation importance) and,
if asked, a refit on every row."""

from ._ensemble import ROUNDS, EnsembleChoice, build_ensemble, score_subsets, score_weights, select_ensemble
from ._explain import Importance, permutation_importance
from ._explain import full_size as explanation_size
from ._explained import Explanation, explain
from ._in_time import FinalFit, candidates, fit_in_time
from ._refit import refit, refit_ensemble, refit_on_all_rows, unfitted, unfitted_ensemble
from ._select import RULES, Selection, pareto, select
from ._shap import ShapResult, shap_importance
from ._shap import available as shap_available
from ._shap import full_size as shap_size
from ._test_once import test_once

__all__ = ["ROUNDS", "RULES", "EnsembleChoice", "Explanation", "FinalFit", "Importance", "Selection", "ShapResult",
           "build_ensemble", "candidates", "explain", "explanation_size", "fit_in_time",
           "pareto", "permutation_importance", "refit", "refit_ensemble", "refit_on_all_rows", "score_subsets", "score_weights",
           "select", "select_ensemble", "shap_available", "shap_size", "shap_importance", "test_once",
           "unfitted", "unfitted_ensemble"]
