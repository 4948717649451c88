"""The model card: on the registered version (its description) and as model_card.md, with what
a reviewer needs to judge the model, every statement read from the run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.artifacts import model_card
from automl.data import Dataset
from automl.split import Split

SECTIONS = ("## Intended use", "## Training data", "## Performance", "## How it was chosen",
            "## Strongest columns", "## Known limits")


def test_a_registered_version_carries_the_card(config, workdir):
    mlflow = pytest.importorskip("mlflow")
    from automl.run import run_experiment

    summary = run_experiment(config(tracking=True, register_model="card-model", study_name="carded"))
    client = mlflow.MlflowClient(f"sqlite:///{workdir / 'mlruns' / 'mlflow.db'}")
    description = client.get_model_version("card-model", summary["registered_version"]).description
    assert description.startswith("# Model card: card-model")
    assert all(s in description for s in SECTIONS)
    assert f"{summary['best_cv_score']:.4g}" in description  # the CV score it was chosen by
    assert summary["data_fingerprint"] in description
    local = workdir / "mlruns" / "models" / "carded" / "model_card.md"
    assert local.read_text() == description
    logged = client.download_artifacts(summary["mlflow_run_id"], "model_card.md", str(workdir / "dl"))
    assert open(logged).read() == description


def _facts(**extra) -> dict:
    facts = {"name": "m", "version": "0", "study": "s", "seed": 0, "data": "t.csv", "data_fingerprint": "f",
             "metric": "rmse", "space": "default.yaml", "time_column": None,
             "test_metrics": {"rmse": 1.0}, "test_rows": 50, "cv": {"score": 1.1, "std": 0.1, "folds": 5},
             "ensemble_cv": None, "n_trials": {"COMPLETE": 3}, "final_model": "trial 1 (knn)",
             "importance": None, "selection_rule": "best", "selection_reason": None}
    return {**facts, **extra}


def _split(X: pd.DataFrame, y: pd.Series, test: int) -> Split:
    return Split(X.iloc[test:], y.iloc[test:], X.iloc[:test], y.iloc[:test], None, "tf")


def test_limits_name_rare_classes_small_tests_and_ranges(rng):
    X = pd.DataFrame({"size": rng.uniform(1, 9, 200), "when": pd.date_range("2024-01-01", periods=200)})
    y = pd.Series(["common"] * 190 + ["rare"] * 10, name="kind")
    data = Dataset(X, y, "t", "binary", ["size"], [], ["when"])
    card = model_card(_facts(metric="roc_auc", time_column="when"), data, _split(X, y, 40))
    assert "`rare` (10)" in card and "the test set has 40 rows" in card
    train = X["size"].iloc[40:]
    assert f"`size` {train.min():.4g} to {train.max():.4g}" in card
    assert "period: `when` from 2024-02-10" in card  # the training rows' period (the first 40 are test)


def test_a_regression_card_states_the_target_range_and_the_refit(rng):
    X = pd.DataFrame({"x": rng.normal(size=300)})
    y = pd.Series(3 * X["x"] + 10, name="price")
    data = Dataset(X, y, "t", "regression", ["x"], [], [])
    card = model_card(_facts(refit_full_rows=300), data, _split(X, y, 60))
    low, high = y.iloc[60:].min(), y.iloc[60:].max()
    assert f"trained on `price` from {low:.4g} to {high:.4g}" in card
    assert "refit on all 300 rows" in card and "fitted on the training rows only" in card
    assert "## Strongest columns" not in card  # no importance computed: no section, no invention


# Names a user's file can hold, each trying another way out of the card's code spans.
HOSTILE = ("tick`col\n## Injected heading", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
           "a|b|c", "``two``", "<script>alert(1)</script>", "![i](http://e.x/i.png)", "\x1b[31mred",
           "line\u2028break", "&lt;b&gt;")
# What a reader sees of each: control characters as escapes, everything else as written.
SHOWN = ("tick`col\\n## Injected heading", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
         "a|b|c", "``two``", "<script>alert(1)</script>", "![i](http://e.x/i.png)", "\\x1b[31mred",
         "line\\u2028break", "&lt;b&gt;")


def rendered(card: str) -> str:
    """The card as a Markdown renderer that passes raw HTML through (CommonMark with tables)
    shows it."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough").render(card)


def assert_quoted_safely(card: str, names=HOSTILE, shown=SHOWN) -> None:
    import html
    import re

    page = rendered(card)
    headings = re.findall(r"<h(\d)>(.*?)</h\1>", page)
    assert [h for _, h in headings if "Injected" in h] == [], headings
    assert [level for level, _ in headings].count("1") == 1
    for tag in ("<img", "<script", "<a ", "<table", "<del", "<strong"):
        assert tag not in page, (tag, page)
    assert set(re.findall(r"<em>(.*?)</em>", page)) <= {"Known limits"}  # the card's own emphasis
    codes = [html.unescape(c) for c in re.findall(r"<code>(.*?)</code>", page, re.S)]
    for name, visible in zip(names, shown):
        assert any(visible == c or visible == c.strip() for c in codes), (name, codes)
    assert "\x1b" not in card and "\u2028" not in card


def _hostile_card(rng, task="multiclass") -> str:
    numeric, categorical = list(HOSTILE[:5]), list(HOSTILE[5:])
    X = pd.DataFrame({**{c: rng.normal(size=120) for c in numeric},
                      **{c: rng.choice(["p", "q"], 120) for c in categorical}})
    y = pd.Series(np.asarray(HOSTILE)[np.arange(120) % len(HOSTILE)], name=HOSTILE[0])
    data = Dataset(X, y, "t", task, numeric, categorical, [], dropped_columns={HOSTILE[3]: "constant"})
    top = [{"column": c, "importance": 0.1, "std": 0.01} for c in HOSTILE]
    importance = {"metric": "accuracy", "repeats": 3, "rows": 40, "top": top,
                  "shap": {"output": "class 1", "rows": 40, "top": [{"column": c, "mean_abs_shap": 0.2}
                                                                     for c in HOSTILE]}}
    facts = _facts(name="m_*x*_", data=HOSTILE[1], study=HOSTILE[0], space=HOSTILE[2], metric="accuracy",
                   test_metrics={"accuracy": 0.9}, importance=importance)
    return model_card(facts, data, _split(X, y, 40))


def test_the_card_quotes_hostile_names_and_labels_as_text(rng):
    card = _hostile_card(rng)
    assert_quoted_safely(card)
    assert "<h1>Model card: m_*x*_</h1>" in rendered(card)  # a name outside code is plain text too


def test_a_regression_card_quotes_the_target_and_columns_as_text(rng):
    X = pd.DataFrame({c: rng.normal(size=100) for c in HOSTILE})
    y = pd.Series(rng.normal(size=100), name=HOSTILE[0])
    data = Dataset(X, y, "t", "regression", list(HOSTILE), [], [])
    assert_quoted_safely(model_card(_facts(data=HOSTILE[6]), data, _split(X, y, 20)))


def test_the_registered_description_quotes_hostile_names_as_text(config, workdir, rng):
    """The card as MLflow keeps it on the version, from a file whose columns and labels are hostile."""
    mlflow = pytest.importorskip("mlflow")
    from automl.run import run_experiment

    names, labels = HOSTILE[:4], HOSTILE[4:7]
    frame = pd.DataFrame({c: rng.normal(size=90) + (np.arange(90) % 3) for c in names})
    frame["label"] = np.asarray(labels)[np.arange(90) % 3]
    frame.to_csv(workdir / "hostile.csv", index=False)
    summary = run_experiment(config(data=str(workdir / "hostile.csv"), target="label", tracking=True,
                                    register_model="hostile-card", study_name="hostile"))
    client = mlflow.MlflowClient(f"sqlite:///{workdir / 'mlruns' / 'mlflow.db'}")
    description = client.get_model_version("hostile-card", summary["registered_version"]).description
    shown = dict(zip(HOSTILE, SHOWN))
    assert_quoted_safely(description, [*names, *labels], [shown[n] for n in (*names, *labels)])
