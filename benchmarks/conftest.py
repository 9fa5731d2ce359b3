import pathlib

import numpy as np
import pytest

import nnvec

HERE = pathlib.Path(__file__).parent.resolve()


def _asked_for_benchmarks(config):
    """True for --benchmark-only/--benchmark-disable, or when benchmarks/ is named."""
    if config.getoption("benchmark_only", False) or config.getoption("benchmark_disable", False):
        return True
    for arg in config.invocation_params.args:
        if str(arg).startswith("-"):
            continue
        path = pathlib.Path(str(arg).split("::")[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_collection_modifyitems(config, items):
    # Plain `pytest` at the root is the test suite: the timed epochs here run
    # only with --benchmark-only (or --benchmark-disable, once, untimed, as CI
    # does), or when benchmarks/ is named on the command line.
    if _asked_for_benchmarks(config):
        return
    kept, dropped = [], []
    for item in items:
        (dropped if HERE in pathlib.Path(str(item.path)).resolve().parents else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def mnist_train():
    """The training images in float64 and float32, with their labels."""
    (X, y), _, _ = nnvec.load_mnist()
    return {"float64": X, "float32": X.astype(np.float32)}, y
