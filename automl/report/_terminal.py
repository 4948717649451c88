"""What the terminal shows: a progress bar during the search, then the leaderboard and test metrics.

Progress and notes go to stderr through one rich Console, the result to stdout, so stdout stays
clean for scripts; ``quiet`` silences everything but errors. Every text shown goes through
:func:`_text`: names come from the user's files (a column named ``ESC]0;title BEL`` retitles the
terminal, ``[/b]`` is Rich markup), so they are shown as plain text with control characters escaped.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn
from rich.table import Table
from rich.text import Text

from automl._terminal import printable
from automl.trial import describe_states


class _BudgetColumn(ProgressColumn):
    """``0:23 of 1:00``: time since the command started, against ``--timeout``."""

    def __init__(self, budget_s: float | None, spent_s: float):
        super().__init__()
        self.budget_s, self.spent_s = budget_s, spent_s

    def render(self, task) -> Text:
        used = self.spent_s + (task.elapsed or 0.0)
        text = _clock(used) + (f" of {_clock(self.budget_s)}" if self.budget_s else "")
        return Text(text, style="progress.elapsed")


def _text(text: str) -> Text:
    """``text`` as the terminal shows it: not markup, control characters escaped."""
    return Text(printable(str(text)))


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


class Reporter:
    """Progress of the search and the final report; a no-op when ``quiet``."""

    def __init__(self, quiet: bool = False, console: Console | None = None, out: Console | None = None):
        self.quiet = quiet
        self.console = console or Console(stderr=True)  # progress and notes
        self.out = out or Console()  # the result
        self._progress: Progress | None = None
        self._task = None
        self._best: float | None = None  # best CV score so far, kept here: no query per trial
        self._maximize: bool | None = None

    def info(self, message: str) -> None:
        if not self.quiet:
            self.console.print(_text(message), highlight=False, soft_wrap=True)

    def warn(self, message: str) -> None:
        if not self.quiet:
            self.console.print(Text.assemble(("warning:", "yellow"), " ", _text(message)), highlight=False,
                               soft_wrap=True)

    def start_search(self, n_trials: int | None, budget_s: float | None = None,
                     spent_s: float = 0.0) -> None:
        """Show the search's progress: trials done (of ``n_trials``), the best score, and the
        time used of the whole command's budget (``spent_s`` before the search began)."""
        if self.quiet:
            return
        self._progress = Progress(
            TextColumn("[bold]search"), BarColumn(), MofNCompleteColumn(),
            TextColumn("best {task.fields[best]}"), _BudgetColumn(budget_s, spent_s),
            console=self.console, transient=False,
        )
        self._task = self._progress.add_task("search", total=n_trials, best="-")
        self._progress.start()

    def on_trial(self, study, trial) -> None:
        """Optuna callback: advance the bar and show the best score so far."""
        if self._progress is None:
            return
        if self._maximize is None:  # first trial: the study's best so far (a resumed study has one)
            self._maximize = study.direction.name == "MAXIMIZE"
            try:
                self._best = study.best_value
            except ValueError:  # no complete trial yet
                pass
        elif trial.state.name == "COMPLETE":
            better = max if self._maximize else min
            self._best = trial.value if self._best is None else better(self._best, trial.value)
        best = f"{self._best:.4f}" if self._best is not None else "-"
        self._progress.update(self._task, advance=1, best=best)

    def set_progress(self, study) -> None:
        """Show the study's finished-trial count (trials run by other processes)."""
        if self._progress is None:
            return
        finished = sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))
        try:
            best = f"{study.best_value:.4f}"
        except ValueError:
            best = "-"
        self._progress.update(self._task, completed=finished, best=best)

    def end_search(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def final(self, summary: dict[str, Any], board) -> None:
        """The result, on stdout (``automl run > log.txt`` keeps it; progress stays on stderr)."""
        if self.quiet:
            return
        out = self.out
        table = Table(title=_text(f"top trials ({summary['metric']}, {summary['direction']})"))
        for col in ("trial", "family", "cv_score", "cv_std", "fit_time_s"):
            table.add_column(col, justify="right" if col != "family" else "left")
        for row in board.itertuples():
            table.add_row(str(row.trial), _text(row.family), f"{row.cv_score:.4f}",
                          f"{row.cv_std:.4f}" if row.cv_std == row.cv_std else "-",
                          f"{row.fit_time_s:.2f}")
        out.print(table)
        for line in _final_lines(summary):
            out.print(_text(line), highlight=False, soft_wrap=True)


def _final_lines(summary: dict[str, Any]) -> list[str]:
    lines = []
    selection = summary.get("selection") or {}
    if selection.get("rule") == "simplest":
        lines.append(f"selection (one-standard-error rule): {selection['reason']}")
    ensemble = summary.get("ensemble")
    if ensemble and ensemble["chosen"]:
        kept = ensemble.get("kept_members") or ensemble["members"]
        score = ensemble.get("kept_cv_score") or ensemble["cv_score"]
        members = ", ".join(f"{m['trial']} ({m['weight']:.2f})" for m in kept)
        lines.append(f"final model: ensemble of trials {members}; CV {score:.4f} against "
                     f"{ensemble['single_cv_score']:.4f} for the best trial alone")
    elif ensemble and ensemble.get("not_chosen"):
        lines.append(f"final model: the best trial, not the ensemble (CV {ensemble['cv_score']:.4f} against "
                     f"{ensemble['single_cv_score']:.4f}): {ensemble['not_chosen']}")
    metrics = ", ".join(f"{k}={v:.4f}" if v is not None else f"{k}=undefined"
                        for k, v in summary["test_metrics"].items())
    lines.append(f"test ({summary['test_rows']} rows, touched once): {metrics}")
    top = (summary.get("importance") or {}).get("top")
    if top:
        cols = ", ".join(f"{t['column']} ({t['importance']:+.4f} \u00b1 {t['std']:.4f})" for t in top)
        lines.append(f"strongest columns (drop in {summary['metric']} when shuffled): {cols}")
    refit = summary.get("refit_full") or {}
    if "skipped" not in refit and refit.get("rows"):
        lines.append(f"then refit on all {refit['rows']} rows (training and test): the saved model "
                     "learnt from the test rows too")
    lines.append(f"trials: {summary['n_trials']}  model: {summary['model_path']}")
    if summary.get("report"):
        lines.append(f"report: {summary['report']}")
    if summary.get("mlflow_run_id"):
        lines.append(f"MLflow run: {summary['mlflow_run_id']}")
    if summary.get("registered_model"):
        lines.append(f"registered: {summary['registered_model']} version {summary['registered_version']} "
                     f"({summary['model_uri']})")
    return lines


def print_studies(overviews, console: Console | None = None) -> None:
    """``automl show`` without a study: one line per study in the storage, on stdout."""
    console = console or Console()
    table = Table(title="studies")
    for col in ("study", "task", "metric", "trials", "best"):
        table.add_column(col, justify="right" if col in ("trials", "best") else "left")
    for o in overviews:
        table.add_row(_text(o.name), _text(o.task or "-"), _text(f"{o.metric or '-'} ({o.direction})"),
                      _text(describe_states(o.states)), _number(o.best_value, ".4f"))
    console.print(table)


def print_study(o, console: Console | None = None) -> None:
    """``automl show --study NAME``: state counts, why trials stopped, the leaderboard; stdout."""
    console = console or Console()
    console.print(_text(f"study {o.name}: {o.task or '?'} task, {o.metric or '?'} ({o.direction}); "
                        f"trials {describe_states(o.states)}"), soft_wrap=True)
    for reason, count in o.reasons.items():
        console.print(_text(f"  {count} x {reason}"), soft_wrap=True)
    if o.board.empty:
        console.print("no complete trial yet")
        return
    table = Table(title=f"top {len(o.board)} trials")
    for col in ("trial", "family", "cv_score", "cv_std", "fit_time_s", "params"):
        table.add_column(col, justify="left" if col in ("family", "params") else "right")
    for row in o.board.itertuples():
        table.add_row(str(row.trial), _text(row.family), _number(row.cv_score, ".4f"),
                      _number(row.cv_std, ".4f"), _number(row.fit_time_s, ".2f"), _text(_params(row.params)))
    console.print(table)


def _number(value, spec: str) -> str:
    return "-" if value is None or value != value else format(value, spec)


def _params(text: str) -> str:
    """``{"knn.n_neighbors": 18, "prep.scaler": "robust"}`` as ``n_neighbors=18 scaler=robust``."""
    import json

    return " ".join(f"{k.split('.')[-1]}={v:.4g}" if isinstance(v, float) else f"{k.split('.')[-1]}={v}"
                    for k, v in json.loads(text).items())


