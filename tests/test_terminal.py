"""automl._terminal: what reaches the terminal is text it shows, never acts on."""

from __future__ import annotations

import warnings

import pytest

from automl._terminal import one_line, plain_warnings, printable

# Every character a terminal may act on: C0, DEL, C1, bidirectional controls, line separators.
CONTROLS = [chr(c) for c in [*range(0x20), *range(0x7f, 0xa0)]] + list("\u061c\u200e\u200f\u2028\u2029"
                                                                         "\u202a\u202b\u202c\u202d\u202e"
                                                                         "\u2066\u2067\u2068\u2069")


@pytest.mark.parametrize("char", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_every_control_character_is_escaped(char):
    text = printable(f"a{char}b")
    assert text.isprintable() and text.startswith("a\\") and text.endswith("b")


def test_text_without_controls_is_unchanged():
    for text in ("plain", "é ü 中文 🙂", "[/b] markup", "tab\\tliteral", "x\u200dy"):  # ZWJ joins emoji
        assert printable(text) == text


def test_escapes_are_visible_and_newlines_kept_only_when_asked():
    assert printable("\x1b]0;title\x07\r\n") == "\\x1b]0;title\\x07\\r\\n"
    assert printable("a\nb\x1b", newlines=True) == "a\nb\\x1b"
    assert printable("bad\udcff name") == "bad\\udcff name"  # a file name that is not UTF-8


def test_one_line_is_one_printable_line_of_bounded_length():
    line = one_line("x\n" * 10_000, limit=100)
    assert "\n" not in line and len(line) < 200 and "cut at 100" in line


def test_warnings_are_shown_with_controls_escaped():
    shown = []
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, category, *rest: shown.append((str(message), category))
        with plain_warnings():
            warnings.warn("column \x1b]0;pwned\x07 is odd", UserWarning)
            warnings.warn("column plain is odd", UserWarning)
    assert shown == [("column \\x1b]0;pwned\\x07 is odd", UserWarning), ("column plain is odd", UserWarning)]
