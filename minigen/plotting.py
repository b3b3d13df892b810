"""The few matplotlib helpers the demos share (imported by demos only, never by the rooms).

A demo calls ``args = demo_args(__doc__)`` first: it parses ``--quick`` (small sizes, for the
tests), ``--backend`` (numpy | cupy), ``--show`` (open a window instead of the Agg backend),
``--out`` (the folder for the PNG, ``demos/out`` by default) and ``--seed``; then draws with the
helpers below and ends with ``save(fig, name, args)``. Arrays are brought to the host with
``to_numpy`` here, at the edge.
"""
import argparse
import os

import numpy as np

from minigen import backend

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "demos", "out")


def demo_args(description, argv=None):
    """Parse the common demo flags, select the backend and the matplotlib mode.

    Returns the argparse namespace.
    """
    p = argparse.ArgumentParser(description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="small sizes: runs in seconds (used by the tests)")
    p.add_argument("--backend", default=None, help="numpy (default) or cupy")
    p.add_argument("--show", action="store_true", help="show the figure in a window")
    p.add_argument("--out", default=DEFAULT_OUT, help="folder for the PNG (default demos/out)")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    args = p.parse_args(argv)
    if args.backend is not None:
        backend.set_backend(args.backend)
    import matplotlib
    if not args.show:
        matplotlib.use("Agg")
    return args


def save(fig, name, args, dpi=80):
    """Write the figure to <out>/<name>.png (and show it with --show); returns the path."""
    import matplotlib.pyplot as plt
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"{name}.png")
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    print(f"wrote {path}")
    if args.show:
        plt.show()
    plt.close(fig)
    return path


def density_grid(log_prob, extent=(-3.5, 3.5, -3.5, 3.5), n=150):
    """Evaluate exp(log_prob) on an n x n grid: returns (X, Y, P) host arrays for contour plots."""
    xs = np.linspace(extent[0], extent[1], n)
    ys = np.linspace(extent[2], extent[3], n)
    X, Y = np.meshgrid(xs, ys)
    pts = backend.asarray(np.stack([X.ravel(), Y.ravel()], axis=1))
    P = np.exp(backend.to_numpy(log_prob(pts))).reshape(n, n)
    return X, Y, P


def scatter_over_density(ax, samples, log_prob=None, extent=(-3.5, 3.5, -3.5, 3.5), title=None,
                         color="C1", s=2, alpha=0.4, max_points=5000):
    """Samples (n, 2) as dots over the contours of a 2D target density (when log_prob is given)."""
    if log_prob is not None:
        X, Y, P = density_grid(log_prob, extent)
        ax.contour(X, Y, P, levels=8, colors="0.5", linewidths=0.6)
    pts = backend.to_numpy(samples)[:max_points]
    ax.scatter(pts[:, 0], pts[:, 1], s=s, alpha=alpha, color=color, linewidths=0)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=10)


def trajectories(ax, paths, max_paths=20, color=None, alpha=0.7, lw=0.8):
    """Paths (n_steps, n_chains, 2) as lines in the plane, start marked by a dot."""
    paths = backend.to_numpy(paths)[:, :max_paths]
    for i in range(paths.shape[1]):
        c = color or f"C{i % 10}"
        ax.plot(paths[:, i, 0], paths[:, i, 1], color=c, alpha=alpha, lw=lw)
        ax.plot(paths[0, i, 0], paths[0, i, 1], "o", color=c, ms=3)
