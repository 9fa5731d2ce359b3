"""What a training run records per epoch, and the book's ``SGD`` return value."""

from dataclasses import dataclass, field, fields


@dataclass
class History:
    """Per-epoch record of a training run.

    Unpacks like the book's chapter-3 ``SGD`` return value::

        evaluation_cost, evaluation_accuracy, training_cost, training_accuracy = net.SGD(...)

    Accuracies are counts of correct samples (as the book prints them);
    ``n_evaluation`` and ``n_training`` give the denominators.
    """

    evaluation_cost: list = field(default_factory=list)
    evaluation_accuracy: list = field(default_factory=list)
    training_cost: list = field(default_factory=list)
    training_accuracy: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    eta: list = field(default_factory=list)
    n_evaluation: int = 0
    n_training: int = 0
    stopped_early: bool = False
    best_epoch: int | None = None

    def __iter__(self):
        yield self.evaluation_cost
        yield self.evaluation_accuracy
        yield self.training_cost
        yield self.training_accuracy

    @property
    def epochs(self) -> int:
        """Number of epochs trained."""
        return len(self.seconds)

    def to_dict(self) -> dict:
        """Plain-JSON form, for model files and checkpoints."""
        return {
            "evaluation_cost": [float(v) for v in self.evaluation_cost],
            "evaluation_accuracy": [int(v) for v in self.evaluation_accuracy],
            "training_cost": [float(v) for v in self.training_cost],
            "training_accuracy": [int(v) for v in self.training_accuracy],
            "seconds": [float(v) for v in self.seconds],
            "eta": [float(v) for v in self.eta],
            "n_evaluation": int(self.n_evaluation),
            "n_training": int(self.n_training),
            "stopped_early": bool(self.stopped_early),
            "best_epoch": self.best_epoch,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        """Inverse of ``to_dict``; unknown keys are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


class SGDResult(tuple):
    """The book's ``SGD`` return value, a real 4-tuple of lists, plus ``history``.

    ``ec, ea, tc, ta = net.SGD(...)``, ``result[1][-1]``, ``result[:2]``,
    ``len(result) == 4`` and ``result == (ec, ea, tc, ta)`` all behave as
    with the book's tuple; other attributes come from the ``History``.
    """

    history: History

    def __new__(cls, history):
        self = super().__new__(cls, (history.evaluation_cost, history.evaluation_accuracy,
                                     history.training_cost, history.training_accuracy))
        self.history = history
        return self

    def __getattr__(self, name):
        if name == "history":  # not yet set (e.g. while unpickling)
            raise AttributeError(name)
        return getattr(self.history, name)

    def __reduce__(self):
        return (SGDResult, (self.history,))
