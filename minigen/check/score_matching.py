"""Check a student's closed-form score matching for exponential families (notes §3.3, Eq. 44-46).

    U_theta = theta . Phi, s_theta = -J(x)^T theta, J = grad_x Phi (K, d):
    E[ |s_theta|^2 / 2 + div s_theta ] = theta^T A theta / 2 - b^T theta,
    A = E[J J^T] (K, K), b = E[Laplacian Phi] (K,)  ->  theta = A^-1 b    (Hyvarinen 2007)
Oracles: for Phi = (x, x x^T) the answer is the Gaussian MLE, written from the sample mean and
the 1/n covariance (no linear system); for radial basis functions, the gradient of the implicit
objective at the student's theta, A theta - b, vanishes (A, b by this module's own features).
"""
import numpy as np

from minigen import backend
from minigen.check.exercise import Contract, Exercise, Measurement, Property

TOL = 1e-7
N_POINTS = 400


class _Features:
    """Plain NumPy features with their x-derivatives, handed to the student's function:
    __call__(x) -> (n, K), jacobian(x) -> (n, K, d), laplacian(x) -> (n, K)."""

    def __init__(self, kind, centers=None, width=1.0):
        self.kind, self.centers, self.width = kind, centers, width

    def _parts(self, x):
        x = backend.to_numpy(x)
        n, d = x.shape
        if self.kind == "linear":
            return x, np.broadcast_to(np.eye(d), (n, d, d)), np.zeros((n, d))
        if self.kind == "gaussian":
            pairs = [(i, j) for i in range(d) for j in range(i, d)]
            F = np.column_stack([x] + [x[:, i] * x[:, j] for i, j in pairs])
            J = np.zeros((n, len(F[0]), d))
            J[:, :d] = np.eye(d)
            for k, (i, j) in enumerate(pairs):
                J[:, d + k, i] += x[:, j]
                J[:, d + k, j] += x[:, i]
            L = np.zeros(F.shape)
            L[:, d:] = [2.0 if i == j else 0.0 for i, j in pairs]
            return F, J, L
        diff = x[:, None, :] - self.centers[None]
        sq = (diff ** 2).sum(-1)
        phi = np.exp(-sq / (2 * self.width ** 2))
        F = np.column_stack([phi, 0.5 * (x ** 2).sum(1)])
        J = np.concatenate([-phi[..., None] * diff / self.width ** 2, x[:, None]], axis=1)
        L = np.column_stack([phi * (sq / self.width ** 4 - d / self.width ** 2),
                             np.full(n, float(d))])
        return F, J, L

    def __call__(self, x):
        return backend.asarray(self._parts(x)[0])

    def jacobian(self, x):
        return backend.asarray(np.ascontiguousarray(self._parts(x)[1]))

    def laplacian(self, x):
        return backend.asarray(self._parts(x)[2])


def _data(ctx, stream, kind):
    g = np.random.default_rng(10_000 * ctx.seed + stream)
    if kind == "gaussian":
        return g.multivariate_normal([0.5, -1.0], [[1.0, 0.6], [0.6, 2.0]], N_POINTS)
    k = g.random(N_POINTS) < 0.7
    return np.where(k[:, None], [-1.0, 0.0], [1.2, 0.5]) + 0.5 * g.standard_normal((N_POINTS, 2))


def _solve(student, ctx, features, x, K):
    out = ctx.call(student, features, backend.asarray(x))
    return ctx.array(out, (K,), "theta")


def _mistakes(A, b):
    theta = np.linalg.solve(A, b)
    return {"Laplacian sign: solves A theta = -b (div s_theta = -theta . Laplacian Phi)": -theta,
            "the 1/2 of |s|^2 / 2 missing: theta = A^-1 b / 2": theta / 2,
            "A summed over the points, b averaged (or the reverse)": theta / N_POINTS}


def contract(student, ctx):
    """Phi(x) = x: A = I, b = 0, so theta = 0 (returns (K,), finite)."""
    x = _data(ctx, 0, "gaussian")
    out = _solve(student, ctx, _Features("linear"), x, 2)
    return Measurement(out, np.zeros(2), tol=TOL, labels=["theta_1", "theta_2"])


def gaussian_mle(student, ctx):
    """Phi = (x, x x^T): theta of the Gaussian of the sample mean and 1/n covariance."""
    x = _data(ctx, 1, "gaussian")
    f = _Features("gaussian")
    out = _solve(student, ctx, f, x, 5)
    m, P = x.mean(0), np.linalg.inv(np.cov(x.T, bias=True))
    expected = np.array([*(-(P @ m)), 0.5 * P[0, 0], P[0, 1], 0.5 * P[1, 1]])
    _, J, L = f._parts(x)
    mistakes = _mistakes(np.einsum("nkd,nld->kl", J, J) / len(x), L.mean(0))
    P1 = np.linalg.inv(np.cov(x.T))
    mistakes["the 1/(n - 1) covariance"] = np.array([*(-(P1 @ m)), 0.5 * P1[0, 0], P1[0, 1],
                                                      0.5 * P1[1, 1]])
    labels = ["theta for x_1", "theta for x_2", "theta for x_1^2", "theta for x_1 x_2",
              "theta for x_2^2"]
    return Measurement(out, expected, tol=TOL * np.abs(expected).max(), labels=labels,
                       mistakes=mistakes)


def stationary(student, ctx):
    """Radial basis functions: A theta - b = 0, the gradient of the implicit objective."""
    x = _data(ctx, 2, "mixture")
    g = np.meshgrid(np.linspace(-2, 2, 3), np.linspace(-1.5, 1.5, 3))
    f = _Features("rbf", np.column_stack([g[0].ravel(), g[1].ravel()]), 1.2)
    out = _solve(student, ctx, f, x, 10)
    _, J, L = f._parts(x)
    A, b = np.einsum("nkd,nld->kl", J, J) / len(x), L.mean(0)
    scale = np.abs(b).max()
    mistakes = {k: A @ v - b for k, v in _mistakes(A, b).items()}
    return Measurement(A @ out - b, np.zeros(10), tol=TOL * scale,
                       labels=[f"d J / d theta_{k + 1}" for k in range(10)], mistakes=mistakes)


CONTRACT = Contract(
    function="score_matching_exponential",
    params=("features", "data"),
    title="Exercise: score matching for an exponential family, notes §3.3 Eq. (46)",
    doc="""theta (K,) minimizing Hyvarinen's objective E[ |s_theta|^2 / 2 + div s_theta ] for
U_theta(x) = theta . Phi(x), s_theta = -grad_x U_theta (one linear system).

features: an object with features(x) -> (n, K), features.jacobian(x) -> (n, K, d) (grad_x Phi)
    and features.laplacian(x) -> (n, K) (the Laplacian of each feature).
data: (n, d) array of samples.
Returns theta: (K,).""")

HINT = ("notes §3.3 Eq. (46), integrated by parts: s_theta = -J^T theta, |s|^2 / 2 = theta^T "
        "J J^T theta / 2, div s = -theta . Laplacian Phi; solve E[J J^T] theta = E[Laplacian Phi]")
CHECKS = "minigen.energy.score_matching"
EXERCISES = [Exercise(
    name="score_matching_exponential", aliases=("score_matching", "hyvarinen"),
    contract=CONTRACT, vectorize_over="points", properties=[
        Property("contract", "returns theta (K,); with Phi(x) = x it returns 0", contract, HINT),
        Property("gaussian_mle", "with Phi = (x, x x^T) it returns the Gaussian MLE (the sample "
                 "mean and 1/n covariance)", gaussian_mle, HINT, ("contract",)),
        Property("stationary", "with radial basis features, the gradient A theta - b of the "
                 "implicit objective vanishes at theta", stationary, HINT, ("contract",)),
    ])]
