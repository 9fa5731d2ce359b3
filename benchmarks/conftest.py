import numpy as np
import pytest

import nnvec


@pytest.fixture(scope="session")
def mnist_train():
    """The training images in float64 and float32, with their labels."""
    (X, y), _, _ = nnvec.load_mnist()
    return {"float64": X, "float32": X.astype(np.float32)}, y
