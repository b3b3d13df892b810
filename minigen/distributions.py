"""Targets with closed forms: Gaussian mixtures, the course's polygon blobs, Gibbs densities.

Gaussian mixture, isotropic components N(mu_k, s_k^2 I) in R^d with weights w_k:
    log p(x) = logsumexp_k [ log w_k - |x - mu_k|^2 / (2 s_k^2) - d log s_k - (d/2) log 2 pi ]
    score(x) = grad_x log p(x) = sum_k r_k(x) (mu_k - x) / s_k^2,   r_k = posterior weight of k.
Gibbs density (notes §3.1 Eq. (22), §6.1 Eq. (114)):  p(x) = Z^-1 exp(-beta U(x)),
    score(x) = -beta grad_x U(x)   (Eq. (117)), grad by autograd.
Under the Ornstein-Uhlenbeck flow dX = -kappa X dt + sigma dW (notes Th. 8, Eq. (124)-(130)) a
mixture stays a mixture: mu_k -> e^{-kappa t} mu_k,
    s_k^2 -> e^{-2 kappa t} s_k^2 + sigma^2 (1 - e^{-2 kappa t}) / (2 kappa).
"""
import math

import autograd

from minigen import backend
from minigen.backend import (check_callable, check_int, check_number, check_positive, check_rng,
                             xp)


class GaussianMixture:
    """Mixture of isotropic Gaussians: means (K, d), stds scalar or (K,), weights (K,) or None
    (uniform); every entry finite, stds > 0, weights >= 0 summing to 1."""

    def __init__(self, means, stds, weights=None):
        self.means = backend.as_points(means, "means")                  # (K, d)
        K, self.dim = self.means.shape
        self.stds = _vector(stds, "stds", K, "finite and > 0", lambda v: v > 0)          # (K,)
        if weights is None:
            self.weights = xp.ones(K) / K
        else:
            w = _vector(weights, "weights", K, "finite, >= 0, summing to 1", lambda v: v >= 0)
            if abs(float(backend.to_numpy(xp.sum(w))) - 1.0) > 1e-6:
                raise ValueError(f"weights must sum to 1; got weights={backend.to_numpy(w)} "
                                 f"(sum {float(backend.to_numpy(xp.sum(w))):.6g})")
            self.weights = w                                            # (K,)

    def _points(self, x):
        """x checked once at the public entry: (n, d), finite."""
        return backend.as_points(x, "x", self.dim)

    def _log_components(self, x):
        """log w_k + log N(x; mu_k, s_k^2 I) for every point and component: (n, K), x checked."""
        # |x - mu|^2 = |x|^2 - 2 x.mu + |mu|^2: one matmul, no (n, K, d) temporary
        sq = (xp.sum(x * x, axis=1)[:, None] - 2.0 * (x @ self.means.T)
              + xp.sum(self.means ** 2, axis=1)[None, :])
        s2 = self.stds ** 2
        log_norm = -self.dim * xp.log(self.stds) - 0.5 * self.dim * math.log(2 * math.pi)
        return xp.log(self.weights) + log_norm - 0.5 * xp.maximum(sq, 0.0) / s2     # (n, K)

    def log_prob(self, x):
        """log p(x): (n,) by a stable log-sum-exp over components (-inf, not NaN, far away)."""
        lc = self._log_components(self._points(x))
        m = xp.max(lc, axis=1, keepdims=True)
        m = xp.where(m > -math.inf, m, 0.0)                             # all -inf: log 0 = -inf
        return (m + xp.log(xp.sum(xp.exp(lc - m), axis=1, keepdims=True)))[:, 0]

    def responsibilities(self, x):
        """r_k(x) = P(component k | x): (n, K), rows sum to 1."""
        return self._responsibilities(self._points(x))

    def _responsibilities(self, x):
        lc = self._log_components(x)
        e = xp.exp(lc - xp.max(lc, axis=1, keepdims=True))
        return e / xp.sum(e, axis=1, keepdims=True)

    def score(self, x):
        """grad_x log p(x) = sum_k r_k(x) (mu_k - x) / s_k^2: (n, d), written out (no autograd)."""
        x = self._points(x)
        r = self._responsibilities(x) / self.stds ** 2                  # (n, K): r_k / s_k^2
        return r @ self.means - x * xp.sum(r, axis=1, keepdims=True)

    def sample(self, n, rng):
        """n points: pick component k with probability w_k, then mu_k + s_k z: (n, d)."""
        n, rng = check_int(n, "n"), check_rng(rng)
        u = rng.random((n,))
        k = xp.searchsorted(xp.cumsum(self.weights), u)                 # inverse CDF of weights
        k = xp.minimum(k, self.weights.shape[0] - 1)                    # round-off at u ~ 1
        return self.means[k] + self.stds[k][:, None] * rng.standard_normal((n, self.dim))

    def ou_marginal(self, t, *, kappa=1.0, sigma=math.sqrt(2.0)):
        """Law of x_t when x_0 ~ self and dX = -kappa X dt + sigma dW (Th. 8, Eq. (130)): a mixture.

        t >= 0, kappa > 0, sigma > 0; the defaults (Eq. 128) tend to N(0, I) as t grows."""
        t = check_number(t, "t", low=0.0)
        kappa, sigma = check_positive(kappa, "kappa"), check_positive(sigma, "sigma")
        decay = math.exp(-kappa * t)
        var = decay ** 2 * self.stds ** 2 + sigma ** 2 * (1.0 - decay ** 2) / (2.0 * kappa)
        return GaussianMixture(decay * self.means, xp.sqrt(var), self.weights)

    def posterior_mean(self, y, sigma):
        """E[x | x + sigma z = y] by Bayes' rule (the oracle for Tweedie's formula): (n, d).

        Given y, component k has posterior r_k(y) under the noisy mixture N(mu_k, (s_k^2 +
        sigma^2) I), and within it the Gaussian conditional mean is
        mu_k + s_k^2 / (s_k^2 + sigma^2) (y - mu_k).  sigma: finite, > 0.
        """
        sigma = check_positive(sigma, "sigma")
        y = backend.as_points(y, "y", self.dim)
        s2 = self.stds ** 2
        noisy = GaussianMixture(self.means, xp.sqrt(s2 + sigma ** 2), self.weights)
        r = noisy._responsibilities(y)                                  # (n, K)
        shrink = s2 / (s2 + sigma ** 2)                                 # (K,)
        # sum_k r_k [mu_k + shrink_k (y - mu_k)] = sum_k r_k (1 - shrink_k) mu_k + (r . shrink) y
        return (r * (1.0 - shrink)) @ self.means + y * (r @ shrink)[:, None]

    def entropy(self, rng, n=200_000):
        """Monte-Carlo H[p] = -E log p(x) on n samples, and its standard error: (float, float).

        The floor of any model's NLL on this data (Eq. (27))."""
        lp = self.log_prob(self.sample(check_int(n, "n", low=2), rng))          # (n,)
        return -float(xp.mean(lp)), float(xp.std(lp)) / math.sqrt(lp.shape[0])


def _vector(v, name, K, rule, ok):
    """A scalar (broadcast) or (K,) parameter whose entries are finite and pass ok -> (K,)."""
    if getattr(v, "ndim", 0) == 0 and not isinstance(v, (list, tuple)):
        v = check_number(v, name)                                       # refuses NaN, inf, bools
    a = backend.asarray(v, name)
    a = a * xp.ones(K) if a.ndim == 0 else a
    if a.shape != (K,) or not bool(xp.all(xp.isfinite(a) & ok(a))):
        raise ValueError(f"{name} must be a scalar or have shape ({K},), entries {rule}; "
                         f"got {name}={backend.to_numpy(a)}")
    return a


def polygon_blobs(n_modes=8, radius=2.0, std=0.2):
    """The course's blob data: equal-weight Gaussians of std `std` on the vertices of a regular
    polygon of `radius` (n_modes >= 1, radius >= 0, std > 0), the first at (radius, 0)."""
    n_modes = check_int(n_modes, "n_modes")
    radius, std = check_number(radius, "radius", low=0.0), check_positive(std, "std")
    angles = 2.0 * math.pi * xp.arange(n_modes) / n_modes
    means = radius * xp.stack([xp.cos(angles), xp.sin(angles)], axis=1)
    return GaussianMixture(means, std)


class Gibbs:
    """p(x) = Z^-1 exp(-beta U(x)) (Eq. (22), (114)); U maps (n, d) -> (n,). Z is unknown.

    log_prob is the unnormalized -beta U(x) (enough for Metropolis ratios and scores);
    score(x) = -beta grad U(x) (Eq. (117)), differentiated by autograd.  beta: finite, > 0.
    """

    def __init__(self, energy, beta=1.0):
        self.energy = check_callable(energy, "energy", "(n, d) -> (n,)")
        self.beta = check_positive(beta, "beta")
        # rows are independent: the gradient of the sum is the gradient of every row
        self._grad_energy = autograd.grad(lambda x: xp.sum(energy(x)))

    def log_prob(self, x):
        """-beta U(x): (n,), the log-density up to the constant -log Z."""
        x = backend.as_points(x, "x")
        u = self.energy(x)
        if tuple(getattr(u, "shape", ())) != (x.shape[0],):
            raise ValueError(f"energy must map (n, d) -> (n,); got shape "
                             f"{tuple(getattr(u, 'shape', ()))} for x of shape {tuple(x.shape)}")
        return -self.beta * u

    def score(self, x):
        """-beta grad_x U(x): (n, d)."""
        return -self.beta * self._grad_energy(backend.as_points(x, "x"))


def double_well(x, *, barrier=1.0, tilt=0.3):
    """Energy of Fig. 32: two wells at x_1 ~ -1 (deeper for tilt > 0) and x_1 ~ +1, a barrier of
    height ~ `barrier` (> 0) at x_1 = 0.

    U(x) = barrier (x_1^2 - 1)^2 + tilt x_1 + 0.5 |x_{2:}|^2  for x of shape (n, d), d >= 1.
    """
    x = backend.as_points(x, "x")
    barrier, tilt = check_positive(barrier, "barrier"), check_number(tilt, "tilt")
    x1 = x[:, 0]
    rest = xp.sum(x[:, 1:] ** 2, axis=1) if x.shape[1] > 1 else 0.0
    return barrier * (x1 ** 2 - 1.0) ** 2 + tilt * x1 + 0.5 * rest
