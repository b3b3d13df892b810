"""Features Phi(x) of an exponential family U_theta = theta . Phi (Eq. 25), with their derivatives.

Each feature map is a small object: __call__(x) -> (n, K), jacobian(x) -> (n, K, d) = grad_x Phi,
laplacian(x) -> (n, K), and n_features K, dim d. The Gaussian case Phi = (x_i, x_i x_j, i <= j)
gives U = (x - mu)^T Sigma^-1 (x - mu) / 2 + const (Eq. 23); radial basis functions
exp(-|x - c_k|^2 / 2w^2) on a grid plus the envelope |x|^2 / 2 give a scalar potential (Eq. 24).
Notes §3.1, Eq. (23)-(25), (33). Hyvarinen 2007 (derivatives used by score matching).
"""
from minigen import backend
from minigen.backend import check_int, check_positive, xp
from minigen.energy.quadrature import grid_points


class GaussianFeatures:
    """Phi(x) = (x_1, ..., x_d, x_i x_j for i <= j): K = d + d (d + 1) / 2 features."""

    def __init__(self, dim=2):
        self.dim = check_int(dim, "dim")
        self.pairs = [(i, j) for i in range(self.dim) for j in range(i, self.dim)]
        self.n_features = self.dim + len(self.pairs)

    def __call__(self, x):
        x = backend.as_points(x, "x", self.dim)
        quad = [x[:, i] * x[:, j] for i, j in self.pairs]
        return xp.concatenate([x, xp.stack(quad, axis=1)], axis=1)        # (n, K)

    def jacobian(self, x):
        """grad_x Phi: (n, K, d); d(x_i x_j)/dx = x_j e_i + x_i e_j."""
        x = backend.as_points(x, "x", self.dim)
        eye = xp.eye(self.dim)
        lin = xp.zeros((x.shape[0], self.dim, self.dim)) + eye            # (n, d, d)
        quad = [x[:, j:j + 1] * eye[i] + x[:, i:i + 1] * eye[j] for i, j in self.pairs]
        return xp.concatenate([lin, xp.stack(quad, axis=1)], axis=1)      # (n, K, d)

    def laplacian(self, x):
        """Laplacian of each feature: 0 for x_i and x_i x_j (i < j), 2 for x_i^2: (n, K)."""
        x = backend.as_points(x, "x", self.dim)
        row = [0.0] * self.dim + [2.0 if i == j else 0.0 for i, j in self.pairs]
        return xp.zeros((x.shape[0], self.n_features)) + xp.asarray(row)

    def initial_theta(self, data):
        """A broad start: the isotropic Gaussian of the data mean and twice its spread: (K,)."""
        data = backend.as_points(data, "data", self.dim)
        var = 4.0 * xp.mean(xp.var(data, axis=0))
        return self.theta_from_gaussian(xp.mean(data, axis=0), var * xp.eye(self.dim))

    def theta_from_gaussian(self, mean, cov):
        """theta with theta . Phi(x) = (x - mean)^T cov^-1 (x - mean) / 2 + const: (K,)."""
        mean = xp.reshape(backend.asarray(mean, "mean"), (self.dim,))
        P = xp.linalg.inv(backend.asarray(cov, "cov"))                    # precision
        quad = [0.5 * P[i, i] if i == j else P[i, j] for i, j in self.pairs]
        return xp.concatenate([-(P @ mean), xp.stack(quad)])             # (K,)

    def gaussian_from_theta(self, theta):
        """(mean (d,), cov (d, d)) of the Gaussian exp(-theta . Phi) / Z (needs P > 0)."""
        theta = backend.to_numpy(backend.asarray(theta, "theta"))
        d = self.dim
        P = [[0.0] * d for _ in range(d)]
        for (i, j), t in zip(self.pairs, theta[d:]):
            P[i][j] = P[j][i] = 2.0 * t if i == j else t
        cov = xp.linalg.inv(xp.asarray(P))
        return cov @ (-xp.asarray(theta[:d])), cov


class RadialBasis:
    """phi_k(x) = exp(-|x - c_k|^2 / (2 width^2)) for centers c_k (M, d), then (envelope=True)
    the confining feature |x|^2 / 2, so that exp(-theta . Phi) is normalizable when its
    coefficient is > 0. K = M (+ 1)."""

    def __init__(self, centers, width, *, envelope=True):
        self.centers = backend.as_points(centers, "centers")              # (M, d)
        self.width = check_positive(width, "width")
        self.envelope = bool(envelope)
        self.dim = self.centers.shape[1]
        self.n_features = self.centers.shape[0] + self.envelope

    @classmethod
    def grid(cls, bounds, m, width=None, *, envelope=True):
        """m x m centers filling the 2D box `bounds`; width defaults to the grid spacing."""
        centers, area = grid_points(bounds, check_int(m, "m", low=2))
        return cls(centers, area ** 0.5 if width is None else width, envelope=envelope)

    def initial_theta(self, data):
        """A broad start: no bumps, envelope coefficient 1 / (4 E|x|^2 / d): (K,)."""
        data = backend.as_points(data, "data", self.dim)
        if not self.envelope:
            raise ValueError("RadialBasis(envelope=False) has no normalizable default start; "
                             "pass theta0")
        c = self.dim / (4.0 * xp.mean(xp.sum(data * data, axis=1)))
        return xp.concatenate([xp.zeros(self.n_features - 1), xp.reshape(c, (1,))])

    def _bumps(self, x):
        diff = x[:, None, :] - self.centers[None, :, :]                   # (n, M, d)
        sq = xp.sum(diff * diff, axis=2)                                  # (n, M)
        return diff, sq, xp.exp(-0.5 * sq / self.width ** 2)

    def __call__(self, x):
        x = backend.as_points(x, "x", self.dim)
        phi = self._bumps(x)[2]
        if not self.envelope:
            return phi
        return xp.concatenate([phi, 0.5 * xp.sum(x * x, axis=1, keepdims=True)], axis=1)

    def jacobian(self, x):
        """grad phi_k = -phi_k (x - c_k) / w^2; grad |x|^2 / 2 = x: (n, K, d)."""
        x = backend.as_points(x, "x", self.dim)
        diff, _, phi = self._bumps(x)
        J = -phi[:, :, None] * diff / self.width ** 2
        return xp.concatenate([J, x[:, None, :]], axis=1) if self.envelope else J

    def laplacian(self, x):
        """Laplacian phi_k = phi_k (|x - c_k|^2 / w^4 - d / w^2); of |x|^2 / 2: d. (n, K)."""
        x = backend.as_points(x, "x", self.dim)
        _, sq, phi = self._bumps(x)
        w2 = self.width ** 2
        L = phi * (sq / w2 ** 2 - self.dim / w2)
        if not self.envelope:
            return L
        return xp.concatenate([L, xp.zeros((x.shape[0], 1)) + float(self.dim)], axis=1)
