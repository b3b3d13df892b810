"""Maximum likelihood of an exponential family with the MCMC gradient (notes §3.1, Eq. 25-35).

U_theta = theta . Phi with Phi = 16 radial basis functions on a grid + |x|^2 / 2 (Eq. 25). The
gradient E_data Phi - E_theta Phi (Eq. 32) needs samples of p_theta at each step (Eq. 35):
persistent MALA chains (PCD, Tieleman 2008). Left: data and the fitted density. Middle: theta_t
reaches theta*, the exact MLE (Newton on a quadrature: the loss is convex, Eq. 34), to within its
Monte-Carlo noise. Right: the two terms of Eq. (32), data term and chains' term, meet.
"""
import numpy as np

from minigen import backend
from minigen.distributions import GaussianMixture
from minigen.energy.exponential_family import ExponentialFamily, fit_max_likelihood
from minigen.energy.features import RadialBasis
from minigen.energy.quadrature import grid_moments
from minigen.plotting import demo_args, save, scatter_over_density

TARGET = GaussianMixture([[-1.2, -0.6], [1.2, -0.6], [0.0, 1.2]], [0.45, 0.45, 0.45],
                         [0.5, 0.3, 0.2])
N_DATA, GRID_M, WIDTH = 3000, 4, 0.7          # data, RBF grid m x m, RBF width
BOX = ((-4.0, 4.0), (-4.0, 4.0))             # quadrature box for the exact MLE
N_STEPS, N_CHAINS, LR = 600, 400, 0.1        # PCD: steps, persistent chains, Newton-like lr

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402

if args.quick:
    N_DATA, N_STEPS, N_CHAINS = 300, 30, 50
quad_n, kl_n = (40, 30) if args.quick else (120, 80)
rng = backend.rng(args.seed)
data = TARGET.sample(N_DATA, rng)
features = RadialBasis.grid(((-2.2, 2.2), (-2.2, 2.2)), GRID_M, WIDTH)
family = ExponentialFamily(features)
data_term = np.asarray(backend.to_numpy(family.grad_theta(data))).mean(0)


def quad(theta, n=None):
    n = quad_n if n is None else n
    log_Z, mean, cov = grid_moments(lambda x: family.energy(theta, x), features, BOX, n)
    return log_Z, backend.to_numpy(mean), backend.to_numpy(cov)


# the exact MLE theta*: damped Newton on the convex loss l = E_data U + log Z (Eq. 29, 34)
theta_star = backend.to_numpy(features.initial_theta(data))
for _ in range(3 if args.quick else 40):
    log_Z, mean, cov = quad(theta_star)
    g = data_term - mean
    step, a = np.linalg.solve(cov, g), 1.0
    while (data_term @ (theta_star - a * step) + quad(theta_star - a * step)[0]
           > data_term @ theta_star + log_Z - 0.25 * a * g @ step and a > 1e-4):
        a /= 2
    theta_star = theta_star - a * step
    if np.abs(g).max() < 1e-9:
        break
print(f"exact MLE by quadrature: |E_data Phi - E_theta* Phi|_max = {np.abs(g).max():.1e}")

theta, hist = fit_max_likelihood(family, data, rng, n_steps=N_STEPS, n_chains=N_CHAINS, lr=LR)
T = backend.to_numpy(hist["theta"])
model_term = backend.to_numpy(hist["model_term"])
log_Z_star, mean_star, _ = quad(theta_star)


def kl_from_star(t):
    """KL(p_theta* || p_t) = E_theta* [U_t - U_theta*] + log Z_t - log Z_theta* (quadrature)."""
    return (t - theta_star) @ mean_star + quad(t, kl_n)[0] - log_Z_star


every = max(1, N_STEPS // (10 if args.quick else 40))
kl = [kl_from_star(t) for t in T[::every]]
grad_exact = [np.linalg.norm(data_term - quad(t, kl_n)[1]) for t in T[::every]]
theta = backend.to_numpy(theta)
print(f"PCD ({N_STEPS} steps, {N_CHAINS} chains): KL(p_theta* || p_theta) = "
      f"{kl_from_star(theta):.2e} nats (start {kl[0]:.2f}); "
      f"exact |grad l(theta)| = {np.linalg.norm(data_term - quad(theta)[1]):.4f}")
print(f"MALA acceptance over the last steps: {backend.to_numpy(hist['accept'])[-50:].mean():.2f}")

fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
ext = (-3.2, 3.2, -3.2, 3.2)
log_Z = quad(theta)[0]
scatter_over_density(axes[0], data[:1500], lambda x: -family.energy(theta, x) - log_Z, ext,
                     title="data (dots) and the PCD fit p_θ (contours)", s=3)
ax = axes[1]
steps = np.arange(len(T))[::every]
ax.semilogy(steps, kl, "C0o-", ms=3, label="KL(p_θ* ‖ p_θt), θ* the exact MLE")
ax.semilogy(steps, grad_exact, "C3s", ms=3,
            label="|∇ℓ(θ_t)| = |E_data Φ − E_θt Φ| (quadrature)")
ax.axvspan(len(T) // 2, len(T), color="0.9", label="averaged iterates → θ")
ax.set_xlabel("PCD step t (Eq. 31)")
ax.axhline(kl_from_star(theta), color="C0", ls=":", lw=1, label="KL of the averaged θ")
ax.set_title("p_θt → p_θ* up to Monte-Carlo noise (quadrature)", fontsize=10)
ax.legend(fontsize=8)
ax = axes[2]
for k, c in zip([5, 6, 9, len(theta) - 1], ["C0", "C1", "C2", "C4"]):
    ax.plot(model_term[:, k], c, lw=0.8, label=f"E_θt φ_{k} (chains, Eq. 35)")
    ax.axhline(data_term[k], color=c, ls="--", lw=1.5)
ax.set_xlabel("PCD step t")
ax.set_title("the two terms of Eq. (32): chains' E_θt Φ (lines) meet E_data Φ (dashed)",
             fontsize=10)
ax.legend(fontsize=8)
fig.tight_layout()
save(fig, "energy_max_likelihood", args)
