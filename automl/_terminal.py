"""What reaches the terminal: names and values from the user's files shown, never acted on.

A column name or class label holding ``ESC[2J`` would clear the screen, ``ESC]0;...BEL`` retitle
the window, ``\\r`` rewrite the line, U+202E show it reversed; a newline would split a one-line
error. Everything automl prints goes through :func:`printable`: ``report.py`` for its output,
``cli.py`` for its own lines and library warnings (:func:`plain_warnings`).
"""

from __future__ import annotations

import re
import sys
import warnings
from contextlib import contextmanager

# What a terminal acts on rather than shows: C0 and C1 controls (escape sequences, carriage
# return, bell, backspace), DEL, bidirectional overrides and isolates (text shown in another order
# than it is stored), line and paragraph separators, and lone surrogates (a file name that is not
# UTF-8, which would fail to print).
_CONTROLS = r"\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE = re.compile(rf"[\x00-\x1f{_CONTROLS}]")
_UNSAFE_BUT_NEWLINE = re.compile(rf"[\x00-\x09\x0b-\x1f{_CONTROLS}]")


def printable(text: str, newlines: bool = False) -> str:
    """``text`` as a terminal may show it: every control character written as its escape
    (``\\x1b``, ``\\r``, ``\\u202e``), so a column name cannot colour, clear or retitle the
    terminal, reorder or rewrite a line, or break a one-line message. ``newlines`` keeps ``\\n``
    (a traceback).

    >>> printable("red\\x1b[31m\\nx")
    'red\\\\x1b[31m\\\\nx'
    """
    pattern = _UNSAFE_BUT_NEWLINE if newlines else _UNSAFE
    return pattern.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)


def one_line(message: str, limit: int = 1000) -> str:
    """``message`` as one printable line of at most about ``limit`` characters."""
    text = printable(message)
    if len(text) > limit:
        text = f"{text[:limit]}... (cut at {limit} of {len(text)} characters; --debug shows all)"
    return text


@contextmanager
def plain_warnings():
    """Library warnings (they quote column names too) shown with control characters escaped, by
    whatever shows them otherwise (stderr; a test run's recorder)."""
    def show(message, category, filename, lineno, file=None, line=None):
        text = str(message)
        if printable(text, newlines=True) != text:
            message = printable(text, newlines=True)
        before(message, category, printable(str(filename)), lineno, file, line)

    before, warnings.showwarning = warnings.showwarning, show
    try:
        yield
    finally:
        warnings.showwarning = before
