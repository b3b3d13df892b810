"""The affine coupling layer, actnorm and leapfrog written from the notes in plain NumPy, with
switchable mistakes, and correct variants written otherwise."""
import functools

import numpy as np


def _halves(d, flip, mistake):
    h = (d + 1) // 2 if mistake == "ceil_split" else d // 2
    first, second = slice(0, h), slice(h, d)
    return (second, first) if flip and mistake != "no_flip" else (first, second)


def coupling_forward(x, scale_shift, flip=False, mistake=None):
    keep, move = _halves(x.shape[1], flip, mistake)
    x0, x1 = x[:, keep], x[:, move]
    s, t = scale_shift(x0)
    if mistake == "t_first":
        z1 = (x1 + t) * np.exp(s)
    elif mistake == "minus_s":
        z1 = np.exp(-s) * x1 + t
    else:
        z1 = np.exp(s) * x1 + t                                 # Eq. (80)
    if mistake == "in_place":
        x[:, move] = z1
        z = x
    elif keep.start == 0 or mistake == "not_placed":
        z = np.concatenate([x0, z1], axis=1)
    else:
        z = np.concatenate([z1, x0], axis=1)
    log_det = {"exp_s": np.exp(s).sum(axis=1), "sign": -s.sum(axis=1), "mean": s.mean(axis=1),
               "batch_sum": s.sum(), "no_sum": s}.get(mistake, s.sum(axis=1))
    return z, log_det


def coupling_inverse(z, scale_shift, flip=False, mistake=None):
    keep, move = _halves(z.shape[1], flip, mistake)
    z0, z1 = z[:, keep], z[:, move]
    s, t = scale_shift(z0)
    if mistake == "t_after":
        x1 = z1 * np.exp(-s) - t
    elif mistake == "plus_s":
        x1 = (z1 - t) * np.exp(s)
    else:
        x1 = (z1 - t) * np.exp(-s)                              # Eq. (81)
    parts = [z0, x1] if keep.start == 0 or mistake == "not_placed" else [x1, z0]
    log_det = {"sign": s.sum(axis=1), "mean": -s.mean(axis=1)}.get(mistake, -s.sum(axis=1))
    return np.concatenate(parts, axis=1), log_det


def masked_forward(x, scale_shift, flip=False):
    """Correct, written otherwise: RealNVP's binary mask, one coordinate at a time."""
    d = x.shape[1]
    mask = np.arange(d) >= d // 2 if flip else np.arange(d) < d // 2     # True: kept
    s, t = scale_shift(x[:, mask])
    z, log_det, j = x.copy(), np.zeros(x.shape[0]), 0
    for i in np.flatnonzero(~mask):
        z[:, i] = x[:, i] * np.exp(s[:, j]) + t[:, j]
        log_det = log_det + s[:, j]
        j += 1
    return z, log_det


def masked_inverse(z, scale_shift, flip=False):
    """Correct, written otherwise: a mask and np.where."""
    d = z.shape[1]
    mask = (np.arange(d) >= d // 2) if flip else (np.arange(d) < d // 2)
    s, t = scale_shift(z[:, mask])
    s_full, t_full = np.zeros_like(z), np.zeros_like(z)
    s_full[:, ~mask], t_full[:, ~mask] = s, t
    return np.where(mask, z, (z - t_full) / np.exp(s_full)), -np.einsum("nk->n", s)


def actnorm_forward(x, a, b, mistake=None):
    if mistake == "inverse":
        z = (x - b) * np.exp(-a)
    elif mistake == "b_first":
        z = np.exp(a) * (x + b)
    elif mistake == "a_scale":
        z = a * x + b
    elif mistake == "in_place":
        x *= np.exp(a)
        x += b
        z = x
    else:
        z = np.exp(a) * x + b                                   # Eq. (86)
    n = x.shape[0]
    log_det = {"sign": -np.sum(a) * np.ones(n), "exp_a": np.sum(np.exp(a)) * np.ones(n),
               "mean": np.mean(a) * np.ones(n), "scalar": np.sum(a),
               "no_sum": a}.get(mistake, np.sum(a) * np.ones(n))
    return z, log_det


def actnorm_broadcast(x, a, b):
    """Correct, written otherwise: the scale as a diagonal matrix, log-det from its slogdet."""
    S = np.diag(np.exp(a))
    return x @ S + b[None, :], np.full(x.shape[0], np.linalg.slogdet(S)[1])


def leapfrog(q, p, grad_V, grad_K, step_size, n_steps=1, mistake=None):
    h = step_size
    if mistake == "swapped":
        grad_V, grad_K = grad_K, grad_V
    for _ in range(1 if mistake == "n_steps_ignored" else n_steps):
        if mistake == "euler":
            q, p = q + h * grad_K(p), p - h * grad_V(q)
        elif mistake == "no_half":
            p = p - h * grad_V(q)
            q = q + h * grad_K(p)
        elif mistake == "in_place":
            p -= 0.5 * h * grad_V(q)
            q += h * grad_K(p)
            p -= 0.5 * h * grad_V(q)
        else:
            sign = 1.0 if mistake == "kick_sign" else -1.0
            p = p + sign * 0.5 * h * grad_V(q)                  # half kick
            q = q + h * grad_K(p)                               # drift
            p = p + sign * 0.5 * h * grad_V(q)                  # half kick
    return q, p


def leapfrog_merged(q, p, grad_V, grad_K, step_size, n_steps=1):
    """Correct, written otherwise: the closing and opening half kicks merged, kicks listed."""
    kicks = [0.5 * step_size] + [step_size] * (n_steps - 1) + [0.5 * step_size]
    p = p - kicks[0] * grad_V(q)
    for kick in kicks[1:]:
        q = q + step_size * grad_K(p)
        p = p - kick * grad_V(q)
    return q, p


def variant(fn, **flags):
    return functools.update_wrapper(functools.partial(fn, **flags), fn)


COUPLING_MUTANTS = {   # mistake -> (the properties that must fail, the named mistake of the first)
    "t_first": ({"forward_formula"}, "t added before scaling"),
    "minus_s": ({"forward_formula"}, "e^{-s} instead of e^{s}"),
    "no_flip": ({"forward_formula"}, "flip ignored"),
    "not_placed": ({"forward_formula"}, "halves not put back"),
    "ceil_split": ({"forward_formula"}, "odd d split"),
    "exp_s": ({"log_det"}, "sum of e^s"),
    "sign": ({"log_det"}, "sign"),
    "mean": ({"log_det"}, "mean instead of the sum"),
    "batch_sum": ({"contract"}, "one number for the whole batch"),
    "no_sum": ({"contract"}, "not summed over the coordinates"),
    "in_place": ({"contract"}, "modified in place"),
}
INVERSE_MUTANTS = {
    "t_after": ({"round_trip"}, "t subtracted after unscaling"),
    "plus_s": ({"round_trip"}, "e^{s} instead of e^{-s}"),
    "no_flip": ({"round_trip"}, "flip ignored"),
    "not_placed": ({"round_trip"}, "halves not put back"),
    "ceil_split": ({"round_trip"}, "odd d split"),
    "sign": ({"log_det"}, "minus the forward's"),
    "mean": ({"log_det"}, "mean instead of the sum"),
}
ACTNORM_MUTANTS = {
    "inverse": ({"formula"}, "the inverse map"),
    "b_first": ({"formula"}, "b added before scaling"),
    "a_scale": ({"formula"}, "a used as the scale"),
    "in_place": ({"contract"}, "modified in place"),
    "sign": ({"log_det"}, "sign"),
    "exp_a": ({"log_det"}, "sum of the scales"),
    "mean": ({"log_det"}, "mean of a"),
    "scalar": ({"contract"}, "one number for the whole batch"),
    "no_sum": ({"contract"}, "not summed over the coordinates"),
}
LEAPFROG_MUTANTS = {
    "euler": ({"one_step", "volume", "reversibility", "energy_order"}, "explicit Euler"),
    "no_half": ({"one_step", "reversibility", "energy_order"}, "half kicks missing"),
    "swapped": ({"one_step"}, "grad_V and grad_K swapped"),
    "kick_sign": ({"one_step", "energy_order"}, "kick sign"),
    "n_steps_ignored": ({"one_step", "energy_order"}, "n_steps ignored"),
    "in_place": ({"contract"}, "modified in place"),
}
