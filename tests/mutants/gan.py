"""The GAN room's exercises written as a student would, in plain NumPy, with switchable mistakes:
the optimal discriminator and value (Lemma 1, Theorem 1), the WGAN-GP gradient penalty and the
sliced Wasserstein distance; plus correct variants written otherwise.

MUTANTS maps (exercise, mistake) to (the properties that must fail, a substring of the named
mistake that some failing property must report, or "" when none is named)."""
import functools
import time

import numpy as np


def variant(fn, **flags):
    f = functools.partial(fn, **flags)
    return functools.update_wrapper(f, fn)


# ------------------------------------------------------------------ Lemma 1, Eq. (48)

def optimal_discriminator(p_data, p_g, mistake=None):
    if mistake == "swapped":
        return p_g / (p_data + p_g)
    if mistake == "ratio":
        with np.errstate(divide="ignore"):
            return p_data / p_g
    if mistake == "half":
        return 0.5 + 0.0 * p_data
    if mistake == "eps":
        return p_data / (p_data + p_g + 1e-8)
    d = p_data / (p_data + p_g)
    if mistake == "clip":
        d = np.clip(d, 1e-7, 1 - 1e-7)
    return d


def d_star_by_logits(p_data, p_g):
    """Correct, written otherwise: D* = sigmoid(log p_data - log p_G)."""
    with np.errstate(divide="ignore", over="ignore"):
        return 1.0 / (1.0 + np.exp(np.log(p_g) - np.log(p_data)))


# ------------------------------------------------------------------ V(D, G), Eq. (47)

def value_function(d_real, d_fake, mistake=None):
    log_real = np.log(d_real)
    log_fake = np.log(d_fake) if mistake == "log_d_fake" else np.log(1.0 - d_fake)
    if mistake == "log2":
        log_real, log_fake = log_real / np.log(2.0), log_fake / np.log(2.0)
    if mistake == "sum":
        return float(np.sum(log_real) + np.sum(log_fake))
    if mistake == "pooled":
        return float(np.mean(np.concatenate([log_real, log_fake])))
    if mistake == "log_of_mean":
        return float(np.log(np.mean(d_real)) + np.log(1.0 - np.mean(d_fake)))
    v = float(np.mean(log_real) + np.mean(log_fake))
    return -v if mistake == "negated" else v


def value_by_sums(d_real, d_fake):
    """Correct, written otherwise: sums over len, log1p for log(1 - D)."""
    return float(np.sum(np.log(d_real)) / len(d_real) + np.sum(np.log1p(-d_fake)) / len(d_fake))


# ------------------------------------------------------------------ WGAN-GP

def gradient_penalty(grad_critic, x_real, x_fake, u, mistake=None):
    if mistake == "inplace":
        x_real *= u
        x_hat = x_real + (1.0 - u) * x_fake
    elif mistake == "swap_u":
        x_hat = (1.0 - u) * x_real + u * x_fake
    elif mistake == "midpoint":
        x_hat = 0.5 * (x_real + x_fake)
    else:
        x_hat = {"real_only": x_real, "fake_only": x_fake}.get(mistake,
                                                               u * x_real + (1.0 - u) * x_fake)
    g = grad_critic(x_hat)
    if mistake == "interp_grads":
        g = u * grad_critic(x_real) + (1.0 - u) * grad_critic(x_fake)
    sq = np.sum(g * g, axis=1)
    norm = {"squared_norm": sq, "batch_norm": np.sqrt(np.sum(sq)) + 0.0 * sq}.get(mistake,
                                                                                np.sqrt(sq))
    r = norm - 1.0
    if mistake == "not_squared":
        return float(np.mean(r))
    if mistake == "abs":
        return float(np.mean(np.abs(r)))
    if mistake == "one_sided":
        r = np.maximum(r, 0.0)
    if mistake == "sum":
        return float(np.sum(r * r))
    return float(np.mean(r * r))


def gp_point_by_point(grad_critic, x_real, x_fake, u):
    """Correct, written otherwise: one gradient call per point, the norm by np.linalg.norm."""
    total = 0.0
    for i in range(x_real.shape[0]):
        x_i = u[i, 0] * x_real[i] + (1.0 - u[i, 0]) * x_fake[i]              # (d,)
        total += (float(np.linalg.norm(grad_critic(x_i[None])[0])) - 1.0) ** 2
    return total / x_real.shape[0]


# ------------------------------------------------------------------ sliced W_2

def sliced_wasserstein(x, y, rng, n_projections=128, mistake=None):
    d = x.shape[1]
    if mistake == "global_rng":
        theta = np.random.standard_normal((d, n_projections))
    else:
        theta = rng.standard_normal((d, n_projections))
    if mistake != "unnormalized":
        theta = theta / np.sqrt(np.sum(theta * theta, axis=0))
    px, py = x @ theta, y @ theta                                              # (n, P)
    if mistake != "unsorted":
        px, py = np.sort(px, axis=0), np.sort(py, axis=0)
    if mistake == "w1":
        return float(np.mean(np.abs(px - py)))
    if mistake == "root_per_projection":
        return float(np.mean(np.sqrt(np.mean((px - py) ** 2, axis=0))))
    sw2 = np.mean((px - py) ** 2)
    return float(sw2 if mistake == "squared" else np.sqrt(sw2))


def sw_by_rows(x, y, rng, n_projections=128):
    """Correct, written otherwise: directions drawn as rows (P, d), the mean over points first."""
    theta = rng.standard_normal((n_projections, x.shape[1]))
    theta = theta / np.linalg.norm(theta, axis=1, keepdims=True)
    px, py = np.sort(theta @ x.T, axis=1), np.sort(theta @ y.T, axis=1)        # (P, n)
    return float(np.sqrt(np.mean(np.mean((px - py) ** 2, axis=1))))


def sw_direction_by_direction(x, y, rng, n_projections=128, pause=0.0):
    """Correct but unvectorized: one direction at a time, each drawn when it is used
    (pause > 0 stands for an expensive computation per direction)."""
    total = 0.0
    for _ in range(n_projections):
        theta = rng.standard_normal((x.shape[1],))
        theta = theta / np.sqrt(np.sum(theta * theta))
        total += float(np.mean((np.sort(x @ theta) - np.sort(y @ theta)) ** 2))
        if pause:
            time.sleep(pause)
    return float(np.sqrt(total / n_projections))


FUNCTIONS = {"optimal_discriminator": optimal_discriminator, "value_function": value_function,
             "gradient_penalty": gradient_penalty, "sliced_wasserstein": sliced_wasserstein}
CORRECT = {"optimal_discriminator": [d_star_by_logits, optimal_discriminator],
           "value_function": [value_by_sums, value_function],
           "gradient_penalty": [gp_point_by_point, gradient_penalty],
           "sliced_wasserstein": [sw_by_rows, sw_direction_by_direction, sliced_wasserstein]}
SLOW = {"sliced_wasserstein": variant(sw_direction_by_direction, pause=1e-3)}

D_ALL = {"density_ratio", "range_and_edges", "theorem1"}
V_ALL = {"monte_carlo_value", "theorem1"}
SW_ALL = {"one_d", "translation", "scaling"}
MUTANTS = {
    ("optimal_discriminator", "swapped"): (D_ALL, "p_data and p_g swapped"),
    ("optimal_discriminator", "ratio"): (D_ALL, "density ratio"),
    ("optimal_discriminator", "half"): (D_ALL, "1/2 everywhere"),
    # V is flat at its maximum D* (Lemma 1): a first-order error in D* leaves Theorem 1 exact
    ("optimal_discriminator", "eps"): ({"density_ratio", "range_and_edges"}, ""),
    ("optimal_discriminator", "clip"): ({"range_and_edges"}, ""),
    ("value_function", "log_d_fake"): (V_ALL, "log D(G(z)) in place of log(1 - D(G(z)))"),
    ("value_function", "negated"): (V_ALL, "sign of V flipped"),
    ("value_function", "log2"): (V_ALL, "log base 2"),
    ("value_function", "sum"): (V_ALL, "sums in place of means"),
    ("value_function", "pooled"): (V_ALL, "one mean over the n + m samples"),
    ("value_function", "log_of_mean"): (V_ALL, "log of the means"),
    ("gradient_penalty", "inplace"): ({"contract"}, "modified in place"),
    ("gradient_penalty", "squared_norm"): ({"linear_critic"}, "squared norm"),
    ("gradient_penalty", "not_squared"): ({"linear_critic"}, "not squared"),
    ("gradient_penalty", "abs"): ({"linear_critic"}, "absolute value"),
    ("gradient_penalty", "one_sided"): ({"linear_critic"}, "one-sided"),
    ("gradient_penalty", "sum"): ({"linear_critic"}, "sum over the m pairs"),
    ("gradient_penalty", "batch_norm"): ({"linear_critic"}, "whole (m, d) batch"),
    ("gradient_penalty", "swap_u"): ({"interpolation"}, "other way round"),
    ("gradient_penalty", "real_only"): ({"interpolation"}, "x_real only"),
    ("gradient_penalty", "fake_only"): ({"interpolation"}, "x_fake only"),
    ("gradient_penalty", "midpoint"): ({"interpolation"}, "midpoints"),
    ("gradient_penalty", "interp_grads"): ({"interpolation"}, "gradients interpolated"),
    ("sliced_wasserstein", "squared"): (SW_ALL, "squared distance"),
    ("sliced_wasserstein", "unnormalized"): (SW_ALL, "not normalized"),
    ("sliced_wasserstein", "unsorted"): (SW_ALL, "not sorted"),
    ("sliced_wasserstein", "w1"): (SW_ALL, "W_1"),
    ("sliced_wasserstein", "root_per_projection"): ({"translation", "scaling"},
                                                    "square root taken per projection"),
}
