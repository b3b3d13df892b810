"""Score matching: fit the score s_theta = -grad_x U_theta to data without Z_theta.

Fisher divergence (Eq. 46)  E_p ||s_theta - grad log p||^2 / 2
  = E_p [ ||s_theta||^2 / 2 + div s_theta ] + E_p ||grad log p||^2 / 2   (by parts, Hyvarinen)
sliced: div s ~ v^T (grad_x s) v, v ~ N(0, I); denoising: s(x + sigma z) regressed on -z / sigma,
whose minimizer is the score of p * N(0, sigma^2 I), i.e. Tweedie's (D(y) - y) / sigma^2.
Notes §3.3, Eq. (44)-(46); §6.2.3 Eq. (142). Hyvarinen 2005 (JMLR), 2007 (exponential families);
Vincent 2011 (denoising); Song, Garg, Shi & Ermon 2019 arXiv:1905.07088 (sliced).
"""
import autograd

from minigen import backend
from minigen.backend import check_callable, check_int, check_positive, check_rng, xp

SCORE_FN = "(x (n, d)) -> (n, d)"


def _score(score_fn, x):
    """score_fn(x) with its shape checked: (n, d)."""
    s = score_fn(x)
    if tuple(getattr(s, "shape", ())) != tuple(x.shape):
        raise ValueError(f"score_fn(x) must return shape {tuple(x.shape)} like x; "
                         f"got {getattr(s, 'shape', None)}")
    return s


def _inputs(score_fn, x):
    score_fn = check_callable(score_fn, "score_fn", SCORE_FN)
    return score_fn, backend.as_points(x, "x")


def score_and_divergence(score_fn, x):
    """s(x) (n, d) and its exact divergence sum_i ds_i / dx_i (n,), by d reverse passes.

    score_fn must act row by row (s(x)_k depends on x_k only), as every pointwise score does.
    Differentiable by autograd in whatever score_fn closes over (the parameters).
    """
    score_fn, x = _inputs(score_fn, x)
    vjp, s = autograd.make_vjp(lambda y: _score(score_fn, y))(x)
    n, d = x.shape
    div = 0.0
    for i in range(d):
        e_i = xp.zeros((n, d)) + (xp.arange(d) == i)                     # (n, d), column i ones
        div = div + vjp(e_i)[:, i]                                        # d s_i / d x_i
    return s, div


def implicit_score_matching_loss(score_fn, x):
    """Hyvarinen's objective E[ ||s(x)||^2 / 2 + div s(x) ] with the exact divergence: a scalar.

    x: (n, d) data; score_fn: x (n, d) -> (n, d), row-wise, differentiable by autograd.
    Equals fisher_divergence(score_fn, true_score, x) - E ||grad log p||^2 / 2 in expectation
    (Eq. 46 integrated by parts). Cost: d backward passes; meant for low dimension.
    """
    s, div = score_and_divergence(score_fn, x)
    return xp.mean(0.5 * xp.sum(s * s, axis=1) + div)


def sliced_score_matching_loss(score_fn, x, rng, n_projections=1, *, variance_reduced=False):
    """Sliced score matching: E_x E_v [ v^T grad_x(v^T s(x)) + (v^T s(x))^2 / 2 ], a scalar.

    v ~ N(0, I_d), n_projections per point; one backward pass per projection, any dimension.
    variance_reduced=True uses E_v (v^T s)^2 = ||s||^2 (SSM-VR of Song et al. 2019).
    Its expectation over v is the implicit objective. Random numbers:
    rng.standard_normal((n_projections, n, d)).
    """
    score_fn, x = _inputs(score_fn, x)
    rng = check_rng(rng)
    n_projections = check_int(n_projections, "n_projections")
    vjp, s = autograd.make_vjp(lambda y: _score(score_fn, y))(x)
    v = rng.standard_normal((n_projections,) + tuple(x.shape))           # (P, n, d)
    total = 0.0
    for p in range(n_projections):
        vs = xp.sum(v[p] * s, axis=1)                                     # (n,) v^T s
        jv = xp.sum(vjp(v[p]) * v[p], axis=1)                             # (n,) v^T J v
        square = xp.sum(s * s, axis=1) if variance_reduced else vs * vs
        total = total + xp.mean(jv + 0.5 * square)
    return total / n_projections


def denoising_score_matching_loss(score_fn, x, rng, sigma):
    """Vincent's objective E_{x, z} || s(x + sigma z) + z / sigma ||^2 / 2, a scalar.

    The regression target -z / sigma = (x - y) / sigma^2 is grad_y log N(y; x, sigma^2 I), and
    the minimizer is s*(y) = grad log p_sigma(y), p_sigma = p * N(0, sigma^2 I); by Tweedie
    (diffusion/tweedie.py, Eq. 142) s*(y) = (E[x | y] - y) / sigma^2. sigma > 0 a float.
    Random numbers: rng.standard_normal((n, d)).
    """
    score_fn, x = _inputs(score_fn, x)
    rng = check_rng(rng)
    sigma = check_positive(sigma, "sigma")
    z = rng.standard_normal(tuple(x.shape))                               # (n, d)
    s = _score(score_fn, x + sigma * z)
    return 0.5 * xp.mean(xp.sum((s + z / sigma) ** 2, axis=1))


def fisher_divergence(score_fn, true_score, x):
    """The explicit objective Eq. (46) halved, E_x ||s(x) - grad log p(x)||^2 / 2: a scalar.

    true_score: x (n, d) -> (n, d), the data score (known only for synthetic data).
    """
    score_fn, x = _inputs(score_fn, x)
    true_score = check_callable(true_score, "true_score", SCORE_FN)
    r = _score(score_fn, x) - _score(true_score, x)
    return 0.5 * xp.mean(xp.sum(r * r, axis=1))                          # Eq. (46) / 2


def score_matching_exponential(features, data, *, ridge=0.0):
    """Closed-form score matching for U_theta = theta . Phi (Hyvarinen 2007): theta (K,).

    s_theta = -J(x)^T theta with J = grad_x Phi (K, d), so the implicit objective is
    theta^T A theta / 2 - b^T theta with A = E[J J^T] (K, K), b = E[Laplacian Phi] (K,):
    one linear system A theta = b. features: an object with __call__, jacobian(x) -> (n, K, d)
    and laplacian(x) -> (n, K) (the feature classes of exponential_family). data: (n, d).
    ridge >= 0 adds ridge * I to A (features constant on the data make A singular).
    """
    data = backend.as_points(data, "data")
    for method in ("jacobian", "laplacian"):
        if not callable(getattr(features, method, None)):
            raise TypeError(f"features must have a {method}(x) method; got "
                            f"{type(features).__name__}")
    J = features.jacobian(data)                                           # (n, K, d)
    n, K = J.shape[0], J.shape[1]
    A = xp.einsum("nkd,nld->kl", J, J) / n                                # E[J J^T]
    b = xp.mean(features.laplacian(data), axis=0)                         # E[Laplacian Phi]
    if ridge:
        A = A + check_positive(ridge, "ridge") * xp.eye(K)
    return xp.linalg.solve(A, b)
