"""PNG plots for the final model: search history, parameter importances, test-set diagnostics.

Plots are drawn from predictions computed once on the test rows (``automl.metrics.Predictions``);
no function here runs a model.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from automl._files import atomic_path, private_folder


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; no display on servers or in CI
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    # atomic: a reader never sees half a PNG, two runs never share one
    with warnings.catch_warnings(), atomic_path(path) as tmp:
        # A column name or label with a control character has no glyph: drawn as a box, not a
        # warning per character on the terminal.
        warnings.filterwarnings("ignore", "Glyph .* missing from", UserWarning)
        fig.tight_layout()
        fig.savefig(tmp, dpi=100, format="png")
    _pyplot().close(fig)
    return path


def optimization_history(study, path: Path) -> Path:
    """Each complete trial's CV score and the best-so-far line."""
    from optuna.trial import TrialState

    plt = _pyplot()
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    numbers = [t.number for t in trials]
    values = np.array([t.value for t in trials])
    best = np.minimum.accumulate(values) if study.direction.name == "MINIMIZE" else np.maximum.accumulate(values)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.scatter(numbers, values, s=12, label="trial")
    ax.step(numbers, best, where="post", color="C3", label="best so far")
    ax.set(xlabel="trial", ylabel="CV score", title="optimisation history")
    ax.legend()
    return _save(fig, path)


def param_importances(study, path: Path) -> Path | None:
    """fANOVA importances; None when there are too few trials to estimate them."""
    import warnings

    import optuna

    try:
        with warnings.catch_warnings():  # "few trials per regime" is expected on short searches
            warnings.simplefilter("ignore", UserWarning)
            importances = optuna.importance.get_param_importances(study)
    except (RuntimeError, ValueError, ZeroDivisionError):
        return None
    if not importances:
        return None
    plt = _pyplot()
    # The 15 that matter most; the long tail of zeros (other families' parameters) says nothing.
    top = list(importances.items())[:15]
    shown = {k: v for k, v in top if v >= 0.005} or dict(top[:1])
    names, values = list(shown)[::-1], list(shown.values())[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(names) + 1.5))
    ax.barh(names, values)
    ax.set(xlabel="importance", title="parameter importances")
    return _save(fig, path)


def pareto_plot(costs, path: Path) -> Path:
    """CV score against prediction time per 1,000 rows and against model size; the trials no
    other beats on score, time and size are ringed."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, column, label in ((axes[0], "predict_ms_per_1000_rows", "prediction ms per 1,000 rows"),
                              (axes[1], "model_kb", "model size (KB, pickled)")):
        for i, (family, part) in enumerate(costs.groupby("family", sort=True)):
            ax.scatter(part[column].clip(lower=1e-3), part["cv_score"], s=16, color=f"C{i % 10}",
                       label=family)
        front = costs[costs["front"]]
        ax.scatter(front[column].clip(lower=1e-3), front["cv_score"], s=90, facecolors="none",
                   edgecolors="black", label="not beaten on all three")
        ax.set(xscale="log", xlabel=label)
    axes[0].set_ylabel("CV score")
    axes[1].legend(fontsize=7, loc="best")
    fig.suptitle("CV score against cost (each point a complete trial)")
    return _save(fig, path)


def column_importances(table, path: Path, top: int = 20) -> Path:
    """The most important columns, with their spread over repeated shuffles as error bars."""
    plt = _pyplot()
    shown = table.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(shown) + 1.5))
    ax.barh([str(c) for c in shown["column"]], shown["importance"], xerr=shown["std"], capsize=3)
    ax.axvline(0, color="grey", linewidth=0.8)
    title = "permutation importance"
    if len(table) > top:
        title += f" (top {len(shown)} of {len(table)} columns)"
    ax.set(xlabel="drop in the metric when shuffled (test rows)", title=title)
    return _save(fig, path)


def classification_plots(y_true, labels, scores, classes, folder: Path) -> list[Path]:
    """Confusion matrix, and ROC curve(s) when scores are available."""
    from sklearn.metrics import ConfusionMatrixDisplay, RocCurveDisplay

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    ConfusionMatrixDisplay.from_predictions(y_true, labels, labels=classes, ax=ax, colorbar=False)
    ax.set_title("confusion matrix (test)")
    paths = [_save(fig, folder / "confusion_matrix.png")]
    if scores is None:
        return paths
    fig, ax = plt.subplots(figsize=(5, 5))
    y_true = np.asarray(y_true)
    if scores.ndim == 1 or len(classes) == 2:
        positive = scores[:, 1] if scores.ndim == 2 else scores
        RocCurveDisplay.from_predictions(y_true, positive, pos_label=classes[1], ax=ax)
    else:
        for i, cls in enumerate(classes):
            RocCurveDisplay.from_predictions(y_true == cls, scores[:, i], name=str(cls), ax=ax)
    ax.set_title("ROC curve (test)")
    paths.append(_save(fig, folder / "roc_curve.png"))
    if scores.ndim == 2 and len(classes) == 2:
        paths.append(calibration(y_true, scores[:, 1], classes[1], folder / "calibration.png"))
    return paths


def calibration(y_true, probability, positive, path: Path) -> Path:
    """Predicted probability of ``positive`` against its observed share, in 10 bins (test rows)."""
    from sklearn.calibration import CalibrationDisplay

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    CalibrationDisplay.from_predictions(y_true, probability, n_bins=10, pos_label=positive, ax=ax,
                                        name="model")
    ax.set_title("calibration (test)")
    return _save(fig, path)


def regression_plots(y_true, predicted, folder: Path) -> list[Path]:
    """Predicted against actual, and residuals against predicted."""
    plt = _pyplot()
    y_true, predicted = np.asarray(y_true, float), np.asarray(predicted, float)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(y_true, predicted, s=10)
    lo, hi = float(min(y_true.min(), predicted.min())), float(max(y_true.max(), predicted.max()))
    ax.plot([lo, hi], [lo, hi], color="C3")
    ax.set(xlabel="actual", ylabel="predicted", title="predicted vs actual (test)")
    paths = [_save(fig, folder / "predicted_vs_actual.png")]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(predicted, y_true - predicted, s=10)
    ax.axhline(0, color="C3")
    ax.set(xlabel="predicted", ylabel="residual", title="residuals (test)")
    paths.append(_save(fig, folder / "residuals.png"))
    return paths


def make_plots(study, y_test, predictions, task: str, folder: Path, importance=None,
               costs=None) -> list[Path]:
    """Search history, parameter importances, test diagnostics and, given ``importance`` (a
    table of column, importance, std), the columns the model relies on, and given ``costs``
    (:func:`automl.evaluate.pareto`), CV score against prediction time and size, as PNG files."""
    folder = private_folder(folder.parent, folder.name)  # a link there is refused, not followed
    paths = [optimization_history(study, folder / "optimization_history.png"),
             param_importances(study, folder / "param_importances.png")]
    if costs is not None and len(costs):
        paths.append(pareto_plot(costs, folder / "pareto.png"))
    if importance is not None and len(importance):
        paths.append(column_importances(importance, folder / "permutation_importance.png"))
    if task == "regression":
        paths += regression_plots(y_test, predictions.labels, folder)
    else:
        paths += classification_plots(y_test, predictions.labels, predictions.scores,
                                      list(predictions.classes), folder)
    return [p for p in paths if p is not None]
