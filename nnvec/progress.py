"""Progress on long work: a tqdm bar on a terminal, plain lines elsewhere.

Why two forms: a bar redraws one line with carriage returns, which is what a
person at a terminal wants and what a CI log or a pipe turns into noise. So
``Progress`` draws tqdm's bar only when the stream is a terminal (and tqdm,
the ``progress`` extra, is installed), and otherwise prints one plain line per
step: ``desc: 3/30 (elapsed 1.2 s, about 10.8 s left)``.

The same object serves as a training callback (``on_epoch_end``), so
``fit(..., progress=True)`` and the estimator's ``verbose`` report per epoch.
"""

import sys
import time


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real file
        return False


class Progress:
    """Count steps of known total; bar on a terminal, lines otherwise.

    Parameters
    ----------
    total : int
        Number of steps expected.
    desc : str
        What is counted, e.g. ``"epochs"`` or ``"trials"``.
    stream : file, optional
        Where to write (default: ``sys.stderr``, so stdout stays the result).
    bar : bool, optional
        Force the bar (True) or the plain lines (False); default: a bar when
        ``stream`` is a terminal and tqdm is installed.
    """

    def __init__(self, total, desc, stream=None, bar=None):
        self.total = int(total)
        self.desc = desc
        self.stream = sys.stderr if stream is None else stream
        self.done = 0
        self.t0 = time.perf_counter()
        self._bar = None
        if bar is None:
            bar = _is_terminal(self.stream)
        if bar:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # no extra: plain lines still say it all
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=self.total, desc=desc, file=self.stream, leave=True)

    def update(self, n=1, note=""):
        """Record ``n`` more steps done; ``note`` (e.g. the last result) is shown."""
        self.done += n
        if self._bar is not None:
            if note:
                self._bar.set_postfix_str(note, refresh=False)
            self._bar.update(n)
            return
        elapsed = time.perf_counter() - self.t0
        left = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        extra = f"; {note}" if note else ""
        print(f"{self.desc}: {self.done}/{self.total} (elapsed {elapsed:.1f} s, "
              f"about {left:.1f} s left{extra})", file=self.stream, flush=True)

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # as a training callback
    def on_epoch_end(self, net, epoch, hist):
        acc = hist.evaluation_accuracy[-1] if hist.evaluation_accuracy else None
        note = "" if acc is None else f"validation {acc} / {hist.n_evaluation}"
        self.update(1, note)

    def on_train_end(self, net, hist):
        self.close()
