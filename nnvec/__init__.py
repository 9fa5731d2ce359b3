"""nnvec: Nielsen's feedforward networks, trained on whole mini-batch matrices.

Public names::

    Network            the matrix engine (numba kernels or numpy)
    ReferenceNetwork   the per-example engine: the book's algorithm, the oracle
    ColumnNetwork      the book's column-gather matrix port (the "2x" variant)
    load_mnist         MNIST with the book's 50k/10k/10k split
    SparseImages       images as their non-zero pixels (``load_mnist(compact=True)``)
    load               read a saved model file
    make_network       any engine by name ("numba", "numpy", "reference", "columns")
    CheckpointError, TrainingInterrupted   (checkpoints, resume and Ctrl-C: see fit)
    gradient_check     finite-difference check of backprop
    QuadraticCost, CrossEntropyCost
    NetworkClassifier  a scikit-learn estimator (needs the ``sklearn`` extra)
    sweep              hyper-parameter sweeps, local or on Dask (``nnvec.sweep``)
"""

from ._version import __version__
from .checkpoint import CheckpointError
from .columns import ColumnNetwork
from .costs import CrossEntropyCost, QuadraticCost
from .engine import Network
from .engines import make_network
from .gradcheck import gradient_check
from .history import History
from .mnist import MNISTFormatError, load_data_wrapper, load_mnist
from .modelfile import ModelFileError, load
from .network import NonFiniteWeightsError
from .reference import ReferenceNetwork
from .sparse import SparseImages
from .training import TrainingInterrupted

__all__ = [
    "Network", "ReferenceNetwork", "ColumnNetwork", "History", "NonFiniteWeightsError",
    "QuadraticCost", "CrossEntropyCost", "gradient_check", "load_mnist",
    "load_data_wrapper", "MNISTFormatError", "load", "ModelFileError", "NetworkClassifier",
    "CheckpointError", "TrainingInterrupted", "make_network", "SparseImages", "__version__",
]


def __getattr__(name):
    # scikit-learn is an optional extra: import the estimator only when asked for.
    if name == "NetworkClassifier":
        from .estimator import NetworkClassifier

        return NetworkClassifier
    raise AttributeError(f"module 'nnvec' has no attribute {name!r}")
