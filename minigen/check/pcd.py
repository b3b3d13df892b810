"""Check a student's maximum-likelihood gradient for a Gibbs energy (notes §3.1, Eq. (32), (35)).

    grad_theta l ~ (1/n) sum_i grad_theta U(x_i) - (1/N) sum_j grad_theta U(y_j),  y_j ~ p_theta
Oracle: an exponential family U = theta . Phi in 2D (grad_theta U = Phi, Eq. 33) whose model
moments E_theta Phi are known by quadrature on a fine grid, with chains drawn exactly from the
same grid (a cell by its weight, then uniform inside it); SEs from Cov_theta Phi / N. At the
maximum-likelihood theta* of a Gaussian family the gradient must vanish. Tieleman 2008.
"""
import numpy as np

from minigen import backend
from minigen.check.exercise import Contract, Exercise, Measurement, Property

N_DATA, N_CHAINS, GRID, BOX = 4000, 40_000, 400, 6.0
THETA = np.array([0.3, -0.2, 0.6, 0.4, 0.25, 0.05])        # Phi = (x, y, x^2, y^2, x y, x^4 + y^4)


def features(x):
    """Phi(x) (n, 6) on host arrays: the Gaussian statistics and a quartic (Eq. 25, 33)."""
    x = np.asarray(backend.to_numpy(x), dtype=float)
    a, b = x[:, 0], x[:, 1]
    return np.stack([a, b, a * a, b * b, a * b, a ** 4 + b ** 4], axis=1)


def grid_law(theta):
    """The grid's cells (m, 2), their probabilities (m,) and width, for p ∝ exp(-theta . Phi)."""
    h = 2 * BOX / GRID
    g = -BOX + h * (np.arange(GRID) + 0.5)
    cells = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 2)
    a = -features(cells) @ theta
    w = np.exp(a - a.max())
    return cells, w / w.sum(), h


def model_moments(theta):
    """E_theta Phi (K,) and Cov_theta Phi (K, K) by quadrature (midpoint rule, Eq. 34)."""
    cells, w, _ = grid_law(theta)
    F = features(cells)
    mean = w @ F
    return mean, ((F - mean) * w[:, None]).T @ (F - mean)


def exact_chains(theta, rng, n):
    """n independent draws of p_theta: a grid cell by its weight, then uniform inside it."""
    cells, w, h = grid_law(theta)
    k = rng.choice(len(w), size=n, p=w)
    return cells[k] + h * (rng.random((n, 2)) - 0.5)


def _call(student, ctx, theta, data, chains):
    def grad_energy(t, x):
        return backend.asarray(features(x))                           # Eq. (33): Phi
    out = ctx.call(student, grad_energy, backend.asarray(theta), backend.asarray(data),
                   backend.asarray(chains))
    return ctx.array(out, (len(theta),), "pcd_gradient(...)")


def _blobs(ctx):
    g = np.random.default_rng([ctx.seed, 3])
    angles = 2 * np.pi * g.integers(0, 4, N_DATA) / 4
    return 1.2 * np.stack([np.cos(angles), np.sin(angles)], 1) + 0.3 * g.standard_normal(
        (N_DATA, 2))


def _measure(student, ctx, theta, data):
    chains = exact_chains(theta, np.random.default_rng([ctx.seed, 7]), N_CHAINS)
    est = _call(student, ctx, theta, data, chains)
    mean, cov = model_moments(theta)
    e_data = features(data).mean(0)
    expected = e_data - mean                                           # Eq. (32)
    se = np.sqrt(np.diag(cov) / N_CHAINS)                              # the data term is exact
    labels = [f"dl/dtheta_{k} ({name})" for k, name in
              enumerate(("x", "y", "x^2", "y^2", "x y", "x^4 + y^4"))]
    mistakes = {"sign: E_model Phi - E_data Phi (the ascent direction)": -expected,
                "the model term dropped: E_data Phi alone (log Z_theta forgotten, Eq. 29)": e_data,
                # exact for these chains: their own sum, not N E_theta Phi (N SE away from it)
                "sums instead of means over the points": features(data).sum(0)
                - features(chains).sum(0)}
    return Measurement(est, expected, se, labels=labels, mistakes=mistakes)


def pcd_contract(student, ctx):
    theta, data, chains = THETA, _blobs(ctx)[:50], exact_chains(THETA, np.random.default_rng(1),
                                                                 70)
    _call(student, ctx, theta, data, chains)               # shape and finiteness, or an error
    return Measurement(np.zeros(1), np.zeros(1), tol=1.0)


def pcd_gradient_value(student, ctx):
    return _measure(student, ctx, THETA, _blobs(ctx))


def pcd_vanishes_at_mle(student, ctx):
    """Gaussian data; theta* of the family (x, y, x^2, y^2, x y, quartic) restricted to
    the quartic weight 0 is the Gaussian fitted by moments: E_data Phi_k = E_theta* Phi_k, k < 5."""
    g = np.random.default_rng([ctx.seed, 5])
    cov = np.array([[1.0, 0.4], [0.4, 0.6]])
    data = g.multivariate_normal([0.5, -0.3], cov, size=N_DATA)
    m, c = data.mean(0), np.cov(data.T, bias=True)
    P = np.linalg.inv(c)                                              # U = (x-m)^T P (x-m) / 2
    lin = -P @ m
    theta = np.array([lin[0], lin[1], P[0, 0] / 2, P[1, 1] / 2, P[0, 1], 0.0])
    m_ = _measure(student, ctx, theta, data)
    keep = slice(0, 5)
    return Measurement(m_.estimate[keep], np.zeros(5), np.asarray(m_.se)[keep],
                       labels=list(m_.labels)[:5],
                       mistakes={k: np.asarray(v)[keep] for k, v in m_.mistakes.items()
                                 if not k.startswith("sign")})     # -0 = 0: no sign there


def pcd_pilot(student, ctx):
    theta, data, chains = THETA, _blobs(ctx), exact_chains(THETA, np.random.default_rng(2),
                                                           N_CHAINS)
    return ctx.timed(lambda: _call(student, ctx, theta, data, chains)), 2.0


CONTRACT = Contract(
    function="pcd_gradient", params=("grad_energy", "theta", "data", "chains"),
    title="Exercise: the maximum-likelihood gradient of a Gibbs energy, notes §3.1 Eq. (32)",
    doc="""The Monte-Carlo estimate (Eq. 35) of grad_theta l(theta) (Eq. 32) for p_theta ∝
exp(-U_theta): the mean of grad_theta U over the data minus its mean over model samples.

grad_energy: function (theta, x (n, d)) -> (n, K), grad_theta U_theta(x) at each point.
theta: (K,) array.   data: (n, d) training points.   chains: (N, d) samples of p_theta.
Returns (K,): the gradient that gradient descent (Eq. 31) subtracts.""")

HINT = ("notes Eq. (32): grad l = E_data grad_theta U - E_{p_theta} grad_theta U, the second "
        "term a mean over chains y_j ~ p_theta (Eq. 35)")
CHECKS = "minigen.energy.pcd"
EXERCISES = [
    Exercise(name="pcd_gradient", aliases=("ml_gradient",), contract=CONTRACT, pilot=pcd_pilot,
             vectorize_over="points (one array operation over all rows, no Python loop)",
             properties=[
                 Property("contract", "returns a finite (K,) array", pcd_contract, HINT),
                 Property("gradient", "equals E_data Phi - E_theta Phi (quadrature) within "
                          "5 SE of the chains' Monte-Carlo error", pcd_gradient_value, HINT,
                          ("contract",)),
                 Property("vanishes_at_mle", "is zero within 5 SE at the Gaussian MLE "
                          "(moments matched, Eq. 32 = 0)", pcd_vanishes_at_mle, HINT,
                          ("contract",))]),
]
