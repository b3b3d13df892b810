"""An ODE transports a density: N(0, I) pushed onto the course's blobs, and log p by Liouville.

Notes §5.2-5.3, Eq. (87)-(88) and (96)-(97): particles follow dx/dt = V_t(x); their density obeys
d log p_t(x_t)/dt = -div V_t(x_t), so log p_1(x) = log p_0(x_0) - int_0^1 div V_t(x_t) dt, computed
backwards from x by minigen.ode.log_prob_ode. The field is the exact marginal velocity of the path
x_t = t x_1 + (1 - t) x_0 (x_0 ~ N(0, I), x_1 ~ the blobs), the one conditional flow matching learns
(Lipman et al. 2023, arXiv:2210.02747): p_t is a mixture of N(t mu_k, ((1-t)^2 + t^2 s^2) I), so
every log-density is known in closed form. Bottom right: Euler, Heun and RK4 reach orders 1, 2, 4.
"""
import math

import numpy as np

from minigen import backend, distributions, ode
from minigen.plotting import demo_args, save, scatter_over_density

N_MODES, RADIUS, STD = 8, 2.0, 0.2
N_PARTICLES = 3000
N_STEPS = 300                       # RK4 steps on [0, 1] for the particles and for log p
SNAPSHOTS = (0.0, 0.3, 0.6, 0.8, 1.0)
N_EVAL = 300                        # points (half data, half uniform) for log p_1
N_CURVES = 5                        # trajectories whose log p_t(x_t) is followed
ORDER_STEPS = (16, 32, 64, 128, 256)

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402

target = distributions.polygon_blobs(N_MODES, RADIUS, STD)
means, s2 = target.means, target.stds ** 2                          # (K, d), (K,)
quick = args.quick
n_particles, n_steps, n_eval = (300, 20, 20) if quick else (N_PARTICLES, N_STEPS, N_EVAL)
order_steps = (4, 8, 16) if quick else ORDER_STEPS


def p_t(t):
    """The law of x_t = t x_1 + (1 - t) x_0: the mixture of N(t mu_k, ((1-t)^2 + t^2 s_k^2) I)."""
    return distributions.GaussianMixture(t * means, backend.xp.sqrt((1 - t) ** 2 + t ** 2 * s2),
                                         target.weights)


def velocity(x, t):
    """V_t(x) = E[x_1 - x_0 | x_t = x] = sum_k r_k(x) [mu_k + g_k (x - t mu_k)],
    g_k = (t s_k^2 - (1 - t)) / ((1 - t)^2 + t^2 s_k^2), r_k the posterior of component k."""
    r = p_t(t).responsibilities(x)                                    # (n, K)
    g = (t * s2 - (1 - t)) / ((1 - t) ** 2 + t ** 2 * s2)            # (K,)
    rg = r * g
    return r @ means + backend.xp.sum(rg, axis=1, keepdims=True) * x - t * (rg @ means)


def log_base(x):
    return -0.5 * backend.xp.sum(x ** 2, axis=1) - math.log(2 * math.pi)


rng = backend.rng(args.seed)
times = np.linspace(0.0, 1.0, n_steps + 1)
path = backend.to_numpy(ode.integrate(velocity, rng.standard_normal((n_particles, 2)), times))

# log p_1 at data points and off the blobs: Liouville (exact divergence; Hutchinson, 1 probe)
x_eval = np.concatenate([backend.to_numpy(target.sample(n_eval // 2, rng)),
                         np.random.default_rng(args.seed).uniform(-3.5, 3.5, (n_eval // 2, 2))])
exact = backend.to_numpy(target.log_prob(backend.asarray(x_eval)))
liouville = backend.to_numpy(ode.log_prob_ode(velocity, x_eval, times, log_base))
hutch = backend.to_numpy(ode.log_prob_ode(velocity, x_eval, times, log_base,
                                          rng=backend.rng(args.seed + 1), n_probes=1))
abs_err = np.abs(liouville - exact)
err, err_data = abs_err.max(), abs_err[:n_eval // 2].max()
h_err = hutch - exact
print(f"log p_1 by Liouville (RK4, {n_steps} steps, exact divergence): max |error| = "
      f"{err_data:.1e} at {n_eval // 2} data points, {err:.1e} with as many uniform in the square")
print(f"with Hutchinson's divergence (1 Rademacher probe): mean error {h_err.mean():+.3f} "
      f"+- {h_err.std() / np.sqrt(n_eval):.3f} (unbiased), spread {h_err.std():.3f} nats")

# log p_t(x_t) along a few trajectories: the state (x_t, log p_0(x_0) - int_0^t div V) forward
x0 = rng.standard_normal((N_CURVES, 2))


def augmented(z, t):                                                  # Eq. (96)-(97)
    div = ode.divergence(velocity, z[:, :2], t)
    return backend.xp.concatenate([velocity(z[:, :2], t), -div[:, None]], axis=1)


z0 = backend.xp.concatenate([x0, log_base(x0)[:, None]], axis=1)
aug = backend.to_numpy(ode.integrate(augmented, z0, times))          # (m, N_CURVES, 3)
every = max(1, n_steps // 20)
exact_curves = np.array([backend.to_numpy(p_t(t).log_prob(backend.asarray(aug[j, :, :2])))
                         for j, t in enumerate(times)][::every])

# convergence orders: the error of log p_1 at 50 points against the number of steps
thin = max(1, n_eval // 50)
x_ord, exact_ord = x_eval[::thin], exact[::thin]
orders = {}
for method in ("euler", "heun", "rk4"):
    errs = [np.abs(backend.to_numpy(ode.log_prob_ode(velocity, x_ord, np.linspace(0, 1, m + 1),
                                                     log_base, method=method)) - exact_ord).max()
            for m in order_steps]
    slope = -np.polyfit(np.log(order_steps[-3:]), np.log(errs[-3:]), 1)[0]
    orders[method] = (errs, slope)
print("orders (slope of log error vs log h, last three grids): " +
      ", ".join(f"{m} {o[1]:.2f}" for m, o in orders.items()))

fig = plt.figure(figsize=(17, 7.6))
grid = fig.add_gridspec(2, 15)
ext = (-3.5, 3.5, -3.5, 3.5)
for i, t in enumerate(SNAPSHOTS):
    ax = fig.add_subplot(grid[0, 3 * i:3 * i + 3])
    j = int(round(t * n_steps))
    scatter_over_density(ax, path[j], p_t(t).log_prob, ext, s=2, alpha=0.5,
                         title=f"t = {t}" + (": particles x_t, exact p_t" if i == 0 else ""))
    if i == len(SNAPSHOTS) - 1:
        for k in range(16):
            ax.plot(path[:, k, 0], path[:, k, 1], lw=1.0, color=f"C{k % 10}")
            ax.plot(path[0, k, 0], path[0, k, 1], "o", ms=3, color=f"C{k % 10}")
        ax.set_title("t = 1, with 16 paths from their start (o)", fontsize=10)
ax = fig.add_subplot(grid[1, 0:5])
ax.semilogy(exact, np.abs(h_err), ".", ms=4, color="C1", alpha=0.6,
            label=f"Hutchinson, 1 probe: spread {h_err.std():.2f} nats, mean {h_err.mean():+.2f}")
ax.semilogy(exact, abs_err, ".", ms=4, color="C0",
            label=f"exact divergence: max {err_data:.0e} on data, {err:.0e} anywhere")
ax.set(xlabel="exact log p_1(x) (the blobs; right: data points, left: uniform in the square)",
       ylabel="|log p_0(x_0) - int div V dt - log p_1(x)|",
       title=f"error of log p by Liouville, integrated back from x (RK4, {n_steps} steps)")
ax.legend(fontsize=8, loc="lower left")
ax = fig.add_subplot(grid[1, 5:10])
for k in range(N_CURVES):
    ax.plot(times, aug[:, k, 2], color=f"C{k}", lw=1.2)
    ax.plot(times[::every], exact_curves[:, k], "o", color=f"C{k}", ms=3, mfc="none")
ax.set(xlabel="t", ylabel="log p_t(x_t)",
       title="along 5 trajectories: d log p_t / dt = -div V (line)\nvs the exact mixture p_t "
             "(circles): density rises as particles converge")
ax = fig.add_subplot(grid[1, 10:15])
for m, (errs, slope) in orders.items():
    ax.loglog(order_steps, errs, "o-", label=f"{m}: error ~ h^{slope:.2f}")
ax.set_xticks(order_steps, [str(m) for m in order_steps])
ax.minorticks_off()
ax.set(xlabel="number of steps on [0, 1] (h = 1 / steps)", ylabel="max |error of log p_1|",
       title="convergence: Euler (Eq. 88) order 1, Heun 2, RK4 4")
ax.legend(fontsize=8)
fig.suptitle("An ODE dx/dt = V_t(x) carries N(0, I) to the blobs; Liouville's equation carries "
             "log p along", fontsize=13)
fig.tight_layout()
save(fig, "ode_transport", args)
