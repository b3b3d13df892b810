"""Replica exchange fixes the multimodal target of Fig. 16 (notes §3.2, Eq. 43).

Target: 8 blobs (std 0.2) on a circle of radius 2 with UNEQUAL weights w_k ∝ k; every chain
starts in the lightest mode, at (2, 0). Plain Metropolis with a small step stays there. Replica
exchange runs the same chains on pi^beta for a ladder 1 = beta_1 > ... > beta_R (hot replicas are
flat and cross between modes) and swaps neighbours with Eq. (43): the beta = 1 chains then visit
the modes in proportion to their weights. Bottom: mode occupancy vs the true weights, the swap
rate of each adjacent pair, the ladder itself.
"""
import numpy as np

from minigen import backend
from minigen.backend import xp
from minigen.distributions import GaussianMixture, polygon_blobs
from minigen.mcmc.metropolis import metropolis_hastings
from minigen.mcmc.replica_exchange import replica_exchange
from minigen.metrics import mode_occupancy
from minigen.plotting import demo_args, save, scatter_over_density

N_TEMPS = 8
BETA_MIN = 0.03                 # the hottest replica: blobs of std 0.2 / sqrt(0.03) = 1.2 overlap
STEP = 0.15                     # random-walk step at beta = 1; hotter ones use STEP / sqrt(beta)
N_CHAINS = 500
N_STEPS = 2000

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402

if args.quick:
    N_CHAINS, N_STEPS = 50, 200

weights = np.arange(1.0, 9.0) / 36.0
target = GaussianMixture(polygon_blobs(8, 2.0, 0.2).means, 0.2, weights)
betas = np.geomspace(1.0, BETA_MIN, N_TEMPS)
steps = STEP / np.sqrt(betas)
rng = backend.rng(args.seed)
x0 = xp.asarray(np.tile([2.0, 0.0], (N_CHAINS, 1)))
thin = 5

mh = metropolis_hastings(target.log_prob, x0, N_STEPS, STEP, rng, thin=thin)
rex = replica_exchange(target.log_prob, x0, betas, N_STEPS, steps, rng, thin=thin,
                       return_all=True)
half = N_STEPS // thin // 2                                 # drop the first half (burn-in)
occ_mh = mode_occupancy(mh.samples[half:].reshape(-1, 2), target.means, weights)
occ_rex = mode_occupancy(rex.samples[half:].reshape(-1, 2), target.means, weights)
swap = backend.to_numpy(rex.swap_rate)
acc = backend.to_numpy(xp.mean(rex.accept_rate, axis=1))
print(f"plain MH (step {STEP}): acceptance {float(xp.mean(mh.accept_rate)):.2f}, "
      f"occupancy TV {occ_mh.total_variation:.3f}")
print(f"replica exchange, {N_TEMPS} temperatures: occupancy TV {occ_rex.total_variation:.3f}")
print("  betas      ", np.array2string(betas, precision=3))
print("  acceptance ", np.array2string(acc, precision=2))
print("  swap rates ", np.array2string(swap, precision=2))
print("  occupancy  ", np.array2string(backend.to_numpy(occ_rex.freq), precision=3))
print("  weights    ", np.array2string(weights, precision=3))

fig, axes = plt.subplots(2, 3, figsize=(15, 9.5))
scatter_over_density(axes[0, 0], mh.samples[half:].reshape(-1, 2)[::5], target.log_prob,
                     title=f"plain Metropolis, step {STEP}: stays near the start mode\n"
                           f"occupancy TV {occ_mh.total_variation:.2f}")
scatter_over_density(axes[0, 1], rex.samples[half:].reshape(-1, 2)[::5], target.log_prob,
                     title="replica exchange, beta = 1 chains\n"
                           f"occupancy TV {occ_rex.total_variation:.3f}")
scatter_over_density(axes[0, 2], rex.replicas[half:, -1].reshape(-1, 2)[::5], target.log_prob,
                     color="C3",
                     title=f"the hottest replica, beta = {BETA_MIN}: pi^beta is flat\n"
                           "(its samples are not the target's)")
k = np.arange(8)
ax = axes[1, 0]
ax.bar(k - 0.27, weights, 0.27, color="0.6", label="true weights w_k")
ax.bar(k, backend.to_numpy(occ_mh.freq), 0.27, color="C0", label="plain Metropolis")
ax.bar(k + 0.27, backend.to_numpy(occ_rex.freq), 0.27, color="C1", label="replica exchange")
ax.set(xlabel="mode k (counter-clockwise from (2, 0))", ylabel="fraction of samples", ylim=(0, 0.5),
       title="mode occupancy at beta = 1")
ax.legend(fontsize=8)
ax = axes[1, 1]
ax.bar(np.arange(N_TEMPS - 1), swap, color="C2")
ax.set_xticks(np.arange(N_TEMPS - 1),
              [f"{betas[i]:.2f}-{betas[i + 1]:.2f}" for i in range(N_TEMPS - 1)],
              rotation=40, fontsize=8)
ax.set(ylabel="swap acceptance (Eq. 43)", ylim=(0, 1),
       title="swap rate of each adjacent pair (beta_i, beta_i+1)")
ax = axes[1, 2]
ax.semilogy(np.arange(1, N_TEMPS + 1), betas, "o-", label="beta_r (geometric ladder)")
ax.semilogy(np.arange(1, N_TEMPS + 1), acc, "s-", label="move acceptance in replica r")
ax.set(xlabel="replica r", title=f"the ladder: {N_TEMPS} temperatures, step {STEP}/sqrt(beta)")
ax.legend(fontsize=8)
fig.suptitle(f"Replica exchange on 8 blobs with weights w_k = k/36, {N_CHAINS} chains x "
             f"{N_STEPS} steps from (2, 0)")
save(fig, "replica_exchange", args)
