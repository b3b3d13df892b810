"""The three bijections of Glow / RealNVP, each with forward (data -> latent) and inverse.

forward is the normalizing direction T_i^{-1}, inverse the generative T_i; both return the
log|det| of their own Jacobian, so log-dets add along a composition (Eq. (12), (79)).
  affine coupling  z = (x_0, e^{s(x_0)} * x_1 + t(x_0)),  log|det| = sum s(x_0)   Eq. (80)-(82)
  linear mixing    z = W x,  W = P L U,  log|det| = sum log|diag U|              Eq. (83)-(85)
  actnorm          z = e^{a} * x + b,  log|det| = sum a                           Eq. (86)
Notes §5.1.  Dinh et al. 2017 (RealNVP, arXiv:1605.08803); Kingma & Dhariwal 2018 (Glow,
arXiv:1807.03039). A layer holds its params in ``.params``; every method takes ``params=None``
so the same code is a pure function of a pytree, which autograd differentiates for training.
``config()`` gives the JSON settings that rebuild the layer (``minigen.io``).
Shapes: x, z (n, d); log_det (n,). The argument checks both flows share close the module.
"""
import math


from minigen import backend, nn
from minigen.backend import xp


class AffineCoupling:
    """Eq. (80): keep x_0 = x[:, keep], move x_1 = x[:, move] by a scale and shift of x_0.

    s = scale_bound * tanh(s_raw / scale_bound) keeps the scale in (e^-bound, e^bound)
    (stability); the conditioner is one MLP x_0 -> (s_raw, t), initialized at zero so the layer
    starts as the identity. ``flip`` swaps the roles of the two halves (alternate it from one
    layer to the next).
    """

    def __init__(self, dim, rng, *, hidden=(64, 64), flip=False, scale_bound=3.0,
                 activation="tanh"):
        # d >= 2: a 1-D point has nothing to split
        self.dim = backend.check_int(dim, "dim", low=2)
        backend.check_rng(rng)
        self.hidden = backend.check_widths(hidden, "hidden")
        self.flip = backend.check_flag(flip, "flip")
        self.scale_bound = backend.check_positive(scale_bound, "scale_bound")
        self.activation = backend.check_choice(activation, "activation", nn.ACTIVATIONS)
        half = self.dim // 2
        # slices, not index lists: cheap gradients
        first, second = slice(0, half), slice(half, self.dim)
        self.keep, self.move = (second, first) if self.flip else (first, second)
        self.n_move = half if self.flip else self.dim - half
        sizes = [self.dim - self.n_move, *self.hidden, 2 * self.n_move]
        self.params = nn.init_mlp(sizes, rng, final_scale=0.0)

    def config(self):
        return {"kind": "AffineCoupling", "dim": self.dim, "hidden": list(self.hidden),
                "flip": self.flip, "scale_bound": self.scale_bound, "activation": self.activation}

    def _scale_shift(self, params, x0):
        out = nn.mlp(params, x0, self.activation)                          # (n, 2 d_1)
        m = self.n_move
        s = self.scale_bound * xp.tanh(out[:, :m] / self.scale_bound)      # |s| < bound
        return s, out[:, m:]

    def forward(self, x, params=None):
        """T^{-1}: (x_0, x_1) -> (x_0, e^{s(x_0)} x_1 + t(x_0)), log|det| = sum_i s_i(x_0)."""
        params = self.params if params is None else params
        x0, x1 = x[:, self.keep], x[:, self.move]
        s, t = self._scale_shift(params, x0)
        z1 = xp.exp(s) * x1 + t                                            # Eq. (80)
        z = xp.concatenate([z1, x0] if self.flip else [x0, z1], axis=1)
        return z, xp.sum(s, axis=1)                                        # Eq. (82)

    def inverse(self, z, params=None):
        """T: (z_0, z_1) -> (z_0, (z_1 - t(z_0)) e^{-s(z_0)}), log|det| = -sum_i s_i(z_0)."""
        params = self.params if params is None else params
        z0, z1 = z[:, self.keep], z[:, self.move]
        s, t = self._scale_shift(params, z0)
        x1 = (z1 - t) * xp.exp(-s)                                         # Eq. (81)
        x = xp.concatenate([x1, z0] if self.flip else [z0, x1], axis=1)
        return x, -xp.sum(s, axis=1)


class LinearMixing:
    """Eq. (83): z = W x with W = P L U (P a fixed permutation, L unit lower, U upper triangular).

    The diagonal of U is e^{log_s}, so log|det W| = sum log_s costs O(d) (Eq. (85), the LU
    remark); it is the 1x1 convolution of Glow on a single 'pixel'. Starts near a random
    permutation (L, U off-diagonal entries N(0, init_scale^2)); ``perm`` fixes P instead.
    """

    def __init__(self, dim, rng, *, init_scale=0.3, perm=None):
        d = self.dim = backend.check_int(dim, "dim")
        backend.check_rng(rng)
        self.init_scale = backend.check_number(init_scale, "init_scale", low=0.0)
        if perm is None:
            self.perm = xp.argsort(rng.random((d,)))                       # P as an index array
        elif sorted(int(i) for i in perm) != list(range(d)):
            raise ValueError(f"perm must be a permutation of 0..{d - 1}; got perm={perm!r}")
        else:
            self.perm = xp.asarray([int(i) for i in perm], dtype=int)
        self.lower_mask = xp.tril(xp.ones((d, d)), -1)
        scale = self.init_scale
        self.params = {"L": scale * rng.standard_normal((d, d)) * self.lower_mask,
                       "U": scale * rng.standard_normal((d, d)) * self.lower_mask.T,
                       "log_s": xp.zeros(d)}

    def config(self):
        perm = [int(i) for i in backend.to_numpy(self.perm)]
        return {"kind": "LinearMixing", "dim": self.dim, "init_scale": self.init_scale,
                "perm": perm}

    def _factors(self, params):
        """L (unit lower triangular), U (upper, diagonal e^{log_s}) from the params: (d, d)."""
        eye = xp.eye(self.dim)
        return (params["L"] * self.lower_mask + eye,
                params["U"] * self.lower_mask.T + eye * xp.exp(params["log_s"]))

    def matrix(self, params=None):
        """W = P L U: (d, d)."""
        L, U = self._factors(self.params if params is None else params)
        return (L @ U)[self.perm]                                          # P (L U), Eq. (83)

    def forward(self, x, params=None):
        """z = W x (rows: x @ W^T), log|det| = sum log_s, the same for every point."""
        params = self.params if params is None else params
        log_det = xp.sum(params["log_s"]) * xp.ones(x.shape[0])           # Eq. (85)
        return x @ self.matrix(params).T, log_det

    def inverse(self, z, params=None):
        """x = W^{-1} z, log|det| = -sum log_s."""
        params = self.params if params is None else params
        x = xp.linalg.solve(self.matrix(params), z.T).T                    # Eq. (84)
        return x, -xp.sum(params["log_s"]) * xp.ones(z.shape[0])


class ActNorm:
    """Eq. (86): z = e^{a} * x + b per coordinate; ``initialize`` on data gives z mean 0, var 1."""

    def __init__(self, dim):
        self.dim = backend.check_int(dim, "dim")
        self.params = {"a": xp.zeros(self.dim), "b": xp.zeros(self.dim)}

    def config(self):
        return {"kind": "ActNorm", "dim": self.dim}

    def initialize(self, x, name="x"):
        """a = -log std(x), b = -mean(x)/std(x) on x (n, d): Glow's data-dependent init."""
        x = backend.as_points(x, name, self.dim)
        std = xp.std(x, axis=0)
        if not bool(xp.all(std > 0)):
            raise ValueError(f"{name} has a constant coordinate (std = {backend.to_numpy(std)}): "
                             "an actnorm cannot scale it to unit variance")
        std = std + 1e-6
        self.params = {"a": -xp.log(std), "b": -xp.mean(x, axis=0) / std}

    def forward(self, x, params=None):
        params = self.params if params is None else params
        z = xp.exp(params["a"]) * x + params["b"]                          # Eq. (86)
        return z, xp.sum(params["a"]) * xp.ones(x.shape[0])

    def inverse(self, z, params=None):
        params = self.params if params is None else params
        x = (z - params["b"]) * xp.exp(-params["a"])
        return x, -xp.sum(params["a"]) * xp.ones(z.shape[0])


def log_normal(z):
    """log N(z; 0, I) per row: (n, d) -> (n,)."""
    return -0.5 * xp.sum(z * z, axis=1) - 0.5 * z.shape[1] * math.log(2.0 * math.pi)


def check_vector(v, name, d, positive=False):
    """``v`` as a finite (d,) array of the backend (> 0 everywhere if ``positive``)."""
    v = backend.check_finite(backend.asarray(v, name), name)
    if tuple(v.shape) != (d,):
        raise ValueError(f"{name} must have shape ({d},); got shape {tuple(v.shape)}")
    if positive and not bool(xp.all(v > 0)):
        raise ValueError(f"{name} must be > 0; got {name}={backend.to_numpy(v)}")
    return v


def check_training(data, rng, n_steps, batch_size, lr, clip, callback, progress):
    """The checks of a flow trainer's arguments: (data (n, d) with n >= 2, rng, n_steps,
    batch_size, lr) converted; clip (None or > 0), callback, progress (None or a bool) checked."""
    data = backend.as_points(data, "data")
    if data.shape[0] < 2:
        raise ValueError(f"data needs at least 2 points; got {data.shape[0]}")
    if not bool(xp.all(xp.std(data, axis=0) > 0)):
        raise ValueError("data has a constant coordinate, so no density in R^d "
                         f"(std = {backend.to_numpy(xp.std(data, axis=0))})")
    backend.check_optional(backend.check_positive, clip, "clip")
    backend.check_optional(backend.check_callable, callback, "callback", "(step, params, loss)")
    backend.check_progress(progress)
    return (data, backend.check_rng(rng), backend.check_int(n_steps, "n_steps"),
            backend.check_int(batch_size, "batch_size"), backend.check_positive(lr, "lr"))


count_bad_rows = backend.count_bad_rows
