"""Check a student's VAE pieces (companion reading, VAE; Kingma & Welling 2014, arXiv:1312.6114;
Burda et al. 2016, arXiv:1509.00519).

    KL(N(mu, diag e^{log_var}) || N(0, I)) = (1/2) sum_j (mu_j^2 + e^{log_var_j} - log_var_j - 1)
    IWAE_K(x) = log (1/K) sum_k p(x, z_k) / q(z_k|x),  z_k = mu + e^{log_var/2} eps_k  (K = 1: ELBO)
Oracles: the KL of two Gaussians from the general trace / log-det formula; a linear-Gaussian model
p(z) = N(0, I_k), p(x|z) = N(W z + b, s^2 I_d), W with orthogonal columns, whose log p(x) and
posterior are closed forms: with q the exact posterior every bound equals log p(x); with a
shifted q the ELBO's gap is KL(q || p(z|x)) in closed form, and IWAE_K's gap a Monte Carlo
average of the fixed Gaussian weight ratio computed here (it does not depend on x).
"""
import math

import numpy as np

from minigen import backend
from minigen.check.exercise import Contract, Exercise, Measurement, Property

TOL = 1e-8
N_KL = 40
D, K_LAT, SIGMA = 3, 2, 0.5
N_POINTS = 4000                  # points for the statistical properties
K_IW = 16                        # importance samples of the importance-weighting property
SHIFT, LOG_SCALE = 0.6, 0.8      # q = posterior shifted by SHIFT stds, variance times e^0.8
W = np.array([[0.6, 0.8], [-0.8, 0.6], [0.0, 0.0]]) @ np.diag([1.2, 0.8])   # orthogonal columns
B = np.array([0.3, -0.5, 1.0])


def gaussian_kl_formula(mean, log_var):
    """(tr S + mu^T mu - k - log det S) / 2 per row, S = diag e^{log_var}: (n, k) -> (n,)."""
    out = []
    for m, v in zip(mean, log_var):
        S = np.diag(np.exp(v))
        out.append(0.5 * (np.trace(S) + m @ m - len(m) - np.linalg.slogdet(S)[1]))
    return np.array(out)


KL_MISTAKES = {
    "+ log_var instead of - log_var": lambda m, v: 0.5 * np.sum(m * m + np.exp(v) + v - 1, 1),
    "the factor 1/2 missing": lambda m, v: np.sum(m * m + np.exp(v) - v - 1, 1),
    "log_var read as a log std (e^{2 log_var})":
        lambda m, v: 0.5 * np.sum(m * m + np.exp(2 * v) - 2 * v - 1, 1),
    "the sign: -KL": lambda m, v: -0.5 * np.sum(m * m + np.exp(v) - v - 1, 1),
    "a mean over coordinates instead of a sum":
        lambda m, v: 0.5 * np.mean(m * m + np.exp(v) - v - 1, 1)}


def _kl_case(ctx):
    g = np.random.default_rng([ctx.seed, 7])
    return g.standard_normal((N_KL, 3)), 1.2 * g.standard_normal((N_KL, 3))


def _kl(student, ctx, mean, log_var):
    out = ctx.call(student, backend.asarray(mean), backend.asarray(log_var))
    return ctx.array(out, (len(mean),), "the KL")


def kl_contract(student, ctx):
    """Shape (n,), and KL(N(0, I) || N(0, I)) = 0."""
    zero = np.zeros((4, 3))
    return Measurement(_kl(student, ctx, zero, zero), np.zeros(4), tol=TOL,
                       labels=[f"row {i}, mean = 0, log_var = 0" for i in range(4)])


def kl_closed_form(student, ctx):
    mean, log_var = _kl_case(ctx)
    return Measurement(_kl(student, ctx, mean, log_var), gaussian_kl_formula(mean, log_var),
                       tol=TOL, labels=[f"row {i}" for i in range(N_KL)],
                       mistakes={k: f(mean, log_var) for k, f in KL_MISTAKES.items()})


# ---- the importance-weighted bound on a linear-Gaussian model -----------------------------------

def log_p(x):
    """log N(x; b, W W^T + s^2 I): (n, d) -> (n,)."""
    C = W @ W.T + SIGMA ** 2 * np.eye(D)
    r = x - B
    return -0.5 * (np.einsum("ni,ij,nj->n", r, np.linalg.inv(C), r) + np.linalg.slogdet(C)[1]
                   + D * math.log(2 * math.pi))


def log_joint(x, z):
    """log p(x, z) = log N(x; W z + b, s^2 I) + log N(z; 0, I): x (n, d), z (K, n, k) -> (K, n)."""
    r = x - (z @ W.T + B)
    return (-0.5 * np.sum(r * r, -1) / SIGMA ** 2 - D * math.log(SIGMA) - 0.5 * np.sum(z * z, -1)
            - 0.5 * (D + K_LAT) * math.log(2 * math.pi))


def posterior(x):
    """p(z|x) = N(M^{-1} W^T (x - b), s^2 M^{-1}), M = W^T W + s^2 I diagonal: (mean, log_var)."""
    m = np.diag(W.T @ W) + SIGMA ** 2
    mean = (x - B) @ W / m
    return mean, np.log(SIGMA ** 2 / m) * np.ones_like(mean)


def _points(ctx, n, stream):
    g = np.random.default_rng([ctx.seed, stream])
    z = g.standard_normal((n, K_LAT))
    return z @ W.T + B + SIGMA * g.standard_normal((n, D))


def _bound(student, ctx, x, mean, log_var, n_samples, rng=None):
    def joint(x_, z):
        return backend.asarray(log_joint(backend.to_numpy(x_), backend.to_numpy(z)))
    rng = ctx.rng() if rng is None else rng
    out = ctx.call(student, backend.asarray(x), backend.asarray(mean), backend.asarray(log_var),
                   joint, rng, n_samples)
    return ctx.array(out, (len(x),), "the bound")


def _mistaken(x, mean, log_var, K, rng_stream, mistake):
    """What a named mistake returns, from the same draws eps (K, n, k) in the contract's order."""
    eps = backend.to_numpy(rng_stream.standard_normal((K, *mean.shape)))
    std = np.exp(log_var) if mistake == "log_std" else np.exp(0.5 * log_var)
    z = mean + std * eps
    lv = 2 * log_var if mistake == "log_std" else log_var
    log_q = -0.5 * np.sum((z - mean) ** 2 * np.exp(-lv) + lv + math.log(2 * math.pi), -1)
    if mistake == "no_half":
        log_q = -np.sum((z - mean) ** 2 * np.exp(-lv) + lv + math.log(2 * math.pi), -1)
    w = log_joint(x, z) - log_q
    if mistake == "mean_of_logs":
        return w.mean(0)
    m = w.max(0)
    return m + np.log(np.exp(w - m).sum(0) if mistake == "sum" else np.exp(w - m).mean(0))


BOUND_MISTAKES = {"log_var read as a log std: z = mean + e^{log_var} eps": "log_std",
                  "the 1/2 of the Gaussian log-density q missing": "no_half",
                  "the mean of the K log-weights, not the log of their mean": "mean_of_logs",
                  "log of the sum of the weights: the 1/K missing": "sum"}


def _replay(ctx):
    """The generator the last ctx.rng() handed out, restarted: the same draws again."""
    return backend.rng(1000 * ctx.seed + 100 + ctx._n)


def _measure(student, ctx, x, mean, log_var, K):
    """The student's bound and each named mistake's, from the same draws: (n,), {name: (n,)}."""
    rng = ctx.rng()
    est = _bound(student, ctx, x, mean, log_var, K, rng)
    if rng.draws == 0:                  # a bound that draws nothing is not an estimate
        est = np.full(len(x), np.nan)
    return est, {k: _mistaken(x, mean, log_var, K, _replay(ctx), v)
                 for k, v in BOUND_MISTAKES.items()}


def bound_exact_posterior(student, ctx):
    """q = p(z|x): log p(x, z) - log q(z|x) = log p(x) for every z, so every bound is log p(x)."""
    x = _points(ctx, 50, 1)
    mean, log_var = posterior(x)
    est, labels, mistakes = [], [], {k: [] for k in BOUND_MISTAKES}
    for K in (1, 5):
        e, m = _measure(student, ctx, x, mean, log_var, K)
        est.append(e)
        for k in m:
            mistakes[k].append(m[k])
        labels += [f"K = {K}, point {i}, q = p(z|x)" for i in range(len(x))]
    cat = np.concatenate
    return Measurement(cat(est), np.tile(log_p(x), 2), tol=1e-7, labels=labels,
                       mistakes={k: cat(v) for k, v in mistakes.items()})


def _shifted(ctx, stream):
    x = _points(ctx, N_POINTS, stream)
    mean, log_var = posterior(x)
    return x, mean + SHIFT * np.exp(0.5 * log_var), log_var + LOG_SCALE


def _gap_statistic(est, x, mistakes, expected, se_expected=0.0):
    gap = est - log_p(x)
    se = math.hypot(gap.std() / math.sqrt(len(gap)), se_expected)
    return Measurement(gap.mean(), expected, se=se, labels=["mean of bound - log p(x)"],
                       mistakes={k: float(np.mean(v - log_p(x))) for k, v in mistakes.items()})


def elbo_gap(student, ctx):
    """K = 1, q the posterior shifted: E[ELBO] - log p(x) = -KL(q || p(z|x)), in closed form."""
    x, mean, log_var = _shifted(ctx, 2)
    est, mistakes = _measure(student, ctx, x, mean, log_var, 1)
    kl = 0.5 * K_LAT * (math.exp(LOG_SCALE) + SHIFT ** 2 - 1 - LOG_SCALE)
    return _gap_statistic(est, x, mistakes, -kl)


def iwae_gap_oracle(K, n=100_000, seed=5):
    """E[IWAE_K] - log p(x) and its SE: u = (z - posterior mean) / posterior std ~ N(SHIFT,
    e^LOG_SCALE) per coordinate, log w = log N(u; 0, 1) - log N(u; SHIFT, e^LOG_SCALE)."""
    g = np.random.default_rng(seed)
    s = math.exp(0.5 * LOG_SCALE)
    u = SHIFT + s * g.standard_normal((n, K, K_LAT))
    log_w = np.sum(-0.5 * u ** 2 + 0.5 * ((u - SHIFT) / s) ** 2 + math.log(s), -1)   # (n, K)
    m = log_w.max(1)
    b = m + np.log(np.mean(np.exp(log_w - m[:, None]), 1))
    return b.mean(), b.std() / math.sqrt(n)


def importance_weighting(student, ctx):
    """K = 16, the same shifted q: the bound rises above the ELBO to its known mean."""
    x, mean, log_var = _shifted(ctx, 3)
    est, mistakes = _measure(student, ctx, x, mean, log_var, K_IW)
    return _gap_statistic(est, x, mistakes, *iwae_gap_oracle(K_IW))


KL_CONTRACT = Contract(
    function="gaussian_kl", params=("mean", "log_var"),
    title="Exercise: the VAE's KL term in closed form (Kingma & Welling 2014, Appendix B)",
    doc="""KL(N(mean, diag e^{log_var}) || N(0, I)) of each row.

mean, log_var: (n, k) arrays, the encoder's outputs (log_var: the log-variance).
Returns the KL of each row: (n,).""")
BOUND_CONTRACT = Contract(
    function="iwae_bound", params=("x", "mean", "log_var", "log_joint", "rng", "n_samples"),
    title="Exercise: the reparametrized ELBO and the importance-weighted bound (Burda 2016)",
    doc="""log (1/K) sum_k p(x, z_k) / q(z_k|x), z_k = mean + e^{log_var/2} eps_k, eps_k ~ N(0, I).

x: (n, d) points; mean, log_var: (n, k), the Gaussian q(z|x) of each point.
log_joint: function (x (n, d), z (K, n, k)) -> log p(x, z_k) (K, n).
rng: the generator to draw eps from: eps = rng.standard_normal((K, n, k)).
n_samples: K >= 1 (K = 1: the one-sample ELBO estimate).
Returns the bound of each point: (n,).""")
HINT_KL = ("Kingma & Welling 2014, Appendix B: -KL = (1/2) sum_j (1 + log_var_j - mean_j^2 "
           "- e^{log_var_j}); log_var is a log-variance, the std is e^{log_var / 2}")
HINT_IW = ("Burda et al. 2016, Eq. (8): log of the MEAN of the K weights p(x, z_k) / q(z_k|x) "
           "(log-mean-exp, shifted by the max), log q a Gaussian log-density with its 1/2")
CHECKS = "minigen.latent.vae"
EXERCISES = [
    Exercise(name="gaussian_kl", aliases=("kl", "vae_kl"), contract=KL_CONTRACT, properties=[
        Property("contract", "returns (n,); KL(N(0, I) || N(0, I)) = 0", kl_contract, HINT_KL),
        Property("closed_form", "equals (tr S + |mu|^2 - k - log det S) / 2 on random rows",
                 kl_closed_form, HINT_KL, ("contract",))]),
    Exercise(name="iwae_bound", aliases=("elbo", "iwae"), contract=BOUND_CONTRACT, properties=[
        Property("exact_posterior", "with q = p(z|x) of a linear-Gaussian model, every bound "
                 "equals log p(x) (K = 1 and 5)", bound_exact_posterior, HINT_IW),
        Property("elbo_gap", "K = 1, q off the posterior: E[ELBO] = log p(x) - KL(q || p(z|x))",
                 elbo_gap, HINT_IW, ("exact_posterior",)),
        Property("importance_weighting", f"K = {K_IW}: E[IWAE_K] - log p(x) at its known value, "
                 "above the ELBO's", importance_weighting, HINT_IW, ("exact_posterior",))]),
]
