"""Logistic (binary) and softmax (multinomial) regression fitted by gradient descent."""

from __future__ import annotations

import numpy as np
from scipy.special import expit, log_softmax, softmax
from sklearn.base import ClassifierMixin
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets

from ._base import DIVERGENCE_DOC, SHARED_ATTRIBUTES_DOC, SHARED_PARAMS_DOC, BaseGD, store_params
from ._losses import binary_log_loss, multinomial_log_loss
from ._validation import Kind, Options


class GDClassifier(ClassifierMixin, BaseGD):
    __doc__ = (
        """Logistic regression (softmax for more than two classes) fitted by a choice of optimizers.

    Minimises the mean, class-weighted log-loss plus an elastic-net penalty::

        J(W, b) = 1/n * sum_i s_i * logloss(y_i, x_i @ W + b)
                  + alpha * ((1 - r) / 2 * ||W||_2^2 + r * ||W||_1)

    where ``s_i`` is the weight of the class of sample ``i`` (1 without ``class_weight``) and
    ``r`` is 0 for ``penalty="l2"``, 1 for ``"l1"`` and ``l1_ratio`` for ``"elasticnet"``.
    With ``penalty="l2"`` this is scikit-learn's ``LogisticRegression`` objective with
    ``C = 1 / (n_samples * alpha)``; the intercept is not penalised.

    Parameters
    ----------
"""
        + SHARED_PARAMS_DOC
        + """\
    class_weight : dict, "balanced" or None, default=None
        Weights ``{label: weight}`` multiplying each sample's loss; ``"balanced"`` uses
        ``n_samples / (n_classes * bincount(y))``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        One row for binary problems (the positive class ``classes_[1]``), else one per class.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts (zeros when ``fit_intercept=False``).
"""
        + SHARED_ATTRIBUTES_DOC
        + "\n"
        + DIVERGENCE_DOC
        + """
    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from automl.families.gd import GDClassifier
    >>> X, y = make_classification(n_samples=200, random_state=0)
    >>> clf = GDClassifier(optimizer="adam", random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """
    )

    _constraints = {
        **BaseGD._constraints,
        "class_weight": [Options("balanced"), Kind(dict, type(None))],
    }

    def __init__(
        self,
        *,
        optimizer="adam",
        learning_rate="auto",
        lr_schedule="constant",
        power_t=0.5,
        step_size=10,
        decay=0.5,
        batch_size=64,
        momentum=0.9,
        beta1=0.9,
        beta2=0.999,
        epsilon=1e-8,
        max_epochs=200,
        tol=1e-4,
        n_iter_no_change=5,
        early_stopping=False,
        validation_fraction=0.1,
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        class_weight=None,
        fit_intercept=True,
        random_state=None,
        warm_start=False,
    ):
        store_params(self, locals())

    def fit(self, X, y):
        """Fit the model to ``X`` (n_samples, n_features) and labels ``y``; return ``self``."""
        X, y = self._validate_fit_input(X, y, y_numeric=False)
        check_classification_targets(y)
        classes, encoded = np.unique(y, return_inverse=True)
        if classes.shape[0] < 2:
            raise ValueError(
                f"GDClassifier needs samples of at least 2 classes, but y has only one class: "
                f"{classes[0]!r}."
            )
        weights = None
        if self.class_weight is not None:
            per_class = compute_class_weight(self.class_weight, classes=classes, y=y)
            weights = per_class[encoded]
        if classes.shape[0] == 2:
            Y = encoded.astype(np.float64)[:, None]
        else:
            Y = np.eye(classes.shape[0])[encoded]
        self._fit_targets(X, Y, weights, stratify=encoded)
        self.classes_ = classes
        return self

    def _loss_function(self, n_outputs):
        return binary_log_loss if n_outputs == 1 else multinomial_log_loss

    def decision_function(self, X):
        """Logits: shape (n_samples,) for two classes (positive class), else (n_samples, n_classes)."""
        Z = self._linear(X)
        return Z.ravel() if Z.shape[1] == 1 else Z

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns ordered as ``classes_``."""
        Z = self._linear(X)
        if Z.shape[1] == 1:
            positive = expit(Z)
            return np.hstack([1.0 - positive, positive])
        return softmax(Z, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed without underflow."""
        Z = self._linear(X)
        if Z.shape[1] == 1:
            Z = np.hstack([np.zeros_like(Z), Z])
        return log_softmax(Z, axis=1)

    def predict(self, X):
        """Most probable class label of each sample."""
        Z = self._linear(X)
        best = (Z[:, 0] > 0).astype(int) if Z.shape[1] == 1 else Z.argmax(axis=1)
        return self.classes_[best]
