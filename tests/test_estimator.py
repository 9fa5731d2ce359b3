"""NetworkClassifier: scikit-learn's own estimator checks, and real use."""

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from nnvec import NetworkClassifier  # noqa: E402


@parametrize_with_checks([NetworkClassifier(), NetworkClassifier(cost="cross-entropy",
                                                                  init="default", eta=0.5)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


# ------------------------------------------------------------ real use
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import MinMaxScaler  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    """2,000 MNIST training images (the bundled data), labels as given."""
    import nnvec

    (X, y), _, _ = nnvec.load_mnist()
    return X[:2000], y[:2000]


def test_any_labels_go_through_classes(digits):
    X, y = digits
    plain = NetworkClassifier(epochs=3, random_state=0).fit(X, y)
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                      "eight", "nine"])
    for labels in (names[y], 10 * y.astype(int) - 45):  # strings; negative ints with gaps
        clf = NetworkClassifier(epochs=3, random_state=0).fit(X, labels)
        assert sorted(clf.classes_) == sorted(set(labels)) == list(clf.classes_)
        assert clf.n_features_in_ == 784
        pred = clf.predict(X[:500])
        assert np.mean(pred == labels[:500]) > 0.5  # chance: 0.1
        p = clf.predict_proba(X[:500])
        assert p.shape == (500, 10)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
        assert np.array_equal(clf.classes_[p.argmax(axis=1)], pred)
    # an order-preserving relabelling trains the very same network
    assert np.array_equal(clf.predict(X[:500]), 10 * plain.predict(X[:500]) - 45)


def test_int_random_state_is_deterministic_and_the_network_is_the_books(digits):
    X, y = digits
    a = NetworkClassifier(epochs=2, random_state=3).fit(X, y)
    b = NetworkClassifier(epochs=2, random_state=3).fit(X, y)
    c = NetworkClassifier(epochs=2, random_state=4).fit(X, y)
    assert np.array_equal(a.network_.weights[0], b.network_.weights[0])
    assert not np.array_equal(a.network_.weights[0], c.network_.weights[0])
    assert a.network_.sizes == (784, 30, 10) and a.n_iter_ == 2
    assert len(a.history_.seconds) == 2


def test_early_stopping_holds_out_a_validation_share(digits):
    X, y = digits
    clf = NetworkClassifier(epochs=40, early_stopping_n=2, validation_fraction=0.2,
                            random_state=0).fit(X, y)
    h = clf.history_
    assert h.n_evaluation == 400 and h.n_training == 1600
    assert clf.n_iter_ == len(h.evaluation_accuracy) <= 40
    assert h.best_epoch is not None
    with pytest.raises(ValueError, match="validation_fraction"):
        NetworkClassifier(early_stopping_n=2, validation_fraction=1.5).fit(X, y)


def test_partial_fit_continues_training(digits):
    X, y = digits
    clf = NetworkClassifier(random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X[:100], y[:100])
    clf.partial_fit(X[:1000], y[:1000], classes=np.arange(10))
    first = clf.score(X[1000:], y[1000:])
    for _ in range(4):
        clf.partial_fit(X[:1000], y[:1000])
    assert clf.n_iter_ == 5
    assert clf.score(X[1000:], y[1000:]) > first
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X[:10], np.full(10, 11))


def test_bad_hyper_parameters_are_named_in_fit(digits):
    X, y = digits
    NetworkClassifier(eta=-1)  # stored as given
    with pytest.raises(ValueError, match="eta"):
        NetworkClassifier(eta=-1).fit(X[:50], y[:50])
    with pytest.raises(TypeError, match="hidden_layer_sizes"):
        NetworkClassifier(hidden_layer_sizes="30").fit(X[:50], y[:50])
    with pytest.raises(ValueError, match="1 class"):
        NetworkClassifier().fit(X[:50], np.zeros(50))


def test_pipeline_cross_validation_and_grid_search(digits):
    X, y = digits
    pipe = make_pipeline(MinMaxScaler(), NetworkClassifier(epochs=10,
                                                             random_state=0))
    scores = cross_val_score(pipe, X[:1000], y[:1000], cv=3)
    assert scores.shape == (3,) and scores.min() > 0.6
    grid = GridSearchCV(NetworkClassifier(epochs=3, random_state=0),
                        {"eta": [0.001, 3.0]}, cv=2).fit(X[:1000], y[:1000])
    assert grid.best_params_ == {"eta": 3.0}  # eta=0.001 barely moves the weights


def test_grid_search_on_a_dask_cluster_through_joblib(digits):
    distributed = pytest.importorskip("distributed")
    import joblib

    X, y = digits
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1") as cluster, \
            distributed.Client(cluster) as client:
        grid = GridSearchCV(NetworkClassifier(epochs=2, random_state=0),
                            {"eta": [0.001, 3.0], "hidden_layer_sizes": [(10,), (30,)]}, cv=2)
        with joblib.parallel_backend("dask"):
            grid.fit(X[:1000], y[:1000])
        workers = client.run(lambda: 1)
    assert len(workers) == 2
    assert grid.best_params_["eta"] == 3.0
    assert len(grid.cv_results_["mean_test_score"]) == 4
