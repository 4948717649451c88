"""Free text becomes word features and many-category columns are target-encoded, both fitted
on the rows they are given (a fold's), never on the rows they are applied to."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.preprocess import CategoricalEncoder, TextFeatures, build_pipeline, build_preprocessor
from automl.trial import TrialSpec

WORDS = {"yes": ["great", "lovely", "excellent", "superb"], "no": ["awful", "broken", "dirty", "rude"]}


@pytest.fixture
def reviews(rng) -> pd.DataFrame:
    n = 300
    y = rng.choice(["yes", "no"], n)
    text = [f"the room was {rng.choice(WORDS[label])} and the {rng.choice(['bed', 'view', 'desk'])} "
            f"{rng.choice(['ok', 'fine', 'so so'])}" for label in y]
    shops = np.array([f"shop{i:03d}" for i in range(120)])
    return pd.DataFrame({"review": text, "shop": rng.choice(shops, n), "x": rng.normal(size=n), "y": y})


def test_text_becomes_a_few_dense_columns_learnt_from_the_fitted_rows_only(reviews):
    features = TextFeatures(max_features=50, components=5, random_state=0)
    out = features.fit_transform(reviews[["review"]].iloc[:200])
    assert out.shape == (200, 5) and np.isfinite(out).all()
    assert set(features.tfidf_.vocabulary_) <= set(" ".join(reviews["review"].iloc[:200]).split()) | \
        {f"{a} {b}" for t in reviews["review"].iloc[:200] for a, b in zip(t.split(), t.split()[1:])}
    unseen = pd.DataFrame({"review": ["never seen words here", None]})
    assert features.transform(unseen).shape == (2, 5)
    assert list(features.get_feature_names_out()) == [f"review_text{i}" for i in range(5)]


def test_text_without_repeated_words_gives_one_zero_column():
    frame = pd.DataFrame({"t": ["alpha beta", "gamma delta", "epsilon zeta"]})
    assert TextFeatures().fit_transform(frame).tolist() == [[0.0], [0.0], [0.0]]


def test_text_alone_predicts_the_label(reviews):
    from sklearn.model_selection import cross_val_score

    pipe = TrialSpec("logistic", {}, {}).build("binary", ([], [], [], ["review"]), seed=0)
    X = reviews[["review"]]
    assert cross_val_score(pipe, X, reviews["y"], cv=3).mean() > 0.9  # the words say it all


def test_many_categories_are_target_encoded_out_of_fold(reviews):
    encoder = CategoricalEncoder(max_categories=30, random_state=0)
    y = (reviews["y"] == "yes").astype(int).to_numpy()
    X = reviews[["shop"]].to_numpy(dtype=object)
    train = encoder.fit_transform(X, y)
    assert encoder.high_ == [0] and train.shape == (300, 1)
    # Cross-fitted: a training row's code is not the plain mean including its own target.
    plain = encoder.target_.transform(X).ravel()
    assert not np.allclose(train.ravel(), plain)
    onehot = CategoricalEncoder(max_categories=30, high_cardinality="onehot").fit(X, y)
    assert onehot.high_ == [] and onehot.transform(X).shape[1] == 30


def test_few_categories_stay_one_hot(rng):
    X = rng.choice(["a", "b", "c"], (50, 1)).astype(object)
    encoder = CategoricalEncoder().fit(X, rng.choice([0, 1], 50))
    assert encoder.high_ == [] and list(encoder.get_feature_names_out(["c"])) == ["c_a", "c_b", "c_c"]


def test_the_pipeline_wires_text_and_categories(reviews):
    pre = build_preprocessor(["x"], ["shop"], [], {"text_components": 4}, text=["review"])
    out = pre.fit_transform(reviews, reviews["y"])
    names = list(pre.get_feature_names_out())
    assert out.shape == (300, 1 + 1 + 4)
    assert names[0] == "x" and names[-4:] == [f"review_text{i}" for i in range(4)]
    pipe = build_pipeline((["x"], ["shop"], [], ["review"]), {}, _logistic())
    assert pipe.fit(reviews, reviews["y"]).predict(reviews.head(3)).shape == (3,)


def _logistic():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression()


def test_a_whole_number_regression_target_is_encoded_as_one_standardised_column(reviews, rng):
    # Prices in whole units, in the thousands: neither classes (one column per price) nor
    # codes in the target's units beside standardised numbers.
    price = rng.integers(1000, 5000, len(reviews)) + np.where(reviews["shop"] < "shop060", 2000, 0)
    X = reviews[["shop"]].to_numpy(dtype=object)
    codes = CategoricalEncoder(max_categories=30, regression=True).fit_transform(X, price)
    assert codes.shape == (300, 1)
    assert abs(codes.mean()) < 0.5 and 0.1 < codes.std() < 2
    low = (reviews["shop"] < "shop060").to_numpy()
    assert codes[low].mean() > codes[~low].mean()  # the dearer shops keep their order


def test_a_booster_sees_every_category_with_enough_rows(rng):
    # 150 categories, each well under 1 % of rows: one-hot limits would lump them into one code.
    from automl.families import build_estimator

    shops = np.repeat([f"shop{i:03d}" for i in range(150)], 8)
    frame = pd.DataFrame({"shop": shops, "x": rng.normal(size=len(shops))})
    pipe = build_pipeline((["x"], ["shop"], []), {}, build_estimator("lightgbm", "regression", {}, 0))
    codes = pipe.named_steps["preprocess"].fit_transform(frame, np.arange(len(shops)))[:, 0]
    assert len(np.unique(codes)) == 150
