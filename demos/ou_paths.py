"""Ornstein-Uhlenbeck paths forget where they started (notes Fig. 9, Th. 8).

Euler-Maruyama paths of dX = -alpha X dt + sigma dW (Eq. 122-123) with alpha = 0.1, sigma = 0.2,
started from two far-apart points, drawn over the exact mean e^{-alpha t} x0 and the band
+-2 std, std = sigma sqrt((1 - e^{-2 alpha t}) / (2 alpha)) (Eq. 124). Both bands relax in a few
times 1 / alpha to the same stationary law N(0, sigma^2 / (2 alpha)): the initial condition
is forgotten.
"""
import math

import numpy as np

from minigen import backend
from minigen.diffusion.ornstein_uhlenbeck import ou_paths
from minigen.plotting import demo_args, save

ALPHA, SIGMA = 0.1, 0.2          # Fig. 9 of the notes
STARTS = (2.0, -1.5)             # two initial conditions
T_MAX, N_STEPS = 50.0, 1000      # five relaxation times 1 / alpha
N_PATHS, N_DRAWN = 2000, 6       # paths simulated (for the histogram) and drawn

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402  (after demo_args chose the matplotlib mode)

if args.quick:
    N_STEPS, N_PATHS = 200, 200
rng = backend.rng(args.seed)
times = np.linspace(0.0, T_MAX, N_STEPS + 1)
decay = np.exp(-ALPHA * times)
std = SIGMA * np.sqrt((1 - decay ** 2) / (2 * ALPHA))          # Eq. (124)
stat_std = SIGMA / math.sqrt(2 * ALPHA)

fig, (ax, axh) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 1]},
                              sharey=True)
finals = []
for i, x0 in enumerate(STARTS):
    paths = ou_paths(np.full((N_PATHS, 1), x0), times, rng, kappa=ALPHA, sigma=SIGMA)
    paths = backend.to_numpy(paths)[:, :, 0]                                # (times, paths)
    finals.append(paths[-1])
    c = f"C{i}"
    ax.fill_between(times, x0 * decay - 2 * std, x0 * decay + 2 * std, color=c, alpha=0.15,
                    label=f"x0 = {x0:+.1f}: exact mean ± 2 std (Eq. 124)")
    ax.plot(times, x0 * decay, color=c, lw=2)
    ax.plot(times, paths[:, :N_DRAWN], color=c, lw=0.6, alpha=0.8)
    print(f"x0 = {x0:+.1f}: at t = {T_MAX:g} mean {paths[-1].mean():+.3f} "
          f"(exact {x0 * decay[-1]:+.3f}), std {paths[-1].std():.3f} (exact {std[-1]:.3f})")
ax.axhline(0, color="0.4", lw=0.6)
ax.set_xlabel("t")
ax.set_ylabel("X_t")
ax.set_title(f"dX = -{ALPHA} X dt + {SIGMA} dW: {N_DRAWN} Euler-Maruyama paths per start "
             "(Fig. 9)", fontsize=10)
ax.legend(fontsize=8, loc="upper right")

bins = np.linspace(-4 * stat_std, 4 * stat_std, 40)
for i, f in enumerate(finals):
    axh.hist(f, bins=bins, orientation="horizontal", density=True, alpha=0.4, color=f"C{i}")
g = np.linspace(bins[0], bins[-1], 200)
axh.plot(np.exp(-g ** 2 / (2 * stat_std ** 2)) / (stat_std * math.sqrt(2 * math.pi)), g, "k",
         lw=1.2, label=f"N(0, σ²/2α), std {stat_std:.2f}")
axh.set_title(f"X at t = {T_MAX:g}: both starts forgotten", fontsize=10)
axh.set_xlabel("density")
axh.legend(fontsize=8, loc="lower right")
print(f"stationary std sigma / sqrt(2 alpha) = {stat_std:.3f}")
save(fig, "ou_paths", args)
