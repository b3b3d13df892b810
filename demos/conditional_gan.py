"""One generator, eight labels: the conditional GAN puts each label on its own blob.

Notes §4.3, Eq. (64), Fig. 20 (Mirza & Osindero 2014, arXiv:1411.1784): the label y is appended
to G's noise, G(z|y), and to D's input, D(x|y). The data are the course's 8 blobs
polygon_blobs(8, 2.0, 0.2), each point labelled by its blob. Top: the labelled data, G's samples
early in training, and the trained G's samples for each label on top of the data (circles: 3 std
around each blob). Bottom: the same 6 noises z sent through G(z|y) for the 8 labels (y chooses
the blob, z the place inside it), the fraction of each label's samples within 3 std of its own
blob (the issue's target 95%; a perfect sampler gives 98.9%), and V(D, G) of Eq. (64) during
training against -log 4 (Theorem 1, label by label). Candidly, the title also gives the spread of
each label's samples: a little narrower than the blob (fidelity is easier than diversity).
"""
import math

import numpy as np

from minigen import backend
from minigen.distributions import polygon_blobs
from minigen.gans.cgan import train_cgan
from minigen.plotting import demo_args, save

N_MODES, RADIUS, STD = 8, 2.0, 0.2
N_DATA = 5000
N_STEPS = 2000           # generator steps (train_cgan's default), k = 1 discriminator step each
N_PER_LABEL = 2000       # samples per label for the accuracy
N_Z = 6                  # noises shown through every label
SNAP_STEP = 200          # the training step of the snapshot shown (one every 50 steps)

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Circle  # noqa: E402

rng = backend.rng(args.seed)
target = polygon_blobs(N_MODES, RADIUS, STD)
means = backend.to_numpy(target.means)
labels = rng.integers(0, N_MODES, size=(N_DATA,))                   # the label of a point: its blob
data = target.means[labels] + STD * rng.standard_normal((N_DATA, 2))
model = train_cgan(data, labels, rng, n_steps=40 if args.quick else N_STEPS, n_snapshots=41)
colors = [plt.cm.tab10(k) for k in range(N_MODES)]
data_h, labels_h = backend.to_numpy(data), backend.to_numpy(labels)


def frame(ax, title):
    for k, mu in enumerate(means):
        ax.add_patch(Circle(mu, 3 * STD, fill=False, color=colors[k], lw=0.8, ls="--"))
    ax.set(xlim=(-3.3, 3.3), ylim=(-3.3, 3.3), aspect="equal")
    ax.set_title(title, fontsize=10)


def by_label(ax, x, y, s=3, alpha=0.5):
    for k in range(N_MODES):
        pts = x[y == k]
        ax.scatter(pts[:, 0], pts[:, 1], s=s, alpha=alpha, color=colors[k], linewidths=0)


fig, axes = plt.subplots(2, 3, figsize=(16, 10.5))
fig.subplots_adjust(hspace=0.3, wspace=0.25)
ax = axes[0, 0]
by_label(ax, data_h, labels_h)
frame(ax, f"data: {N_DATA} points, colour = label y (its blob)")
ax = axes[0, 1]
snap_y = np.asarray(model.history["snapshot_labels"])
step, snap = min(model.history["snapshots"], key=lambda s: abs(s[0] - SNAP_STEP))
by_label(ax, backend.to_numpy(snap), snap_y, s=4)
frame(ax, f"G(z|y) for 1000 fixed (z, y) after {step} steps:\nthe labels are finding their blobs")

ax = axes[0, 2]
ax.scatter(data_h[:, 0], data_h[:, 1], s=2, color="0.8", linewidths=0, label="data")
acc, spread = [], []
for k in range(N_MODES):
    x = backend.to_numpy(model.sample(N_PER_LABEL, rng, k))
    acc.append(float(np.mean(np.sum((x - means[k]) ** 2, axis=1) <= (3 * STD) ** 2)))
    spread.append(np.sqrt(np.linalg.eigvalsh(np.cov(x.T))) / STD)   # principal stds / blob std
    ax.scatter(x[:500, 0], x[:500, 1], s=3, alpha=0.6, color=colors[k], linewidths=0)
    ax.annotate(f"y={k}", 1.42 * means[k], ha="center", va="center", fontsize=9, color=colors[k])
short, long = np.median(spread, axis=0)
frame(ax, f"trained: sample(500, rng, y), y = 0..7, over the data (grey); worst label\n"
          f"{100 * min(acc):.1f}% within 3 std; spread {short:.2f}x and {long:.2f}x the blob's std")

ax = axes[1, 0]
z = rng.standard_normal((N_Z, model.latent_dim))
ax.scatter(data_h[:, 0], data_h[:, 1], s=2, color="0.85", linewidths=0)
for k in range(N_MODES):
    x = backend.to_numpy(model.generate(z, k))
    for j in range(N_Z):
        ax.plot(*x[j], marker="os^vDP"[j], color=colors[k], ms=6, mec="k", mew=0.5)
frame(ax, f"the same {N_Z} noises z (one marker each) through G(z|y),\n"
          "y = 0..7: y picks the blob, z the place in it")

ax = axes[1, 1]
ax.bar(range(N_MODES), [100 * a for a in acc], color=colors)
ax.axhline(95, color="k", ls="--", lw=0.8, label="target 95%")
ax.axhline(100 * (1 - math.exp(-4.5)), color="C2", ls=":", lw=1.0,
           label="exact Gaussian blob: 98.9%")
for k, a in enumerate(acc):
    ax.text(k, 100 * a - 0.3, f"{100 * a:.1f}", ha="center", va="top", fontsize=8, color="w")
ax.set(xlabel="label y", ylabel="% of samples of label y within 3 std of blob y", ylim=(90, 101))
ax.legend(fontsize=8, loc="lower right", framealpha=0.95)
ax.set_title("per-label accuracy", fontsize=10)

ax = axes[1, 2]
ax.plot(model.history["step"], model.history["value"], lw=0.5, label="V(D, G) on a batch (Eq. 64)")
ax.axhline(-math.log(4), color="k", ls="--", lw=0.8, label="-log 4 (Theorem 1 per label)")
ax.set(xlabel="generator step", ylim=(-1.8, -1.0))
ax.legend(fontsize=8)
ax.set_title("the value of the conditional game", fontsize=10)
fig.suptitle("Conditional GAN (Eq. 64): one generator G(z|y), one discriminator D(x|y), the label "
             "y concatenated to their inputs; eight labels, eight blobs", fontsize=12)
print("per-label accuracy (% within 3 std of blob y): "
      + " ".join(f"y={k}: {100 * a:.1f}" for k, a in enumerate(acc)))
print(f"worst label {100 * min(acc):.1f}%, target 95%; std along the principal axes of a "
      f"label's samples / blob std (median over labels): {short:.2f}, {long:.2f}")
save(fig, "conditional_gan", args)
