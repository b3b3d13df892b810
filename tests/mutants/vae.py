"""The VAE's KL term and importance-weighted bound written from the formulas in plain NumPy, with
switchable mistakes, and correct variants written otherwise."""
import functools
import math

import numpy as np


def variant(fn, **flags):
    return functools.update_wrapper(functools.partial(fn, **flags), fn)


def gaussian_kl(mean, log_var, mistake=None):
    mean, log_var = np.asarray(mean), np.asarray(log_var)
    if mistake == "log_std":                          # log_var taken for a log std
        log_var = 2 * log_var
    terms = mean ** 2 + np.exp(log_var) - 1.0
    terms = terms + log_var if mistake == "plus_log_var" else terms - log_var
    kl = terms.mean(axis=1) if mistake == "mean" else terms.sum(axis=1)
    half = 1.0 if mistake == "no_half" else 0.5
    return -half * kl if mistake == "sign" else half * kl


def gaussian_kl_by_coordinates(mean, log_var):
    """Correct, written otherwise: -E_q[log p(z)] - H(q), one coordinate at a time."""
    out = np.zeros(len(mean))
    for j in range(mean.shape[1]):
        v = np.exp(log_var[:, j])
        cross = 0.5 * (math.log(2 * math.pi) + mean[:, j] ** 2 + v)       # -E_q log N(z; 0, 1)
        entropy = 0.5 * (math.log(2 * math.pi * math.e) + log_var[:, j])
        out += cross - entropy
    return out


def iwae_bound(x, mean, log_var, log_joint, rng, n_samples, mistake=None):
    eps = rng.standard_normal((n_samples, *mean.shape))
    if mistake == "log_std":
        log_var = 2 * log_var
    z = mean + np.exp(0.5 * log_var) * eps
    half = 1.0 if mistake == "no_half" else 0.5
    log_q = -half * np.sum(eps ** 2 + log_var + math.log(2 * math.pi), axis=-1)
    log_w = log_joint(x, z) - log_q                                       # (K, n)
    if mistake == "mean_of_logs":
        return log_w.mean(axis=0)
    top = log_w.max(axis=0)
    total = np.exp(log_w - top).sum(axis=0)
    return top + np.log(total if mistake == "sum" else total / n_samples)


def iwae_bound_point_by_point(x, mean, log_var, log_joint, rng, n_samples):
    """Correct, written otherwise: draws in another order, scipy-free logsumexp per point."""
    eps = np.swapaxes(rng.standard_normal((mean.shape[0], n_samples, mean.shape[1])), 0, 1)
    std = np.exp(log_var / 2)
    z = mean + std * eps
    log_q = np.sum(-0.5 * ((z - mean) / std) ** 2 - np.log(std) - 0.5 * math.log(2 * math.pi), -1)
    log_w = log_joint(x, z) - log_q
    out = np.empty(len(x))
    for i in range(len(x)):
        w = np.sort(log_w[:, i])
        out[i] = w[-1] + math.log(np.sum(np.exp(w - w[-1])) / n_samples)
    return out


# mistake -> (the properties that fail, the named mistake reported on the first one)
KL_MUTANTS = {
    "plus_log_var": ({"closed_form"}, "+ log_var instead of - log_var"),
    "no_half": ({"closed_form"}, "the factor 1/2 missing"),
    "log_std": ({"closed_form"}, "log_var read as a log std"),
    "sign": ({"closed_form"}, "the sign: -KL"),
    "mean": ({"closed_form"}, "a mean over coordinates"),
}
BOUND_MUTANTS = {
    "log_std": ({"exact_posterior"}, "log_var read as a log std"),
    "no_half": ({"exact_posterior"}, "the 1/2 of the Gaussian log-density q missing"),
    "mean_of_logs": ({"importance_weighting"}, "the mean of the K log-weights"),
    "sum": ({"exact_posterior"}, "the 1/K missing"),
}
