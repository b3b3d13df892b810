"""Mode collapse of the vanilla GAN on the 5x5 grid, and what packing (PacGAN) does to it.

The course's warning (notes §2.7, §4.1; Algorithm 2): the generator of a GAN may cover only some
modes of p_data, since -log D(G(z)) is small as soon as G's samples sit on SOME modes. The data are
PacGAN's grid (Lin et al. 2018, arXiv:1712.04086): 25 Gaussians of std 0.05 at {-4, -2, 0, 2, 4}^2.
Row 1: train_gan as it is; row 2: the same GAN whose discriminator sees packs of PACK samples
concatenated (train_gan(pack=PACK)): a collapsed G gives packs whose points keep falling on the
same modes, which D can tell from packs of data. Columns: snapshots of G(z) for the same z during
training, then the nearest-mode frequencies of 2500 samples against the uniform 1/25 (PacGAN's
protocol in the titles: a mode counts with >= 1 sample within 3 std, "within 3 std" is fidelity
(Eq. (65)), reverse KL of the frequencies of those samples vs uniform). The lesson is candid:
with these small MLPs and this budget G's samples also fall on the lines between modes (a
continuous G from N(0, I_2) must bridge them), and the title says what packing buys and costs.
"""
from minigen import backend, metrics
from minigen.backend import xp
from minigen.distributions import GaussianMixture
from minigen.gans.gan import train_gan
from minigen.plotting import demo_args, save

LEVELS = (-4.0, -2.0, 0.0, 2.0, 4.0)
STD = 0.05                # each mode's std (PacGAN's grid)
N_DATA, N_EVAL = 5000, 2500
N_STEPS = 20000           # generator steps, k = 1 discriminator step each (about 2 min)
PACK = 2                  # PacGAN2: the discriminator sees 2 samples at once
RUNS = [("GAN", 1), (f"GAN + pack {PACK}", PACK)]

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402

target = GaussianMixture(xp.asarray([[a, b] for a in LEVELS for b in LEVELS]), STD)
mu = backend.to_numpy(target.means)
rng = backend.rng(args.seed)
data = target.sample(N_DATA, rng)
n_steps = 20 if args.quick else N_STEPS

fig, axes = plt.subplots(2, 5, figsize=(17, 7))
fig.subplots_adjust(hspace=0.4, wspace=0.35)
for row, (name, pack) in zip(axes, RUNS):
    model = train_gan(data, rng, n_steps=n_steps, pack=pack, n_snapshots=4)
    x = model.sample(N_EVAL, rng)
    cov = metrics.mode_coverage(x, target.means, STD)
    hq = metrics.high_quality_fraction(x, target.means, STD)
    rkl = metrics.reverse_kl_modes(x, target.means, std=STD)
    for ax, (step, snap) in zip(row[:4], model.history["snapshots"]):
        snap = backend.to_numpy(snap)
        c = metrics.mode_coverage(snap, target.means, STD)
        ax.scatter(snap[:, 0], snap[:, 1], s=2, alpha=0.4, color="C1", linewidths=0)
        ax.scatter(mu[:, 0], mu[:, 1], s=14, marker="x", color="k", lw=0.8)
        ax.set(xlim=(-5.5, 5.5), ylim=(-5.5, 5.5), aspect="equal")
        ax.set_title(f"step {step}: {c}/25 modes", fontsize=10)
    row[0].set_ylabel(name, fontsize=12)
    freq = backend.to_numpy(metrics.mode_occupancy(x, target.means).freq)
    ax = row[4]
    ax.bar(range(25), sorted(freq, reverse=True), color="C0")
    ax.axhline(1 / 25, color="k", ls="--", lw=0.8, label="uniform 1/25")
    ax.set(xlabel="modes (nearest), most visited first", ylabel="fraction of samples")
    ax.legend(fontsize=8)
    ax.set_title(f"{name}: {cov}/25 modes, {100 * hq:.0f}% within 3 std,\n"
                 f"reverse KL {rkl:.2f} (0 = uniform)", fontsize=10)
    print(f"{name}: {cov}/25 modes, high quality {hq:.3f}, reverse KL {rkl:.3f}")
fig.suptitle("The vanilla GAN on the 5x5 grid, without and with packing (PacGAN: D sees "
             f"{PACK} samples at once): G(z) for the same z during training (orange), the 25 "
             "modes (x), and how evenly the modes are visited", fontsize=12)
save(fig, "mode_collapse", args)
