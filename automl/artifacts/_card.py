"""The model card: what a registered model is for, what it learnt from, how well it does, how
it was chosen and where it should not be trusted (Mitchell et al., "Model Cards for Model
Reporting", 2019), as Markdown for the model version's description and ``model_card.md``.

Every statement is read from the run; nothing is filled in by hand. Every name and value that
comes from the user's data or flags goes in through :func:`quote` (a code span) or :func:`plain`
(text): a column named ``a`\n## b`` stays one name on one line, never markup.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from automl.data import Dataset
from automl.trial import describe_states
from automl.split import Split

FEW_ROWS = 30  # a class with fewer training rows than this is learnt from few examples
SMALL_TEST = 200  # below this many test rows, the test score moves a lot from sample to sample
RANGES_SHOWN = 12  # numeric columns whose training range the card lists
QUOTE_CHARS = 200  # longer names are cut: a card lists dozens of them


def quote(value: Any) -> str:
    """``value`` as an inline code span that nothing in it can end: fenced by one backtick more
    than its longest run of backticks (CommonMark), line breaks and other control characters
    shown as escapes. Renderers escape ``<>&`` inside a code span themselves.

    >>> print(quote("a`b"), quote("`x"), quote("<b>"))
    ``a`b`` `` `x `` `<b>`
    """
    text = _visible(value) or " "  # "``" would be two backticks, not an empty span
    fence = "`" * (1 + max((len(run) for run in re.findall("`+", text)), default=0))
    # A space on both sides keeps a backtick at either end from joining the fence; CommonMark
    # strips exactly one such space from each side.
    spaced = text == "" or text[0] in "` " or text[-1] in "` "
    pad = " " if spaced and text.strip(" ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def plain(value: Any) -> str:
    """``value`` as Markdown text that renders as written: HTML's ``<>&`` as entities, the
    characters Markdown reads as markup backslash-escaped, control characters as escapes."""
    text = _visible(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]#|~])", r"\\\1", text)


def _visible(value: Any) -> str:
    text = str(value)
    if len(text) > QUOTE_CHARS:
        text = f"{text[:QUOTE_CHARS]}... (+{len(text) - QUOTE_CHARS} characters)"
    # Line and paragraph breaks, terminal escapes, bidirectional overrides, zero-width marks.
    return "".join(_escape(c) if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)


def _escape(char: str) -> str:
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    code = ord(char)
    return named.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def model_card(facts: dict[str, Any], data: Dataset, split: Split) -> str:
    """Markdown from the run's ``facts`` (name, metric, scores, selection, importance...)."""
    sections = [_head(facts, data), _use(facts, data), _training(facts, data, split), _performance(facts),
                _choice(facts), _features(facts), _limits(facts, data, split)]
    return "\n\n".join(s for s in sections if s).rstrip() + "\n"


def _head(facts, data) -> str:
    return (f"# Model card: {plain(facts['name'])}\n\n"
            f"{data.task} model for {quote(data.y.name)}, made by automl {facts['version']} "
            f"(study {quote(facts['study'])}, seed {facts['seed']}).")


def _use(facts, data) -> str:
    if data.task == "regression":
        what = f"a value of {quote(data.y.name)}"
    else:
        classes = sorted(map(str, data.y.unique()))
        shown = ", ".join(quote(c) for c in classes[:10]) + (", ..." if len(classes) > 10 else "")
        what = f"the class of {quote(data.y.name)} ({len(classes)} classes: {shown}) and class probabilities"
    return ("## Intended use\n\n"
            f"Predicts {what} for rows with the columns below, drawn like the training data "
            f"({quote(facts['data'])}). It is chosen for {plain(facts['metric'])}; it was not checked on other "
            "populations, on values outside the ranges listed under *Known limits*, or for fairness "
            "across groups, and it describes associations in the data, not causes.")


def _training(facts, data, split) -> str:
    kinds = [(n, cols) for n, cols in (("numeric", data.numeric), ("categorical", data.categorical),
                                       ("date/time", data.datetime), ("text", data.text)) if cols]
    lines = ["## Training data", "",
             f"- source: {quote(facts['data'])}, fingerprint `{facts['data_fingerprint']}`",
             f"- {len(split.y_train)} training rows (cross-validated), {len(split.y_test)} test rows "
             f"held out and scored once (test fingerprint `{split.test_fingerprint}`)"]
    if facts.get("refit_full_rows"):
        lines.append(f"- after the test, refit on all {facts['refit_full_rows']} rows (training and test)")
    lines += [f"- {name} columns ({len(cols)}): " + ", ".join(map(quote, cols)) for name, cols in kinds]
    if data.rows_dropped:
        lines.append(f"- {data.rows_dropped} rows dropped: missing target")
    for col, why in data.dropped_columns.items():
        lines.append(f"- column {quote(col)} not used: {plain(why)}")
    period = _period(facts.get("time_column"), split)
    if period:
        lines.append(f"- period: {period}")
    return "\n".join(lines)


def _period(column: str | None, split: Split) -> str | None:
    if not column or column not in split.X_train:
        return None
    stamps = pd.to_datetime(split.X_train[column], errors="coerce", format="mixed").dropna()
    return f"{quote(column)} from {stamps.min()} to {stamps.max()}" if len(stamps) else None


def _performance(facts) -> str:
    metric, cv = facts["metric"], facts["cv"]
    spread = "" if cv.get("std") is None else \
        f" ± {cv['std']:.4g} (standard deviation over {cv['folds']} folds)"
    lines = ["## Performance", "", f"- cross-validated {plain(metric)}: {cv['score']:.4g}{spread}"]
    if facts.get("ensemble_cv") is not None:
        lines.append(f"- the ensemble's out-of-fold {plain(metric)}: {facts['ensemble_cv']:.4g}")
    tested = ", ".join(f"{plain(k)} {v:.4g}" for k, v in facts["test_metrics"].items() if v is not None)
    lines.append(f"- test ({facts['test_rows']} rows, touched once): {tested}")
    return "\n".join(lines)


def _choice(facts) -> str:
    states = describe_states(facts["n_trials"])
    lines = ["## How it was chosen", "",
             f"- search: Optuna study {quote(facts['study'])} over {quote(facts['space'])}; trials: {states}",
             f"- final model: {plain(facts['final_model'])}"]
    if facts.get("selection_reason"):
        lines.append(f"- selection rule {quote(facts['selection_rule'])}: {plain(facts['selection_reason'])}")
    if facts.get("decision"):
        lines.append(f"- retrain gate: {plain(facts['decision'])}")
    compared = facts.get("comparison") or {}
    if compared.get("basis"):
        lines.append(f"- compared on {compared['rows']} of {compared['test_rows']} test rows: {plain(compared['basis'])}")
    return "\n".join(lines)


def _features(facts) -> str | None:
    importance = facts.get("importance") or {}
    if not importance.get("top"):
        return None
    lines = ["## Strongest columns", "",
             f"Drop in test {plain(importance['metric'])} when the column is shuffled "
             f"({importance['repeats']} shuffles of {importance['rows']} test rows; mean ± spread):", ""]
    lines += [f"- {quote(t['column'])}: {t['importance']:+.4g} ± {t['std']:.2g}" for t in importance["top"]]
    shap = importance.get("shap") or {}
    if shap.get("top"):
        lines += ["", f"Mean absolute SHAP value ({plain(shap['output'])}, {shap['rows']} test rows):", ""]
        lines += [f"- {quote(t['column'])}: {t['mean_abs_shap']:.4g}" for t in shap["top"]]
    return "\n".join(lines)


def _limits(facts, data, split) -> str:
    lines = ["## Known limits", ""]
    if data.task != "regression":
        counts = split.y_train.value_counts()
        few = counts[counts < FEW_ROWS]
        if len(few):
            lines.append("- classes learnt from few training rows: "
                         + ", ".join(f"{quote(c)} ({n})" for c, n in few.items()))
    if len(split.y_test) < SMALL_TEST:
        lines.append(f"- the test set has {len(split.y_test)} rows: its score is a rough estimate")
    if data.task == "regression":
        y = split.y_train.astype(float)
        lines.append(f"- trained on {quote(data.y.name)} from {y.min():.4g} to {y.max():.4g}: tree models cannot "
                     "predict outside that range, linear ones extrapolate beyond it")
    ranges = _ranges(data, split, facts)
    if ranges:
        lines.append("- numeric ranges seen in training (outside them the model extrapolates): " + ranges)
    if facts.get("refit_full_rows"):
        lines.append("- the test score is that of the same configuration fitted on the training rows only")
    if len(lines) == 2:
        lines.append("- none found by automl's checks; that is not proof there are none")
    return "\n".join(lines)


def _ranges(data: Dataset, split: Split, facts) -> str:
    top = [t["column"] for t in (facts.get("importance") or {}).get("top", [])]
    ordered = [c for c in top if c in data.numeric] + [c for c in data.numeric if c not in top]
    parts = []
    for col in ordered[:RANGES_SHOWN]:
        values = pd.to_numeric(split.X_train[col], errors="coerce").to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if len(values):
            parts.append(f"{quote(col)} {values.min():.4g} to {values.max():.4g}")
    more = len(data.numeric) - RANGES_SHOWN
    return "; ".join(parts) + (f"; and {more} more in schema.json" if more > 0 else "")
