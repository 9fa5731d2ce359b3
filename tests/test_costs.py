import warnings

import numpy as np
import pytest

from nnvec.activations import sigmoid
from nnvec.costs import CrossEntropyCost, QuadraticCost, get_cost


@pytest.mark.parametrize("cost", [QuadraticCost, CrossEntropyCost])
def test_delta_matches_finite_difference_of_fn(cost):
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, 1)) * 2
    y = np.zeros((5, 1))
    y[2] = 1.0
    h = 1e-6
    fd = np.empty_like(z)
    for i in range(len(z)):
        zp, zm = z.copy(), z.copy()
        zp[i] += h
        zm[i] -= h
        fd[i] = (cost.fn(sigmoid(zp), y) - cost.fn(sigmoid(zm), y)) / (2 * h)
    np.testing.assert_allclose(cost.delta(z, sigmoid(z), y), fd, rtol=1e-7, atol=1e-10)


def test_known_values():
    a = np.array([0.5, 0.25])
    y = np.array([1.0, 0.0])
    assert QuadraticCost.fn(a, y) == pytest.approx(0.5 * (0.25 + 0.0625))
    assert CrossEntropyCost.fn(a, y) == pytest.approx(-np.log(0.5) - np.log(0.75))


def test_cross_entropy_safe_at_0_and_1():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # exact answers: zero cost, no nan
        assert CrossEntropyCost.fn(np.array([1.0, 0.0]), np.array([1.0, 0.0])) == 0.0
        # confident wrong answer: the book's nan_to_num gives the largest float
        c = CrossEntropyCost.fn(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    assert np.isfinite(c) and c > 1e300


def test_get_cost_accepts_names_classes_instances():
    assert get_cost("quadratic") is QuadraticCost
    assert get_cost("cross-entropy") is CrossEntropyCost
    assert get_cost(CrossEntropyCost) is CrossEntropyCost
    assert get_cost(CrossEntropyCost()) is CrossEntropyCost
    with pytest.raises(ValueError, match="unknown cost 'hinge'"):
        get_cost("hinge")
    with pytest.raises(TypeError, match="cost must be"):
        get_cost(3)
