"""scikit-learn's estimator API conformance checks on both gradient-descent estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from automl.families.gd import GDClassifier, GDRegressor


@parametrize_with_checks([GDClassifier(), GDRegressor()])
def test_sklearn_compatible(estimator, check):
    check(estimator)
