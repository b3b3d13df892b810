"""Conditional flow matching on the course's blobs: independent vs optimal-transport coupling.

Companion overview, §Conditional Flow Matching; notes §5.2 (Eq. 87-88: the ODE and Euler's scheme)
and §5.3 (Eq. 96-97: Liouville). A velocity u_theta(x, t) regressed on x_1 - x_0 along
x_t = t x_1 + (1 - t) x_0 carries N(0, I) to the data. With noise and data paired at random the
learned paths bend (they average crossing lines), so few Euler steps land off the blobs; paired by
optimal transport on blocks (Tong et al. 2024) they are nearly straight, and 1-2 Euler steps
suffice. Row 3: the density of the model by Liouville's equation, its NLL against the entropy.
"""
import numpy as np

from minigen import backend, distributions, metrics
from minigen.plotting import demo_args, save, scatter_over_density, trajectories
from minigen.transport.flow_matching import ot_pairs, straightness, train_flow_matching

N_MODES, RADIUS, STD = 8, 2.0, 0.2     # the course's blobs polygon_blobs(8, 2.0, 0.2)
N_DATA = 20_000                         # training points
EULER_STEPS = (1, 2, 8)                 # the few-step samplers compared
N_SHOW = 3000                           # points per scatter panel
N_PATHS = 40                            # trajectories drawn
CURVE_STEPS = (1, 2, 4, 8, 16)          # the quality-vs-steps curve

# what one Euler step x_0 + V_0(x_0) does: with independent pairs V_0(x) = E[x_1] - x
ONE_STEP = {"independent": "\nV_0(x) = E[x_1] - x: all points land on the mean",
            "ot": "\nstraight paths: one step nearly suffices"}

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402  (after demo_args chose the matplotlib mode)

target = distributions.polygon_blobs(N_MODES, RADIUS, STD)
quick = {"n_steps": 30, "n_pairs": 256, "batch_size": 256} if args.quick else {}
n_data, n_sw, grid_n = (600, 300, 25) if args.quick else (N_DATA, 5000, 110)
models = {}
for coupling in ("independent", "ot"):
    rng = backend.rng(args.seed)
    data = target.sample(n_data, rng)
    models[coupling] = train_flow_matching(data, rng, coupling=coupling, **quick)

# the two-sample floor: sliced W2 between two fresh true sets of the same size (mean of 3)
floor = np.mean([metrics.sliced_wasserstein(target.sample(n_sw, backend.rng(100 + k)),
                                            target.sample(n_sw, backend.rng(200 + k)),
                                            backend.rng(7)) for k in range(3)])
fresh = target.sample(n_sw, backend.rng(args.seed + 1))


def sw_ratio(x):
    return metrics.sliced_wasserstein(x, fresh, backend.rng(7)) / floor


# E|x_1 - x_0|^2 of the training pairs (standardized units): random pairs vs OT on blocks of 128
u = backend.to_numpy(data[:512 if args.quick else 2048])
u = (u - u.mean(axis=0)) / u.std(axis=0)
noise = backend.to_numpy(backend.rng(args.seed + 5).standard_normal(u.shape))
paired = {"independent": noise,
          "ot": backend.to_numpy(ot_pairs(backend.asarray(noise), backend.asarray(u), 128))}
pair_cost = {c: float(np.mean(np.sum((u - a) ** 2, axis=1))) for c, a in paired.items()}

fig, axes = plt.subplots(3, 4, figsize=(17, 15.5))
z = backend.rng(args.seed + 2).standard_normal((2000, 2))[:300 if args.quick else 2000]
for row, (coupling, model) in enumerate(models.items()):
    path = model.transport(z, n_steps=5 if args.quick else 20)
    s = straightness(path)
    ax = axes[row, 0]
    scatter_over_density(ax, path[-1], target.log_prob, color="0.75", s=1)
    trajectories(ax, path[:, :N_PATHS], max_paths=N_PATHS, alpha=0.8, lw=0.9)
    ax.set_title(f"{coupling} coupling: ODE paths from x_0 (dots), RK4\nstraightness "
                 f"int|dx/dt - (x1 - x0)|^2 dt = {s:.3f}\ntraining pairs: E|x1 - x0|^2 = "
                 f"{pair_cost[coupling]:.2f} (standardized)", fontsize=10)
    print(f"{coupling}: straightness {s:.4f}, training pairs E|x1 - x0|^2 "
          f"{pair_cost[coupling]:.3f}")
    for col, k in enumerate(EULER_STEPS, start=1):
        x = model.sample(n_sw, backend.rng(args.seed + 3), n_steps=k, method="euler")
        r = sw_ratio(x)
        print(f"{coupling}: {k} Euler step(s): sliced W2 = {r:.2f} x the two-sample floor")
        note = ONE_STEP[coupling] if k == 1 else ""
        scatter_over_density(axes[row, col], x[:N_SHOW], target.log_prob,
                             color="C0" if coupling == "independent" else "C2",
                             title=f"{coupling}: {k} Euler step{'s' * (k > 1)} (Eq. 88)\n"
                                   f"sliced W2 = {r:.2f} x two-sample floor{note}")
    axes[row, 0].set_ylabel(f"{coupling} coupling", fontsize=12)

# row 3: densities by Liouville (Eq. 96-97) and the NLL on fresh points
xs = np.linspace(-3.5, 3.5, grid_n)
X, Y = np.meshgrid(xs, xs)
grid = backend.asarray(np.stack([X.ravel(), Y.ravel()], axis=1))
P_true = np.exp(backend.to_numpy(target.log_prob(grid))).reshape(X.shape)
axes[2, 0].imshow(P_true, extent=(-3.5, 3.5, -3.5, 3.5), origin="lower", cmap="viridis")
entropy, se = target.entropy(backend.rng(4), 5000 if args.quick else 200_000)
axes[2, 0].set_title(f"true density p\nentropy H = {entropy:.3f} nats", fontsize=10)
test = fresh[:100 if args.quick else 3000]
lp_steps = 3 if args.quick else 50                    # RK4 steps of the Liouville ODE
for col, (coupling, model) in enumerate(models.items(), start=1):
    P = np.exp(backend.to_numpy(model.log_prob(grid, n_steps=lp_steps))).reshape(X.shape)
    nll = model.nll(test, n_steps=lp_steps)
    mass = P.sum() * (xs[1] - xs[0]) ** 2
    print(f"{coupling}: NLL by Liouville = {nll:.3f} nats (entropy {entropy:.3f}), "
          f"mass on the grid {mass:.3f}")
    axes[2, col].imshow(P, extent=(-3.5, 3.5, -3.5, 3.5), origin="lower", cmap="viridis")
    axes[2, col].set_title(f"{coupling}: log p by Liouville, RK4 {lp_steps} steps\n"
                           f"NLL {nll:.3f} vs H {entropy:.3f} (gap {nll - entropy:.3f}); "
                           f"mass {mass:.3f}", fontsize=10)
ax = axes[2, 3]
for coupling, color in (("independent", "C0"), ("ot", "C2")):
    ratios = [sw_ratio(models[coupling].sample(n_sw, backend.rng(args.seed + 6), n_steps=k,
                                               method="euler")) for k in CURVE_STEPS]
    ax.loglog(CURVE_STEPS, ratios, "o-", color=color, label=f"{coupling} coupling")
ax.axhline(1.0, color="0.5", ls="--", lw=0.8)
ax.text(1.05, 0.8, "two-sample floor (dashed)", color="0.4", fontsize=9)
ax.set_ylim(bottom=0.7)
ax.set_xticks(CURVE_STEPS)
ax.set_xticks([], minor=True)
ax.set_xticklabels([str(k) for k in CURVE_STEPS])
ax.set(xlabel="Euler steps (Eq. 88)", ylabel="sliced W2 / floor")
ax.legend(fontsize=9)
ax.set_title("sample quality against the number of Euler steps\nstraight paths need few steps",
             fontsize=10)
for a in axes.flat[:-1]:
    a.set_xticks([])
    a.set_yticks([])
fig.suptitle("Conditional flow matching: x_t = t x_1 + (1 - t) x_0, u_theta(x_t, t) ~ x_1 - x_0; "
             "independent vs OT coupling", fontsize=13)
fig.tight_layout(rect=(0, 0, 1, 0.96), h_pad=2.5)
save(fig, "flow_matching", args)
