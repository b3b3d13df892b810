"""Transport-room benchmark: Fokker-Planck against particles, optimal-transport timings, and the
flow-matching rows.

Usage: python benchmarks/transport.py [--quick]
Fokker-Planck (Eq. 106) for the double well U = (x^2 - 1)^2 + 0.3 x, sigma = 0.9, from a bump in
the right well: L1 between the PDE (400 cells, averaged over 50 bins) and the histogram of 10^5
Euler-Maruyama particles at t = 0.5, 2, 10 (target <= 0.02), beside the histogram's own noise floor
E L1 ~ sqrt(2 / (pi n w)) sum_bins w sqrt(p). Then assignment, Sinkhorn and wasserstein_1d timings.
Prints markdown tables (wall and CPU seconds).
"""
import argparse
import importlib.util
import math
import os

import numpy as np

from minigen import backend
from minigen.transport.fokker_planck import euler_maruyama_1d, fokker_planck_1d, histogram_density
from minigen.transport.optimal_transport import (assignment, cost_matrix, sinkhorn,
                                                 wasserstein_1d)
from timing import print_table, timed

SIGMA, TIMES, N_BINS, CELLS_PER_BIN = 0.9, [0.0, 0.5, 2.0, 10.0], 50, 8


def drift(x):
    return -(4 * x * (x ** 2 - 1) + 0.3)


def fokker_planck_rows(n, dt):
    k = N_BINS * CELLS_PER_BIN
    h = 5.0 / k
    grid = -2.5 + h * (np.arange(k) + 0.5)
    p0 = np.exp(-(grid - 1.0) ** 2 / (2 * 0.15 ** 2))
    p0 /= p0.sum() * h
    P, wall, cpu = timed(lambda: backend.to_numpy(fokker_planck_1d(drift, SIGMA, p0, grid, TIMES,
                                                                   dt=dt)))
    rng = backend.rng(0)
    x0 = 1.0 + 0.15 * rng.standard_normal(n)
    X, wall_p, cpu_p = timed(lambda: backend.to_numpy(euler_maruyama_1d(drift, SIGMA, x0, TIMES,
                                                                        rng, dt=dt)))
    edges, w = np.linspace(-2.5, 2.5, N_BINS + 1), 5.0 / N_BINS
    rows = [(f"fokker_planck_1d, {k} cells, dt = {dt:g}, to t = {TIMES[-1]:g}", wall, cpu,
             f"mass error {np.abs(P.sum(axis=1) * h - 1).max():.1e}, min p {P.min():.1e}"),
            (f"euler_maruyama_1d, {n} particles", wall_p, cpu_p, "")]
    for t, p, x in zip(TIMES[1:], P[1:], X[1:]):
        bins = p.reshape(N_BINS, CELLS_PER_BIN).mean(axis=1)
        hist = backend.to_numpy(histogram_density(x, edges))
        l1 = np.abs(bins - hist).sum() * w
        floor = math.sqrt(2 / (math.pi * n * w)) * np.sum(w * np.sqrt(bins))
        rows.append((f"L1(PDE, particles) at t = {t:g}", 0.0, 0.0,
                     f"{l1:.4f} (target <= 0.02; noise floor {floor:.4f})"))
    return rows


def ot_rows(quick):
    g = np.random.default_rng(0)
    rows = []
    for n in ((50,) if quick else (50, 200)):
        x, y = g.standard_normal((n, 2)), g.standard_normal((n, 2)) + 1.0
        C = cost_matrix(x, y)
        perm, wall, cpu = timed(lambda: assignment(C))
        ot = float(backend.to_numpy(C)[np.arange(n), backend.to_numpy(perm)].mean())
        rows.append((f"assignment, n = {n}", wall, cpu, f"cost {ot:.4f}"))
        u = np.ones(n) / n
        for eps in (0.1, 0.01):
            res, wall, cpu = timed(lambda: sinkhorn(u, u, C, eps))
            rows.append((f"sinkhorn, n = {n}, eps = {eps:g}", wall, cpu,
                         f"<C, P> - OT = {res.cost - ot:.2e} (<= eps log n = "
                         f"{eps * math.log(n):.2e}), {res.n_iter} iterations"))
    a, b = g.standard_normal(10 ** 6), g.standard_normal(10 ** 6) + 0.5
    w, wall, cpu = timed(lambda: wasserstein_1d(a, b, 2))
    rows.append(("wasserstein_1d, 10^6 points, p = 2", wall, cpu, f"{w:.4f} (exact 0.5)"))
    return rows


# ---- flow matching: its rows come from benchmarks/_transport_fm.py, when that file exists ------
def flow_matching_rows(quick):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_transport_fm.py")
    if not os.path.exists(path):
        return []
    spec = importlib.util.spec_from_file_location("_transport_fm", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.flow_matching_rows(quick)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="10^4 particles, dt = 1e-2")
    args = p.parse_args()
    n, dt = (10_000, 1e-2) if args.quick else (100_000, 2e-3)
    print_table(fokker_planck_rows(n, dt) + ot_rows(args.quick) + flow_matching_rows(args.quick))


if __name__ == "__main__":
    main()
