"""The three bijections of Glow / RealNVP, each with forward (data -> latent) and inverse.

forward is the normalizing direction T_i^{-1}, inverse the generative T_i; both return the log|det|
of their own Jacobian, so log-dets add along a composition (Eq. (12), (79)).
  affine coupling  z = (x_0, e^{s(x_0)} * x_1 + t(x_0)),  log|det| = sum s(x_0)   Eq. (80)-(82)
  linear mixing    z = W x,  W = P L U,  log|det| = sum log|diag U|              Eq. (83)-(85)
  actnorm          z = e^{a} * x + b,  log|det| = sum a                           Eq. (86)
Notes §5.1.  Dinh et al. 2017 (RealNVP, arXiv:1605.08803); Kingma & Dhariwal 2018 (Glow, arXiv:1807.03039).
A layer holds its params in ``.params``; every method takes ``params=None`` so the same code is a pure
function of a pytree, which autograd differentiates for training.
Shapes: x, z (n, d); log_det (n,).
"""
import math

from minigen import nn
from minigen.backend import xp


class AffineCoupling:
    """Eq. (80): keep x_0 = x[:, keep], move x_1 = x[:, move] by a scale and shift that depend on x_0.

    s = scale_bound * tanh(s_raw / scale_bound) keeps the scale in (e^-bound, e^bound) (stability);
    the conditioner is one MLP x_0 -> (s_raw, t), initialized at zero so the layer starts as the identity.
    ``flip`` swaps the roles of the two halves (alternate it from one layer to the next).
    """

    def __init__(self, dim, rng, hidden=(64, 64), flip=False, scale_bound=3.0, activation="tanh"):
        if int(dim) < 2:
            raise ValueError(f"AffineCoupling: dim={dim} must be >= 2 (a 1-D point has nothing to split)")
        if not scale_bound > 0:
            raise ValueError(f"AffineCoupling: scale_bound={scale_bound} must be > 0")
        self.dim, self.scale_bound, self.activation = int(dim), float(scale_bound), activation
        half, self.flip = self.dim // 2, bool(flip)
        first, second = slice(0, half), slice(half, self.dim)      # slices, not index lists: cheap gradients
        self.keep, self.move = (second, first) if flip else (first, second)
        self.n_move = half if flip else self.dim - half
        sizes = [self.dim - self.n_move, *hidden, 2 * self.n_move]
        self.params = nn.init_mlp(sizes, rng, final_scale=0.0)

    def _scale_shift(self, params, x0):
        out = nn.mlp(params, x0, self.activation)             # (n, 2 d_1)
        m = self.n_move
        s = self.scale_bound * xp.tanh(out[:, :m] / self.scale_bound)   # bounded log-scale
        return s, out[:, m:]

    def forward(self, x, params=None):
        """T^{-1}: (x_0, x_1) -> (x_0, e^{s(x_0)} x_1 + t(x_0)), log|det| = sum_i s_i(x_0)."""
        params = self.params if params is None else params
        x0, x1 = x[:, self.keep], x[:, self.move]
        s, t = self._scale_shift(params, x0)
        z1 = xp.exp(s) * x1 + t                                     # Eq. (80)
        z = xp.concatenate([z1, x0] if self.flip else [x0, z1], axis=1)
        return z, xp.sum(s, axis=1)                                 # Eq. (82)


    def inverse(self, z, params=None):
        """T: (z_0, z_1) -> (z_0, (z_1 - t(z_0)) e^{-s(z_0)}), log|det| = -sum_i s_i(z_0)."""
        params = self.params if params is None else params
        z0, z1 = z[:, self.keep], z[:, self.move]
        s, t = self._scale_shift(params, z0)
        x1 = (z1 - t) * xp.exp(-s)                                  # Eq. (81)
        x = xp.concatenate([x1, z0] if self.flip else [z0, x1], axis=1)
        return x, -xp.sum(s, axis=1)


class LinearMixing:
    """Eq. (83): z = W x with W = P L U (P a fixed permutation, L unit lower, U upper triangular).

    The diagonal of U is sign * e^{log_s}, so log|det W| = sum log_s costs O(d) (Eq. (85), the LU remark);
    it is the 1x1 convolution of Glow on a single 'pixel'. Starts near a random permutation.
    """

    def __init__(self, dim, rng, init_scale=0.3):
        if int(dim) < 1:
            raise ValueError(f"LinearMixing: dim={dim} must be >= 1")
        d = self.dim = int(dim)
        self.perm = xp.argsort(rng.random((d,)))                   # P as an index permutation
        self.lower_mask = xp.tril(xp.ones((d, d)), -1)
        self.params = {"L": init_scale * rng.standard_normal((d, d)) * self.lower_mask,
                       "U": init_scale * rng.standard_normal((d, d)) * self.lower_mask.T,
                       "log_s": xp.zeros(d)}

    def _factors(self, params):
        """L (unit lower triangular) and U (upper, diagonal e^{log_s}) from the free params: (d, d) each."""
        eye = xp.eye(self.dim)
        return (params["L"] * self.lower_mask + eye,
                params["U"] * self.lower_mask.T + eye * xp.exp(params["log_s"]))

    def matrix(self, params=None):
        """W = P L U: (d, d)."""
        L, U = self._factors(self.params if params is None else params)
        return (L @ U)[self.perm]                                   # row permutation = P (L U)

    def forward(self, x, params=None):
        """z = W x (rows: x @ W^T), log|det| = sum log_s, the same for every point."""
        params = self.params if params is None else params
        log_det = xp.sum(params["log_s"]) * xp.ones(x.shape[0])    # Eq. (85): sum of logs
        return x @ self.matrix(params).T, log_det


    def inverse(self, z, params=None):
        """x = W^{-1} z, log|det| = -sum log_s."""
        params = self.params if params is None else params
        x = xp.linalg.solve(self.matrix(params), z.T).T             # Eq. (84)
        return x, -xp.sum(params["log_s"]) * xp.ones(z.shape[0])


class ActNorm:
    """Eq. (86): z = e^{a} * x + b per coordinate; data-dependent init gives z zero mean, unit variance."""

    def __init__(self, dim):
        if int(dim) < 1:
            raise ValueError(f"ActNorm: dim={dim} must be >= 1")
        self.dim = int(dim)
        self.params = {"a": xp.zeros(self.dim), "b": xp.zeros(self.dim)}

    def initialize(self, x):
        """Set a = -log std(x), b = -mean(x)/std(x) on a batch x: (n, d) (Glow's data-dependent init)."""
        std = xp.std(x, axis=0) + 1e-6
        self.params = {"a": -xp.log(std), "b": -xp.mean(x, axis=0) / std}

    def forward(self, x, params=None):
        params = self.params if params is None else params
        z = xp.exp(params["a"]) * x + params["b"]                   # Eq. (86)
        return z, xp.sum(params["a"]) * xp.ones(x.shape[0])


    def inverse(self, z, params=None):
        params = self.params if params is None else params
        x = (z - params["b"]) * xp.exp(-params["a"])
        return x, -xp.sum(params["a"]) * xp.ones(z.shape[0])


def log_normal(z):
    """log N(z; 0, I) per row: (n, d) -> (n,)."""
    return -0.5 * xp.sum(z * z, axis=1) - 0.5 * z.shape[1] * math.log(2.0 * math.pi)
