"""After the search: the final steps over one :class:`Outcome`, each a small function that sets
its fields (``_steps``): the selection rule, the ensemble or the chosen trial (``_choose``), its fit
in time (``_final_fit``), the one test, the explanation, the refit on every row, the schema, the
saved model, leaderboard, plots, the retrain gate, card, report and the MLflow log; then the
summary. They read the run through a :class:`FinishContext`."""

from ._context import FinishContext
from ._outcome import Outcome
from ._steps import FINAL_STEPS, conclude, report

__all__ = ["FINAL_STEPS", "FinishContext", "Outcome", "conclude", "report"]
