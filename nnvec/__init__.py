"""nnvec: Nielsen's feedforward networks, trained on whole mini-batch matrices.

Public names::

    Network            the matrix engine (numba kernels or numpy)
    ReferenceNetwork   the per-example engine: the book's algorithm, the oracle
    ColumnNetwork      the book's column-gather matrix port (the "2x" variant)
    load_mnist         MNIST with the book's 50k/10k/10k split
    load               read a saved model file
    gradient_check     finite-difference check of backprop
    QuadraticCost, CrossEntropyCost
    NetworkClassifier  a scikit-learn estimator (needs the ``sklearn`` extra)
    sweep              hyper-parameter sweeps, local or on Dask (``nnvec.sweep``)
"""

__version__ = "0.1.0"

from ._base import History, NonFiniteWeightsError
from .columns import ColumnNetwork
from .costs import CrossEntropyCost, QuadraticCost
from .engine import Network
from .gradcheck import gradient_check
from .mnist import MNISTFormatError, load_data_wrapper, load_mnist
from .modelfile import ModelFileError, load
from .reference import ReferenceNetwork

__all__ = [
    "Network", "ReferenceNetwork", "ColumnNetwork", "History", "NonFiniteWeightsError",
    "QuadraticCost", "CrossEntropyCost", "gradient_check", "load_mnist",
    "load_data_wrapper", "MNISTFormatError", "load", "ModelFileError", "NetworkClassifier",
]


def __getattr__(name):
    # scikit-learn is an optional extra: import the estimator only when asked for.
    if name == "NetworkClassifier":
        from .estimator import NetworkClassifier

        return NetworkClassifier
    raise AttributeError(f"module 'nnvec' has no attribute {name!r}")
