"""Coupling flow (Glow / RealNVP in the plane): a stack of actnorm, LU mixing and affine couplings.

T^{-1} = T_1^{-1} o ... o T_k^{-1} maps data to latent (Eq. (9), (70)); with base N(0, I),
    log p(x) = log N(T^{-1}(x); 0, I) + sum_i log|det J_{T_i^{-1}}(z_i)|      Eq. (77), (79)
and training minimizes the empirical NLL  -(1/n) sum_j log p(x_j)  by Adam (Eq. (78)).
Sampling pushes z ~ N(0, I) through T; latent interpolation x_e = T((1 - e) z_0 + e z_1) (Figs. 27-28).
Notes §2.8.1, §4.5, §5.1.  Dinh et al. 2017 (arXiv:1605.08803); Kingma & Dhariwal 2018 (arXiv:1807.03039).
Training differentiates the NLL with autograd (through ``nn.dense``, one node per network layer);
the norm of each gradient is clipped (one outlier batch otherwise stalls Adam for ~1000 steps).
"""

from minigen import backend, nn
from minigen.backend import xp
from minigen.flows.layers import ActNorm, AffineCoupling, LinearMixing, log_normal


def _points(x, name, dim):
    """Checked (n, dim) array of the backend; NaN/inf rejected (traced arrays pass through)."""
    x = backend.as_points(x, name, dim)
    if isinstance(x, backend.active().array_type) and not bool(xp.all(xp.isfinite(x))):
        raise ValueError(f"{name} contains NaN or infinite values (shape {tuple(x.shape)})")
    return x


class CouplingFlow:
    """A composition of layers with forward (data -> latent) and inverse; base N(0, I_d)."""

    def __init__(self, layers, dim):
        self.layers, self.dim = list(layers), int(dim)

    @property
    def params(self):
        """The pytree of all layer params (a list, one entry per layer)."""
        return [layer.params for layer in self.layers]

    @params.setter
    def params(self, values):
        for layer, p in zip(self.layers, values):
            layer.params = p

    def forward(self, x, params=None):
        """z = T^{-1}(x) and log|det J_{T^{-1}}(x)|: (n, d) -> ((n, d), (n,)). Log-dets add, Eq. (79)."""
        params = self.params if params is None else params
        z, log_det = _points(x, "x", self.dim), 0.0
        for layer, p in zip(self.layers, params):
            z, ld = layer.forward(z, p)
            log_det = log_det + ld
        return z, log_det

    def inverse(self, z, params=None):
        """x = T(z) and log|det J_T(z)|, the layers undone in reverse order (Eq. (70))."""
        params = self.params if params is None else params
        x, log_det = _points(z, "z", self.dim), 0.0
        for layer, p in reversed(list(zip(self.layers, params))):
            x, ld = layer.inverse(x, p)
            log_det = log_det + ld
        return x, log_det

    def log_prob(self, x, params=None):
        """log p(x) = log N(T^{-1}(x)) + log|det J_{T^{-1}}(x)|: (n, d) -> (n,), Eq. (77)."""
        z, log_det = self.forward(x, params)
        return log_normal(z) + log_det

    def nll(self, x):
        """Mean negative log-likelihood in nats on the points x: Eq. (78)."""
        return -float(xp.mean(self.log_prob(x)))


    def sample(self, n, rng):
        """n points x = T(z), z ~ N(0, I): (n, d)."""
        if int(n) < 1:
            raise ValueError(f"n must be >= 1; got {n}")
        return self.inverse(rng.standard_normal((int(n), self.dim)))[0]

    def interpolate(self, x_start, x_end, n_points=9):
        """Path between two points through the latent space: x_e = T((1 - e) z_start + e z_end).

        x_start, x_end: (d,) or (1, d). Returns (x_path (n_points, d), z_path (n_points, d)), Figs. 27-28.
        """
        if int(n_points) < 2:
            raise ValueError(f"n_points must be >= 2; got {n_points}")
        ends = xp.concatenate([xp.reshape(backend.asarray(x_start, "x_start"), (1, -1)),
                               xp.reshape(backend.asarray(x_end, "x_end"), (1, -1))], axis=0)
        z_ends = self.forward(ends)[0]                                        # (2, d)
        eps = xp.linspace(0.0, 1.0, int(n_points))[:, None]
        z_path = (1.0 - eps) * z_ends[0] + eps * z_ends[1]                    # straight line in latent space
        return self.inverse(z_path)[0], z_path


def make_coupling_flow(dim, rng, n_blocks=8, hidden=(64, 64), scale_bound=3.0, activation="relu",
                       init_data=None):
    """A Glow-style stack: n_blocks x [actnorm, LU mixing, affine coupling], couplings alternating halves.

    init_data (n, d): if given, each actnorm is initialized on the data as it arrives at that layer.
    """
    dim = int(dim)
    if dim < 2:
        raise ValueError(f"dim={dim}: a coupling flow needs d >= 2 (a 1-D point has nothing to split)")
    if int(n_blocks) < 1:
        raise ValueError(f"n_blocks must be >= 1; got {n_blocks}")
    layers = []
    for k in range(int(n_blocks)):
        layers += [ActNorm(dim), LinearMixing(dim, rng),
                   AffineCoupling(dim, rng, hidden, bool(k % 2), scale_bound, activation)]
    flow = CouplingFlow(layers, dim)
    if init_data is not None:
        h = _points(init_data, "init_data", dim)
        for layer in layers:
            if isinstance(layer, ActNorm):
                layer.initialize(h)
            h = layer.forward(h)[0]
    return flow


def train_coupling_flow(data, rng, *, n_blocks=12, hidden=(32, 32), n_steps=2000, batch_size=1024,
                        lr=1e-2, clip=10.0, scale_bound=3.0, activation="relu", callback=None,
                        progress=None):
    """Fit a coupling flow to data (n, d) by minimizing the NLL of Eq. (78) with Adam (cosine schedule).

    Returns the trained CouplingFlow with ``.history`` (the minibatch NLL of every step). The
    gradient is autograd's, its norm clipped to ``clip`` (None: no clipping): rare batches with
    gradient norms 10-50x the median otherwise inflate Adam's v, and learning stalls for ~1000
    steps.
    With the defaults on polygon_blobs(8, 2.0, 0.3) (~45 s on a 2-core CPU) the NLL on fresh points
    is within 0.055-0.077 nats of the entropy over training seeds 0-5 (aim 0.1; README).
    """
    data = _points(data, "data", None)
    if data.shape[1] < 2:
        raise ValueError(f"data has dimension d={data.shape[1]}: a coupling flow needs d >= 2")
    if data.shape[0] < 2:
        raise ValueError(f"data needs at least 2 points; got {data.shape[0]}")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}")
    init = data[rng.integers(0, data.shape[0], size=(min(4096, data.shape[0]),))]
    flow = make_coupling_flow(data.shape[1], rng, n_blocks, hidden, scale_bound, activation, init_data=init)

    def nll(params, step):                                      # Eq. (78) on a minibatch
        return -xp.mean(flow.log_prob(nn.minibatch(data, batch_size, rng), params))

    schedule = nn.cosine_lr(lr, n_steps, warmup=min(100, int(n_steps) // 10))
    flow.params, flow.history = nn.train(nll, flow.params, n_steps, lr=schedule, callback=callback,
                                         name="coupling flow NLL", clip=clip, progress=progress)
    return flow
