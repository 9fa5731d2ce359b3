"""Checkpoints: a run in progress, saved after every epoch so it can resume.

A checkpoint is a ``.npz`` archive like a model file (``nnvec._npz``: no
pickle, written atomically with temp file + fsync + rename, every header
checked before reading), holding

- ``w{l}``, ``b{l}``: the parameters after the last completed epoch;
- ``EarlyStopping.w{l}`` ...: arrays of stateful callbacks (the best epoch's
  parameters when ``restore_best`` is on);
- ``nnvec_checkpoint``: JSON with the ``settings`` that define the run (the
  network: engine, sizes, cost, init, dtype, seed, strategy, threads; the
  hyper-parameters; a SHA-256 of the training and validation data), and the
  ``state`` reached: epochs completed, current eta, the shuffling generator's
  state, whether the run has stopped, callback state, and the history.

Resuming restores all of it and continues, so a run killed at any moment and
resumed ends with the same weights, bit for bit, as one never interrupted
(the fused kernel gives the same bits for any thread count). A checkpoint is
only resumed by a run with the same settings; any difference is refused with
a message that names it.
"""

import hashlib
from pathlib import Path

import numpy as np

from . import _npz
from ._version import __version__
from .history import History
from .modelfile import check_network_meta
from .sparse import SparseImages

FORMAT = "nnvec-checkpoint"
FORMAT_VERSION = 1
META_KEY = "nnvec_checkpoint"


class CheckpointError(ValueError):
    """A checkpoint cannot be read, or does not belong to the run resuming it."""


def fingerprint(*arrays, dtype=np.float64):
    """SHA-256 of the arrays' shapes, dtypes and bytes (to recognise the data).

    ``SparseImages`` count as their dense ``dtype`` array, so data stored
    either way is recognised as the same.
    """
    h = hashlib.sha256()
    for a in arrays:
        if isinstance(a, SparseImages):
            h.update(f"{a.shape}{np.dtype(dtype).str}".encode())
            a.hash_into(h, dtype)
            continue
        a = np.ascontiguousarray(a)
        h.update(f"{a.shape}{a.dtype.str}".encode())
        h.update(a.data)
    return h.hexdigest()


def write(path, run, callbacks):
    """Save ``run`` (a ``nnvec.training.Run``) and its callbacks' state to ``path``."""
    net = run.net
    arrays = _npz.param_arrays(net.biases, net.weights)
    cb_state = {}
    for cb in callbacks:
        if hasattr(cb, "state"):
            name = type(cb).__name__
            cb_state[name], cb_arrays = cb.state()
            arrays.update({f"{name}.{k}": v for k, v in cb_arrays.items()})
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "nnvec_version": __version__,
        "settings": run.settings,
        "state": {
            "epoch": run.epoch,
            "eta": run.eta,
            "stop": run.stop,
            "rng": run.rng.bit_generator.state,
            "callbacks": cb_state,
        },
        "history": run.history.to_dict(),
    }
    return _npz.write_atomic(path, arrays, meta, META_KEY)


def read(path):
    """Read and check a checkpoint; return ``(meta, arrays)``.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    CheckpointError
        If it is not an nnvec checkpoint, or is corrupt, truncated or edited.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")

    def expect(key, meta):
        shapes = _npz.param_shapes(meta["settings"]["sizes"])
        key = key.split(".", 1)[-1]  # a callback's copy of the parameters
        return None if key not in shapes else (shapes[key], meta["settings"]["dtype"])

    meta, arrays = _npz.read_checked(path, META_KEY, CheckpointError, "an nnvec checkpoint",
                                     lambda meta: _check_meta(meta, path), expect)
    missing = set(_npz.param_shapes(meta["settings"]["sizes"])) - set(arrays)
    if missing:
        raise CheckpointError(f"{path}: parameters {sorted(missing)} are missing")
    return meta, arrays


def _check_meta(meta, path):
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an nnvec checkpoint (metadata format is not "
                              f"{FORMAT!r})")
    version = meta.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise CheckpointError(f"{path}: invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{path} has format version {version}, newer than this nnvec "
                              f"reads ({FORMAT_VERSION}); upgrade nnvec to resume it")
    if not all(isinstance(meta.get(k), dict) for k in ("settings", "state", "history")):
        raise CheckpointError(f"{path}: metadata lacks settings, state or history")
    check_network_meta(meta["settings"], path, CheckpointError)


def settings_differences(saved, wanted):
    """Lines naming each setting where ``wanted`` differs from ``saved``."""
    lines = []
    for key in sorted(set(saved) | set(wanted)):
        a, b = saved.get(key), wanted.get(key)
        if a != b:
            what = "data" if key.endswith("_sha256") else key
            if what == "data":
                lines.append(f"{key.removesuffix('_sha256')} data differ from the checkpoint's")
            else:
                lines.append(f"{key}={b!r} where the checkpoint has {key}={a!r}")
    return lines


def restore(path, run, callbacks):
    """Put the state saved in ``path`` into ``run`` and ``callbacks``.

    Raises
    ------
    FileNotFoundError, CheckpointError
        If the file is missing or unreadable, or its settings differ from
        ``run.settings`` (the message names every difference).
    """
    meta, arrays = read(path)
    diffs = settings_differences(meta["settings"], run.settings)
    if diffs:
        raise CheckpointError(
            f"{path} belongs to a different run: " + "; ".join(diffs)
            + ". Resume with the checkpoint's settings and data, or start a new run "
            "(without resume) to change them.")
    state = meta["state"]
    try:
        net = run.net
        n_layers = len(net.weights)
        biases, weights = _npz.unpack_params(arrays, n_layers, path, CheckpointError)
        run.rng.bit_generator.state = state["rng"]
        cb_states = state["callbacks"]
        for cb in callbacks:
            name = type(cb).__name__
            if hasattr(cb, "restore") and name in cb_states:
                prefix = f"{name}."
                cb.restore(cb_states[name], {k[len(prefix):]: v for k, v in arrays.items()
                                             if k.startswith(prefix)})
        run.epoch = int(state["epoch"])
        run.eta = float(state["eta"])
        run.stop = bool(state["stop"])
        run.history = History.from_dict(meta["history"])
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, CheckpointError):
            raise
        raise CheckpointError(f"{path}: inconsistent checkpoint state ({exc!r})") from None
    if len(run.history.seconds) != run.epoch:
        raise CheckpointError(f"{path}: history has {len(run.history.seconds)} epochs but "
                              f"the state says {run.epoch}")
    net._set_params((biases, weights))
    return meta


class CheckpointWriter:
    """Callback: write the run to ``path`` after every epoch (last in line)."""

    def __init__(self, path):
        self.path = Path(path)
        self.run = None
        self.callbacks = ()

    def on_train_begin(self, run):
        self.run = run
        self.callbacks = run.callbacks

    def on_epoch_end(self, net, epoch, hist):
        write(self.path, self.run, self.callbacks)

    def on_interrupt(self, net, hist):
        write(self.path, self.run, self.callbacks)
