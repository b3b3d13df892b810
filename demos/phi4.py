"""The phi^4 field sampled by HMC: two phases, critical slowing down, and parameters recovered.

S(phi) = sum_x [-2 kappa sum_mu phi_x phi_x+mu + (1 - 2 lam) phi_x^2 + lam phi_x^4] on a periodic
lattice (notes §3.1, Fig. 4: the physics fields that Gibbs energies model). Top: HMC fields at
three kappa, disordered -> ordered; <|m|> rises and the susceptibility peaks near kappa_c; the
autocorrelation time tau of |m| grows there (critical slowing down). Bottom left: the free field
(lam = 0) measured by HMC against 1 / (2 (1 - 2 kappa (cos k1 + cos k2))); a Langevin step with
noise sqrt(h) instead of sqrt(2h) samples exp(-2S) and halves every mode (Eq. 118). Bottom
right: (kappa, lam) recovered from the samples by score matching (Eq. 46) and by maximum
likelihood (Eq. 32, persistent HMC chains).
"""
import time

import numpy as np

from minigen import backend
from minigen.energy.phi4 import Phi4, free_spectrum, observables, spectrum, tau_abs_m
from minigen.energy.phi4_fit import max_likelihood_phi4, score_matching_phi4
from minigen.mcmc import hmc, langevin
from minigen.plotting import demo_args, save

LAM = 0.02                                  # quartic coupling of the interacting runs
KAPPAS = np.array([0.18, 0.2, 0.22, 0.24, 0.25, 0.26, 0.28, 0.3])   # the sweep (|m|, chi, tau)
SHOWN = (0.2, 0.25, 0.3)                    # fields drawn, and recovered (the benchmark's kappas)
SIZE, FIELD_SIZE = 16, 32                   # lattice of the sweep; of the pictures
N_CHAINS, N_STEPS, BURN = 64, 800, 200      # HMC chains, steps, steps dropped
EPS, N_LEAPFROG, JITTER = 0.25, 8, 0.2      # HMC trajectory (time ~2) and step jitter
FREE_KAPPA, FREE_SIZE, H = 0.22, 16, 0.05   # free field; Langevin step
START = (0.95, 1.25)                        # max likelihood starts at (0.95 kappa, 1.25 lam)

args = demo_args(__doc__)
import matplotlib  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

if args.quick:
    KAPPAS, SIZE, FIELD_SIZE, FREE_SIZE = np.array([0.2, 0.25, 0.3]), 8, 8, 8
    N_CHAINS, N_STEPS, BURN = 8, 60, 20

rng = backend.rng(args.seed)
t0 = time.process_time()


def run_hmc(size, kappa, lam, n_chains, n_steps, x0=None):
    target = Phi4(size, kappa, lam)
    if x0 is None:
        x0 = 0.1 * rng.standard_normal((n_chains, size * size))
    return hmc(target.log_prob, target.score, x0, n_steps, EPS, N_LEAPFROG, rng, jitter=JITTER,
               progress=False)


# --- the kappa sweep on SIZE^2 ----------------------------------------------------------------
sweep = {}
for kappa in KAPPAS:
    s = run_hmc(SIZE, float(kappa), LAM, N_CHAINS, N_STEPS).samples[BURN:]
    sweep[float(kappa)] = s
obs = {k: observables(s) for k, s in sweep.items()}
taus = {k: float(tau_abs_m(s)) for k, s in sweep.items()}
print(f"lam = {LAM}, {SIZE}x{SIZE}, {N_CHAINS} chains x {N_STEPS - BURN} steps:")
for k in sweep:
    o = obs[k]
    print(f"  kappa {k:.3f}: <|m|> {o['abs_m']:.3f}  chi {o['chi']:7.2f}  binder "
          f"{o['binder']:.2f}  tau(|m|) {taus[k]:6.1f} steps")

fields = {k: backend.to_numpy(run_hmc(FIELD_SIZE, k, LAM, 4, N_STEPS // 2).final[0])
          for k in SHOWN}

# --- free field: HMC, Langevin, and the sqrt(dt) mistake --------------------------------------
free = Phi4(FREE_SIZE, FREE_KAPPA, 0.0)
x0 = 0.1 * rng.standard_normal((N_CHAINS, FREE_SIZE ** 2))
hmc_free = run_hmc(FREE_SIZE, FREE_KAPPA, 0.0, N_CHAINS, N_STEPS, x0).samples[BURN:]
ula = langevin(free.score, x0, 4 * N_STEPS, H, rng, thin=4, progress=False).samples[BURN:]
ula_bad = langevin(free.score, x0, 4 * N_STEPS, H, rng, sigma=1.0, thin=4,
                   progress=False).samples[BURN:]
exact = backend.to_numpy(free_spectrum(FREE_SIZE, FREE_KAPPA)).ravel()
spec = {name: backend.to_numpy(spectrum(s, FREE_SIZE)).ravel()
        for name, s in (("hmc", hmc_free), ("ula", ula), ("ula_bad", ula_bad))}
print(f"free field kappa = {FREE_KAPPA}: measured / exact spectrum, mean over modes: HMC "
      f"{np.mean(spec['hmc'] / exact):.3f}, ULA sqrt(2h) {np.mean(spec['ula'] / exact):.3f}, "
      f"ULA sqrt(h) {np.mean(spec['ula_bad'] / exact):.3f} (exp(-2S): 0.5)")

# --- recovery ---------------------------------------------------------------------------------
recovered = {}
for k in SHOWN:
    s = sweep[k] if k in sweep else run_hmc(SIZE, k, LAM, N_CHAINS, N_STEPS).samples[BURN:]
    sm = score_matching_phi4(s, SIZE)
    ml = max_likelihood_phi4(s, SIZE, rng, kappa0=START[0] * k, lam0=START[1] * LAM,
                             n_iter=2 if args.quick else 8, n_sweeps=10 if args.quick else 100)
    recovered[k] = sm, ml[:2], ml[2]
    print(f"  kappa {k}, lam {LAM}: score matching ({sm[0]:.4f}, {sm[1]:.4f}); max likelihood "
          f"from ({START[0] * k:.3f}, {START[1] * LAM:.3f}) -> ({ml[0]:.4f}, {ml[1]:.4f})")
print(f"CPU {time.process_time() - t0:.1f} s")

# --- figure -----------------------------------------------------------------------------------
fig = plt.figure(figsize=(18, 10))
fig.suptitle(f"phi^4 on a periodic lattice sampled by HMC (fields: {FIELD_SIZE}x{FIELD_SIZE}, "
             f"lam = {LAM}; blue < 0 < red)", fontsize=13)
grid = fig.add_gridspec(2, 6, hspace=0.35, wspace=0.45)
vmax = max(np.abs(f).max() for f in fields.values())
for i, k in enumerate(SHOWN):
    ax = fig.add_subplot(grid[0, i])
    phase = "disordered" if k < 0.25 else ("near kappa_c" if k < 0.27 else "ordered")
    ax.imshow(fields[k].reshape(FIELD_SIZE, FIELD_SIZE), cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    ax.set(xticks=[], yticks=[], title=f"kappa = {k}: {phase}\nm = {fields[k].mean():+.2f}")
ks = np.array(list(sweep))
panels = ((lambda k: obs[k]["abs_m"], "<|m|>", "Order parameter <|m|>", "C0"),
          (lambda k: obs[k]["chi"], "chi = V (<m^2> - <|m|>^2)", "Susceptibility: peaks at the\n"
           "transition", "C3"),
          (lambda k: taus[k], "tau of |m| (HMC steps)", "Critical slowing down:\ntau grows "
           "near kappa_c", "C2"))
for i, (value, ylabel, title, color) in enumerate(panels):
    ax = fig.add_subplot(grid[0, 3 + i])
    ax.plot(ks, [value(k) for k in ks], "o-", color=color)
    ax.axvline(0.25, color="0.6", ls=":", lw=1, label="kappa_c of the free field")
    ax.set(xlabel=f"kappa  ({SIZE}x{SIZE}, lam = {LAM})", ylabel=ylabel, title=title)
    if i == 0:
        ax.legend(fontsize=8, loc="upper left")

ax = fig.add_subplot(grid[1, 0:3])
K = 1 / exact
order = np.argsort(K)
ax.loglog(K[order], exact[order], "k-", lw=1.5,
          label="exact 1 / (2 (1 - 2 kappa (cos k1 + cos k2)))")
ax.loglog(K, spec["hmc"], "o", ms=3, color="C0", label="HMC: exact")
ax.loglog(K, spec["ula"], ".", ms=3, color="C2",
          label=f"ULA, noise sqrt(2h) (Eq. 118), h = {H}: right, up to its O(h) bias at large K")
ax.loglog(K, spec["ula_bad"], "x", ms=3, color="C3",
          label="ULA, noise sqrt(h): samples exp(-2S), half the spectrum")
ax.loglog(K[order], exact[order] / 2, "k:", lw=1)
for axis, ticks in ((ax.xaxis, (0.25, 0.5, 1, 2, 4)), (ax.yaxis, (0.1, 0.2, 0.5, 1, 2, 4))):
    axis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
    axis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
ax.set(xlabel="mode curvature K_k = 1 / exact spectrum", ylabel="<|phi_k|^2> / V",
       title=f"Free field (lam = 0), kappa = {FREE_KAPPA}, {FREE_SIZE}x{FREE_SIZE}: "
             "every Fourier mode")
ax.legend(fontsize=8)

ax = fig.add_subplot(grid[1, 3:6])
x = np.arange(len(SHOWN))
for j, (name, c) in enumerate((("score matching", "C0"), ("max likelihood", "C1"))):
    ek = [100 * (recovered[k][j][0] / k - 1) for k in SHOWN]
    el = [100 * (recovered[k][j][1] / LAM - 1) for k in SHOWN]
    ax.bar(x - 0.3 + 0.15 * j, ek, 0.14, color=c, label=f"{name}: kappa")
    ax.bar(x + 0.05 + 0.15 * j, el, 0.14, color=c, alpha=0.5, hatch="//",
           label=f"{name}: lam")
ax.axhspan(-2, 2, color="0.9", zorder=0, label="+-2% (the target)")
ax.axhline(0, color="k", lw=0.8)
ax.set_xticks(x, [f"kappa = {k}" for k in SHOWN])
ax.set(ylabel="relative error (%)", title=f"(kappa, lam = {LAM}) recovered from the HMC samples "
       f"({SIZE}x{SIZE})")
ax.legend(fontsize=7, ncol=2)
save(fig, "phi4", args)
