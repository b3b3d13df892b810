"""The closed-form score matching of an exponential family written as a student would, in plain
NumPy, with switchable mistakes; plus a correct variant written otherwise (least squares)."""
import functools

import numpy as np


def variant(fn, **flags):
    return functools.update_wrapper(functools.partial(fn, **flags), fn)


def score_matching_exponential(features, data, mistake=None):
    x = np.asarray(data, dtype=float)
    J = np.asarray(features.jacobian(x))                      # (n, K, d)
    lap = np.asarray(features.laplacian(x))                   # (n, K)
    A = np.einsum("nkd,nld->kl", J, J)
    A = A if mistake == "sum_vs_mean" else A / len(x)
    b = lap.mean(axis=0)
    if mistake == "laplacian_sign":
        b = -b
    theta = np.linalg.solve(A, b)
    return theta / 2 if mistake == "missing_half" else theta


def score_matching_by_lstsq(features, data):
    """Correct, written otherwise: A = M^T M / n with M the (n d, K) stack of the Jacobians,
    solved by least squares."""
    x = np.asarray(data, dtype=float)
    J = np.asarray(features.jacobian(x))
    n, K, d = J.shape
    M = J.transpose(0, 2, 1).reshape(n * d, K)
    b = np.asarray(features.laplacian(x)).sum(axis=0)
    return np.linalg.lstsq(M.T @ M, b, rcond=None)[0]


SCORE_MATCHING = {   # mistake -> (the properties that must fail, the named mistake of the first)
    "laplacian_sign": ({"gaussian_mle", "stationary"}, "Laplacian sign"),
    "missing_half": ({"gaussian_mle", "stationary"}, "1/2 of |s|^2 / 2 missing"),
    "sum_vs_mean": ({"gaussian_mle", "stationary"}, "A summed over the points"),
}
MUTANTS = {"score_matching_exponential": (score_matching_exponential, SCORE_MATCHING)}
CORRECT = {"score_matching_exponential": [score_matching_exponential, score_matching_by_lstsq]}
