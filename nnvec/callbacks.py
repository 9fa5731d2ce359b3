"""Things that happen around an epoch, each a small object with the same hooks.

The epoch loop (``nnvec.training``) trains one epoch, then calls every
callback's ``on_epoch_end(net, epoch, hist)`` in order; ``on_train_begin(run)``
and ``on_train_end(net, hist)`` are called once, if a callback has them (the
end even when training stops with an error or Ctrl-C), and
``on_interrupt(net, hist)`` after Ctrl-C has put the network back to its last
completed epoch. ``run`` is the loop's
state (``nnvec.training.Run``): a callback steers training by setting
``run.eta`` or ``run.stop``. A callback whose state must survive a crash has
``state() -> (json_dict, arrays)`` and ``restore(json_dict, arrays)``, which
the checkpoint saves and restores.

The loop adds its own callbacks in this order: ``Monitor`` (fills the
history), the user's callbacks (and the book's printed lines),
``EarlyStopping``, ``nnvec.progress.Progress``, and the checkpoint writer
last, so it saves what all the others decided.
"""

import sys
from typing import Any

from ._npz import param_arrays


class Callback:
    """Base class (optional: any object with ``on_epoch_end`` works)."""

    run: Any = None  #: the loop's ``nnvec.training.Run``, set by ``on_train_begin``

    def on_train_begin(self, run):
        self.run = run

    def on_epoch_end(self, net, epoch, hist):
        pass

    def on_train_end(self, net, hist):
        pass


class Monitor(Callback):
    """Record cost and accuracy on the training and/or evaluation data.

    ``what`` holds any of "training_cost", "training_accuracy",
    "evaluation_cost", "evaluation_accuracy"; one forward pass per data set.
    """

    def __init__(self, what):
        self.what = frozenset(what)

    def on_epoch_end(self, net, epoch, hist):
        run = self.run
        net._monitor(run.X, run.Y, run.labels, run.lmbda, "training_cost" in self.what,
                     "training_accuracy" in self.what, hist.training_cost,
                     hist.training_accuracy)
        if run.evaluation is not None:
            X, Y, labels = run.evaluation
            net._monitor(X, Y, labels, run.lmbda, "evaluation_cost" in self.what,
                         "evaluation_accuracy" in self.what, hist.evaluation_cost,
                         hist.evaluation_accuracy)


class EpochPrinter(Callback):
    """A line (or the book's chapter-3 block) per epoch.

    ``style="book"``: chapter 1's ``Epoch j: N / n_test`` or ``Epoch j
    complete``; ``"monitor"``: chapter 3's block of monitored quantities.
    """

    def __init__(self, style, out=None):
        self.style = style
        self.out = sys.stdout if out is None else out

    def on_epoch_end(self, net, epoch, hist):
        out, seconds = self.out, hist.seconds[-1]
        if self.style == "book":
            if not hist.evaluation_accuracy:
                print(f"Epoch {epoch} complete ({seconds:.3f} s)", file=out)
            else:
                print(f"Epoch {epoch}: {hist.evaluation_accuracy[-1]} / {hist.n_evaluation} "
                      f"({seconds:.3f} s)", file=out)
            return
        print(f"Epoch {epoch} training complete ({seconds:.3f} s)", file=out)
        if hist.training_cost:
            print(f"Cost on training data: {hist.training_cost[-1]}", file=out)
        if hist.training_accuracy:
            print(f"Accuracy on training data: {hist.training_accuracy[-1]} / "
                  f"{hist.n_training}", file=out)
        if hist.evaluation_cost:
            print(f"Cost on evaluation data: {hist.evaluation_cost[-1]}", file=out)
        if hist.evaluation_accuracy:
            print(f"Accuracy on evaluation data: {hist.evaluation_accuracy[-1]} / "
                  f"{hist.n_evaluation}", file=out)


class EarlyStopping(Callback):
    """"No improvement in ``n`` epochs" on evaluation accuracy, with an
    optional learning-rate schedule, and optionally the best epoch's weights.

    With ``halve_eta=False``: training stops once ``n`` epochs in a row have
    not beaten the best accuracy (``n=0``: never). With ``halve_eta=True``
    (the book's suggested schedule) eta is halved instead and the count
    restarts, and training stops once eta has been halved down below
    ``eta0 * min_eta_ratio`` (the book's eta/128). With ``restore_best`` the
    best epoch's parameters are put back when training completes.
    """

    def __init__(self, n, *, halve_eta=False, restore_best=False, min_eta_ratio=1 / 128,
                 out=None):
        self.n = n
        self.halve_eta = halve_eta
        self.restore_best = restore_best
        self.min_eta_ratio = min_eta_ratio
        self.out = out
        self.best = None
        self.best_epoch = None
        self.since_best = 0
        self.halvings = 0
        self.best_params = None

    def update(self, epoch, accuracy):
        """Record ``accuracy`` for ``epoch``; return "continue", "halve" or "stop"."""
        if self.best is None or accuracy > self.best:
            self.best, self.best_epoch, self.since_best = accuracy, epoch, 0
            return "continue"
        self.since_best += 1
        if self.n <= 0 or self.since_best < self.n:
            return "continue"
        if not self.halve_eta:
            return "stop"
        self.halvings += 1
        self.since_best = 0
        if 0.5**self.halvings < self.min_eta_ratio:
            return "stop"
        return "halve"

    def on_epoch_end(self, net, epoch, hist):
        acc = hist.evaluation_accuracy[-1]
        if self.restore_best and (self.best is None or acc > self.best):
            self.best_params = net._copy_params()
        action = self.update(epoch, acc)
        hist.best_epoch = self.best_epoch
        run = self.run
        if action == "stop":
            run.stop = True
            hist.stopped_early = epoch + 1 < run.epochs
            self._say(f"Early stopping after epoch {epoch}: no improvement in {self.n} "
                      f"epochs (best epoch {self.best_epoch})")
        elif action == "halve":
            run.eta = run.eta / 2
            self._say(f"No improvement in {self.n} epochs: eta -> {run.eta:g}")

    def on_train_end(self, net, hist):
        if self.restore_best and self.best_params is not None and self.run.completed:
            net._set_params(self.best_params)

    def _say(self, line):
        if self.out is not None:
            print(line, file=self.out)

    def state(self):
        arrays = {} if self.best_params is None else param_arrays(*self.best_params)
        return {"best": self.best, "best_epoch": self.best_epoch,
                "since_best": self.since_best, "halvings": self.halvings}, arrays

    def restore(self, state, arrays):
        self.best = state["best"]
        self.best_epoch = state["best_epoch"]
        self.since_best = state["since_best"]
        self.halvings = state["halvings"]
        if arrays:
            n_layers = len(arrays) // 2
            self.best_params = ([arrays[f"b{l}"].copy() for l in range(n_layers)],
                                [arrays[f"w{l}"].copy() for l in range(n_layers)])
