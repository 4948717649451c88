"""The one hand-written baseline: an Optuna study over a scikit-learn pipeline, as a data scientist
writes it without automl (``ColumnTransformer`` impute + scale | impute + one-hot, a model drawn
from a few families, ``cross_val_score``, ``TPESampler(seed=0)``, no pruner).

Two family sets: ``"default"`` (logistic/ridge, random forest, HistGradientBoosting), which
bench_pipeline.py compares automl's quality against, and ``"fast"`` (fast.yaml's families and
ranges: k-NN, decision tree, logistic, naive Bayes, with a scaler choice), whose cost per trial
bench_budget.py compares automl's orchestration against:

    python benchmarks/_baseline.py overhead 200    # seconds per trial on iris, printed last
"""

from __future__ import annotations

import sys
import time
import warnings

import optuna
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (HistGradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestClassifier,
                              RandomForestRegressor)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, RobustScaler, StandardScaler
from sklearn.tree import DecisionTreeClassifier

SEED = 0


def preprocessor(X: pd.DataFrame, scaler: str = "standard") -> ColumnTransformer:
    numeric = list(X.select_dtypes("number").columns)
    categorical = [c for c in X.columns if c not in numeric]
    # Dense one-hot: HistGradientBoosting rejects the sparse matrix ColumnTransformer would
    # return when the output is under 30% non-zero (hpc_data), and every such trial would fail.
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    scale = StandardScaler() if scaler == "standard" else RobustScaler()
    return ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), scale), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), encoder), categorical),
    ])


def _default_model(trial, task: str):
    family = trial.suggest_categorical("model", ["linear", "random_forest", "hist_gb"])
    regression = task == "regression"
    if family == "linear":
        if regression:
            return Ridge(alpha=trial.suggest_float("ridge_alpha", 1e-3, 1e3, log=True))
        return LogisticRegression(C=trial.suggest_float("logreg_C", 1e-3, 1e3, log=True), max_iter=2000)
    if family == "random_forest":
        forest = RandomForestRegressor if regression else RandomForestClassifier
        return forest(n_estimators=trial.suggest_int("rf_n_estimators", 50, 300, step=50),
                      max_depth=trial.suggest_int("rf_max_depth", 2, 20),
                      min_samples_leaf=trial.suggest_int("rf_min_samples_leaf", 1, 10), random_state=SEED)
    boosting = HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
    return boosting(learning_rate=trial.suggest_float("hgb_learning_rate", 0.01, 0.3, log=True),
                    max_iter=trial.suggest_int("hgb_max_iter", 50, 400, step=50),
                    max_leaf_nodes=trial.suggest_int("hgb_max_leaf_nodes", 7, 63), random_state=SEED)


def _fast_model(trial, task: str):  # fast.yaml's classification families and ranges
    family = trial.suggest_categorical("model", ["knn", "decision_tree", "logistic", "naive_bayes"])
    if family == "knn":
        return KNeighborsClassifier(trial.suggest_int("n_neighbors", 1, 30),
                                    weights=trial.suggest_categorical("weights", ["uniform", "distance"]))
    if family == "decision_tree":
        return DecisionTreeClassifier(max_depth=trial.suggest_int("max_depth", 1, 12),
                                      min_samples_leaf=trial.suggest_int("min_samples_leaf", 1, 20),
                                      random_state=SEED)
    if family == "logistic":
        return LogisticRegression(C=trial.suggest_float("C", 1e-3, 1e2, log=True), max_iter=500)
    return GaussianNB(var_smoothing=trial.suggest_float("var_smoothing", 1e-12, 1e-6, log=True))


FAMILIES = {"default": _default_model, "fast": _fast_model}


def pipeline(X: pd.DataFrame, trial, task: str, families: str = "default") -> Pipeline:
    """A fresh, unfitted pipeline for ``trial``'s parameters (a ``FixedTrial`` for the refit)."""
    scaler = trial.suggest_categorical("scaler", ["standard", "robust"]) if families == "fast" else "standard"
    return Pipeline([("prep", preprocessor(X, scaler)), ("model", FAMILIES[families](trial, task))])


def search(X: pd.DataFrame, y: pd.Series, task: str, scoring: str, families: str = "default", folds: int = 5,
           n_trials: int | None = None, timeout: float | None = None, n_jobs: int = -1) -> optuna.Study:
    """The baseline's study: the mean CV score of ``scoring`` (higher is better), maximised."""
    splitter = KFold if task == "regression" else StratifiedKFold
    cv = splitter(n_splits=folds, shuffle=True, random_state=SEED)

    def objective(trial):
        model = pipeline(X, trial, task, families)
        return cross_val_score(model, X, y, cv=cv, scoring=scoring, n_jobs=n_jobs).mean()

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=SEED))
    study.optimize(objective, n_trials=n_trials, timeout=timeout, catch=(Exception,))
    return study


def overhead(n_trials: int) -> float:
    """Seconds per trial of the fast families on iris's training part, 5-fold log loss."""
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split

    X, y = load_iris(return_X_y=True, as_frame=True)
    X, _, y, _ = train_test_split(X, y, test_size=0.2, random_state=SEED, stratify=y)
    started = time.perf_counter()
    search(X, y, "multiclass", "neg_log_loss", families="fast", n_trials=n_trials, n_jobs=1)
    return (time.perf_counter() - started) / n_trials


if __name__ == "__main__":
    warnings.filterwarnings("ignore")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    if sys.argv[1:2] != ["overhead"]:
        sys.exit("usage: python benchmarks/_baseline.py overhead N_TRIALS")
    print(overhead(int(sys.argv[2])))
