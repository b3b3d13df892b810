"""The vanilla GAN on the course's 8 blobs: snapshots of G's samples during training, the losses.

Reproduces the experiment of notes §3.4 footnote 44 / §4.1 (Algorithm 2): a generator from
N(0, I_2) and a discriminator, both small MLPs, trained on polygon_blobs(8, 2.0, 0.2). The lesson
is candid: the minimax game oscillates and the generator may drop modes (mode collapse); the
title reports the mode coverage it reaches, whatever it is. At equilibrium V(D, G) = -log 4 (Th. 1).
"""
import math

from minigen import backend, metrics
from minigen.distributions import polygon_blobs
from minigen.gans.gan import train_gan
from minigen.plotting import demo_args, save, scatter_over_density

N_MODES, RADIUS, STD = 8, 2.0, 0.2
N_DATA = 5000
N_STEPS = 2000           # generator steps (Algorithm 2's iterations), k = 1 discriminator step each
# the generator's losses: -log D(G(z)) (the usual choice) and log(1 - D(G(z))) (Eq. 47)
LOSSES = ["non_saturating", "minimax"]

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402

rng = backend.rng(args.seed)
target = polygon_blobs(N_MODES, RADIUS, STD)
data = target.sample(N_DATA, rng)
n_steps = 20 if args.quick else N_STEPS

fig, axes = plt.subplots(2, 6, figsize=(19, 8))
fig.subplots_adjust(hspace=0.45)
for row, loss in zip(axes, LOSSES):
    model = train_gan(data, rng, n_steps=n_steps, loss=loss, n_snapshots=5)
    x = model.sample(1000 if args.quick else 5000, rng)
    cov = metrics.mode_coverage(x, target.means, STD)
    hq = metrics.high_quality_fraction(x, target.means, STD)
    rkl = metrics.reverse_kl_modes(x, target.means)
    for ax, (step, snap) in zip(row[:5], model.history["snapshots"]):
        c = metrics.mode_coverage(snap, target.means, STD)
        scatter_over_density(ax, snap, target.log_prob, title=f"step {step}: {c}/{N_MODES} modes")
    row[0].set_ylabel(f"{loss} generator loss")
    ax = row[5]
    ax.plot(model.history["step"], model.history["value"], lw=0.6,
            label="V(D, G) on a batch (Eq. 47)")
    ax.axhline(-math.log(4), color="k", ls="--", lw=0.8, label="-log 4 (Theorem 1)")
    ax.set_xlabel("generator step")
    ax.legend(fontsize=7)
    ax.set_title(f"final: {cov}/{N_MODES} modes, {100 * hq:.0f}% within 3 std,\n"
                 f"reverse KL of mode weights {rkl:.2f}", fontsize=9)
    print(f"{loss}: mode coverage {cov}/{N_MODES}, high-quality fraction {hq:.3f}, "
          f"reverse KL (modes) {rkl:.3f}")
fig.suptitle(f"Vanilla GAN on {N_MODES} blobs (Algorithm 2, k = 1): snapshots of G(z) for the "
             "same z during training; V(D, G) near -log 4 does not mean p_G = p_data",
             fontsize=11)
save(fig, "gan_blobs", args)
