"""Score-diffusion benchmark: denoiser training time with defaults, and reverse-SDE cost per step
per point.

Usage: python benchmarks/diffusion.py [--quick]   (--quick: 200 training steps and 1e4 points)
Trains train_denoiser with its defaults on 20 000 points of polygon_blobs(8, 2.0, 0.2), reports
its MSE over the Bayes MSE at sigma = 0.1, 0.3, 1 and the sliced W2 of 5000 generated points over
the two-sample floor; then times reverse_sde on 1e5 points with the exact mixture score and with
the learned score (one score evaluation alone, for comparison). Prints a markdown table (wall and
CPU seconds). Run with OPENBLAS_NUM_THREADS=1 for numbers comparable across machines.
"""
import argparse

from minigen import backend
from minigen.backend import xp
from minigen.distributions import polygon_blobs
from minigen.diffusion.reverse import reverse_sde, time_grid
from minigen.diffusion.tweedie import score_from_denoiser, train_denoiser
from minigen.metrics import sliced_wasserstein
from timing import print_table, timed


def mse_ratios(D, target):
    """The denoiser's MSE over the Bayes MSE (posterior mean) at sigma = 0.1, 0.3, 1."""
    x = target.sample(100_000, backend.rng(2))
    ratios = []
    for sigma in (0.1, 0.3, 1.0):
        y = x + sigma * backend.rng(3).standard_normal(x.shape)
        mse = lambda x_hat: xp.mean(xp.sum((x_hat - x) ** 2, axis=1))          # noqa: E731
        ratios.append(float(mse(D(y, sigma)) / mse(target.posterior_mean(y, sigma))))
    return ratios


def sw_over_floor(gen, target):
    """Sliced W2 of 5000 generated points to fresh data over the two-sample floor (10 pairs)."""
    def sw(a, b):
        return sliced_wasserstein(a, b, backend.rng(5), n_projections=64)
    refs = [target.sample(5000, backend.rng(10 + k)) for k in range(20)]
    floor = sum(sw(refs[k], refs[k + 10]) for k in range(10)) / 10
    return sum(sw(gen, refs[k]) for k in range(10)) / 10 / floor


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    n_points, n_steps = (10_000, 3) if args.quick else (100_000, 10)
    train_kw = {"n_steps": 200} if args.quick else {}
    target = polygon_blobs(8, 2.0, 0.2)
    data = target.sample(20_000, backend.rng(0))
    rows = []

    D, wall, cpu = timed(lambda: train_denoiser(data, backend.rng(1), **train_kw))
    ratios = ", ".join(f"{r:.3f}" for r in mse_ratios(D, target))
    name = "train_denoiser, defaults" + (" (quick: 200 steps)" if args.quick else "")
    rows.append((name, wall, cpu, f"MSE / Bayes MSE at sigma 0.1, 0.3, 1: {ratios}"))

    gen, wall, cpu = timed(lambda: D.sample(5000, backend.rng(4)))
    rows.append(("Denoiser.sample(5000), 200 steps", wall, cpu,
                 f"sliced W2 / two-sample floor = {sw_over_floor(gen, target):.2f}"))

    def exact(z, t):
        return target.ou_marginal(t).score(z)                      # Eq. (130): a mixture again
    learned = score_from_denoiser(D)
    x_T = backend.rng(6).standard_normal((n_points, 2))
    times = time_grid(n_steps)
    per = n_steps * n_points
    for label, score in (("exact mixture score", exact), ("learned score", learned)):
        _, wall, cpu = timed(lambda: score(x_T, 1.0))
        rows.append((f"{label}: one evaluation, {n_points:.0e} points", wall, cpu,
                     f"{wall / n_points * 1e9:.0f} ns (CPU {cpu / n_points * 1e9:.0f} ns) "
                     "per point"))
        for alpha, method in ((1.0, "euler"), (0.0, "heun")):
            _, wall, cpu = timed(lambda: reverse_sde(score, x_T, times, backend.rng(7),
                                                     alpha=alpha, method=method))
            rows.append((f"{label}: reverse_sde alpha={alpha:g} {method}, "
                         f"{n_steps} steps x {n_points:.0e} points", wall, cpu,
                         f"{wall / per * 1e9:.0f} ns (CPU {cpu / per * 1e9:.0f} ns) "
                         "per step per point"))

    print(f"backend: {backend.get_backend()}")
    print_table(rows)


if __name__ == "__main__":
    main()
