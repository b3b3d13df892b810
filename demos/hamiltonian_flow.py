"""A Hamiltonian flow on the course's blobs: learned leapfrog dynamics in phase space (q, p).

Notes §2.8.1, Eq. (10)-(12) with log|det J| = 0: each leapfrog step of H = V(q) + K(p) is a
product of shears, so it preserves volume (Liouville) and the density needs no Jacobian (Toth et
al. 2020, arXiv:1909.13789; the lecture's blog note on Hamiltonian flows). The data density is only
bounded by an ELBO over the momentum p; we show it against the true log-likelihood, and det J = 1
numerically.
"""
import autograd
import autograd.numpy as anp
import numpy as np

from minigen import backend, distributions
from minigen.flows.hamiltonian import leapfrog, train_hamiltonian_flow
from minigen.plotting import demo_args, save, scatter_over_density

N_MODES, RADIUS, STD = 8, 2.0, 0.3
N_DATA = 30_000
N_PATHS = 12                           # phase-space trajectories drawn

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402

target = distributions.polygon_blobs(N_MODES, RADIUS, STD)
rng = backend.rng(args.seed)
n_data, kw = (500, {"n_steps": 10}) if args.quick else (N_DATA, {})
flow = train_hamiltonian_flow(target.sample(n_data, rng), rng, **kw)

fresh = target.sample(300 if args.quick else 20_000, backend.rng(args.seed + 1))
elbo = backend.to_numpy(flow.elbo(fresh, backend.rng(args.seed + 2)))
iwae = backend.to_numpy(flow.elbo(fresh[:2000], backend.rng(args.seed + 3), n_samples=64))
true_ll = backend.to_numpy(target.log_prob(fresh))
gap, iwae_gap = true_ll.mean() - elbo.mean(), true_ll[:2000].mean() - iwae.mean()
print(f"mean true log p = {true_ll.mean():.3f}, ELBO = {elbo.mean():.3f} (gap {gap:.3f}), "
      f"IWAE-64 = {iwae.mean():.3f} (gap {iwae_gap:.3f})")

# det J of one leapfrog block of the learned Hamiltonian, from the autograd Jacobian at a few points
gV, gK = flow.forces(0)


def block(v):
    """The first leapfrog block on one phase point v: (4,) -> (4,)."""
    q, p = leapfrog(v[None, :2], v[None, 2:], gV, gK, flow.step_size, flow.n_leapfrog)
    return anp.concatenate([q, p], axis=1)[0]


dets = [np.linalg.det(autograd.jacobian(block)(y))
        for y in backend.to_numpy(rng.standard_normal((5, 4)))]
max_dev = float(np.max(np.abs(np.array(dets) - 1.0)))
print(f"max |det J - 1| over 5 points = {max_dev:.1e}")

fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
scatter_over_density(axes[0], flow.sample(3000, rng), target.log_prob,
                     title="samples: base N(0, I_4) pushed by leapfrog, keep q\n"
                           "(grey: true density)")
paths = backend.to_numpy(flow.trajectory(rng.standard_normal((N_PATHS, 4))))    # (steps + 1, n, 4)
scatter_over_density(axes[1], fresh[:1], target.log_prob, s=0)
for i in range(N_PATHS):
    q = paths[:, i, :2]                         # position after each leapfrog step, in data units
    axes[1].plot(q[:, 0], q[:, 1], "-", color=f"C{i % 10}", lw=1)
    axes[1].plot(q[0, 0], q[0, 1], "o", color=f"C{i % 10}", ms=3)
    axes[1].plot(q[-1, 0], q[-1, 1], "*", color=f"C{i % 10}", ms=7)
axes[1].set(xlabel="q_1", ylabel="q_2",
            title=f"position q along the learned dynamics (o start, * end)\n"
                  f"volume preserved: max |det J - 1| = {max_dev:.0e}")
bins = np.linspace(np.percentile(true_ll, 0.5) - 1, true_ll.max() + 0.5, 60)
axes[2].hist(true_ll, bins=bins, alpha=0.5, density=True,
             label=f"true log p(x): mean {true_ll.mean():.2f}")
axes[2].hist(elbo, bins=bins, alpha=0.5, density=True, label=f"ELBO(x): mean {elbo.mean():.2f}")
axes[2].axvline(iwae.mean(), color="C3", ls="--", label=f"IWAE, 64 samples: mean {iwae.mean():.2f}")
axes[2].set(xlabel="nats", title=f"ELBO <= log p: gap {gap:.2f} nats (IWAE-64: {iwae_gap:.2f})")
axes[2].legend(fontsize=8)
fig.suptitle("Hamiltonian flow: leapfrog steps of a learned H(q, p) = V(q) + K(p), "
             "trained on the ELBO", fontsize=12)
fig.tight_layout()
save(fig, "hamiltonian_flow", args)
