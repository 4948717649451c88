"""The ``automl`` command line. Each command is a thin wrapper over an importable function.

Only this module turns errors into exit codes: 0 success, 2 user error (one line on stderr, no
traceback unless ``--debug``), 1 anything unexpected, 130 interrupted. Every line it prints goes
through :func:`_say` (and warnings through ``plain_warnings``): control characters from names
and values come out escaped, never acted on by the terminal.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from contextlib import contextmanager
from typing import Optional

import typer

from automl._stop import interrupt, quiet_pool_debris, stop_before_start

app = typer.Typer(
    name="automl", add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help="AutoML experiments: Optuna search over scikit-learn pipelines, tracked in MLflow.",
)

DebugOpt = typer.Option(False, "--debug", help="Show full tracebacks on errors.")
# Options several commands share, defined once.
SummaryOpt = typer.Option(None, "--summary-json", help="Write the run summary here.")
TrackingUriOpt = typer.Option(None, "--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else SQLite under mlruns/).")
NoTrackingOpt = typer.Option(False, "--no-tracking", help="Do not log to MLflow.")
RegisterOpt = typer.Option(None, "--register-model", help="Register the model under this name.")
WorkdirOpt = typer.Option(None, "--workdir", help="Folder whose mlruns/ receives output.")
QuietOpt = typer.Option(False, "--quiet", help="Print only errors.")


def _say(message: str, err: bool = True) -> None:
    """Print one line: passwords in URLs masked, control characters escaped, length capped."""
    from automl._terminal import one_line, printable
    from automl.config import mask_url

    # Escaped before masking too: a password is then never split by a newline it holds.
    typer.echo(one_line(mask_url(printable(message))), err=err)


@contextmanager
def _errors(debug: bool):
    """Map exceptions to one-line messages and exit codes."""
    from automl._terminal import plain_warnings
    from automl.config import mask_url
    from automl.errors import AutomlError, describe, disk_full, with_cause

    debug = debug or os.environ.get("AUTOML_DEBUG") == "1"
    _Stop.debug = debug
    try:
        with plain_warnings():
            yield
    except typer.Exit:
        raise
    except AutomlError as exc:
        if debug:
            _print_traceback(mask_url)
        _say(f"error: {exc}")
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        _say("interrupted: open runs were closed as KILLED; rerun to resume the study")
        raise typer.Exit(130) from None
    except Exception as exc:
        if debug:
            _print_traceback(mask_url)
        full = disk_full(exc)
        if full is not None:
            _say(f"error: no space left on the disk ({describe(full)}); free some and rerun: the "
                 "study resumes, and trials left running are marked failed")
        else:
            _say(f"unexpected error: {with_cause(exc)} (rerun with --debug for the traceback)")
        raise typer.Exit(1) from None
    finally:
        _done_with_signals()


def _print_traceback(mask) -> None:
    # A traceback quotes arguments and messages: storage and tracking URLs with their passwords.
    from automl._terminal import printable

    sys.stderr.write(printable(mask(traceback.format_exc()), newlines=True))


class _Stop:
    """What Ctrl-C (SIGINT) and SIGTERM have done so far in this process."""
    raised = False  # a KeyboardInterrupt is on its way up (one stop; a second must not cut its cleanup)
    lost = False  # ... it was dropped in a callback: SIGTERM is sent again until one lands
    seen = False  # a stop came while the command worked
    late = False  # it came after the command's work, when there was nothing left to stop
    debug = False


def _signals():
    return (signal.SIGINT, signal.SIGTERM)


def _raise_interrupt(signum, frame):
    _Stop.seen = True
    if not _Stop.debug:
        quiet_pool_debris()
    if not _Stop.raised:
        _Stop.raised, _Stop.lost = True, False
        interrupt()  # raises KeyboardInterrupt, now or when a call that must not be cut returns


def _note_late_stop(signum, frame):
    _Stop.late = True


def _resend_while_lost() -> None:
    import time

    while _Stop.lost:
        time.sleep(0.05)  # outside the callback by then, almost always; if not, it comes back
        if _Stop.lost:
            os.kill(os.getpid(), signal.SIGTERM)


def _keep_lost_stop(hook_args) -> None:
    """A stop whose handler ran inside a garbage-collection callback or a ``__del__`` raised
    there, where Python can only print the exception and drop it: the run went on and exited 0.
    Send it again until it lands in the command's own code, which closes what is open.

    Once stopped, what finalizers raise is the stop's own debris (a database connection the
    interrupt cut mid-transaction, closed later by the garbage collector): not shown as a
    traceback unless ``--debug``."""
    import threading

    if issubclass(hook_args.exc_type, KeyboardInterrupt) and _Stop.raised:
        if not _Stop.lost:
            _Stop.lost = True
            threading.Thread(target=_resend_while_lost, daemon=True).start()
        # Last: a stop handled before this line, still inside this hook, did nothing.
        _Stop.raised = False
        return
    if _Stop.seen and not _Stop.debug:
        return
    sys.__unraisablehook__(hook_args)


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM (systemd stop, kill) stop the command the same way, once: open runs
    are closed as KILLED, and a second signal does not cut that short (SIGKILL does)."""
    for signum in _signals():
        signal.signal(signum, _raise_interrupt)
    sys.unraisablehook = _keep_lost_stop


def _done_with_signals() -> None:
    """The command's work is over (done, failed or stopped): a stop from now on has nothing
    left to close; it is noted, and makes the exit code 130 (see ``_exit_code``)."""
    for signum in _signals():
        if signal.getsignal(signum) is _raise_interrupt:
            signal.signal(signum, _note_late_stop)


def _exit_code(code: int) -> int:
    """Whoever stopped the process while it lived gets 130, even when the stop came after the
    work was done; the signals are blocked from here to the exit, so none is missed between."""
    if signal.getsignal(signal.SIGTERM) is not _note_late_stop:
        return code
    signal.pthread_sigmask(signal.SIG_BLOCK, set(_signals()))
    pending = set(_signals()) & signal.sigpending()
    if code == 0 and (_Stop.late or _Stop.raised or pending):
        _say("stopped after the command had finished: its results are complete")
        return 130
    return code


@app.command()
def run(
    config: Optional[str] = typer.Option(None, "--config", help="Experiment YAML; flags override it."),
    data: Optional[str] = typer.Option(None, "--data", help="CSV/Parquet path or demo:NAME (breast_cancer, iris, wine, digits, diabetes)."),
    target: Optional[str] = typer.Option(None, "--target", help="Target column (default: 'target')."),
    test_data: Optional[str] = typer.Option(None, "--test-data", help="Separate test file instead of a holdout split."),
    task: Optional[str] = typer.Option(None, "--task", help="auto|binary|multiclass|regression."),
    metric: Optional[str] = typer.Option(None, "--metric", help="Metric to optimise (default per task)."),
    space: Optional[str] = typer.Option(None, "--space", help="Search-space YAML (bare names: search_spaces/)."),
    n_trials: Optional[int] = typer.Option(None, "--n-trials", help="Trials to add to the study."),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Seconds for the whole command, start to exit: search, final model, test and logging."),
    trial_timeout: Optional[float] = typer.Option(None, "--trial-timeout", help="Seconds one trial may take at most (stopped and recorded past it)."),
    trial_memory_mb: Optional[int] = typer.Option(None, "--trial-memory-mb", help="Memory per fold process in MB; a fold needing more fails its trial alone."),
    ensemble_rounds: Optional[int] = typer.Option(None, "--ensemble-rounds", help="Rounds of greedy ensemble selection over the trials (0: keep the single best)."),
    select: Optional[str] = typer.Option(None, "--select", help="best (default) | simplest: the cheapest trial whose CV score is within one standard error of the best (no ensemble)."),
    refit_full: Optional[bool] = typer.Option(None, "--refit-full/--no-refit-full", help="After the one test, refit the final model on the training and test rows together (the test score is the smaller model's). Default: on, but with --test-data."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed for the split, folds, sampler and models."),
    cv: Optional[int] = typer.Option(None, "--cv", help="Number of CV folds (default: chosen from the table's size and the budget; 1 = holdout)."),
    n_jobs: Optional[int] = typer.Option(None, "--n-jobs", help="Parallel fold processes (-1: all cores)."),
    sampler: Optional[str] = typer.Option(None, "--sampler", help="tpe | tpe_grouped (one TPE model per family's own parameters)."),
    storage: Optional[str] = typer.Option(None, "--storage", help="Optuna storage URL (default: SQLite under mlruns/)."),
    study_name: Optional[str] = typer.Option(None, "--study-name", help="Study to create or resume."),
    summary_json: Optional[str] = SummaryOpt,
    tracking_uri: Optional[str] = TrackingUriOpt,
    experiment: Optional[str] = typer.Option(None, "--experiment", help="MLflow experiment (default: the study name)."),
    no_tracking: bool = NoTrackingOpt,
    register_model: Optional[str] = RegisterOpt,
    workers: Optional[int] = typer.Option(None, "--workers", help="Worker processes sharing the study on this host (journal storage)."),
    workdir: Optional[str] = WorkdirOpt,
    quiet: bool = QuietOpt,
    debug: bool = DebugOpt,
):
    """Search for the best model for a table and test it once on held-out rows."""
    options = {k: v for k, v in locals().items() if k not in ("config", "debug")}
    with _errors(debug):
        from automl.run import run_experiment

        cfg = _config(config, options)
        run_experiment(cfg, budget=_budget(cfg))


def _config(config: str | None, options: dict):
    """The experiment config from the file and the flags given (None = not given)."""
    from automl.config import load_config

    options = dict(options)
    options["tracking_uri"] = options["tracking_uri"] or os.environ.get("MLFLOW_TRACKING_URI")
    # A storage URL with a password is better passed in the environment than on the command line.
    options["storage"] = options["storage"] or os.environ.get("AUTOML_STORAGE")
    options["quiet"] = options["quiet"] or None
    options["tracking"] = False if options.pop("no_tracking") else None
    _stop_on_signals()
    return load_config(config, options)


def _budget(cfg):
    """``--timeout`` counts from the moment this process started, not from when we got here."""
    from automl.plan import Budget, process_started

    return Budget(cfg.timeout, cfg.trial_timeout, started=process_started())


def _with_run_options(fn):
    """Give ``fn`` every option of ``run`` (before its own), so both commands stay in step."""
    import inspect
    import typing

    def resolved(f):  # typer reads annotations from the signature; this module's are strings
        hints = typing.get_type_hints(f)
        return [p.replace(annotation=hints.get(p.name, p.annotation))
                for p in inspect.signature(f).parameters.values() if p.kind != p.VAR_KEYWORD]

    shared = [p for p in resolved(run) if p.name != "debug"]
    fn.__signature__ = inspect.Signature(shared + resolved(fn))
    return fn


@app.command()
@_with_run_options
def retrain(
    allow_schema_change: bool = typer.Option(False, "--allow-schema-change", help="Accept data whose schema differs from the champion's."),
    min_improvement: float = typer.Option(0.0, "--min-improvement", help="Required gain over the champion on the optimised metric, on test rows neither model learnt from (0: not worse)."),
    confidence: float = typer.Option(0.95, "--confidence", help="Promote only when the whole paired-bootstrap interval of the gain at this confidence is at least --min-improvement."),
    min_unseen_rows: int = typer.Option(50, "--min-unseen-rows", help="Fewest test rows unseen by both models to compare on; with fewer, --too-few-unseen decides: keep (the champion stays) or cv (compare CV scores)."),
    too_few_unseen: str = typer.Option("keep", "--too-few-unseen", help="keep or cv (see --min-unseen-rows)."),
    debug: bool = DebugOpt,
    **options,
):
    """Retrain unattended: check new data, warm-start, promote the challenger only if it wins.

    Exit codes: 0 promoted or kept the champion (the summary says which), 2 user error,
    3 data refused, 75 another retrain holds the lock, 1 unexpected.
    """
    config = options.pop("config")
    with _errors(debug):
        from automl.retrain import Rules
        from automl.run import retrain as run_retrain

        cfg = _config(config, options)
        rules = Rules(min_improvement, confidence, min_unseen_rows, too_few_unseen)
        summary = run_retrain(cfg, allow_schema_change, rules, budget=_budget(cfg))
        if not options.get("quiet"):
            _say(f"{summary['decision']}: {summary['reason']}")


@app.command()
@_with_run_options
def worker(debug: bool = DebugOpt, **options):
    """Join a study (from any machine) and run trials until its global budget is spent.

    Use the same experiment config on every host, the shared --storage (PostgreSQL across hosts;
    or AUTOML_STORAGE) and --study-name, and a shared --tracking-uri.
    """
    config = options.pop("config")
    with _errors(debug):
        from automl.report import Reporter
        from automl.run import worker_main

        cfg = _config(config, options)
        worker_main(cfg, Reporter(cfg.quiet))


@app.command()
def finalize(
    storage: Optional[str] = typer.Option(None, "--storage", help="The study's Optuna storage (or AUTOML_STORAGE)."),
    study_name: str = typer.Option(..., "--study-name", help="The study to finalize."),
    tracking_uri: Optional[str] = TrackingUriOpt,
    register_model: Optional[str] = RegisterOpt,
    data: Optional[str] = typer.Option(None, "--data", help="The data, if its path differs on this host."),
    summary_json: Optional[str] = SummaryOpt,
    workdir: Optional[str] = WorkdirOpt,
    no_tracking: bool = NoTrackingOpt,
    quiet: bool = QuietOpt,
    debug: bool = DebugOpt,
):
    """Refit a (multi-worker) study's best trial, test it once, log and register it."""
    with _errors(debug):
        from automl.errors import ConfigError
        from automl.report import Reporter
        from automl.run import finalize as run_finalize

        storage = storage or os.environ.get("AUTOML_STORAGE")
        if not storage:
            raise ConfigError("finalize: --storage (or AUTOML_STORAGE) is required")
        overrides = dict(tracking_uri=tracking_uri or os.environ.get("MLFLOW_TRACKING_URI"),
                         register_model=register_model, data=data, summary_json=summary_json,
                         workdir=workdir, quiet=quiet or None, tracking=False if no_tracking else None)
        _stop_on_signals()
        run_finalize(storage, study_name, overrides, Reporter(quiet))


@app.command()
def predict(
    model: str = typer.Option(..., "--model", help="model.joblib path/folder or MLflow URI (models:/NAME@ALIAS, runs:/ID/model)."),
    data: str = typer.Option(..., "--data", help="CSV/Parquet with the feature columns."),
    output: str = typer.Option(..., "--output", help="Where to write predictions (CSV or .parquet)."),
    proba: bool = typer.Option(False, "--proba", help="One probability column per class."),
    trust_model: bool = typer.Option(False, "--trust-model", help="Load a model automl did not write (or whose signature fails). A pickle runs code when loaded: only for files you trust."),
    tracking_uri: Optional[str] = typer.Option(None, "--tracking-uri", help="Where MLflow URIs live (default: $MLFLOW_TRACKING_URI, else the embedded store)."),
    debug: bool = DebugOpt,
):
    """Predict one row per input row, in the input's order."""
    with _errors(debug):
        from automl.predict import predict_file

        rows = predict_file(model, data, output, proba, tracking_uri, trust=trust_model)
        _say(f"wrote {rows} predictions to {output}")


@app.command()
def show(
    study: Optional[str] = typer.Option(None, "--study", help="The study to show (default: list every study)."),
    storage: Optional[str] = typer.Option(None, "--storage", help="Optuna storage URL (default: AUTOML_STORAGE, else SQLite under the work folder's mlruns/)."),
    top: int = typer.Option(10, "--top", min=1, help="Trials in the leaderboard."),
    workdir: Optional[str] = WorkdirOpt,
    debug: bool = DebugOpt,
):
    """A study's leaderboard and trial states from its Optuna storage, without MLflow."""
    with _errors(debug):
        from automl.config import ExperimentConfig, resolve_workdir
        from automl.report import list_studies, open_storage, print_studies, print_study, show_study
        from automl.study import default_storage

        url = storage or os.environ.get("AUTOML_STORAGE") or \
            default_storage(resolve_workdir(ExperimentConfig(workdir=workdir)), create=False)
        handle = open_storage(url)
        if study is None:
            print_studies(list_studies(handle))
        else:
            print_study(show_study(handle, study, top))


@app.command("validate-space")
def validate_space(file: str = typer.Argument(..., help="Search-space YAML file."), debug: bool = DebugOpt):
    """Check a search-space file and report every problem with its YAML path."""
    with _errors(debug):
        from automl.space import resolve_space_path, validate_file

        problems = validate_file(file)
        path = resolve_space_path(file)
        for problem in problems:
            _say(f"{path}: {problem}")
        if problems:
            raise typer.Exit(2)
        _say(f"{path}: ok", err=False)


def main() -> None:
    """The console script. Exits without the interpreter's teardown of every imported library
    (half a second of the user's ``--timeout``): files are closed and runs ended by then."""
    stop_before_start()
    try:
        app(prog_name="automl")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    code = _exit_code(code)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
