"""The phi^4 lattice field: the Gibbs energy of statistical physics the course samples.

S(phi) = sum_x [-2 kappa sum_mu phi_x phi_(x+mu) + (1 - 2 lam) phi_x^2 + lam phi_x^4] on a
periodic L x L lattice (mu the two unit steps), p ∝ exp(-S) (notes §3.1, Eq. (22), (25): S is
an exponential family in Phi = (sum phi^2, sum phi^4, sum phi phi'), linear in (1 - 2 lam, lam,
-2 kappa)). Free field lam = 0: <|phi_k|^2> / V = 1 / (2 (1 - 2 kappa (cos k1 + cos k2))),
critical at kappa = 1/4; lam > 0 orders (|M| > 0) past kappa_c(lam).  Wolff 1989 (the
normalization); Albergo, Kanwar & Shanahan 2019, arXiv:1904.12072.

Fields are flat: phi (n, V), V = L * L, site x = (i, j) at column i * L + j (the samplers'
(n, d) contract); `field(phi)` gives the (n, L, L) view.
"""
import math

from minigen import backend
from minigen.backend import check_int, check_number, xp
from minigen.metrics import integrated_autocorr_time


class Phi4:
    """The phi^4 action on a periodic size x size lattice, a target for the samplers of mcmc.

    energy(phi) = S(phi) (n,), log_prob = -S, score = -grad S (n, V); phi: (n, V), V = size^2.
    kappa: the hopping parameter (any real; the free field, lam = 0, exists only for
    kappa < 1/4); lam >= 0: the quartic coupling.
    """

    def __init__(self, size, kappa, lam):
        self.size = check_int(size, "size", 2)
        self.kappa = check_number(kappa, "kappa")
        self.lam = check_number(lam, "lam", 0.0)
        if self.lam == 0 and not abs(self.kappa) < 0.25:
            raise ValueError("the free field (lam=0) is normalizable only for |kappa| < 1/4 "
                             f"(every mode's mass 2 (1 - 2 kappa (cos k1 + cos k2)) > 0); got "
                             f"kappa={kappa}")
        self.volume = self.size ** 2

    def field(self, phi):
        """phi (n, V) -> (n, L, L); the shape is checked, not finiteness (a sampler's guard
        reports NaN where it appears)."""
        phi = backend.as_points(phi, "phi", self.volume, finite=False)
        return phi.reshape(phi.shape[0], self.size, self.size)

    def energy(self, phi):
        """S(phi): (n, V) -> (n,)."""
        f = self.field(phi)
        hop = f * (xp.roll(f, -1, axis=1) + xp.roll(f, -1, axis=2))       # phi_x sum_mu phi_x+mu
        f2 = f * f
        site = -2.0 * self.kappa * hop + (1.0 - 2.0 * self.lam) * f2 + self.lam * f2 * f2
        return xp.sum(site.reshape(f.shape[0], -1), axis=1)

    def log_prob(self, phi):
        """-S(phi) (n,): log p up to log Z."""
        return -self.energy(phi)

    def score(self, phi):
        """-grad S: (n, V) -> (n, V); dS/dphi_x = -2 kappa sum_mu (phi_x+mu + phi_x-mu)
        + 2 (1 - 2 lam) phi_x + 4 lam phi_x^3."""
        f = self.field(phi)
        nbrs = sum(xp.roll(f, s, axis=a) for a in (1, 2) for s in (1, -1))   # 4 neighbours
        grad = -2.0 * self.kappa * nbrs + 2.0 * (1.0 - 2.0 * self.lam) * f \
            + 4.0 * self.lam * f * f * f
        return -grad.reshape(f.shape[0], self.volume)

    def features(self, phi):
        """Phi(phi) = (sum phi^2, sum phi^4, sum_x sum_mu phi_x phi_x+mu): (n, V) -> (n, 3), with
        S = (1 - 2 lam) Phi_1 + lam Phi_2 - 2 kappa Phi_3 (Eq. 25)."""
        return phi4_features(self.field(phi))


def phi4_features(f):
    """(n, L, L) fields -> (n, 3): sum phi^2, sum phi^4, sum_x sum_mu phi_x phi_x+mu."""
    n = f.shape[0]
    f2 = f * f
    hop = f * (xp.roll(f, -1, axis=1) + xp.roll(f, -1, axis=2))
    return xp.stack([xp.sum(a.reshape(n, -1), axis=1) for a in (f2, f2 * f2, hop)], axis=1)


def magnetization(phi):
    """m = (1/V) sum_x phi_x per field: (..., V) -> (...)."""
    return xp.mean(backend.asarray(phi, "phi"), axis=-1)


def observables(phi):
    """The order parameter and its fluctuations from samples phi (n_samples, V) (or
    (n_steps, n_chains, V), pooled), m = magnetization:
    abs_m = <|m|>; chi = V (<m^2> - <|m|>^2), the susceptibility, peaked at the transition (on a
    finite lattice |m| replaces m, whose mean is 0 by symmetry); binder = <m^4> / <m^2>^2, 3 for
    a Gaussian m (disordered), 1 in the ordered phase. Returns a dict of floats."""
    phi = backend.asarray(phi, "phi")
    V = phi.shape[-1]
    m = magnetization(phi).reshape(-1)
    m2, m4, am = (float(backend.to_numpy(xp.mean(a))) for a in (m * m, m ** 4, xp.abs(m)))
    return {"abs_m": am, "chi": V * (m2 - am * am), "binder": m4 / m2 ** 2}


def spectrum(phi, size):
    """<|phi_k|^2> / V over the samples, phi_k = sum_x phi_x exp(-i k.x) (the unnormalized DFT),
    k = 2 pi (a, b) / L: phi (..., V) -> (L, L), indexed like numpy.fft.fft2."""
    phi = backend.asarray(phi, "phi")
    L = check_int(size, "size", 2)
    f = phi.reshape(-1, L, L)
    power = xp.abs(xp.fft.fft2(f, axes=(1, 2))) ** 2                   # (n, L, L)
    return xp.mean(power, axis=0) / (L * L)


def free_spectrum(size, kappa):
    """The free field's <|phi_k|^2> / V = 1 / (2 (1 - 2 kappa (cos k1 + cos k2))): (L, L), the
    inverse of the quadratic form S = phi^T A phi in Fourier, indexed like numpy.fft.fft2."""
    L = check_int(size, "size", 2)
    kappa = check_number(kappa, "kappa", -0.25, 0.25, low_open=True, high_open=True)
    k = 2.0 * math.pi * xp.arange(L) / L
    c = xp.cos(k)
    return 1.0 / (2.0 * (1.0 - 2.0 * kappa * (c[:, None] + c[None, :])))


def tau_abs_m(samples):
    """Integrated autocorrelation time of |m| in steps, from samples (n_steps, n_chains, V):
    the chains' slowest observable near kappa_c (critical slowing down). metrics' estimator."""
    return integrated_autocorr_time(xp.abs(magnetization(backend.asarray(samples, "samples"))))
