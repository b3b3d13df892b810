"""A neural Gibbs energy learned by maximum likelihood: persistent chains vs short-run chains.

Notes §3.1, Eq. (32)-(35): the gradient E_data grad U - E_model grad U needs samples of p_theta at
every step. Top row: persistent chains (PCD, Tieleman 2008) moved a few MALA steps per update;
the energy, its density by quadrature (KL to the truth) and MALA from noise on it all agree.
Bottom row: the same gradient with short-run chains restarted from noise (K ULA steps, Nijkamp
et al. 2019, arXiv:1904.09770): the K-step samples look like the data, yet exp(-U) is another
density; MALA run to equilibrium on that energy shows it.
"""
import numpy as np

from minigen import backend, distributions, mcmc, metrics
from minigen.energy import pcd
from minigen.energy.neural import train_energy
from minigen.energy.quadrature import grid_points
from minigen.plotting import demo_args, save

N_DATA = 10_000                  # training points from polygon_blobs(8, 2.0, 0.2)
SHORT_RUN = dict(chains="short_run", mcmc_steps=40, step_size=0.015, n_chains=256, lr=5e-3,
                 alpha=0.1,
                 n_steps=1200)   # K = 40 ULA steps from noise per update
LONG_STEPS = 2000                # MALA steps to equilibrium on the short-run energy
N_SHOW = 2000                    # points per scatter
EXTENT = (-3.5, 3.5, -3.5, 3.5)

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402  (after demo_args chose the matplotlib mode)

target = distributions.polygon_blobs(8, 2.0, 0.2)
data = target.sample(2000 if args.quick else N_DATA, backend.rng(args.seed))
quick = {"n_steps": 10, "n_chains": 32, "hidden": (16, 16)} if args.quick else {}
short_kw = {**SHORT_RUN, **quick, **({"mcmc_steps": 10} if args.quick else {})}
sample_steps = 10 if args.quick else 500
persistent = train_energy(data, backend.rng(args.seed + 1), **quick)
short = train_energy(data, backend.rng(args.seed + 2), **short_kw)

pts, area = grid_points((-3.5, 3.5), 30 if args.quick else 351)
lp = backend.to_numpy(target.log_prob(pts))


def kl(model):
    """KL(p || p_theta) by quadrature on the grid: sum p (log p - log p_theta) dA."""
    return float(np.sum(np.exp(lp) * (lp - backend.to_numpy(model.log_prob(pts)))) * area)


def short_run_samples(model, n, rng):
    """What the short-run training saw: K ULA steps from N(0, I) in standardized units."""
    score = pcd.langevin_target(model._energy, model.params)[1]
    k = short_kw["mcmc_steps"]
    z = mcmc.langevin(score, rng.standard_normal((n, 2)), k, model.step_size, rng, thin=k,
                      progress=False).final
    return backend.to_numpy(model.mean + model.std * z)


n_show = 300 if args.quick else N_SHOW
x_pcd = backend.to_numpy(persistent.sample(n_show, backend.rng(3), n_steps=sample_steps))
x_short = short_run_samples(short, n_show, backend.rng(4))
x_long = backend.to_numpy(short.sample(n_show, backend.rng(5), step_size=0.01,
                                       n_steps=15 if args.quick else LONG_STEPS))
kl_pcd, kl_short = kl(persistent), kl(short)
numbers = {"PCD": (kl_pcd, x_pcd), "short-run, K-step samples": (kl_short, x_short),
           "short-run, MALA to equilibrium": (kl_short, x_long)}
for name, (k, x) in numbers.items():
    occ = metrics.mode_occupancy(x, target.means).total_variation
    hq = metrics.high_quality_fraction(x, target.means, 0.2)
    print(f"{name:32s} KL(p || p_theta) = {k:7.3f} nats   samples: {hq:.0%} within 3 std of "
          f"a mode, occupancy TV {occ:.3f}")



def blob_masses(model):
    """p_theta's mass near each blob (the quadrature weights of the grid cells nearest to it)."""
    w = np.exp(backend.to_numpy(model.log_prob(pts))) * area
    nearest = np.argmin(((backend.to_numpy(pts)[:, None, :] - means[None]) ** 2).sum(-1), 1)
    return np.array([w[nearest == k].sum() for k in range(len(means))])


means = backend.to_numpy(target.means)
g = np.linspace(-3.5, 3.5, 40 if args.quick else 200)
X, Y = np.meshgrid(g, g)
flat = np.stack([X.ravel(), Y.ravel()], axis=1)
P_true = np.exp(backend.to_numpy(target.log_prob(flat))).reshape(X.shape)
fig, axes = plt.subplots(2, 4, figsize=(20, 10))
for row, model, kl_value in ((0, persistent, kl_pcd), (1, short, kl_short)):
    U = backend.to_numpy(model.energy(flat)).reshape(X.shape)
    ax = axes[row, 0]
    ax.contourf(X, Y, np.minimum(U - U.min(), 30), levels=30, cmap="magma_r")
    ax.scatter(*backend.to_numpy(data[:600]).T, s=1, c="c")
    ax.set_title("learned energy U_theta (light: low; cyan: data)")
    P = np.exp(backend.to_numpy(model.log_prob(flat))).reshape(X.shape)
    axes[row, 1].imshow(P, extent=EXTENT, origin="lower", cmap="viridis")
    axes[row, 1].set_title(f"its density p_theta = exp(-U) / Z (Z by quadrature)\n"
                           f"KL(p || p_theta) = {kl_value:.3f} nats")
panels = ((axes[0, 2], x_pcd, f"MALA from noise on U_theta, {sample_steps} steps"),
          (axes[1, 2], x_short, f"what training saw: {short_kw['mcmc_steps']} ULA steps "
                                "from noise\n8 blurred blobs in the right places"),
          (axes[1, 3], x_long, f"the same energy, MALA to equilibrium ({LONG_STEPS} steps):\n"
                               "other, tilted blobs: exp(-U) is not what training sampled"))
for ax, x, title in panels:
    ax.contour(X, Y, P_true, levels=4, colors="0.6", linewidths=0.7)
    ax.scatter(x[:, 0], x[:, 1], s=2, c="C3")
    ax.set_title(title + "\n(grey: true density)" if ax is axes[0, 2] else title)
for ax in list(axes[:, :3].ravel()) + [axes[1, 3]]:
    ax.set(xlim=EXTENT[:2], ylim=EXTENT[2:], aspect="equal")
ax = axes[0, 3]
k = np.arange(len(means))
ax.bar(k - 0.2, blob_masses(persistent), 0.4, label="PCD (persistent chains)", color="C0")
ax.bar(k + 0.2, blob_masses(short), 0.4, label="short-run chains", color="C1")
ax.axhline(1 / len(means), color="k", ls="--", lw=1, label="truth: 1/8 each")
ax.set(xlabel="blob k (counter-clockwise from (2, 0))", ylabel="mass of p_theta near blob k",
       title="blob weights of p_theta (quadrature): off for both,\n"
             "the chains do not cross between blobs (Fig. 16)")
ax.legend(fontsize=9)
axes[0, 0].set_ylabel("persistent chains (PCD)", fontsize=13)
axes[1, 0].set_ylabel("short-run chains from noise", fontsize=13)
fig.suptitle("Maximum likelihood for a neural energy: Eq. (32) with model samples by MCMC "
             "(Eq. 35). Persistent chains learn the density; short-run chains learn a sampler, "
             "not the density", fontsize=14)
fig.tight_layout(rect=(0, 0, 1, 0.95))
save(fig, "energy_neural", args)
