"""One exception hierarchy for the whole package, and the one way to show an exception in a line.

Library code raises these; only the CLI turns them into exit codes. Every message is one line that
names what was wrong, where, and what is allowed.
"""

from __future__ import annotations

import reprlib
from typing import Any

class _Bounded(reprlib.Repr):
    """A repr that walks at most a few levels and items, whatever the value holds: a YAML alias
    bomb (nine levels of nine shared references) is gigabytes as ``repr()``, a few dozen
    characters here."""

    def __init__(self, limit: int):
        super().__init__()
        self.maxlevel, self.maxdict = 3, 4
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = self.maxdeque = self.maxarray = 6
        self.maxstring = self.maxother = self.maxlong = limit

    def repr1(self, x: Any, level: int) -> str:
        # By kind, not by type name, so a subclass (numpy's str_, a YAML library's list) is not
        # handed to its own, unbounded repr.
        for kind in (bool, int, float, str, bytes, list, tuple, dict, set, frozenset):
            if isinstance(x, kind):
                return getattr(self, f"repr_{kind.__name__}", self.repr_instance)(x, level)
        if hasattr(x, "item") and getattr(x, "ndim", None) == 0:  # a NumPy scalar: 7, not np.int64(7)
            return self.repr1(x.item(), level)
        return self.repr_instance(x, level)

    def repr_bool(self, x: bool, level: int) -> str:
        return repr(bool(x))

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 4 * self.maxlong:  # repr() of a huge int is slow, then refused
            return f"<an integer of {x.bit_length()} bits>"
        return super().repr_int(int(x), level)

    def repr_float(self, x: float, level: int) -> str:
        return repr(float(x))

    def repr_str(self, x: str, level: int) -> str:
        return super().repr_str(str(x), level)

    def repr_bytes(self, x: bytes, level: int) -> str:
        return self.repr_instance(bytes(x[:self.maxstring]), level)


def shown(value: Any, limit: int = 60) -> str:
    """``value`` as a message quotes it: its repr, at most ``limit`` characters (about), however
    large or nested it is; never longer to build than to show. Control characters come out
    escaped, as in ``repr``.

    >>> shown("x" * 1000, limit=12)
    "'xxx...xxxx'"
    >>> shown([[1, 2] * 50] * 50, limit=40)
    '[[1, 2, 1, 2, 1, 2, ...], [1, 2, 1, 2...'
    """
    text = _Bounded(limit).repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def named(key: Any, limit: int = 60) -> str:
    """A name the user gave (a YAML key, a column) as a message writes it in a path such as
    ``models.<key>``: a string as it is, anything else as :func:`shown`; cut at ``limit``.

    >>> named("n_estimators"), named(3), named("k" * 100, limit=8)
    ('n_estimators', '3', 'kkkkk...')
    """
    text = key if isinstance(key, str) else shown(key, limit)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def first_line(exc: BaseException, limit: int = 500) -> str:
    """The first line of ``exc``'s message, at most ``limit`` characters ("" when it has none).

    Library messages (pandas, MLflow, SQLAlchemy) often span many lines; ours are one line each.
    """
    lines = str(exc).strip().splitlines()
    return lines[0][:limit] if lines else ""


def describe(exc: BaseException, limit: int = 500) -> str:
    """``Type: first line`` of an exception, as trial errors and failures are recorded."""
    return f"{type(exc).__name__}: {first_line(exc, limit)}"


def _chain(exc: BaseException):
    """``exc`` and what it was raised from or while handling, oldest last (each once)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def disk_full(exc: BaseException) -> BaseException | None:
    """The exception in ``exc``'s chain that says the disk is full (an OSError's ENOSPC or
    EDQUOT, or SQLite's "database or disk is full"), else None: libraries wrap it (Optuna's
    storage raised AssertionError "Should not reach." over it)."""
    import errno

    for link in _chain(exc):
        if isinstance(link, OSError) and link.errno in (errno.ENOSPC, errno.EDQUOT):
            return link
        if "database or disk is full" in str(link) or "No space left on device" in str(link):
            return link
    return None


def with_cause(exc: BaseException) -> str:
    """``Type: first line`` of ``exc``, and of the first exception of its chain if another."""
    first = list(_chain(exc))[-1]
    return describe(exc) if first is exc else f"{describe(exc)}, from {describe(first, 200)}"


class AutomlError(Exception):
    """Base of every error automl raises on purpose. Exit code 1 unless a subclass says otherwise."""

    exit_code = 1


class UserError(AutomlError, ValueError):
    """The caller's input is wrong (flag, config, space, data). Exit code 2."""

    exit_code = 2


class ConfigError(UserError):
    """The experiment configuration or a command-line flag is invalid."""


class SpaceError(UserError):
    """A search-space file is invalid. ``problems`` lists every ``path: message`` found."""

    shown_problems = 5  # in the one-line message; ``automl validate-space`` lists every one

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = list(problems)
        more = len(self.problems) - self.shown_problems
        rest = f"; and {more} more (automl validate-space lists each)" if more > 0 else ""
        super().__init__(f"{source}: " + "; ".join(self.problems[:self.shown_problems]) + rest)


class UnknownFamilyError(ConfigError, KeyError):
    """A model family is not in the allow-list, or has no estimator for the task.

    Also a ``KeyError``: it is a failed lookup in the registry.
    """

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DataError(UserError):
    """The data cannot be used as given (missing file, bad target, too few rows...)."""


class MixedOffsetsError(DataError):
    """Times in one column written with different UTC offsets."""


class StudyMismatchError(UserError):
    """An existing study was created for other data or another metric than this run asks for."""


class SearchFailedError(AutomlError):
    """Every trial of the search failed, so there is no model to refit."""


class BudgetTooSmallError(ConfigError):
    """``--timeout`` was spent before a first trial could start: the message names the least
    budget that leaves room for one."""


class ModelLoadError(UserError):
    """A model path or URI cannot be loaded."""


class SigningKeyError(ConfigError):
    """The key that signs automl's model files is missing, short, or readable by others."""


class TrackingError(AutomlError):
    """MLflow could not record the run (the search results are still in the Optuna storage)."""


class WriterGoneError(TrackingError):
    """The MLflow writer process exited without being asked to (killed, crashed)."""

    def __init__(self):
        super().__init__("the MLflow writer process stopped unexpectedly "
                         "(rerun with AUTOML_DEBUG=1 to see its output)")


class DataRefusedError(AutomlError):
    """New data no longer looks like what the champion was trained on. Exit code 3."""

    exit_code = 3


class LockHeldError(AutomlError):
    """Another retrain of the same model holds the lock. Exit code 75 (EX_TEMPFAIL: try later)."""

    exit_code = 75


class GateError(AutomlError):
    """The retrain gate could not score the champion for a reason other than missing columns:
    the run fails (exit 1) and the champion alias stays where it was."""


class ScoreError(AutomlError, ValueError):
    """A fold's score is undefined or not finite: the trial fails, the search goes on."""


class TimeLimitError(AutomlError):
    """A trial (or one of its folds) would run past its deadline: it is stopped, the search goes on."""


class FoldMemoryError(AutomlError, MemoryError):
    """A fold needed more memory than ``trial_memory_mb`` allows: its trial fails alone."""


class DivergenceError(AutomlError, ArithmeticError):
    """A gradient-descent fit's loss became NaN/inf or exploded: the learning rate is too large.

    Raised by ``fit`` instead of returning a model that predicts NaN, so a search trial that
    draws a too large learning rate fails (or is pruned) rather than scoring garbage.
    """
