"""PNG plots (matplotlib, from the optional ``plot`` extra)."""


def require_matplotlib():
    """Import matplotlib or raise an ImportError that says how to install it."""
    try:
        import matplotlib.figure
    except ImportError:
        raise ImportError(
            "plotting needs matplotlib: pip install 'nnvec[plot]' (or pip install "
            "matplotlib)") from None
    return matplotlib.figure


def new_figure(figsize, nrows=1, ncols=1):
    """A figure with ``nrows x ncols`` axes in ``fig.axes``.

    Why not pyplot: pyplot keeps global state and would need a backend; a
    bare ``Figure`` saves PNGs through Agg and leaves the backend of a
    notebook (or any caller) untouched.
    """
    fig = require_matplotlib().Figure(figsize=figsize)
    fig.subplots(nrows, ncols, squeeze=False)
    return fig


def plot_learning_curves(curves, path, title="", ylabel="test accuracy (%)"):
    """One line per run: ``curves`` maps a label to per-epoch accuracies (%)."""
    fig = new_figure((7, 4.5))
    ax = fig.axes[0]
    for label, ys in curves.items():
        ax.plot(range(len(ys)), ys, label=label, linewidth=1.2)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def plot_speedups(batch_sizes, speedups, path, title=""):
    """Speedup over the per-example loop versus mini-batch size, per variant."""
    fig = new_figure((7, 4.5))
    ax = fig.axes[0]
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


def plot_experiment_grid(curves, path):
    """One panel per experiment, one line per run: ``{experiment: {run: accuracies}}``."""
    n = len(curves)
    cols = min(3, n)
    rows = -(-n // cols)
    fig = new_figure((5 * cols, 3.6 * rows), rows, cols)
    axes = fig.axes
    for ax, (name, runs) in zip(axes, curves.items()):
        for label, ys in runs.items():
            ax.plot(range(len(ys)), ys, label=label, linewidth=1.2)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in axes[n:]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def plot_grid(records, path):
    """``nnvec bench --grid``: seconds per epoch and GFLOP/s against the network's size.

    One line per strategy and mini-batch size; x is the matmul FLOPs per image
    (``nnvec.bench.epoch_flops``), so the shapes sit in order of work.
    """
    fig = new_figure((11, 4.2), 1, 2)
    t_ax, g_ax = fig.axes
    ms = sorted({r["m"] for r in records})
    styles = {"auto": "o-", "fused": "s--", "batched": "^--", "numpy": "v:"}
    for m in ms:
        rs = sorted((r for r in records if r["m"] == m), key=lambda r: r["flops_per_sample"])
        x = [r["flops_per_sample"] / 1e6 for r in rs]
        for k, style in styles.items():
            t_ax.plot(x, [r["median_s"][k] for r in rs], style, label=f"{k}, m={m}",
                      alpha=1.0 if k == "auto" else 0.6)
            g_ax.plot(x, [r["gflops"][k] for r in rs], style, label=f"{k}, m={m}",
                      alpha=1.0 if k == "auto" else 0.6)
    for ax, ylabel in ((t_ax, f"seconds per epoch ({records[0]['n_samples']} images)"),
                       (g_ax, "useful GFLOP/s")):
        ax.set_xscale("log")
        ax.set_xlabel("MFLOP per image (network size)")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3, which="both")
    t_ax.set_yscale("log")
    g_ax.legend(fontsize=7, ncol=2)
    fig.suptitle("nnvec bench --grid: " + ", ".join(
        str(r["sizes"]) for r in sorted((r for r in records if r["m"] == ms[0]),
                                        key=lambda r: r["flops_per_sample"])), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
