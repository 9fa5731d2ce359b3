"""One name for every engine, for the command line, benchmarks and model files.

Importing this module imports every engine, so each has registered its name
(``nnvec._registry``); ``make_network`` then builds any of them by name.
"""

from . import columns, engine, reference  # noqa: F401  (each registers its engine)
from ._registry import engine_names, make_network

#: every engine name make_network accepts
ENGINE_NAMES = ("numba", "numpy", "reference", "columns")
assert set(ENGINE_NAMES) == set(engine_names())

__all__ = ["ENGINE_NAMES", "make_network"]
