"""Fig. 32: Langevin sampling of a double well, p ∝ exp(-beta U), started in the deep well (§6.1).

U(x) = (x^2 - 1)^2 + TILT x has a deep well at x ~ -1 and a shallow one at x ~ +1
(distributions.double_well); at BETA = 10 the barrier is ~11 nats high. ULA (Eq. 122 of the SDE
Eq. 119) started in the deep well stays there: the shallow well's share of the mass is never
reached. Simulated annealing (Eq. 121: beta_t rising from hot to BETA) crosses the barrier, but
the mass freezes at an intermediate temperature; replica exchange (Eq. 43) gets the weights right.
Last panel: on a Gaussian N(0, 1), ULA's stationary variance is biased, 1 / (1 - h/2) for a step
h (past h = 2 it diverges, and langevin says so), and MALA (Metropolis-adjusted) removes the bias.
"""
import numpy as np

from minigen import backend
from minigen.backend import xp
from minigen.distributions import Gibbs, double_well
from minigen.mcmc.langevin import annealed_langevin, langevin, mala
from minigen.mcmc.replica_exchange import replica_exchange
from minigen.plotting import demo_args, save

BETA = 10.0                     # inverse temperature of the target exp(-BETA U)
TILT = 0.1                      # depth difference of the wells: U(+1) - U(-1) = 2 TILT
H = 0.004                       # Langevin step (stable for BETA |U''| h < 2 on the region visited)
N_CHAINS = 2000
N_STEPS = 5000                  # = 20 time units
BIAS_STEPS = np.array([0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0])    # steps of the ULA vs MALA panel
BIAS_TIME = 40.0                # run length (time units) of each ULA / MALA chain on N(0, 1)

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402

if args.quick:
    N_CHAINS, N_STEPS, BIAS_STEPS, BIAS_TIME = 200, 300, np.array([0.2, 1.0]), 10.0


def energy(x):
    return double_well(x, barrier=1.0, tilt=TILT)


target = Gibbs(energy, BETA)                    # log_prob = -BETA U, score = -BETA U' (Eq. 117)
rng = backend.rng(args.seed)
x0 = xp.full((N_CHAINS, 1), -1.0)               # every chain in the deep well

# exact density on a grid (1-D: normalize by quadrature)
grid = np.linspace(-2.0, 2.0, 801)
u = backend.to_numpy(energy(xp.asarray(grid[:, None])))
p = np.exp(-BETA * (u - u.min()))
p /= np.trapezoid(p, grid)
right_exact = np.trapezoid(np.where(grid > 0, p, 0.0), grid)

# the score of pi = exp(-BETA U), at beta = 1
ula = langevin(target.score, x0, N_STEPS, H, rng, thin=10)
n_anneal = (3 * N_STEPS) // 4
anneal_betas = np.concatenate([np.geomspace(0.05, 1.0, n_anneal), np.ones(N_STEPS - n_anneal)])
ann = annealed_langevin(target.score, x0, anneal_betas, H, rng, thin=10)
rex_betas = np.geomspace(1.0, 0.05, 6)
rex = replica_exchange(target.log_prob, x0, rex_betas, N_STEPS, 0.3 / np.sqrt(rex_betas), rng,
                       thin=10)


def last(s):
    """The second half of the run, all chains pooled."""
    return backend.to_numpy(s[s.shape[0] // 2:, :, 0]).ravel()



right = {name: float(np.mean(last(r.samples) > 0)) for name, r in
         (("ULA", ula), ("annealed", ann), ("replica exch.", rex))}
print(f"mass of the shallow well x > 0: exact {right_exact:.3f}, "
      + ", ".join(f"{k} {v:.3f}" for k, v in right.items()))

# ULA bias on N(0, 1) vs MALA (closed form of the ULA chain: variance 1 / (1 - h/2))
g_rng = backend.rng(args.seed + 1)
z0 = xp.zeros((N_CHAINS * 5, 1))
v_ula, v_mala = [], []
for h in BIAS_STEPS:
    n = int(BIAS_TIME / h) + 20
    v_ula.append(float(xp.var(langevin(lambda x: -x, z0, n, float(h), g_rng, thin=n).final)))
    v_mala.append(float(xp.var(mala(lambda x: -0.5 * x[:, 0] ** 2, lambda x: -x, z0, n,
                                    float(h), g_rng, thin=n).final)))
    print(f"h = {h:.2f}: ULA variance {v_ula[-1]:.3f} (closed form {1 / (1 - h / 2):.3f}), "
          f"MALA {v_mala[-1]:.3f}")
try:                            # past the stability limit h = 2 / L = 2, ULA diverges (and says so)
    with np.errstate(over="ignore", invalid="ignore"):
        langevin(lambda x: -x, z0, 5000, 2.5, g_rng)
except FloatingPointError as err:
    print(f"h = 2.50: {err}")

fig, axes = plt.subplots(2, 2, figsize=(12, 9.5))
fig.subplots_adjust(wspace=0.3, hspace=0.3)
ax = axes[0, 0]
ax.plot(grid, u, "k", label="U(x) = (x^2 - 1)^2 + %.1f x" % TILT)
ax.set_xlim(-2, 2)
ax.set(xlabel="x", ylabel="U(x)", ylim=(-0.3, 2.0),
       title=f"Energy and target p ∝ exp(-{BETA:g} U)  (Fig. 32)")
ax2 = ax.twinx()
ax2.fill_between(grid, p, color="C0", alpha=0.3, label=f"p(x): mass {right_exact:.2f} in x > 0")
ax2.set_ylabel("p(x)")
ax.legend(loc="upper left", fontsize=8), ax2.legend(loc="upper right", fontsize=8)
ax2.set_ylim(0, 1.6 * p.max())
ax = axes[0, 1]
ax.plot(grid, p, "k", lw=1.5, label=f"exact (x > 0: {right_exact:.3f})")
runs = (("ULA", ula), ("annealed", ann), ("replica exch.", rex))
for (name, r), c in zip(runs, ("C3", "C2", "C1")):
    ax.hist(last(r.samples), bins=120, range=(-2, 2), density=True, histtype="step", color=c,
            label=f"{name} (x > 0: {right[name]:.3f})")
ax.set(xlabel="x", ylabel="density",
       title=f"{N_CHAINS} chains from x = -1, second half of {N_STEPS} steps:\n"
             "ULA misses the shallow well, annealing freezes too much there, replicas are right")
ax.legend(fontsize=8)
ax = axes[1, 0]
t = np.arange(1, ula.samples.shape[0] + 1) * 10 * H
for i in range(8):
    ax.plot(t, backend.to_numpy(ann.samples[:, i, 0]), color="C2", lw=0.5, alpha=0.5)
    ax.plot(t, backend.to_numpy(ula.samples[:, i, 0]), color="C3", lw=0.6, alpha=0.9, zorder=3)
ax.plot([], [], color="C3", label="ULA at beta = %g: confined to the deep well" % BETA)
ax.plot([], [], color="C2",
        label="annealed: hot start (beta = %.1f), cooled to %g" % (0.05 * BETA, BETA))
ax.axvline(n_anneal * H, color="0.5", ls=":")
ax.set(xlabel="time t = k h", ylabel="x_t", title="Trajectories of 8 chains (Eq. 119 vs Eq. 121)")
ax.legend(fontsize=8, loc="lower right")
ax = axes[1, 1]
hs = np.linspace(0.0, BIAS_STEPS.max(), 100)
ax.plot(hs, 1 / (1 - hs / 2), "k", lw=1, label="ULA closed form 1 / (1 - h/2)")
ax.plot(BIAS_STEPS, v_ula, "o", color="C3", label="ULA (measured)")
ax.plot(BIAS_STEPS, v_mala, "s", color="C0", label="MALA (measured)")
ax.axhline(1.0, color="C0", ls=":", label="target variance 1")
ax.set(xlabel="step size h", ylabel="stationary variance",
       title=f"Target N(0, 1): ULA is biased, MALA is exact ({5 * N_CHAINS} chains)")
ax.legend(fontsize=8)
save(fig, "langevin_double_well", args)
