import warnings

import numpy as np
import pytest

from nnvec.activations import sigmoid, sigmoid_prime, sigmoid_prime_from_a


def test_sigmoid_known_values():
    z = np.array([0.0, 1.0, -1.0, 2.5])
    np.testing.assert_allclose(sigmoid(z), [0.5, 0.7310585786300049, 0.2689414213699951,
                                            0.9241418199787566], rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_extreme_inputs_no_warning(dtype):
    z = np.array([-1e308 if dtype == np.float64 else -3e38, -1000.0, -100.0, -88.8,
                  88.8, 100.0, 1000.0, 3e38], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise", under="ignore"):
            s = sigmoid(z)
    assert s.dtype == dtype
    assert np.all(np.isfinite(s))
    assert s[0] == 0.0 and s[1] == 0.0 and s[-1] == 1.0
    assert 0 < s[3] < 1e-38


def test_sigmoid_matches_textbook_formula_where_it_is_safe():
    z = np.linspace(-30, 30, 1001)
    np.testing.assert_allclose(sigmoid(z), 1.0 / (1.0 + np.exp(-z)), rtol=1e-14)


def test_sigmoid_prime_forms_agree_and_match_finite_differences():
    z = np.linspace(-8, 8, 161)
    h = 1e-6
    fd = (sigmoid(z + h) - sigmoid(z - h)) / (2 * h)
    np.testing.assert_allclose(sigmoid_prime(z), fd, atol=1e-9)
    assert np.array_equal(sigmoid_prime(z), sigmoid_prime_from_a(sigmoid(z)))
