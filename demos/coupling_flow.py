"""A coupling flow (Glow in the plane) trained by maximum likelihood on the course's blobs.

Notes Fig. 8 (the two directions of a flow) and §5.1, Eq. (77)-(86): T^{-1} carries the 8 blobs to a
Gaussian latent (training direction), T carries N(0, I) back to the blobs (generative direction).
The NLL of Eq. (78) on fresh points is compared with the target's entropy, its floor (Eq. (27)).
"""
import numpy as np

from minigen import backend, distributions
from minigen.flows.coupling import train_coupling_flow
from minigen.plotting import demo_args, density_grid, save, scatter_over_density

N_MODES, RADIUS, STD = 8, 2.0, 0.3     # the course's flow data: polygon_blobs(8, 2.0, 0.3)
N_DATA = 30_000                         # training points drawn from the target
N_STEPS = None                          # None: the trainer's default

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402  (after demo_args chose the matplotlib mode)

target = distributions.polygon_blobs(N_MODES, RADIUS, STD)
rng = backend.rng(args.seed)
n_data, steps = (1000, 25) if args.quick else (N_DATA, N_STEPS)
data = target.sample(n_data, rng)
small = {"n_blocks": 4, "batch_size": 256} if args.quick else {}
flow = train_coupling_flow(data, rng, **small, **({} if steps is None else {"n_steps": steps}))

fresh = target.sample(1500 if args.quick else 50_000, backend.rng(args.seed + 1))
nll = flow.nll(fresh)
entropy, se = target.entropy(backend.rng(args.seed + 2), 5000 if args.quick else 200_000)
print(f"NLL on fresh points = {nll:.3f} nats, target entropy = {entropy:.3f} +- {se:.3f}, "
      f"gap = {nll - entropy:.3f}")

fig, axes = plt.subplots(1, 4, figsize=(17, 5.0))
labels = np.argmax(backend.to_numpy(target.responsibilities(fresh[:3000])), axis=1)
pts = backend.to_numpy(fresh[:3000])
axes[0].scatter(pts[:, 0], pts[:, 1], c=labels, cmap="tab10", s=2)
axes[0].set(xlim=(-3.5, 3.5), ylim=(-3.5, 3.5), aspect="equal", title="data x ~ p (colour = blob)")
scatter_over_density(axes[1], flow.sample(3000, rng), target.log_prob,
                     title="samples x = T(z), z ~ N(0, I)\n(grey: true density)")
X, Y, P = density_grid(flow.log_prob, **({"n": 60} if args.quick else {}))
axes[2].imshow(P, extent=(-3.5, 3.5, -3.5, 3.5), origin="lower", cmap="viridis")
axes[2].set_title(f"learned density p_theta, Eq. (77)\n"
                  f"NLL {nll:.3f} vs entropy {entropy:.3f} (gap {nll - entropy:.3f})", fontsize=10)
z = backend.to_numpy(flow.forward(fresh[:3000])[0])
axes[3].scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=2)
t = np.linspace(0, 2 * np.pi, 200)
for r in (1, 2, 3):
    axes[3].plot(r * np.cos(t), r * np.sin(t), color="0.4", lw=0.7, ls="--")
axes[3].set(xlim=(-4, 4), ylim=(-4, 4), aspect="equal",
            title="latent z = T^{-1}(x) (training direction)\ndashed: N(0, I) at 1, 2, 3 std")
for ax in axes:
    ax.set_xlabel("coordinate 1")
axes[0].set_ylabel("coordinate 2")
fig.suptitle("Coupling flow (actnorm + LU mixing + affine coupling, Eq. 80-86): "
             "both directions of Fig. 8", fontsize=13)
fig.tight_layout(rect=(0, 0, 1, 0.93))                # leave the top band to the suptitle
save(fig, "coupling_flow", args)
