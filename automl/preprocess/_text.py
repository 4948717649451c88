"""Free-text columns as a few dense numbers: TF-IDF of words and word pairs, reduced by SVD.

Every model family gets the same dense features (histogram boosting and automl's own GD models
take no sparse input), and a fold's text costs columns by ``components``, not by vocabulary.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin


class TextFeatures(TransformerMixin, BaseEstimator):
    """TF-IDF (1-2 word n-grams, ``max_features`` of them) of one text column, then truncated SVD
    to ``components`` dimensions (fewer when the fold's vocabulary is smaller)."""

    def __init__(self, max_features=2000, components=30, random_state=None):
        self.max_features, self.components, self.random_state = max_features, components, random_state

    def fit(self, X, y=None):
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y=None):
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        docs = _documents(X)
        self.column_ = _name(X)
        self.tfidf_ = TfidfVectorizer(max_features=self.max_features, ngram_range=(1, 2), min_df=2,
                                      sublinear_tf=True, dtype=np.float32)
        try:
            weights = self.tfidf_.fit_transform(docs)
        except ValueError:  # no word occurs twice in this fold: nothing to learn from
            self.tfidf_, self.svd_ = None, None
            return np.zeros((len(docs), 1))
        k = min(self.components, weights.shape[1] - 1)
        self.svd_ = TruncatedSVD(k, random_state=self.random_state) if k >= 1 else None
        return self._reduce(weights, fit=True)

    def transform(self, X):
        docs = _documents(X)
        if self.tfidf_ is None:
            return np.zeros((len(docs), 1))
        return self._reduce(self.tfidf_.transform(docs), fit=False)

    def _reduce(self, weights, fit: bool):
        if self.svd_ is None:
            return weights.toarray().astype(np.float64)
        out = self.svd_.fit_transform(weights) if fit else self.svd_.transform(weights)
        return out.astype(np.float64)

    def get_feature_names_out(self, input_features=None):
        n = 1 if self.svd_ is None else self.svd_.n_components
        return np.asarray([f"{self.column_}_text{i}" for i in range(n)], dtype=object)


def _documents(X) -> np.ndarray:
    values = X.iloc[:, 0] if isinstance(X, pd.DataFrame) else pd.Series(np.asarray(X).ravel())
    return values.where(values.notna(), "").astype(str).to_numpy()


def _name(X) -> str:
    return str(X.columns[0]) if isinstance(X, pd.DataFrame) else "text"
