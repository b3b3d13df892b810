"""Denoising is the score: the optimal denoiser and a learned one (notes Th. 10, Eq. 141-146).

Noisy blobs y = x + sigma z, the Bayes-optimal denoiser E[x | y] = y + sigma^2 grad log p_sigma(y)
(Tweedie, Eq. 142; computed exactly for the mixture), and an MLP D_theta(y, sigma) trained on the
MSE of Eq. (141) over all noise levels. Right: the MSE as a function of sigma; the learned denoiser
sits on the Bayes bound (no estimator can go below it), far below doing nothing (MSE = d sigma^2).
"""
import numpy as np

from minigen import backend
from minigen.distributions import polygon_blobs
from minigen.diffusion.tweedie import train_denoiser
from minigen.plotting import demo_args, save, scatter_over_density

TARGET = polygon_blobs(8, 2.0, 0.2)
N_DATA, N_SHOW, N_TEST = 20_000, 1500, 50_000
SIGMA_SHOW = 0.5                       # noise level of the three scatter panels
SIGMAS = np.geomspace(0.02, 5.0, 15)   # noise levels of the MSE curve

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402

train_kw = {}
if args.quick:
    N_DATA, N_SHOW, N_TEST, SIGMAS = 2000, 300, 2000, SIGMAS[::3]
    train_kw = dict(n_steps=150, batch_size=128, hidden=(32, 32))
rng = backend.rng(args.seed)
denoiser = train_denoiser(TARGET.sample(N_DATA, rng), rng, **train_kw)

x = TARGET.sample(N_TEST, rng)
mse = {"Bayes E[x|y] (Eq. 142)": [], "learned D(y, σ)": [], "identity y": []}
for sigma in SIGMAS:
    y = x + float(sigma) * rng.standard_normal(x.shape)
    for name, xhat in zip(mse, (TARGET.posterior_mean(y, sigma), denoiser(y, sigma), y)):
        mse[name].append(float(np.mean(np.sum(backend.to_numpy(xhat - x) ** 2, axis=1))))
for sigma, bayes, learned in zip(SIGMAS, mse["Bayes E[x|y] (Eq. 142)"], mse["learned D(y, σ)"]):
    print(f"sigma {sigma:6.3f}: Bayes MSE {bayes:.5f}  learned {learned:.5f}  "
          f"ratio {learned / bayes:.3f}")

xs = x[:N_SHOW]
y = xs + SIGMA_SHOW * rng.standard_normal(xs.shape)
fig, axes = plt.subplots(1, 4, figsize=(17, 4.3))
panels = [(y, f"noisy y = x + σz, σ = {SIGMA_SHOW}", "0.4"),
          (TARGET.posterior_mean(y, SIGMA_SHOW), "optimal denoiser E[x | y] (Tweedie)", "C2"),
          (denoiser(y, SIGMA_SHOW), "learned denoiser D_θ(y, σ)", "C1")]
for ax, (pts, title, c) in zip(axes, panels):
    err = float(np.mean(np.sum(backend.to_numpy(pts - xs) ** 2, axis=1)))
    scatter_over_density(ax, pts, TARGET.log_prob, title=f"{title}\nMSE {err:.3f}", color=c, s=4,
                         alpha=0.6)
ax = axes[3]
for (name, vals), style in zip(mse.items(), ("k-", "C1o", "--")):
    ax.loglog(SIGMAS, vals, style, label=name, ms=4)
ratio = np.array(mse["learned D(y, σ)"]) / np.array(mse["Bayes E[x|y] (Eq. 142)"])
ax.set_xlabel("noise σ")
ax.set_ylabel("MSE  E|x̂ - x|²")
ax.set_title(f"denoising MSE (Eq. 141); learned / Bayes ≤ {ratio.max():.3f}", fontsize=10)
ax.legend(fontsize=8)
ax.grid(True, which="both", alpha=0.3)
fig.tight_layout()
save(fig, "tweedie_denoising", args)
