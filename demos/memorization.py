"""Memorization vs generalization: two denoisers, two disjoint training sets, the same noise
(notes §2.8.2 Fig. 13; Kadkhodaie, Guth, Simoncelli & Mallat 2024, arXiv:2310.02557).

For each N, two denoisers are trained (Eq. 141) on disjoint sets X_A, X_B of N points of the blobs,
and the same white noise x_T goes through the probability-flow ODE (Eq. 135, alpha = 0) of each.
Small N: each model regenerates its own training points (as the exact score of the training set
does, bottom right), so A and B disagree. Large N: the samples leave the training points (as far
from them as fresh data) and A and B agree more than two memorizers do (d = 10). In d = 2 the
spacing of N points shrinks like N^(-1/2): two memorizers agree too, and only the distance to
the training points tells the regimes apart. Top right: the denoising MSE, test over train.
With these settings memorization ends near N = 50 in d = 2 (both measures); in d = 10 the
distance ratio crosses 1/2 near N = 25 but the MSE keeps memorizing to N = 170: in high dimension
all distances concentrate, so a sample off the training points is at once as far from them as
fresh data. About 3 minutes on 2 cores (two 4-second trainings per N and d).
"""
import time

import numpy as np

from minigen import backend
from minigen.diffusion.memorization import blobs, memorization_curve, transition_size
from minigen.plotting import demo_args, save, scatter_over_density

SIZES = [8, 32, 128, 512, 2048, 8192]     # N, the size of each of the two training sets
DIMS = (2, 10)                            # the 2D blobs, and the blobs with 8 more coordinates
N_SAMPLES = 500                           # samples per model, the same x_T for A and B
SIGMAS = (0.05, 0.2, 0.8)                 # noise levels of the train / test MSE
SHOW = (8, 32, 2048)                      # the N of the scatter plots (d = 2)
N_LINES = 60                              # pairs (sample j of A, sample j of B) joined by a line

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402

kw = {}
if args.quick:
    SIZES, DIMS, N_SAMPLES, SHOW = [8, 64], (2, 4), 50, (8, 64)
    kw = dict(n_ode_steps=10, n_mse=100, train=dict(n_steps=40, batch_size=64, hidden=(16, 16)))
curves = {}
for d in DIMS:
    start = time.perf_counter()
    curves[d] = memorization_curve(blobs(d), SIZES, backend.rng(args.seed), n_samples=N_SAMPLES,
                                   sigmas=SIGMAS, **kw)
    print(f"d = {d}: {time.perf_counter() - start:.0f} s")


def mse_ratio(c):
    """test / train denoising MSE: (len(SIZES), len(SIGMAS))."""
    return np.array(c["mse_test"]) / np.array(c["mse_train"])


transitions = {}
for d, c in curves.items():
    ratio = mse_ratio(c)
    transitions[d] = (transition_size(SIZES, c["nn_ratio"]),
                      transition_size(SIZES, 1 / ratio[:, 0]))
    print(f"\nd = {d}     N  gap A-B (memorizer)   to train set (memorizer)   MSE test/train at "
          + ", ".join(f"sigma {s:g}" for s in SIGMAS))
    for k, N in enumerate(SIZES):
        print(f"  {N:10d}  {c['gap_ratio'][k]:6.3f} ({c['empirical_gap_ratio'][k]:5.3f})"
              f"       {c['nn_ratio'][k]:6.3f} ({c['empirical_nn_ratio'][k]:5.3f})         "
              + "  ".join(f"{r:7.2f}" for r in ratio[k]))
    fmt = lambda n: "never" if n is None else f"N = {n:.0f}"                       # noqa: E731
    print(f"  transition: distance ratio 1/2 at {fmt(transitions[d][0])}; "
          f"train/test MSE (sigma {SIGMAS[0]:g}) 1/2 at {fmt(transitions[d][1])}")

fig = plt.figure(figsize=(18, 10))
grid = fig.add_gridspec(2, 12, hspace=0.4, wspace=0.9)
fig.suptitle("Fig. 13 on the blobs: few training points are memorized (samples on them, the two "
             "models differ); many are not (samples as far from them as fresh data)", fontsize=12)
for i, (d, c) in enumerate(curves.items()):
    ax = fig.add_subplot(grid[0, 4 * i:4 * i + 4])
    ax.semilogx(SIZES, c["nn_ratio"], "o-", color="C0",
                label="sample to nearest point of its training set")
    ax.semilogx(SIZES, c["empirical_nn_ratio"], "o--", color="C0", mfc="none",
                label="    same, exact score of the training set")
    ax.semilogx(SIZES, c["gap_ratio"], "s-", color="C3", label="sample of A to sample of B")
    ax.semilogx(SIZES, c["empirical_gap_ratio"], "s--", color="C3", mfc="none",
                label="    same, exact scores of the training sets")
    ax.axhline(1.0, color="0.5", lw=0.8)
    ax.text(SIZES[0], 0.97, "1: fresh samples of p", color="0.4", fontsize=8, va="top")
    n_star = transitions[d][0]
    if n_star is not None:
        ax.axvline(n_star, color="C0", ls=":", lw=1)
        ax.text(n_star * 1.1, 0.03, f"N* ≈ {n_star:.0f}", color="C0", fontsize=9)
    ax.set_ylim(0, 1.75)
    ax.set_xlabel("N (size of each training set)")
    ax.set_ylabel("mean distance / the same for fresh samples")
    ax.set_title(f"d = {d}: generated samples (solid: trained denoisers)", fontsize=10)
    ax.legend(fontsize=7.5, loc="upper left")
    ax.grid(True, which="both", alpha=0.3)

ax = fig.add_subplot(grid[0, 8:12])
for d, style in zip(curves, ("o-", "s--")):
    for j, s in enumerate(SIGMAS):
        ax.loglog(SIZES, mse_ratio(curves[d])[:, j], style, color=("C2", "C4", "C1")[j], ms=4,
                  label=f"d = {d}, σ = {s:g}")
ax.axhline(1.0, color="0.5", lw=0.8)
ax.set_xlabel("N (size of each training set)")
ax.set_ylabel("MSE on fresh points / MSE on training points")
stars = ", ".join(f"d = {d}: {'-' if n is None else f'{n:.0f}'}"
                  for d, (_, n) in transitions.items())
ax.set_title(f"denoising MSE (Eq. 141), test over train\nratio 2 at N* ≈ {stars} "
             f"(σ = {SIGMAS[0]:g})", fontsize=10)
ax.legend(fontsize=7.5, ncol=2)
ax.grid(True, which="both", alpha=0.3)

c = curves[2]
panels = [(N, "a", "b", f"N = {N}: model A (blue) vs model B (orange)") for N in SHOW]
panels.append((SHOW[1], "empirical_a", None, f"N = {SHOW[1]}: exact score of X_A, no network"))
for i, (N, key_a, key_b, title) in enumerate(panels):
    ax = fig.add_subplot(grid[1, 3 * i:3 * i + 3])
    run = {k: backend.to_numpy(v) for k, v in c["samples"][SIZES.index(N)].items()}
    big = N > 200
    for key, color in (("train_a", "C0"), ("train_b", "C1"))[:2 if key_b else 1]:
        x = run[key]
        ax.scatter(x[:, 0], x[:, 1], s=3 if big else 70, facecolors=color if big else "none",
                   edgecolors=color, alpha=0.25 if big else 0.9, linewidths=1.0)
    if key_b:
        a, b = run[key_a][:N_LINES], run[key_b][:N_LINES]
        ax.plot(np.stack([a[:, 0], b[:, 0]]), np.stack([a[:, 1], b[:, 1]]), color="k", lw=0.6)
        scatter_over_density(ax, run[key_b], color="C1", s=6, alpha=0.7)
    scatter_over_density(ax, run[key_a], color="C0" if key_b else "k", s=6, alpha=0.7,
                         title=title)
fig.text(0.5, 0.47, "d = 2. Circles: training points (X_A blue, X_B orange); dots: generated "
         "samples; lines: the same noise x_T through A and through B", ha="center", fontsize=10)
save(fig, "memorization", args)
