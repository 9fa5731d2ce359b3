"""Chapter 1's non-neural baselines: average darkness and a default SVM."""

import time

import numpy as np


def average_darkness(training, test):
    """The book's darkness baseline; returns the number of test images it gets right.

    The darkness of an image is the sum of its pixels. Each digit's average
    darkness is taken over the training images; a test image is classified
    as the digit whose average is closest to its own darkness.

    Parameters
    ----------
    training, test : pairs ``(X, y)``, ``X`` of shape (n_samples, n_features)

    Returns
    -------
    int
        Correctly classified test images (the book: 2,225 of 10,000).
    """
    X, y = training
    Xt, yt = test
    y = np.asarray(y)
    darkness = np.asarray(X, dtype=np.float64).sum(axis=1)
    digits = np.unique(y)  # only digits seen in training can be guessed
    avgs = np.array([darkness[y == d].mean() for d in digits])
    test_darkness = np.asarray(Xt, dtype=np.float64).sum(axis=1)
    # argmin takes the lowest digit on a tie, as iterating digits in order does
    guesses = digits[np.argmin(np.abs(test_darkness[:, None] - avgs[None, :]), axis=1)]
    return int(np.sum(guesses == np.asarray(yt)))


def svm_baseline(training, test):
    """scikit-learn's ``SVC()`` with default settings; returns (correct, seconds).

    Raises
    ------
    ImportError
        If scikit-learn is not installed (``pip install 'nnvec[svm]'``).
    """
    try:
        from sklearn import svm
    except ImportError:
        raise ImportError("the SVM baseline needs scikit-learn: pip install 'nnvec[svm]' "
                          "(or pip install scikit-learn)") from None
    t = time.perf_counter()
    clf = svm.SVC()
    clf.fit(*training)
    correct = int(np.sum(clf.predict(test[0]) == test[1]))
    return correct, time.perf_counter() - t
