"""The curse of dimension: white noise concentrates on a thin shell (notes §2.3, Fig. 2, Eq. 1-5).

Left: histograms of |x|^2 for white noise x_i ~ N(0, sigma^2 / d) (Eq. 1), sigma = 1, in
d = 1, 2, 10, 100, 1000, over the scaled chi-square density (footnote 17); the mean sigma^2 and
the std sigma^2 sqrt(2 / d) of Eq. (2)-(3) are in the legend: the shell thins like 1 / sqrt(d).
Middle: what it costs a Gaussian kernel density estimate (Scott's bandwidth) of N(0, Id) fitted
to n points: KL(p || p_n) = E[-log p_n] - H(p) in nats per dimension on fresh points, against d
for a few n. At d = 1 a hundred points nearly reach the entropy; by d = 64 every point is at the
same distance from every other, and 100 times more data recovers only a fraction of the loss.
Right: the eps^-d cells of side eps that a histogram of [0, 1]^d needs (Eq. 5).
"""
import math

import numpy as np

from minigen import backend
from minigen.dimension import kde_gap, log10_cells, shell_density, shell_moments, squared_norms
from minigen.plotting import demo_args, save

SIGMA = 1.0                                  # Eq. (1): x_i ~ N(0, sigma^2 / d)
SHELL_DIMS = (1, 2, 10, 100, 1000)           # Fig. 2's dimensions
N_SHELL = 100_000                            # white-noise draws per dimension
KDE_DIMS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
KDE_SIZES = (100, 1000, 10_000)              # training points n
N_TEST = 2000                                # fresh points scoring each KDE
EPS = (1 / 2, 1 / 10)                        # cell sides of Eq. (5); the notes take 1/10
ATOMS = 80                                   # log10 of the atoms in the universe (notes §2.3)

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402  (after demo_args chose the matplotlib mode)

if args.quick:
    N_SHELL, KDE_DIMS, KDE_SIZES, N_TEST = 5000, (1, 4, 16, 64), (100, 1000), 300
rng = backend.rng(args.seed)
fig, (ax, axk, axc) = plt.subplots(1, 3, figsize=(17, 4.8),
                                   gridspec_kw={"width_ratios": [1.3, 1.1, 0.9]})

print(f"|x|^2 of white noise x_i ~ N(0, {SIGMA:g}^2 / d), {N_SHELL} draws (Eq. 2-3):")
grid = np.linspace(0.005, 3.0, 600)
bins = np.linspace(0.0, 3.0, 151)
for i, d in enumerate(SHELL_DIMS):
    z = backend.to_numpy(squared_norms(N_SHELL, d, rng, sigma=SIGMA))
    mean, var = shell_moments(d, sigma=SIGMA)
    c = f"C{i}"
    ax.hist(z, bins=bins, density=True, histtype="stepfilled", alpha=0.25, color=c)
    ax.plot(grid, backend.to_numpy(shell_density(grid, d, sigma=SIGMA)), color=c, lw=1.5,
            label=f"d = {d}: σ² ± σ²√(2/d) = {mean:g} ± {math.sqrt(var):.3f}")
    print(f"  d = {d:4d}: mean {z.mean():.4f} (Eq. 2: {mean:g}), var {z.var(ddof=1):.5f} "
          f"(Eq. 3: {var:.5f}), fraction within 10% of σ² {np.mean(abs(z - mean) < 0.1):.3f}")
ax.axvline(SIGMA ** 2, color="0.3", lw=0.8, ls="--")
ax.set_xlim(0, 3)
ax.set_ylim(0, 10)
ax.set_xlabel("|x|²")
ax.set_ylabel("density")
ax.set_title("White noise lives on a shell of radius σ, width ~ 1/√d\n"
             "histograms of |x|² over the scaled χ²_d density (Eq. 1-3)", fontsize=10)
ax.legend(fontsize=8, loc="upper right")

print(f"Gaussian KDE (Scott) of N(0, Id) from n points, {N_TEST} fresh points: "
      "KL(p || p_n) / d in nats (SE), h")
curves = {}
for j, n in enumerate(KDE_SIZES):
    gaps = [kde_gap(d, n, rng, n_test=N_TEST) for d in KDE_DIMS]
    per_dim = curves[n] = np.array([g.gap / d for g, d in zip(gaps, KDE_DIMS)])
    se = np.array([g.gap_se / d for g, d in zip(gaps, KDE_DIMS)])
    axk.errorbar(KDE_DIMS, per_dim, yerr=2 * se, color=f"C{j}", marker="o", ms=4, capsize=2,
                 label=f"n = {n}")
    print(f"  n = {n:5d}: " + ", ".join(f"d={d} {g:.3f} ({s:.3f}) h={x.bandwidth:.2f}"
                                        for d, g, s, x in zip(KDE_DIMS, per_dim, se, gaps)))
lo, hi = curves[KDE_SIZES[-1]], curves[KDE_SIZES[0]]
k_low, k_high = 0, len(KDE_DIMS) - 1
d_low, d_high = KDE_DIMS[k_low], KDE_DIMS[k_high]
ratio = KDE_SIZES[-1] // KDE_SIZES[0]
axk.annotate(f"{ratio}x the data:\nd = {d_high}: {hi[k_high]:.2f} → {lo[k_high]:.2f} nats/dim\n"
             f"({hi[k_high] * d_high:.0f} → {lo[k_high] * d_high:.0f} nats per point)\n"
             f"d = {d_low}: {hi[k_low]:.3f} → {lo[k_low]:.3f}",
             xy=(d_high, 0.5 * (hi[k_high] + lo[k_high])), xytext=(0.04, 0.45),
             textcoords="axes fraction", fontsize=8, arrowprops=dict(arrowstyle="->", lw=0.6))
print(f"  {ratio}x the data: d = {d_high}: {hi[k_high]:.3f} -> {lo[k_high]:.3f} nats/dim; "
      f"d = {d_low}: {hi[k_low]:.3f} -> {lo[k_low]:.3f}")
axk.axhline(0.5, color="0.3", lw=0.8, ls="--", label="d → ∞ at fixed n (h → 1): 1/2")
axk.set_xscale("log", base=2)
axk.set_ylim(bottom=0)
axk.set_xlabel("dimension d")
axk.set_ylabel("E[-log p_n] - H(p), nats per dimension")
axk.set_title("A kernel density estimate falls behind the entropy as d grows\n"
              "KL(p || p_n) / d on fresh points, ± 2 SE (entropy: 1.419 nats/dim)", fontsize=10)
axk.legend(fontsize=8, loc="upper left")

dims = np.arange(1, 1001)
D_SHOWN = 300
print("log10 of the cells eps^-d of a histogram of [0, 1]^d (Eq. 5):")
for k, eps in enumerate(EPS):
    cells = np.array([log10_cells(eps, int(d)) for d in dims])
    axc.plot(dims[:D_SHOWN], cells[:D_SHOWN], color=f"C{k + 3}", lw=1.5,
             label=f"ε = 1/{round(1 / eps)}: ε^-d = 10^({-math.log10(eps):.2f} d)")
    cross = int(dims[np.argmax(cells > ATOMS)])
    axc.plot(cross, ATOMS, "o", color=f"C{k + 3}", ms=5)
    axc.annotate(f"d = {cross}", (cross, ATOMS), xytext=(4, -12), textcoords="offset points",
                 fontsize=8)
    print(f"  eps = 1/{round(1 / eps)}: d = 10: 10^{cells[9]:.0f}, d = 100: 10^{cells[99]:.0f}, "
          f"d = 1000: 10^{cells[999]:.0f}; beyond 10^{ATOMS} atoms from d = "
          f"{cross}")
axc.axhline(ATOMS, color="0.3", lw=0.8, ls="--", label=f"10^{ATOMS}: atoms in the universe")
axc.set_xlim(0, D_SHOWN)
axc.set_ylim(0, 1.05 * log10_cells(min(EPS), D_SHOWN))
axc.set_xlabel("dimension d")
axc.set_ylabel("log10 number of cells  ε^-d")
axc.set_title("A histogram of [0, 1]^d needs ε^-d cells (Eq. 5)\n"
              "a 32 x 32 image (d = 1024) at ε = 1/10: 10^1024", fontsize=10)
axc.legend(fontsize=8, loc="upper left")
fig.tight_layout()
save(fig, "concentration", args)
