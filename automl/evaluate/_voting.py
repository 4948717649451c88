"""The ensemble's estimators: scikit-learn's soft voting, saved without a second copy of its
members.

A fitted ``Voting*`` holds every member twice, in ``estimators_`` and in ``named_estimators_``.
pickle and joblib share the objects, skops writes them twice, and skops' time grows with the
square of the objects written: a 5-member boosting ensemble took 24 s to log instead of 10. The
named view is rebuilt when the model is loaded.
"""

from __future__ import annotations

from sklearn.ensemble import VotingClassifier, VotingRegressor
from sklearn.utils import Bunch

_NAMED = "named_estimators_"


class _CompactState:
    def __getstate__(self):
        state = super().__getstate__()
        state.pop(_NAMED, None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "estimators_" in state:
            fitted = iter(self.estimators_)
            self.named_estimators_ = Bunch(**{name: est if est == "drop" else next(fitted)
                                              for name, est in self.estimators})


class EnsembleClassifier(_CompactState, VotingClassifier):
    """Soft voting over the members' class probabilities, with the selection's weights."""


class EnsembleRegressor(_CompactState, VotingRegressor):
    """The members' predictions averaged with the selection's weights."""
