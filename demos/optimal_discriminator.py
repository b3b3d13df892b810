"""Lemma 1 and Theorem 1 in 1D: the trained discriminator is p_data / (p_data + p_G), and V is a JS.

Notes §3.4: with G fixed, D*(x) = p_data(x) / (p_data(x) + p_G(x)) (Lemma 1, Eq. (48)); at D*,
V(D*, G) = 2 JS(p_data || p_G) - log 4 (Eq. (53)), minimal, -log 4, iff p_G = p_data (Theorem 1,
Eq. (54)). Left: a discriminator trained on samples (G fixed) against the formula. Right: the
value with D* (quadrature) as p_G = N(mu, 1) slides across p_data = N(0, 1), and the value reached
by discriminators trained on samples (dots), which can only be below it.
"""
import math

import numpy as np

from minigen import backend
from minigen.gans.gan import fit_discriminator, optimal_discriminator, value_function
from minigen.plotting import demo_args, save

MU_G, S_G = 1.5, 0.8      # the fixed generator's law N(MU_G, S_G^2); data N(0, 1)
N = 20_000                # samples of each law the discriminator sees
N_STEPS = 600             # discriminator training steps (Adam, lr 1e-2, one hidden layer of 32)
MUS = [-2.0, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0]

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402


def normal_pdf(x, mu, s):
    return np.exp(-0.5 * ((x - mu) / s) ** 2) / (s * math.sqrt(2 * math.pi))


def value_quadrature(mu):
    """V(D*, G) of Eq. (51) on a fine grid for p_data = N(0, 1), p_G = N(mu, 1)."""
    t = np.linspace(-12, 12, 20001)
    p, q = normal_pdf(t, 0, 1), normal_pdf(t, mu, 1)
    d = backend.to_numpy(optimal_discriminator(backend.asarray(p), backend.asarray(q)))
    log_d, log_1md = np.log(np.clip(d, 1e-300, 1)), np.log(np.clip(1 - d, 1e-300, 1))
    return np.trapezoid(p * log_d + q * log_1md, t)


rng = backend.rng(args.seed)
n, steps = (2000, 60) if args.quick else (N, N_STEPS)
x_data, x_g = rng.standard_normal((n, 1)), MU_G + S_G * rng.standard_normal((n, 1))
D = fit_discriminator(x_data, x_g, rng, n_steps=steps, hidden=(32,), lr=1e-2)
grid = np.linspace(-3.5, 4.5, 400)
p, q = normal_pdf(grid, 0, 1), normal_pdf(grid, MU_G, S_G)
d_star = p / (p + q)
d_hat = backend.to_numpy(D(backend.asarray(grid[:, None])))
inside = (grid > -1.5) & (grid < 3.0)
err = np.max(np.abs(d_hat - d_star)[inside])

fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
ax = axes[0]
ax.plot(grid, p, color="C0", lw=1, label="p_data = N(0, 1)")
ax.plot(grid, q, color="C1", lw=1, label=f"p_G = N({MU_G}, {S_G}^2)")
ax.plot(grid, d_star, "k--", lw=1.5, label="D* = p_data / (p_data + p_G)  (Eq. 48)")
ax.plot(grid, d_hat, color="C3", lw=1.5, label=f"trained D ({steps} Adam steps)")
ax.set_xlabel("x")
ax.set_title(f"Lemma 1: max |D - D*| on [-1.5, 3] = {err:.3f}", fontsize=10)
ax.legend(fontsize=8)

ax = axes[1]
mus = np.linspace(-3, 3, 121)
ax.plot(mus, [value_quadrature(m) for m in mus], "k-", lw=1.5,
        label="V(D*, G) = 2 JS - log 4 (quadrature)")
ax.axhline(-math.log(4), color="C2", ls="--", lw=1, label="-log 4 (Theorem 1)")
v_trained = []
for m in (MUS[2:4] if args.quick else MUS):
    xg = m + rng.standard_normal((n, 1))
    Dm = fit_discriminator(x_data, xg, rng, n_steps=max(30, steps // 2), hidden=(32,), lr=1e-2)
    # held-out samples
    fresh_data, fresh_g = rng.standard_normal((n, 1)), m + rng.standard_normal((n, 1))
    v_trained.append((m, value_function(Dm(fresh_data), Dm(fresh_g))))
ax.plot(*zip(*v_trained), "o", color="C3",
        label="V(D, G), D trained on samples (held-out estimate)")
ax.set_xlabel("mu, with p_G = N(mu, 1) and p_data = N(0, 1)")
ax.set_title("Theorem 1: V(D*, G) is minimal, -log 4 = -1.386, iff p_G = p_data", fontsize=10)
ax.legend(fontsize=8)
save(fig, "optimal_discriminator", args)
print(f"Lemma 1: max |D - D*| on [-1.5, 3] = {err:.4f}")
for m, v in v_trained:
    print(f"mu = {m:+.1f}: V(trained D) = {v:.4f}, V(D*) = {value_quadrature(m):.4f}")
