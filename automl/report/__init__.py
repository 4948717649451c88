"""What a person reads in the terminal: a run's progress, leaderboard and test metrics
(``Reporter``), the run summary (``Summary``), and ``automl show``: the studies in a storage and one study's overview, read from
Optuna's storage alone."""

from ._studies import StudyOverview, list_studies, open_storage, show_study
from ._summary import Summary
from ._terminal import Reporter, print_studies, print_study

__all__ = ["Reporter", "StudyOverview", "Summary", "list_studies", "open_storage", "print_studies", "print_study",
           "show_study"]
