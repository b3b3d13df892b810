"""Fokker-Planck (Th. 6, Eq. 106) for a double well, and the random walk that becomes Brownian.

Left: dx = -U'(x) dt + sigma dW with U(x) = (x^2 - 1)^2 + 0.3 x, started in the shallow right well.
The finite-volume solution of Eq. (106) (lines) and the histogram of Euler-Maruyama particles
(bars) agree at every time, as the mass leaks over the barrier towards exp(-2 U / sigma^2)
(dashed, the stationary law of Eq. (116)-(118)). Right: the walk of Eq. (109) with N jumps
+-sigma sqrt(T / N): Var x_T = T sigma^2 for every N (Eq. 110-111) and the law tends to
N(0, T sigma^2) (the CLT; Eq. 112-113 give the heat equation). Notes §5.4, Eq. (105)-(113).
"""
import math

import numpy as np

from minigen import backend
from minigen.plotting import demo_args, save
from minigen.transport.fokker_planck import (euler_maruyama_1d, fokker_planck_1d,
                                             histogram_density, random_walk)

SIGMA = 0.9                          # noise of the double-well SDE
TIMES = [0.0, 0.3, 1.5, 5.0, 20.0]   # snapshots
N_PARTICLES = 100_000
GRID = np.linspace(-2.5, 2.5, 401)[:-1] + 1 / 160   # centres of 400 cells on [-2.5, 2.5]
DT = 2e-3                            # time step of the PDE and of the particles
T_WALK, SIGMA_WALK = 1.0, 1.0        # the random walk's horizon and limit sigma
WALK_STEPS = (1, 3, 10, 100)

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402


def U(x):
    return (x ** 2 - 1) ** 2 + 0.3 * x


def drift(x):
    return -(4 * x * (x ** 2 - 1) + 0.3)                      # V = -U'


n_part, dt, times = (5000, 1e-2, TIMES[:3]) if args.quick else (N_PARTICLES, DT, TIMES)
rng = backend.rng(args.seed)
h = GRID[1] - GRID[0]
p0 = np.exp(-(GRID - 1.0) ** 2 / (2 * 0.15 ** 2))
p0 /= p0.sum() * h
P = backend.to_numpy(fokker_planck_1d(drift, SIGMA, p0, GRID, times, dt=dt))
x0 = 1.0 + 0.15 * rng.standard_normal(n_part)
X = backend.to_numpy(euler_maruyama_1d(drift, SIGMA, x0, times, rng, dt=dt))
pi = np.exp(-2 * U(GRID) / SIGMA ** 2)
pi /= pi.sum() * h

fig, axes = plt.subplots(1, 2, figsize=(15, 5), gridspec_kw={"width_ratios": [1.5, 1]})
ax = axes[0]
edges = np.linspace(-2.5, 2.5, 51)
centres = 0.5 * (edges[1:] + edges[:-1])
for k, (t, p, x) in enumerate(zip(times, P, X)):
    hist = backend.to_numpy(histogram_density(x, edges))
    ax.bar(centres, hist, width=edges[1] - edges[0], color=f"C{k}", alpha=0.25)
    ax.plot(GRID, p, color=f"C{k}", lw=1.8, label=f"t = {t:g}")
    pde_bins = p.reshape(50, 8).mean(axis=1)             # the PDE averaged over each bar
    l1 = np.abs(pde_bins - hist).sum() * (edges[1] - edges[0])
    print(f"t = {t:5.2f}: mass {p.sum() * h:.12f}, min p {p.min():.1e}, L1(PDE, {n_part} "
          f"particles) = {l1:.4f}; mass left of 0: PDE {p[GRID < 0].sum() * h:.3f}, particles "
          f"{np.mean(x < 0):.3f}")
ax.plot(GRID, pi, "k--", lw=1.2, label="exp(-2U / sigma^2) / Z")
ax.set_xlabel("x")
ax.set_ylabel("density")
ax.set_title(f"Fokker-Planck (lines) vs {n_part} Euler-Maruyama particles (bars), "
             f"sigma = {SIGMA}", fontsize=10)
ax.legend(fontsize=8)

ax = axes[1]
z = np.linspace(-3.5, 3.5, 300)
var = T_WALK * SIGMA_WALK ** 2
ax.plot(z, np.exp(-z ** 2 / (2 * var)) / math.sqrt(2 * math.pi * var), "k-", lw=2,
        label="N(0, T sigma^2)")
for k, N in enumerate(WALK_STEPS):
    xT = backend.to_numpy(random_walk(20_000 if args.quick else 200_000, T_WALK, SIGMA_WALK, N,
                                      rng))[-1]
    dx = SIGMA_WALK * math.sqrt(T_WALK / N)
    values, counts = np.unique(np.round(xT / dx).astype(int), return_counts=True)
    # the lattice law: mass / spacing 2 dx between reachable points
    ax.plot(values * dx, counts / len(xT) / (2 * dx), "o-", ms=3, color=f"C{k + 1}",
            label=f"N = {N} jumps: Var x_T = {xT.var():.3f}")
    print(f"random walk, N = {N:3d}: Var x_T = {xT.var():.4f} (T sigma^2 = {var:g})")
ax.set_xlabel("x_T")
ax.set_title("Random walk of +-sigma sqrt(T/N) jumps -> Brownian motion (Eq. 109-113)",
             fontsize=10)
ax.legend(fontsize=8, loc="upper left")
save(fig, "fokker_planck", args)
