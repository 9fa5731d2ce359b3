"""PNG plots (matplotlib, from the optional ``plot`` extra)."""


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "plotting needs matplotlib: pip install 'nnvec[plot]' (or pip install "
            "matplotlib)") from None
    return plt


def plot_learning_curves(curves, path, title="", ylabel="test accuracy (%)"):
    """One line per run: ``curves`` maps a label to per-epoch accuracies (%)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, ys in curves.items():
        ax.plot(range(len(ys)), ys, label=label, linewidth=1.2)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_speedups(batch_sizes, speedups, path, title=""):
    """Speedup over the per-example loop versus mini-batch size, per variant."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, ys in speedups.items():
        ax.plot(batch_sizes, ys, marker="o", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("mini-batch size m")
    ax.set_ylabel("speedup over per-example loop (x)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_experiment_grid(curves, path):
    """One panel per experiment, one line per run: ``{experiment: {run: accuracies}}``."""
    plt = _pyplot()
    n = len(curves)
    cols = min(3, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False)
    for ax, (name, runs) in zip(axes.flat, curves.items()):
        for label, ys in runs.items():
            ax.plot(range(len(ys)), ys, label=label, linewidth=1.2)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
