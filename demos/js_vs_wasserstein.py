"""Footnote 48: Jensen-Shannon is flat at log 2 for disjoint supports, W1 = |theta| is not.

Notes §4.1 footnote 48 (Arjovsky et al. 2017, arXiv:1701.07875, Example 1): p_0 is the law of
(0, Z), p_theta the law of (theta, Z), Z ~ U[0, 1]. For theta != 0 the supports are disjoint:
JS(p_0 || p_theta) = log 2 whatever theta, so it gives no gradient towards theta = 0, while
W1(p_0, p_theta) = |theta| (footnote 53) does. We estimate both from samples: JS from a trained
discriminator, (V(D, G) + log 4) / 2 (Eq. (53)), and W1 from a trained critic, E f - E f (Eq. (62)).
"""
import math

import numpy as np

from minigen import backend
from minigen.backend import xp
from minigen.gans.gan import fit_discriminator, value_function
from minigen.gans.wgan import fit_critic
from minigen.plotting import demo_args, save

THETAS = [-2.0, -1.5, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 1.5, 2.0]
N = 1000                  # samples of each law
N_STEPS = 300             # training steps of each discriminator / critic

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402

rng = backend.rng(args.seed)
# --quick: 600 points, more than the batch of 512 that fit_discriminator and fit_critic draw
thetas, n, steps = ([-1.0, 0.0, 1.0], 600, 30) if args.quick else (THETAS, N, N_STEPS)


def segment(theta):
    """n points of (theta, Z), Z ~ U[0, 1]: (n, 2)."""
    return xp.concatenate([theta + xp.zeros((n, 1)), rng.random((n, 1))], axis=1)


js_hat, w1_hat = [], []
for theta in thetas:
    p0, pt = segment(0.0), segment(theta)
    D = fit_discriminator(p0, pt, rng, n_steps=steps, hidden=(16,), lr=3e-2)
    js_hat.append(0.5 * (value_function(D(p0), D(pt)) + math.log(4)))     # Eq. (53) for JS
    w1_hat.append(fit_critic(p0, pt, rng, n_steps=steps, hidden=(32,), lr=5e-3)[1])  # Eq. (62)
    js = 0 if theta == 0 else math.log(2)
    print(f"theta = {theta:+.2f}: JS estimate {js_hat[-1]:.3f} (exact {js:.3f}), "
          f"W1 estimate {w1_hat[-1]:.3f} (exact {abs(theta):.3f})")

fine = np.linspace(min(thetas), max(thetas), 401)
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
ax = axes[0]
ax.plot(fine, np.where(fine == 0, 0.0, math.log(2)), "k-", lw=1.2,
        label="exact JS: log 2 for theta != 0")
ax.plot([0], [0], "ko", ms=4)
ax.plot(thetas, js_hat, "o", color="C3", label="(V(D, G) + log 4) / 2, D trained")
ax.set_xlabel("theta")
ax.set_ylim(-0.05, 0.85)
ax.set_title("Jensen-Shannon: flat, no gradient towards theta = 0", fontsize=10)
ax.legend(fontsize=8, loc="lower right")
ax = axes[1]
ax.plot(fine, np.abs(fine), "k-", lw=1.2, label="exact W1 = |theta|")
ax.plot(thetas, w1_hat, "o", color="C2", label="E f(p_0) - E f(p_theta), critic trained (GP)")
ax.set_xlabel("theta")
ax.set_title("Wasserstein-1: continuous, slope +-1 everywhere\n(soft penalty lets f's slope "
             "reach ~1 + W1 / (2 lambda): slight overshoot)", fontsize=9)
ax.legend(fontsize=8, loc="upper center")
fig.suptitle("p_0 = law of (0, Z), p_theta = law of (theta, Z), Z ~ U[0, 1]  (footnote 48)",
             fontsize=11, y=1.06)
save(fig, "js_vs_wasserstein", args)
