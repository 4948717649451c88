"""automl.evaluate's ensemble selection over out-of-fold predictions, and the store that keeps them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.evaluate import EnsembleChoice, build_ensemble, score_weights, select_ensemble
from automl.metrics import get_metric
from automl.search import OOFStore


def _proba(correct: np.ndarray, confidence: float) -> np.ndarray:
    """Two-class probabilities that favour the true class where ``correct``, the wrong one else."""
    p_true = np.where(correct, confidence, 1 - confidence)
    return np.column_stack([1 - p_true, p_true]).astype(np.float32)


def test_complementary_classifiers_make_an_ensemble_that_beats_each():
    n = 400
    y = pd.Series(np.where(np.arange(n) % 2, "b", "a"))
    truth = (y == "b").to_numpy()
    half = np.arange(n) < n // 2
    # Trial 3 is sure and right on the first half, unsure on the second; trial 7 the other way.
    first = np.where(half, np.where(truth, 0.95, 0.05), np.where(truth, 0.45, 0.55))
    second = np.where(~half, np.where(truth, 0.95, 0.05), np.where(truth, 0.45, 0.55))
    candidates = [(3, np.column_stack([1 - first, first]).astype(np.float32)),
                  (7, np.column_stack([1 - second, second]).astype(np.float32))]
    choice = select_ensemble(y, candidates, get_metric("binary", "accuracy"), ["a", "b"], rounds=10)
    assert choice.single_score == pytest.approx(0.5)  # right on one half, wrong on the other
    assert choice.score == pytest.approx(1.0) and choice.beats_single(maximize=True)
    assert set(choice.weights) == {3, 7} and sum(choice.weights.values()) == pytest.approx(1.0)
    metric = get_metric("binary", "accuracy")
    # What is left after dropping a member is scored on the same rows: trial 3 alone is the single.
    assert score_weights(y, candidates, metric, ["a", "b"], choice.weights) == pytest.approx(choice.score)
    assert score_weights(y, candidates, metric, ["a", "b"], {3: 1.0}) == pytest.approx(choice.single_score)


def test_a_dominant_trial_is_chosen_alone():
    n = 200
    y = pd.Series(np.where(np.arange(n) % 3 == 0, "x", "y"))
    truth = (y == "y").to_numpy()
    candidates = [(0, _proba(truth, 0.9)), (1, _proba(np.arange(n) % 2 == 0, 0.6))]
    choice = select_ensemble(y, candidates, get_metric("binary", "log_loss"), ["x", "y"])
    assert choice.weights == {0: 1.0}
    assert not choice.beats_single(maximize=False)


def test_string_labels_score_as_their_codes_and_time_cuts_the_rounds(rng):
    n = 300
    labels = np.array(["cat", "dog", "eel"])
    y_codes = rng.integers(0, 3, n)
    candidates = []
    for trial in range(3):
        logits = rng.normal(size=(n, 3)) + 2.0 * np.eye(3)[y_codes] * rng.random(n)[:, None]
        proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        candidates.append((trial, proba.astype(np.float32)))
    metric = get_metric("multiclass", "log_loss")
    named = select_ensemble(pd.Series(labels[y_codes]), candidates, metric, list(labels))
    coded = select_ensemble(pd.Series(y_codes), candidates, metric, [0, 1, 2])
    assert named.weights == coded.weights and named.score == pytest.approx(coded.score)
    # No time left: one round only, still a valid choice whose weights sum to one.
    rushed = select_ensemble(pd.Series(y_codes), candidates, metric, [0, 1, 2], rounds=25, seconds=0.0)
    assert len(rushed.history) == 1 and sum(rushed.weights.values()) == pytest.approx(1.0)


def test_averaging_unbiased_regressors_lowers_rmse_on_validated_rows_only(rng):
    n = 300
    y = pd.Series(rng.normal(size=n))
    noisy = [(i, (y.to_numpy() + rng.normal(scale=1.0, size=n)).astype(np.float32)[:, None])
             for i in range(3)]
    for _, oof in noisy:
        oof[:100] = np.nan  # rows no fold validated (a holdout split validates only some)
    choice = select_ensemble(y, noisy, get_metric("regression", "rmse"), None)
    assert choice.rows == 200
    assert choice.beats_single(maximize=False) and choice.score < 0.8 * choice.single_score


def test_fewer_than_two_candidates_is_no_ensemble():
    y = pd.Series([1.0, 2.0, 3.0])
    assert select_ensemble(y, [(0, np.ones((3, 1), np.float32))], get_metric("regression", None),
                           None) is None


def test_the_ensemble_is_a_scikit_learn_voting_model(rng):
    from sklearn.ensemble import VotingClassifier  # ours is a subclass
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    X = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    y = np.where(X["a"] > 0, "p", "n")
    model = build_ensemble([("t1", LogisticRegression(), 0.7), ("t2", DecisionTreeClassifier(), 0.3)],
                           "binary").fit(X, y)
    assert isinstance(model, VotingClassifier) and list(model.feature_names_in_) == ["a", "b", "c"]
    proba = model.predict_proba(X)
    expected = 0.7 * model.estimators_[0].predict_proba(X) + 0.3 * model.estimators_[1].predict_proba(X)
    np.testing.assert_allclose(proba, expected)


def test_the_ensemble_is_saved_with_each_member_once(rng):
    import skops.io
    from sklearn.linear_model import LinearRegression
    from sklearn.tree import DecisionTreeRegressor

    X = pd.DataFrame(rng.normal(size=(50, 2)), columns=["a", "b"])
    y = X["a"] * 2 + rng.normal(size=50)
    model = build_ensemble([("lin", LinearRegression(), 0.5), ("tree", DecisionTreeRegressor(), 0.5)],
                           "regression").fit(X, y)
    assert "named_estimators_" not in model.__getstate__()
    trees = skops.io.get_untrusted_types(data=skops.io.dumps(model))
    loaded = skops.io.loads(skops.io.dumps(model), trusted=trees)
    assert list(loaded.named_estimators_) == ["lin", "tree"]
    assert loaded.named_estimators_["tree"] is loaded.estimators_[1]
    np.testing.assert_allclose(loaded.predict(X), model.predict(X))


def test_the_store_keeps_the_best_trials_only(tmp_path):
    store = OOFStore(tmp_path / "oof", n_rows=4, maximize=True, keep=2)
    rows = [(np.array([0, 1]), np.ones((2, 1), np.float32)), (np.array([3]), np.zeros((1, 1), np.float32))]
    for number, score in ((0, 0.5), (1, 0.9), (2, 0.7), (3, 0.6)):
        store.add(number, score, rows)
    kept = store.best()
    assert [n for n, _ in kept] == [1, 2]
    assert sorted(p.name for p in (tmp_path / "oof").iterdir()) == ["trial-00001.npy", "trial-00002.npy"]
    oof = kept[0][1]
    assert oof.dtype == np.float32 and np.isnan(oof[2, 0]) and oof[0, 0] == 1 and oof[3, 0] == 0


def test_a_file_another_run_of_the_study_dropped_is_skipped(tmp_path):
    import optuna

    rows = [(np.arange(4), np.ones((4, 1), np.float32))]
    mine = OOFStore(tmp_path / "oof", n_rows=4, maximize=True, keep=2)
    mine.add(0, 0.5, rows)
    mine.add(1, 0.9, rows)
    study = optuna.create_study(direction="maximize")
    for value in (0.5, 0.9):
        study.add_trial(optuna.trial.create_trial(params={}, distributions={}, value=value))
    theirs = OOFStore(tmp_path / "oof", n_rows=4, maximize=True, keep=2)
    theirs.adopt(study)  # a second run of the study, started meanwhile
    theirs.add(2, 0.95, rows)  # pushes trial 0 out, its file too
    assert [n for n, _ in mine.best()] == [1]


def _choice(score: float, single: float = 0.90) -> EnsembleChoice:
    return EnsembleChoice(weights={0: 0.5, 1: 0.3, 2: 0.2}, score=score, single_trial=0, single_score=single, rows=100)


def test_the_ensemble_rule_keeps_an_ensemble_only_when_it_beats_the_best_trial():
    everything = lambda weights: (dict(weights), None)  # noqa: E731 - every member fits
    unscored = lambda subsets: pytest.fail("nothing was dropped: nothing to score again")  # noqa: E731
    worse = _choice(score=0.89)
    assert worse.accept(everything, unscored, maximize=True) == {}
    assert worse.not_chosen == "it does not beat the best trial out of fold"
    better = _choice(score=0.93)
    assert better.accept(everything, unscored, maximize=True) == {0: 0.5, 1: 0.3, 2: 0.2}
    assert better.not_chosen is None and better.kept_weights is None
    lower_is_better = _choice(score=0.93)
    assert lower_is_better.accept(everything, unscored, maximize=False) == {}


def test_what_is_left_after_dropping_members_must_still_beat_the_best_trial():
    pair = lambda weights: ({0: 0.625, 1: 0.375}, None)  # noqa: E731 - the third does not fit
    kept = _choice(score=0.93)
    assert kept.accept(pair, lambda subsets: [0.92], maximize=True) == {0: 0.625, 1: 0.375}
    assert (kept.kept_score, kept.kept_weights) == (0.92, {0: 0.625, 1: 0.375})
    lost = _choice(score=0.93)
    assert lost.accept(pair, lambda subsets: [0.90], maximize=True) == {}
    assert lost.not_chosen == "the members that fit the time left do not beat the best trial out of fold"
    none_fit = _choice(score=0.93)
    assert none_fit.accept(lambda weights: ({}, "no two fit"), lambda s: [], maximize=True) == {}
    assert none_fit.not_chosen == "no two fit"
