"""The maximum-likelihood gradient of Eq. (32) in plain NumPy, with switchable mistakes, and a
correct variant written otherwise."""
import functools

import numpy as np


def pcd_gradient(grad_energy, theta, data, chains, mistake=None):
    g_data, g_model = np.asarray(grad_energy(theta, data)), np.asarray(grad_energy(theta, chains))
    if mistake == "sign":
        return g_model.mean(axis=0) - g_data.mean(axis=0)
    if mistake == "no_model_term":
        return g_data.mean(axis=0)
    if mistake == "sums":
        return g_data.sum(axis=0) - g_model.sum(axis=0)
    return g_data.mean(axis=0) - g_model.mean(axis=0)                    # Eq. (32), (35)


def pcd_gradient_stacked(grad_energy, theta, data, chains):
    """Correct, written otherwise: one call on all the points, weighted +1/n and -1/N."""
    n, N = len(data), len(chains)
    weights = np.concatenate([np.full(n, 1.0 / n), np.full(N, -1.0 / N)])
    return weights @ np.asarray(grad_energy(theta, np.concatenate([data, chains], axis=0)))


# mistake -> (properties it fails, words of the named mistake)
MUTANTS = {"sign": (["gradient"], "sign"),
           "no_model_term": (["gradient", "vanishes_at_mle"], "model term dropped"),
           "sums": (["gradient", "vanishes_at_mle"], "sums instead of means")}


def variant(mistake):
    return functools.partial(pcd_gradient, mistake=mistake)
