"""``report.html``: one self-contained page that tells the story of a run.

Data -> search -> leaderboard -> final model -> test -> what the model relies on -> (retrain:
drift and the gate's decision). Plots are embedded as PNG data URIs and the style is inline, so
the file opens anywhere without a network or the MLflow UI. Every text from the data or the
user (column names, class labels, study names, error messages) is escaped: a column named
``<script>`` is shown, not run.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from automl.data import Dataset
from automl.trial import describe_states
from automl.split import Split

SECTIONS = ("data", "search", "leaderboard", "costs", "final-model", "test", "importance", "retrain")
STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:70rem;
color:#1d2330;line-height:1.4;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;border-bottom:1px solid #d8dce6;padding-bottom:.2rem;
margin-top:2rem}table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
td,th{border:1px solid #d8dce6;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f1f3f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;height:auto;margin:.5rem 1rem .5rem 0;border:1px solid #eef0f5}
.figs{display:flex;flex-wrap:wrap;align-items:flex-start}.muted{color:#5c6475}
code{background:#f1f3f8;padding:0 .2rem}
"""


def html_report(facts: dict[str, Any], data: Dataset, split: Split, board: pd.DataFrame,
                plots: list[Path], importance: pd.DataFrame | None,
                costs: pd.DataFrame | None = None) -> str:
    """The page; ``facts`` are the model card's (see :func:`automl.artifacts.model_card`) plus
    ``reasons`` (why trials stopped), ``families`` and, for a retrain, ``drift``."""
    figures = {p.stem: p for p in plots}
    body = [f"<h1>automl run: {_e(facts['study'])}</h1>",
            f"<p class=muted>{_e(data.task)} model for <code>{_e(data.y.name)}</code> from "
            f"<code>{_e(facts['data'])}</code>; automl {_e(facts['version'])}, seed {facts['seed']}.</p>",
            _data(data, split), _search(facts, figures), _leaderboard(board), _costs(costs, figures),
            _final(facts), _test(facts, figures), _importance(importance, facts, figures),
            _retrain(facts)]
    return ("<!doctype html><html lang=en><head><meta charset=utf-8>"
            f"<title>automl: {_e(facts['study'])}</title><style>{STYLE}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _section(key: str, title: str, *parts: str) -> str:
    return f'<section id="{key}"><h2>{_e(title)}</h2>' + "".join(parts) + "</section>"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    cells = ["".join(_cell(v) for v in row) for row in rows]
    return f"<table><tr>{head}</tr>" + "".join(f"<tr>{c}</tr>" for c in cells) + "</table>"


def _cell(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f'<td class=n>{"-" if value != value else f"{value:.4g}"}</td>'
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"<td class=n>{value}</td>"
    return f"<td>{_e('-' if value is None else value)}</td>"


def _figure(figures: dict[str, Path], *names: str) -> str:
    imgs = []
    for name in names:
        path = figures.get(name)
        if path is not None and path.is_file():
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            imgs.append(f'<img alt="{_e(name)}" src="data:image/png;base64,{data}">')
    return f"<div class=figs>{''.join(imgs)}</div>" if imgs else ""


def _data(data: Dataset, split: Split) -> str:
    kinds = {"numeric": data.numeric, "categorical": data.categorical, "date/time": data.datetime,
             "text": data.text}
    missing = split.X_train.isna().mean()
    rows = [[c, kind, float(missing.get(c, 0.0))] for kind, cols in kinds.items() for c in cols]
    parts = [f"<p>{len(split.y_train) + len(split.y_test)} rows: {len(split.y_train)} for training "
             f"(cross-validated), {len(split.y_test)} held out as the test set, scored once.</p>",
             _table(["column", "kind", "missing share (training rows)"], rows)]
    dropped = [[c, why] for c, why in data.dropped_columns.items()]
    if data.rows_dropped:
        dropped.append(["(rows)", f"{data.rows_dropped} rows dropped: missing target"])
    if dropped:
        parts += ["<h3>Not used</h3>", _table(["column", "why"], dropped)]
    parts.append("<h3>Target</h3>" + _target(data.task, split.y_train))
    return _section("data", "Data", *parts)


def _target(task: str, y: pd.Series) -> str:
    if task == "regression":
        q = y.astype(float).quantile([0, 0.25, 0.5, 0.75, 1]).tolist()
        return _table(["min", "25 %", "median", "75 %", "max", "mean"], [[*q, float(y.mean())]])
    counts = y.value_counts()
    return _table(["class", "training rows", "share"],
                  [[str(k), int(v), float(v / len(y))] for k, v in counts.items()])


def _search(facts, figures) -> str:
    states = describe_states(facts["n_trials"])
    parts = [f"<p>Optuna study <code>{_e(facts['study'])}</code> over <code>{_e(facts['space'])}</code>, "
             f"metric {_e(facts['metric'])}; trials: {_e(states)}.</p>",
             _figure(figures, "optimization_history", "param_importances")]
    if facts.get("families"):
        parts += ["<h3>Families tried</h3>",
                  _table(["family", "complete trials", "best CV score"],
                         [[f, n, best] for f, (n, best) in facts["families"].items()])]
    if facts.get("reasons"):
        parts += ["<h3>Trials that did not complete</h3>",
                  _table(["why", "trials"], [[why, n] for why, n in facts["reasons"].items()])]
    return _section("search", "Search", *parts)


def _leaderboard(board: pd.DataFrame) -> str:
    rows = [[int(r.trial), str(r.family), r.cv_score, r.cv_std, r.fit_time_s, r.ensemble_weight, r.params]
            for r in board.head(15).itertuples()]
    return _section("leaderboard", "Leaderboard",
                    _table(["trial", "family", "CV score", "CV std", "fit s", "ensemble weight",
                            "parameters"], rows))


def _costs(costs: pd.DataFrame | None, figures) -> str:
    if costs is None or not len(costs):
        return _section("costs", "Score against cost", "<p class=muted>no complete trial</p>")
    front = costs[costs["front"]]
    rows = [[int(r.trial), str(r.family), r.cv_score, r.predict_ms_per_1000_rows, r.model_kb]
            for r in front.itertuples()]
    intro = ("<p>Each complete trial's CV score against its measured prediction time (median over its "
             "folds) and its fitted size; the table lists the trials no other beats on all three.</p>")
    return _section("costs", "Score against cost", intro, _figure(figures, "pareto"),
                    _table(["trial", "family", "CV score", "predict ms / 1,000 rows", "size KB"], rows))


def _final(facts) -> str:
    parts = [f"<p>{_e(facts['final_model'])}.</p>"]
    cv = facts["cv"]
    spread = "" if cv.get("std") is None else f" ± {cv['std']:.4g} over {cv['folds']} folds"
    parts.append(f"<p>Cross-validated {_e(facts['metric'])}: {cv['score']:.4g}{spread}"
                 + (f"; the ensemble's out-of-fold score {facts['ensemble_cv']:.4g}"
                    if facts.get("ensemble_cv") is not None else "") + ".</p>")
    if facts.get("selection_reason"):
        parts.append(f"<p>Selection rule <code>{_e(facts['selection_rule'])}</code>: "
                     f"{_e(facts['selection_reason'])}.</p>")
    if facts.get("refit_full_rows"):
        parts.append(f"<p>After the test, refit on all {facts['refit_full_rows']} rows.</p>")
    return _section("final-model", "Final model", *parts)


def _test(facts, figures) -> str:
    rows = [[k, v] for k, v in facts["test_metrics"].items()]
    return _section("test", f"Test ({facts['test_rows']} rows, touched once)",
                    _table(["metric", "value"], rows),
                    _figure(figures, "confusion_matrix", "roc_curve", "calibration",
                            "predicted_vs_actual", "residuals"))


def _importance(table: pd.DataFrame | None, facts, figures) -> str:
    summary = facts.get("importance") or {}
    if table is None or not len(table):
        why = summary.get("skipped", "not computed")
        parts = [f"<p class=muted>{_e(why)}</p>"]
    else:
        intro = (f"<p>Drop in test {_e(summary.get('metric'))} when a column is shuffled "
                 f"({summary.get('repeats')} shuffles of {summary.get('rows')} test rows): "
                 "mean and spread.</p>")
        rows = [[r.column, r.importance, r.std] for r in table.head(30).itertuples()]
        parts = [intro, _figure(figures, "permutation_importance"),
                 _table(["column", "importance", "spread"], rows)]
    return _section("importance", "What the model relies on", *parts, _shap(summary.get("shap")))


def _shap(shap: dict | None) -> str:
    """The optional extra's view: how far each column moves single predictions, either way."""
    if not shap:
        return ""
    if not shap.get("top"):
        return f"<p class=muted>SHAP values: {_e(shap.get('skipped', 'not computed'))}</p>"
    intro = (f"<p>SHAP values: mean absolute contribution to the {_e(shap['output'])}, over "
             f"{shap['rows']} test rows against {shap['background']} training rows.</p>")
    rows = [[t["column"], t["mean_abs_shap"]] for t in shap["top"]]
    return intro + _table(["column", "mean |SHAP|"], rows)


def _retrain(facts) -> str:
    if not facts.get("decision"):
        return _section("retrain", "Retrain", "<p class=muted>Not a retrain: no champion to compare.</p>")
    drift = facts.get("drift") or {}
    rows = [[c, v] for c, v in sorted(drift.items(), key=lambda kv: -kv[1])]
    return _section("retrain", "Retrain", f"<p>Gate: {_e(facts['decision'])}.</p>", _gate(facts),
                    _table(["column", "drift (PSI)"], rows) if rows else "")


def _gate(facts) -> str:
    """The evidence of the decision: which rows both models were scored on, and why those."""
    c = facts.get("comparison")
    if not c:
        return ""
    left_out = [("among the champion's training rows", c.get("seen_by_champion")),
                ("not newer than the champion's newest training row", c.get("not_newer_than_champion")),
                ("repeat a row the challenger was trained on", c.get("seen_by_challenger"))]
    rows = [["metric", facts["metric"]],
            ["compared on", f"{c['rows']} of {c['test_rows']} test rows (at least {c['needed']} needed)"],
            ["why these rows", c["basis"]]]
    rows += [[f"left out: {what}", n] for what, n in left_out if n is not None]
    if c.get("low") is not None:
        rows += [["challenger", c["challenger"]], ["champion", c["champion"]], ["gain", c["gain"]],
                 [f"{c['confidence']:.0%} interval of the gain",
                  f"{c['low']:.4g} to {c['high']:.4g} (paired bootstrap, {c['resamples']} resamples)"]]
    if c.get("rule"):
        rows.append(["decided by the rule", f"too_few_unseen={c['rule']}"])
    return "<p>The comparison:</p>" + _table(["", ""], rows)
