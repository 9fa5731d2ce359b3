import pytest

import nnvec


@pytest.fixture(scope="session")
def mnist():
    """The bundled MNIST, book split, float64 (loaded once per test session)."""
    return nnvec.load_mnist()
