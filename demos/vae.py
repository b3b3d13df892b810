"""A variational autoencoder on the course's eight blobs: its latent space, its samples, the
bridges it draws between the modes, and the ELBO tightened by importance weighting.

Companion reading (generative overview, VAE): the encoder q(z|x) sends each blob to a region of
the latent plane; the KL term presses those regions together so that N(0, I) covers them, and the
continuous decoder f(z) must then cross from one blob to the next where the regions meet: a
fraction of the samples lands on thin bridges of low true density (a flow shares this topology
problem; a GAN hides it by dropping modes). Right panel: ELBO = IWAE_1 <= IWAE_K <= log p, rising
with K toward E[log p(x)] (Kingma & Welling 2014, arXiv:1312.6114; Burda et al. 2016,
arXiv:1509.00519).
"""
import numpy as np

from minigen import backend, distributions
from minigen.latent.vae import train_vae
from minigen.metrics import high_quality_fraction, mode_coverage
from minigen.plotting import demo_args, save, scatter_over_density

N_MODES, RADIUS, STD = 8, 2.0, 0.2
N_DATA = 20_000
N_SHOW = 4000                          # points in the scatter panels
N_BOUND = 5000                         # fresh points for the ELBO / IWAE curve
KS = (1, 2, 4, 8, 16, 32, 64)          # importance samples
N_STD = 3.0                            # a sample is "on a blob" within 3 std of its centre

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402

target = distributions.polygon_blobs(N_MODES, RADIUS, STD)
rng = backend.rng(args.seed)
n_data, kw = (1000, {"n_steps": 40}) if args.quick else (N_DATA, {})
vae = train_vae(target.sample(n_data, rng), rng, **kw)

host = backend.to_numpy
means = host(target.means)
x = target.sample(N_SHOW, rng)
mode = np.argmin(((host(x)[:, None] - means[None]) ** 2).sum(-1), axis=1)
mu = host(vae.encode(x)[0])
samples = vae.sample(N_SHOW, rng)
s = host(samples)
off = np.min(((s[:, None] - means[None]) ** 2).sum(-1), axis=1) > (N_STD * STD) ** 2
n_modes = mode_coverage(samples, target.means, STD, N_STD)
hq = high_quality_fraction(samples, target.means, STD, N_STD)
entropy, _ = target.entropy(backend.rng(args.seed + 1), 20_000 if args.quick else 200_000)
fresh = target.sample(N_BOUND if not args.quick else 150, rng)
ks = KS if not args.quick else KS[:4]
bounds = [float(np.mean(host(vae.elbo(fresh, backend.rng(args.seed + 2), n_samples=k))))
          for k in ks]
print(f"{n_modes}/{N_MODES} modes, {100 * hq:.1f}% of samples within {N_STD:g} std of a mode; "
      f"entropy H = {entropy:.3f} nats")
print("  ".join(f"-IWAE_{k} - H = {-b - entropy:.3f}" for k, b in zip(ks, bounds)))

fig, axes = plt.subplots(1, 4, figsize=(19, 4.9))
ax = axes[0]
t = np.linspace(0, 2 * np.pi, 200)
for r in (1.0, 2.0):
    ax.plot(r * np.cos(t), r * np.sin(t), color="0.5", lw=0.8, ls="--")
ax.scatter(mu[:, 0], mu[:, 1], c=mode, cmap="tab10", vmin=0, vmax=9, s=2, alpha=0.6)
ax.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal",
       title="latent space: encoder means mu(x), coloured by blob\n"
             "(dashed: 1 and 2 std of the prior N(0, I))")

scatter_over_density(axes[1], samples, target.log_prob, color="C0", s=4, alpha=0.5,
                     title=f"VAE samples f(z) + sigma eps over the true density\n"
                           f"{n_modes}/{N_MODES} modes, {100 * hq:.0f}% within 3 std of one")

ax = axes[2]
scatter_over_density(ax, s[~off], target.log_prob, color="0.6", s=3, alpha=0.3)
ax.scatter(s[off, 0], s[off, 1], s=5, color="C3",
           label=f"{100 * off.mean():.1f}% of the samples: > 3 std from every blob")
ring = np.stack([1.2 * np.cos(t), 1.2 * np.sin(t)], axis=1)
f_ring = host(vae.decode(backend.asarray(ring))[0])
ax.plot(f_ring[:, 0], f_ring[:, 1], color="C2", lw=1.5, label="f(z) on the circle |z| = 1.2")
ax.legend(loc="lower left", fontsize=8)
ax.set_title("the bridges: f(z) is continuous, so where two latent regions\nmeet the decoder "
             "crosses the gap between their blobs", fontsize=10)

ax = axes[3]
ax.semilogx(ks, [-b for b in bounds], "o-", color="C0", label="-IWAE_K (K = 1: -ELBO)")
ax.axhline(entropy, color="k", ls="--", label=f"entropy H = {entropy:.2f} (= E[-log p])")
ax.set(xlabel="importance samples K", ylabel="nats (mean over fresh points)",
       title=f"the bound tightens with K: -ELBO - H = {-bounds[0] - entropy:.2f},\n"
             f"-IWAE_{ks[-1]} - H = {-bounds[-1] - entropy:.2f}: both >= KL(p || p_model) "
             "= NLL - H")
ax.legend(fontsize=8)
fig.suptitle("A VAE on polygon_blobs(8, 2, 0.2): a samplable latent space, at the price of "
             "bridges between the modes", fontsize=12)
fig.tight_layout()
save(fig, "vae", args)
