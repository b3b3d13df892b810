"""Memorization vs generalization: the exact score of a training set, and two denoisers compared.

A training set X = {x_i}, i <= N, noised by the OU flow (kappa = 1, sigma = sqrt 2, Eq. 124) is
    p_t(x) = (1/N) sum_i N(x; a x_i, s^2 Id),  a = e^{-t},  s^2 = 1 - e^{-2t}             (Eq. 130)
    grad log p_t(x) = sum_i w_i(x) (a x_i - x) / s^2,  w = softmax_i(-|x - a x_i|^2 / (2 s^2))
is Tweedie's formula (Eq. 146) for E[x_0 | x_t = x] = sum_i w_i x_i, which also minimizes the
training loss (Eq. 141 with X for p): a denoiser that fits its training set perfectly regenerates
training points. Whether a trained one does (Fig. 13) is tested by memorization_curve: two
denoisers trained on disjoint sets of size N, given the same noise x_T.
Notes §2.8.2 Fig. 13, §6.2.  Kadkhodaie, Guth, Simoncelli & Mallat 2024, arXiv:2310.02557.
"""
import math

from minigen import backend, host
from minigen.backend import xp
from minigen.distributions import GaussianMixture, polygon_blobs
from minigen.diffusion.reverse import reverse_sde, time_grid
from minigen.diffusion.tweedie import score_from_denoiser, train_denoiser

BLOCK = 2 ** 20                         # entries of an (n, N) block of pairwise terms
# the denoisers of the experiment (~4 s each on one core): the same budget at every N, as fewer
# steps stop a training before it memorizes, which would pass for generalization (README);
# sigma_min (x the data scale) and t_min = 1e-6 (sigma_t = 1.4e-3) resolve the spacing of 8192
# points in 2D (~0.016)
TRAIN = dict(n_steps=3000, batch_size=256, hidden=(64, 64, 64), lr=1e-2, sigma_min=1e-3)


def blobs(d, *, n_modes=8, radius=2.0, std=0.2):
    """The course's polygon blobs in the first 2 of d >= 2 coordinates, the same isotropic std in
    all d: a full-dimensional mixture (N samples are spaced like N^(-1/d)); d = 2: the 2D blobs."""
    d = backend.check_int(d, "d", low=2)
    means = polygon_blobs(n_modes, radius, std).means                          # (K, 2)
    return GaussianMixture(xp.concatenate([means, xp.zeros((n_modes, d - 2))], axis=1), std)


def _blocks(n, N):
    """Row slices of about BLOCK / N rows: an (n, N) computation in bounded memory."""
    rows = max(1, BLOCK // N)
    return [slice(lo, min(n, lo + rows)) for lo in range(0, n, rows)]


def nearest_distance(x, points):
    """Euclidean distance of each row of x (n, d) to its nearest row of points (N, d): (n,)."""
    points = backend.as_points(points, "points")
    x = backend.as_points(x, "x", points.shape[1])
    p2 = xp.sum(points ** 2, axis=1)                                           # (N,)
    out = []
    for b in _blocks(x.shape[0], points.shape[0]):
        sq = xp.sum(x[b] ** 2, axis=1)[:, None] - 2.0 * (x[b] @ points.T) + p2  # (rows, N)
        # the nearest point from one matmul; its distance by a difference (no cancellation)
        nearest = points[xp.argmin(sq, axis=1)]                                 # (rows, d)
        out.append(xp.sqrt(xp.sum((x[b] - nearest) ** 2, axis=1)))
    return xp.concatenate(out)


def empirical_score_fn(data):
    """score(x, t) of the noised training set, for reverse_sde: x (n, d), t > 0 -> (n, d)."""
    data = backend.as_points(data, "data")
    half_sq = 0.5 * xp.sum(data ** 2, axis=1)                                  # (N,)

    def score(x, t):
        x = backend.as_points(x, "x", data.shape[1])
        t = backend.check_number(t, "t", low=0.0, low_open=True)
        a, s2 = math.exp(-t), -math.expm1(-2.0 * t)                          # Eq. (124)
        out = []
        for b in _blocks(x.shape[0], data.shape[0]):
            # -|x - a x_i|^2 / (2 s^2) up to a term in x alone, which the softmax drops
            logits = (a * (x[b] @ data.T) - a * a * half_sq) / s2           # (rows, N)
            # the max shift of log-sum-exp: far from the data, where every Gaussian weight
            # underflows, the nearest point takes the weight (not 0 / 0)
            w = xp.exp(logits - xp.max(logits, axis=1, keepdims=True))      # (rows, N)
            mean = (w @ data) / xp.sum(w, axis=1, keepdims=True)            # E[x_0 | x_t = x]
            out.append((a * mean - x[b]) / s2)                  # Eq. (146): Tweedie in OU time
        return xp.concatenate(out)
    return score


def empirical_score(x, t, data):
    """grad log p_t(x) of the training set data (N, d) at OU time t > 0: x (n, d) -> (n, d)."""
    return empirical_score_fn(data)(x, t)


def transition_size(sizes, ratios, level=0.5):
    """The N at which ratios (rising from 0, memorization, to 1, fresh data) first reach level,
    interpolated linearly in (log N, ratio); None if they never do, sizes[0] if they start there."""
    pairs = list(zip(sizes, ratios))
    if pairs[0][1] >= level:
        return float(pairs[0][0])
    for (n0, r0), (n1, r1) in zip(pairs[:-1], pairs[1:]):
        if r1 >= level:
            return float(math.exp(math.log(n0) + (level - r0) / (r1 - r0) * math.log(n1 / n0)))
    return None


def _mean_distance(a, b):
    return float(xp.mean(xp.sqrt(xp.sum((a - b) ** 2, axis=1))))


def _mse(D, x, sigma, rng):
    """E |D(x + sigma z, sigma) - x|^2 over the rows of x (Eq. 141)."""
    return float(xp.mean(xp.sum((D(x + sigma * rng.standard_normal(x.shape), sigma) - x) ** 2,
                                axis=1)))


def memorization_curve(target, sizes, rng, *, n_samples=500, n_ode_steps=100, t_min=1e-6,
                       sigmas=(0.05, 0.2, 0.8), n_mse=2000, train=None, progress=False):
    """Fig. 13 against N: two denoisers on disjoint training sets X_A, X_B of size N each.

    target: has sample(n, rng) -> (n, d). sizes: integers >= 2. For each N the same x_T
    (n_samples, d) goes through the probability-flow ODE (reverse_sde, alpha = 0, Heun,
    time_grid(n_ode_steps, t_min=t_min)) of each model, giving S_A, S_B; Y, Y' are fresh samples.
        gap_ratio = E|S_A - S_B| / E|Y - Y'|       (-> 0: the two models agree, they generalize)
        nn_ratio = E d(S, X) / E d(Y, X)           (-> 0: samples on training points, memorized)
    d(., X) the distance to the nearest point of the model's own training set (averaged over
    A, B); the same ratios for the exact empirical scores (empirical_score_fn: the perfect
    memorizer); mse_train, mse_test (len(sizes), len(sigmas)): the denoising MSE on (at most
    n_mse) training points and on fresh ones. train: keyword arguments of train_denoiser
    (default TRAIN). Returns a dict of lists, one entry per N; samples: dicts of arrays train_a,
    train_b (N, d), a, b, empirical_a, empirical_b (n_samples, d). The defaults on blobs(2) and
    blobs(10) (demos/memorization.py): nn_ratio reaches 1/2 near N = 50 and N = 25, the
    train / test MSE at sigma = 0.05 near N = 60 and N = 170; about 80 s per d for N = 8 ... 8192.
    """
    sample = backend.check_callable(getattr(target, "sample", None), "target.sample",
                                    "(n, rng) -> (n, d)")
    rng = backend.check_rng(rng)
    if not isinstance(sizes, (list, tuple)) or not sizes:
        raise ValueError(f"sizes must be a non-empty list of integers >= 2; got sizes={sizes!r}")
    sizes = [backend.check_int(N, f"sizes[{k}]", low=2) for k, N in enumerate(sizes)]
    if not isinstance(sigmas, (list, tuple)) or not sigmas:
        raise ValueError(f"sigmas must be a non-empty list of noise levels; got sigmas={sigmas!r}")
    if not isinstance(train, (dict, type(None))):
        raise TypeError(f"train must be a dict of train_denoiser options; got train={train!r}")
    cfg = dict(n_samples=backend.check_int(n_samples, "n_samples", low=2),
               n_mse=backend.check_int(n_mse, "n_mse"),
               sigmas=[backend.check_positive(s, f"sigmas[{k}]") for k, s in enumerate(sigmas)],
               times=time_grid(n_ode_steps, t_min=t_min), progress=backend.check_progress(progress),
               train=dict(TRAIN if train is None else train, progress=progress))
    with host.one_blas_thread():                # small matrices: a second BLAS thread only spins
        rows = [_measure(sample, N, rng, cfg) for N in sizes]
    return {key: [row[key] for row in rows] for key in rows[0]}


def _measure(sample, N, rng, cfg):
    """The measures of memorization_curve at one training-set size N."""
    draw = lambda n: backend.as_points(sample(n, rng), "target.sample(n, rng)")   # noqa: E731
    X = draw(2 * N)
    sets = (X[:N], X[N:])                                            # disjoint, the same law
    models = [train_denoiser(Xk, rng, **cfg["train"]) for Xk in sets]
    x_T = rng.standard_normal((cfg["n_samples"], X.shape[1]))       # the same noise for A and B
    Y, Y2 = draw(cfg["n_samples"]), draw(cfg["n_samples"])           # fresh samples of p
    gap_fresh = _mean_distance(Y, Y2)
    nn_fresh = sum(float(xp.mean(nearest_distance(Y, Xk))) for Xk in sets) / 2
    row = {"sizes": N, "samples": {"train_a": sets[0], "train_b": sets[1]}}
    scores = {"": [score_from_denoiser(D) for D in models],
              "empirical_": [empirical_score_fn(Xk) for Xk in sets]}
    for key, pair in scores.items():
        S = [reverse_sde(s, x_T, cfg["times"], None, alpha=0.0, method="heun",
                         progress=cfg["progress"]) for s in pair]        # Eq. (135), alpha = 0
        row[key + "gap_ratio"] = _mean_distance(*S) / gap_fresh
        nn = sum(float(xp.mean(nearest_distance(Sk, Xk))) for Sk, Xk in zip(S, sets)) / 2
        row[key + "nn_ratio"] = nn / nn_fresh
        row["samples"][key + "a"], row["samples"][key + "b"] = S
    test = draw(cfg["n_mse"])
    row["mse_train"] = [sum(_mse(D, Xk[:cfg["n_mse"]], s, rng) for D, Xk in zip(models, sets)) / 2
                        for s in cfg["sigmas"]]
    row["mse_test"] = [sum(_mse(D, test, s, rng) for D in models) / 2 for s in cfg["sigmas"]]
    return row
