"""Gibbs energy benchmark: the neural energy on the course's blobs, by PCD and by score matching.

Usage: python benchmarks/energy.py [--quick]   (--quick: 30 training steps, a smoke run).
Targets (issue 13, defaults, <= 60 s CPU each) on polygon_blobs(8, 2.0, 0.2):
  PCD: KL(p || p_theta) <= 0.15 nats by grid quadrature; MALA from noise covers 8/8 modes with
  mode-occupancy TV <= 0.1.  Score matching: E|s_theta - grad log p|^2 / E|grad log p|^2 <= 0.05.
Also printed, without a target: the score-matching model's KL (the weights it cannot see, §3.3)
and the KL of PCD with short-run chains from noise (Nijkamp et al. 2019).
"""
import argparse

import numpy as np

from minigen import backend, distributions, metrics
from minigen.energy.neural import train_energy
from minigen.energy.quadrature import grid_points
from timing import print_table, timed

N_DATA, N_SAMPLES, N_FRESH = 10_000, 4000, 20_000


def kl_by_quadrature(target, model, n=351, half_width=3.5):
    """KL(p || p_theta) = sum p (log p - log p_theta) dA on an n x n grid of [-3.5, 3.5]^2."""
    pts, area = grid_points((-half_width, half_width), n)
    lp = backend.to_numpy(target.log_prob(pts))
    lq = backend.to_numpy(model.log_prob(pts))
    return float(np.sum(np.exp(lp) * (lp - lq)) * area)


def relative_fisher(target, model, x):
    s, t = backend.to_numpy(model.score(x)), backend.to_numpy(target.score(x))
    return float(np.mean(np.sum((s - t) ** 2, 1)) / np.mean(np.sum(t ** 2, 1)))


def mark(value, bound):
    return f"{value:.3f} ({'meets' if value <= bound else 'MISSES'} <= {bound})"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    steps = {"n_steps": 30} if args.quick else {}
    target = distributions.polygon_blobs(8, 2.0, 0.2)
    data = target.sample(N_DATA, backend.rng(0))
    fresh = target.sample(N_FRESH, backend.rng(1))
    rows = []

    model, wall, cpu = timed(lambda: train_energy(data, backend.rng(2), progress=False, **steps))
    rows.append(("PCD, persistent MALA chains: train (defaults)", wall, cpu,
                 f"KL(p || p_theta) = {mark(kl_by_quadrature(target, model), 0.15)} nats"))
    x, wall, cpu = timed(lambda: model.sample(N_SAMPLES, backend.rng(3), progress=False))
    occupancy = metrics.mode_occupancy(x, target.means).total_variation
    covered = metrics.mode_coverage(x, target.means, 0.2)
    rows.append((f"PCD: MALA from noise, {N_SAMPLES} chains x 500 steps", wall, cpu,
                 f"{covered}/8 modes, occupancy TV = {mark(occupancy, 0.1)}"))

    sm, wall, cpu = timed(lambda: train_energy(data, backend.rng(4), method="score_matching",
                                               progress=False, **steps))
    rows.append(("score matching, implicit (exact Laplacian): train (defaults)", wall, cpu,
                 f"relative Fisher divergence = {mark(relative_fisher(target, sm, fresh), 0.05)}; "
                 f"KL(p || p_theta) = {kl_by_quadrature(target, sm):.3f} nats (no target)"))

    short_run = dict(chains="short_run", mcmc_steps=40, step_size=0.015, n_chains=256, lr=5e-3,
                     alpha=0.1, n_steps=1200)                # as in demos/energy_neural.py
    short, wall, cpu = timed(lambda: train_energy(data, backend.rng(5), progress=False,
                                                  **{**short_run, **steps}))
    rows.append(("PCD with short-run chains from noise (40 ULA steps): train", wall, cpu,
                 f"KL(p || p_theta) = {kl_by_quadrature(target, short):.3f} nats (no target)"))

    print(f"backend: {backend.get_backend()}; data polygon_blobs(8, 2.0, 0.2), "
          f"{N_DATA} training points; KL on a 351^2 grid of [-3.5, 3.5]^2")
    print_table(rows)


if __name__ == "__main__":
    main()
