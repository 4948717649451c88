"""Lock away the test rows, then define the validation folds on the training part only
(``_split``); ``prepare_data`` does it for an experiment's table and keeps what the search and the
end of the run read about it (``Prepared``)."""

from ._prepared import Prepared, Unseen, prepare_data
from ._split import Split, choose_folds, cv_folds, describe_folds, given_test, holdout

__all__ = ["Prepared", "Split", "Unseen", "choose_folds", "cv_folds", "describe_folds", "given_test", "holdout",
           "prepare_data"]
