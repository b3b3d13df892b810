"""Check a student's Tweedie denoiser (notes §2.8.2, §6.2.3 Th. 10, Eq. (140)-(146)).

    D*(y) = E[x | x + sigma z = y] = y + sigma^2 grad log p_sigma(y),  z ~ N(0, Id)     (Eq. 142)
Oracle, an exact computation: for the mixture p = sum_k w_k N(mu_k, s_k^2 Id) observed with noise
N(0, sigma^2 Id), Bayes' rule gives a mixture of Gaussian posteriors,
    E[x | y] = sum_k r_k(y) (mu_k + s_k^2 / (s_k^2 + sigma^2) (y - mu_k)),
    r_k(y) ∝ w_k N(y; mu_k, (s_k^2 + sigma^2) Id),
written without Tweedie's formula. The student gets the exact score of p_sigma (closed form, here)
and must return E[x | y] at every point to TOL.
"""
import numpy as np

from minigen import backend
from minigen.check.exercise import Contract, Exercise, Measurement, Property

TOL = 1e-6
SIGMAS = (0.3, 0.7, 2.0)        # below and above 1, so that sigma and sigma^2 differ
N_POINTS = 100
GAUSSIAN = (np.array([[1.0, -2.0]]), np.array([0.8]), np.array([1.0]))   # means, stds, weights
MIXTURE = (np.array([[2.0, 0.0], [-1.0, 1.5], [0.0, -2.0]]), np.array([0.3, 0.5, 0.2]),
           np.array([0.2, 0.5, 0.3]))


def responsibilities(y, sigma, mixture):
    """r_k(y) (n, K): the posterior weights of the components given y (n, d)."""
    means, stds, weights = mixture
    v = stds ** 2 + sigma ** 2                                                  # (K,)
    sq = ((y[:, None, :] - means[None]) ** 2).sum(axis=2)                       # (n, K)
    log_r = np.log(weights) - 0.5 * sq / v - 0.5 * y.shape[1] * np.log(v)
    log_r -= log_r.max(axis=1, keepdims=True)
    r = np.exp(log_r)
    return r / r.sum(axis=1, keepdims=True)


def noisy_score(y, sigma, mixture):
    """grad log p_sigma(y) (n, d), p_sigma = p * N(0, sigma^2 Id) (Eq. 143)."""
    means, stds, _ = mixture
    r = responsibilities(y, sigma, mixture)
    v = stds ** 2 + sigma ** 2
    return -np.einsum("nk,nkd->nd", r / v, y[:, None, :] - means[None])


def posterior_mean(y, sigma, mixture):
    """E[x | x + sigma z = y] (n, d) by Bayes' rule (no score)."""
    means, stds, _ = mixture
    r = responsibilities(y, sigma, mixture)
    gain = stds ** 2 / (stds ** 2 + sigma ** 2)                                 # (K,)
    post = means[None] + gain[None, :, None] * (y[:, None, :] - means[None])   # (n, K, d)
    return np.einsum("nk,nkd->nd", r, post)


def _points(ctx, sigma, mixture, stream):
    """N_POINTS draws of y = x + sigma z, x ~ mixture, from the check's own generator."""
    g = np.random.default_rng(10_000 * ctx.seed + stream)
    means, stds, weights = mixture
    k = g.choice(len(weights), N_POINTS, p=weights)
    x = means[k] + stds[k, None] * g.standard_normal((N_POINTS, means.shape[1]))
    return x + sigma * g.standard_normal(x.shape)


def _denoise(student, ctx, score, y, sigma):
    def score_fn(z):
        return backend.asarray(score(backend.to_numpy(z)))
    out = ctx.call(student, score_fn, backend.asarray(y), sigma)
    return ctx.array(out, y.shape, "the denoised points")


CONTRACT = Contract(
    function="tweedie_denoise",
    params=("score", "y", "sigma"),
    title="Exercise: Tweedie's denoiser, notes §6.2.3 Th. 10 Eq. (142)",
    doc="""The optimal denoiser E[x | x + sigma z = y] from the score of the noisy law (Eq. 142).

score: function y (n, d) -> (n, d), the score grad log p_sigma of the noisy data law
    p_sigma = p * N(0, sigma^2 Id).
y: (n, d) array, the noisy points.
sigma: float > 0, the noise level.
Returns the denoised points: (n, d).""")


def contract(student, ctx):
    """Shapes, and with a zero score the denoiser returns y itself."""
    y = _points(ctx, 0.5, MIXTURE, 0)
    out = _denoise(student, ctx, lambda z: 0.0 * z, y, 0.5)
    return Measurement(out.ravel(), y.ravel(), tol=TOL,
                       labels=[f"point {i}, coordinate {j + 1}, score = 0" for i in range(len(y))
                               for j in range(y.shape[1])],
                       mistakes={"y missing: returns sigma^2 score(y)": np.zeros(y.size)})


def _posterior(student, ctx, mixture):
    est, exp, labels = [], [], []
    wrong = {"sigma for sigma^2: y + sigma score(y)": lambda y, s, g: y + s * g,
             "minus sign: y - sigma^2 score(y)": lambda y, s, g: y - s ** 2 * g,
             "score divided by sigma^2: y + score(y) / sigma^2": lambda y, s, g: y + g / s ** 2,
             "y missing: returns sigma^2 score(y)": lambda y, s, g: s ** 2 * g,
             "the score ignored: returns y": lambda y, s, g: y}
    pred = {k: [] for k in wrong}
    for i, sigma in enumerate(SIGMAS):
        y = _points(ctx, sigma, mixture, 1 + i)
        est.append(_denoise(student, ctx, lambda z, s=sigma: noisy_score(z, s, mixture), y,
                            sigma).ravel())
        exp.append(posterior_mean(y, sigma, mixture).ravel())
        g = noisy_score(y, sigma, mixture)
        for k, f in wrong.items():
            pred[k].append(f(y, sigma, g).ravel())
        labels += [f"sigma = {sigma:g}, point {n}, coordinate {j + 1}" for n in range(len(y))
                   for j in range(y.shape[1])]
    cat = np.concatenate
    return Measurement(cat(est), cat(exp), tol=TOL, labels=labels,
                       mistakes={k: cat(v) for k, v in pred.items()})


def gaussian_posterior_mean(student, ctx):
    """One Gaussian N(m, s^2 Id): E[x | y] = m + s^2 / (s^2 + sigma^2) (y - m) (Wiener)."""
    return _posterior(student, ctx, GAUSSIAN)


def mixture_posterior_mean(student, ctx):
    return _posterior(student, ctx, MIXTURE)


HINT = ("notes Th. 10, Eq. (142): x_hat(y) = y + sigma^2 grad log p_sigma(y), with sigma^2 "
        "(not sigma) and a plus sign")
CHECKS = "minigen.diffusion.tweedie"
EXERCISES = [Exercise(
    name="tweedie_denoise", aliases=("tweedie", "denoise"), contract=CONTRACT, properties=[
        Property("contract", "returns (n, d); with a zero score it returns y (Eq. 142)",
                 contract, HINT),
        Property("gaussian_posterior_mean", "with the exact score of N(m, s^2 Id) * "
                 "N(0, sigma^2 Id) it returns m + s^2 / (s^2 + sigma^2) (y - m)",
                 gaussian_posterior_mean, HINT, ("contract",)),
        Property("mixture_posterior_mean", "with the exact score of a noisy Gaussian mixture it "
                 "returns the posterior mean E[x | y] (Eq. 141-142)", mixture_posterior_mean,
                 HINT, ("contract",)),
    ])]
