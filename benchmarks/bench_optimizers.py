"""Speed of the NumPy optimizers of ``automl.families.gd`` against scikit-learn's Cython SGD.

On synthetic data (default 100,000 x 50, standardised) and the same objective (mean loss plus
``alpha / 2 * ||w||^2``, alpha=1e-4), the script measures for each of our optimizers and for
``SGDClassifier`` / ``SGDRegressor``:

- seconds per epoch (total fit time / epochs run, ``tol=None``), and the ratio ours / sklearn;
- time to reach a target objective, ``(1 + 2%)`` times the exact optimum (found by lbfgs for the
  classifier, by the Ridge closed form for the regressor): epochs to target times seconds per
  epoch, both judged on the exact objective after each epoch. sklearn's is traced with
  ``partial_fit``; ours starts from ``loss_curve_`` (the mean of the mini-batch losses of an
  epoch, which lags the end-of-epoch value) and is refined by refitting fewer epochs with the
  same seed, which replays the same trajectory.

It prints one table per task and writes the loss curves to ``docs/optimizer_loss_curves.png`` (shown
in the docs' optimizers page). Run ``python benchmarks/bench_optimizers.py`` (about 3 minutes on 2 cores) or with
``--quick`` (20,000 samples, fewer epochs, well under a minute).
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier, SGDRegressor
from sklearn.preprocessing import StandardScaler

from automl.families.gd import OPTIMIZERS, GDClassifier, GDRegressor

ALPHA = 1e-4
TARGET_EXCESS = 0.02
# Learning rates that work on standardised data; not tuned per task.
LEARNING_RATES = {
    "gd": 1.0,
    "sgd": 0.001,
    "minibatch": 0.02,
    "momentum": 0.002,
    "nesterov": 0.002,
    "adagrad": 0.03,
    "rmsprop": 0.001,
    "adam": 0.001,
}
PNG = Path(__file__).resolve().parent.parent / "docs" / "optimizer_loss_curves.png"


def make_task(task, n_samples, n_features):
    """Standardised synthetic data and the exact optimum of the objective on it."""
    if task == "classification":
        X, y = make_classification(
            n_samples=n_samples, n_features=n_features, n_informative=n_features // 2,
            flip_y=0.05, random_state=0,
        )
        X = StandardScaler().fit_transform(X)
        exact = LogisticRegression(C=1 / (n_samples * ALPHA), tol=1e-10, max_iter=1000).fit(X, y)
    else:
        X, y = make_regression(
            n_samples=n_samples, n_features=n_features, noise=100.0, random_state=0
        )
        X = StandardScaler().fit_transform(X)
        y = (y - y.mean()) / y.std()
        exact = Ridge(alpha=n_samples * ALPHA).fit(X, y)
    return X, y, objective(task, exact, X, y)


def objective(task, model, X, y):
    """Mean loss plus ``alpha / 2 * ||coef||^2``: what both libraries minimise here."""
    z = X @ np.ravel(model.coef_) + np.ravel(model.intercept_)[0]
    if task == "classification":
        loss = np.mean(np.logaddexp(0.0, z) - y * z)
    else:
        loss = 0.5 * np.mean((y - z) ** 2)
    return loss + 0.5 * ALPHA * float(np.sum(np.square(model.coef_)))


def epochs_to(curve, target):
    """1-based index of the first value at or below ``target``; None if never reached."""
    hits = np.flatnonzero(np.asarray(curve) <= target)
    return int(hits[0]) + 1 if hits.size else None


def run_ours(task, X, y, optimizer, epochs, batch_size):
    """Fit one optimizer for ``epochs`` epochs; return (seconds per epoch, loss curve)."""
    model_class = GDClassifier if task == "classification" else GDRegressor
    model = model_class(
        optimizer=optimizer, learning_rate=LEARNING_RATES[optimizer], alpha=ALPHA,
        batch_size=batch_size, max_epochs=epochs, tol=None, random_state=0,
    )
    start = time.perf_counter()
    model.fit(X, y)
    return (time.perf_counter() - start) / model.n_iter_, model.loss_curve_, model


def exact_epochs_to(task, X, y, model, target):
    """Epochs until the exact objective reaches ``target``, or None.

    ``loss_curve_`` only overestimates the end-of-epoch objective, so its first hit is an upper
    bound; shorter refits with the same seed replay the same epochs and tighten it.
    """
    hit = epochs_to(model.loss_curve_, target)
    if hit is None:
        if objective(task, model, X, y) > target:
            return None
        hit = model.n_iter_
    while hit > 1:
        shorter = clone(model).set_params(max_epochs=hit - 1).fit(X, y)
        if objective(task, shorter, X, y) > target:
            break
        hit -= 1
    return hit


def run_sklearn(task, X, y, epochs):
    """Time ``fit`` per epoch, then trace the exact objective epoch by epoch via partial_fit."""
    if task == "classification":
        model = SGDClassifier(loss="log_loss", alpha=ALPHA, max_iter=epochs, tol=None,
                              random_state=0)
    else:
        model = SGDRegressor(alpha=ALPHA, max_iter=epochs, tol=None, random_state=0)
    with warnings.catch_warnings():
        # max_iter is reached on purpose (tol=None): the warning says nothing here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
        per_epoch = (time.perf_counter() - start) / epochs
    fit_kwargs = {"classes": np.unique(y)} if task == "classification" else {}
    tracer = clone(model)
    curve = []
    for _ in range(epochs):
        tracer.partial_fit(X, y, **fit_kwargs)
        curve.append(objective(task, tracer, X, y))
    return per_epoch, curve


def epoch_budget(optimizer, quick):
    """Epochs per optimizer: full-batch GD needs many cheap epochs, per-sample SGD few costly ones."""
    budget = {"gd": 300, "sgd": 3}.get(optimizer, 30)
    return max(1, budget // 3) if quick else budget


def bench_task(task, X, y, best, args):
    """Run every optimizer (at each batch size it uses) and sklearn; return rows and curves."""
    target = best * (1 + TARGET_EXCESS)
    sk_epoch, sk_curve = run_sklearn(task, X, y, 15 if args.quick else 40)
    sk_hit = epochs_to(sk_curve, target)
    rows, curves = [], {"sklearn SGD": (sk_epoch, sk_curve)}
    for name in OPTIMIZERS:
        sizes = ["-"] if name in ("gd", "sgd") else args.batch_sizes
        for size in sizes:
            per_epoch, curve, model = run_ours(
                task, X, y, name, epoch_budget(name, args.quick), 1 if size == "-" else size
            )
            if size in ("-", args.batch_sizes[0]):
                curves[name] = (per_epoch, curve)
            hit = exact_epochs_to(task, X, y, model, target)
            rows.append((name, size, (per_epoch, sk_epoch), (hit, per_epoch), (sk_hit, sk_epoch)))
    return rows, curves, target


def format_ratio(ours, theirs):
    return "-" if ours is None or theirs is None else f"{ours / theirs:.2f}"


def time_to_target(hit_and_epoch):
    """Seconds to the target (epochs to target x seconds per epoch), or None."""
    hit, per_epoch = hit_and_epoch
    return None if hit is None else hit * per_epoch


def format_target(hit_and_epoch):
    seconds = time_to_target(hit_and_epoch)
    if seconds is None:
        return "not reached"
    return f"{seconds * 1000:.0f} ms ({hit_and_epoch[0]} ep)"


def print_table(task, rows, target, shape):
    """Markdown table: per-epoch time and time to target, ours vs sklearn, with ratios."""
    print(f"\n### {task}: {shape[0]:,} x {shape[1]}, target objective {target:.5f} "
          f"(optimum + {TARGET_EXCESS:.0%})\n")
    print("| optimizer | batch | ours / epoch | sklearn / epoch | ratio | ours to target "
          "| sklearn to target | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name, size, (ours, sk), ours_hit, sk_hit in rows:
        ratio = format_ratio(time_to_target(ours_hit), time_to_target(sk_hit))
        print(f"| {name} | {size} | {ours * 1000:.1f} ms | {sk * 1000:.1f} ms | {ours / sk:.2f} "
              f"| {format_target(ours_hit)} | {format_target(sk_hit)} | {ratio} |")


def plot(results, path):
    """Excess objective against wall-clock time, one panel per task."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4.5))
    for ax, (task, (curves, best)) in zip(np.atleast_1d(axes), results.items()):
        for name, (per_epoch, curve) in curves.items():
            seconds = per_epoch * np.arange(1, len(curve) + 1)
            excess = np.maximum(np.asarray(curve) - best, 1e-8)
            ax.plot(seconds, excess, label=name, lw=2.5 if name.startswith("sklearn") else 1.2)
        ax.axhline(best * TARGET_EXCESS, color="grey", ls=":", label="target")
        ax.set(xscale="log", yscale="log", xlabel="seconds",
               ylabel="objective - optimum (floor 1e-8)", title=task)
        ax.legend(fontsize=7)
    fig.suptitle("ours: mean mini-batch objective per epoch (lags the end-of-epoch value); "
                 "sklearn SGD: exact objective after each epoch", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 samples, fewer epochs")
    parser.add_argument("--n-samples", type=int, default=None)
    parser.add_argument("--n-features", type=int, default=50)
    parser.add_argument(
        "--batch-sizes", type=lambda text: [int(v) for v in text.split(",")], default=[64, 256],
        help="comma-separated batch sizes of the mini-batch optimizers (default 64,256)",
    )
    parser.add_argument("--png", type=Path, default=PNG)
    args = parser.parse_args(argv)
    n_samples = args.n_samples or (20_000 if args.quick else 100_000)
    results = {}
    for task in ("classification", "regression"):
        X, y, best = make_task(task, n_samples, args.n_features)
        rows, curves, target = bench_task(task, X, y, best, args)
        print_table(task, rows, target, X.shape)
        results[task] = (curves, best)
    plot(results, args.png)
    print(f"\nloss curves written to {args.png}")


if __name__ == "__main__":
    main()
