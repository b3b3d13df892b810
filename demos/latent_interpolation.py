"""Interpolating between two data points through the latent space of a flow vs in data space.

Notes §5.1, Figs. 27-28: with z_i = T^{-1}(x_i), the path x_e = T((1 - e) z_0 + e z_1) stays where
the model puts probability, while the straight segment (1 - e) x_0 + e x_1 crosses empty regions
(for images: blends with artefacts). Here: two blobs three vertices apart on the course's octagon.
"""
import numpy as np

from minigen import backend, distributions
from minigen.flows.coupling import train_coupling_flow
from minigen.plotting import demo_args, save, scatter_over_density

N_MODES, RADIUS, STD = 8, 2.0, 0.3
N_DATA = 30_000
N_POINTS = 15                          # points along each path
MODE_A, MODE_B = 0, 3                  # endpoints: the centres of these two blobs

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402

target = distributions.polygon_blobs(N_MODES, RADIUS, STD)
rng = backend.rng(args.seed)
n_data, kw = ((1000, {"n_steps": 25, "n_blocks": 4, "batch_size": 256}) if args.quick
              else (N_DATA, {}))
flow = train_coupling_flow(target.sample(n_data, rng), rng, **kw)

x_a, x_b = target.means[MODE_A], target.means[MODE_B]
latent_path, z_path = flow.interpolate(x_a, x_b, n_points=N_POINTS)
eps = np.linspace(0.0, 1.0, N_POINTS)[:, None]
data_path = (1 - eps) * backend.to_numpy(x_a) + eps * backend.to_numpy(x_b)
lp_latent = backend.to_numpy(target.log_prob(latent_path))
lp_data = backend.to_numpy(target.log_prob(backend.asarray(data_path)))
print(f"min true log p along the path: latent {lp_latent.min():.2f}, "
      f"data space {lp_data.min():.2f}")

fig, axes = plt.subplots(1, 3, figsize=(14, 4.5))
scatter_over_density(axes[0], flow.sample(2000, rng), target.log_prob, color="0.6", alpha=0.3,
                     title="paths between two blob centres")
lat = backend.to_numpy(latent_path)
axes[0].plot(lat[:, 0], lat[:, 1], "o-", color="C3", ms=4, label="through latent space, T(z_e)")
axes[0].plot(data_path[:, 0], data_path[:, 1], "s--", color="C0", ms=4,
             label="straight in data space")
axes[0].legend(loc="lower left", fontsize=8)
z_samples = backend.to_numpy(flow.forward(flow.sample(2000, rng))[0])
zp = backend.to_numpy(z_path)
axes[1].scatter(z_samples[:, 0], z_samples[:, 1], s=2, color="0.6", alpha=0.3)
axes[1].plot(zp[:, 0], zp[:, 1], "o-", color="C3", ms=4)
axes[1].set(xlim=(-4, 4), ylim=(-4, 4), aspect="equal", title="the same path in latent space:\n"
            "z_e = (1 - e) z_0 + e z_1 (a straight line)")
axes[2].plot(eps[:, 0], lp_latent, "o-", color="C3", label="latent interpolation")
axes[2].plot(eps[:, 0], lp_data, "s--", color="C0", label="data-space interpolation")
axes[2].set(xlabel="e", ylabel="true log p(x_e)",
            title=f"log-density along the paths\nmin: latent {lp_latent.min():.1f}, "
                  f"data space {lp_data.min():.1f}")
axes[2].legend(fontsize=8)
fig.suptitle("Figs. 27-28: latent interpolation stays on the data; the straight segment leaves it",
             fontsize=12)
fig.tight_layout()
save(fig, "latent_interpolation", args)
