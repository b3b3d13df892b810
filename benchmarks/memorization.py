"""Memorization vs generalization (notes §2.8.2 Fig. 13): the measures of the demo as a table.

Usage: python benchmarks/memorization.py [--quick] [--seeds K] [--dims 2 10]
For each d, memorization_curve on minigen.diffusion.memorization.blobs(d) (its defaults: two
denoisers of TRAIN per N on disjoint training sets, 500 samples through the probability-flow ODE)
for N = 8 ... 8192, seeds 0 ... K-1. Prints, per d, a markdown table: the distance ratios of the
trained models and of the exact empirical scores (the memorizer), test/train MSE at sigma 0.05,
0.2, 0.8, and the transition sizes N* (distance ratio 1/2; train/test MSE ratio 1/2 at sigma
0.05); with K > 1 seeds the mean and the [min, max] over seeds. Seed 0 gives the demo's numbers.
--quick: N = 8, 32, 100 training steps (smoke run). Wall seconds per d are printed, never asserted.
"""
import argparse

import numpy as np

from minigen import backend
from minigen.diffusion.memorization import blobs, memorization_curve, transition_size
from timing import timed

SIZES = [8, 32, 128, 512, 2048, 8192]
SIGMAS = (0.05, 0.2, 0.8)


def cell(values, fmt="{:.3f}"):
    """The mean of values over seeds, and their [min, max] when there are several."""
    v = np.asarray(values, dtype=float)
    text = fmt.format(v.mean())
    return text if len(v) == 1 else f"{text} [{fmt.format(v.min())}, {fmt.format(v.max())}]"


def star(values):
    """N* over seeds ('-' where a curve never reaches 1/2)."""
    got = [v for v in values if v is not None]
    text = cell(got, "{:.0f}") if got else "-"
    return text + (f" ({len(values) - len(got)} seeds never)" if len(got) < len(values) else "")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="N = 8, 32, 100 training steps")
    p.add_argument("--seeds", type=int, default=1, help="number of seeds (default 1)")
    p.add_argument("--dims", type=int, nargs="+", default=[2, 10], help="dimensions d")
    args = p.parse_args()
    sizes, kw = SIZES, {}
    if args.quick:
        sizes, kw = [8, 32], dict(n_samples=100, train=dict(n_steps=100, hidden=(16, 16)))
    print(f"backend: {backend.get_backend()}")
    for d in args.dims:
        runs, walls = [], []
        for seed in range(args.seeds):
            out, wall, _ = timed(lambda: memorization_curve(blobs(d), sizes, backend.rng(seed),
                                                            sigmas=SIGMAS, **kw))
            runs.append(out)
            walls.append(wall)
        mse = np.array([np.array(r["mse_test"]) / np.array(r["mse_train"]) for r in runs])
        print(f"\nd = {d}: {np.mean(walls):.0f} s per seed, {args.seeds} seed(s)\n")
        print("| N | A-B / fresh: models | memorizers | to training set / fresh: models | "
              "memorizers | " + " | ".join(f"MSE test/train σ={s:g}" for s in SIGMAS) + " |")
        print("| ---: " * (5 + len(SIGMAS)) + "|")
        for k, N in enumerate(sizes):
            cols = [cell([r[key][k] for r in runs]) for key in
                    ("gap_ratio", "empirical_gap_ratio", "nn_ratio", "empirical_nn_ratio")]
            cols += [cell(mse[:, k, j], "{:.2f}") for j in range(len(SIGMAS))]
            print(f"| {N} | " + " | ".join(cols) + " |")
        nn_star = star([transition_size(sizes, r["nn_ratio"]) for r in runs])
        mse_star = star([transition_size(sizes, 1 / m[:, 0]) for m in mse])
        print(f"\nN* (distance ratio 1/2): {nn_star};  N* (train/test MSE 1/2, σ = {SIGMAS[0]:g})"
              f": {mse_star}")


if __name__ == "__main__":
    main()
