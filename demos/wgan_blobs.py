"""WGAN on the course's 8 blobs: weight clipping vs gradient penalty, and the critic's W1 estimate.

Notes §4.2, Eq. (63) (Kantorovich-Rubinstein, Theorem 3): the critic f, kept 1-Lipschitz, estimates
W1(p_data, p_G) = E_data f - E_G f, and the generator descends it (footnote 54's notebook). Left:
the data; middle: WGAN with clipped weights (Arjovsky et al. 2017) and with the gradient penalty
(Gulrajani et al. 2017), with mode coverage and the fraction of samples within 3 std of a mode;
right: the critic's W1 estimate during training, which, unlike GAN losses, goes down. A clipped
critic is K-Lipschitz for some unknown K << 1: its values estimate K W1 (own axis).
"""
import numpy as np

from minigen import backend, metrics
from minigen.distributions import polygon_blobs
from minigen.gans.wgan import train_wgan
from minigen.plotting import demo_args, save, scatter_over_density

N_MODES, RADIUS, STD = 8, 2.0, 0.2
N_DATA = 5000
CLIP = 0.01              # Arjovsky et al.'s clipping box
LAMBDA = 0.1             # penalty weight (Gulrajani et al.'s value for 2D toy data)

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402

rng = backend.rng(args.seed)
target = polygon_blobs(N_MODES, RADIUS, STD)
data = target.sample(N_DATA, rng)
quick = dict(n_steps=10, n_critic=2) if args.quick else {}

fig, axes = plt.subplots(1, 4, figsize=(16, 4))
fig.subplots_adjust(wspace=0.35)
scatter_over_density(axes[0], data, target.log_prob, title=f"data: {N_MODES} blobs, std {STD}",
                     color="C0")
w1_axes = {"gp": axes[3], "clip": axes[3].twinx()}          # clipped critics are tiny: own axis
for ax, lipschitz, color in ((axes[1], "clip", "C3"), (axes[2], "gp", "C2")):
    model = train_wgan(data, rng, lipschitz=lipschitz, clip=CLIP, lam=LAMBDA, **quick)
    x = model.sample(5000, rng)
    cov = metrics.mode_coverage(x, target.means, STD)
    hq = metrics.high_quality_fraction(x, target.means, STD)
    name = f"clipping c={CLIP}" if lipschitz == "clip" else f"gradient penalty lambda={LAMBDA:g}"
    scatter_over_density(ax, x, target.log_prob, title=f"WGAN, {name}\n{cov}/{N_MODES} modes, "
                         f"{100 * hq:.0f}% within 3 std", color=color)
    w1 = np.asarray(model.history["w1"])
    smooth = np.convolve(w1, np.ones(25) / 25, mode="valid") if len(w1) > 25 else w1
    w1_axes[lipschitz].plot(np.arange(len(smooth)), smooth, color=color, label=name)
    w1_axes[lipschitz].tick_params(axis="y", colors=color)
    print(f"{name}: coverage {cov}/{N_MODES}, high-quality fraction {hq:.3f}, "
          f"final W1 estimate {np.mean(w1[-50:]):.3g}")
axes[3].set_xlabel("generator step")
axes[3].set_ylabel("gp: E_data f - E_G f (data units)", color="C2")
w1_axes["clip"].set_ylabel("clip: same, = K x W1 with K << 1 unknown", color="C3")
axes[3].set_title("critic's W1 estimate (Eq. 63), moving average", fontsize=10)
axes[3].axhline(0, color="k", lw=0.6)
save(fig, "wgan_blobs", args)
