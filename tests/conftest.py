import os
import tempfile

import pytest

import nnvec

# The data cache (nnvec._datacache) of this test session, subprocesses
# included: tests never write into the user's ~/.cache.
_CACHE = tempfile.TemporaryDirectory(prefix="nnvec-test-cache-")
os.environ["NNVEC_CACHE_DIR"] = _CACHE.name


@pytest.fixture(scope="session")
def mnist():
    """The bundled MNIST, book split, float64 (loaded once per test session)."""
    return nnvec.load_mnist()
