"""Coupling flow (Glow / RealNVP in the plane): a stack of actnorm, LU mixing and affine couplings.

T^{-1} = T_1^{-1} o ... o T_k^{-1} maps data to latent (Eq. (9), (70)); with base N(0, I),
    log p(x) = log N(T^{-1}(x); 0, I) + sum_i log|det J_{T_i^{-1}}(z_i)|      Eq. (77), (79)
and training minimizes the empirical NLL  -(1/n) sum_j log p(x_j)  by Adam (Eq. (78)).
Sampling pushes z ~ N(0, I) through T; latent interpolation x_e = T((1 - e) z_0 + e z_1)
(Figs. 27-28). Notes §2.8.1, §4.5, §5.1.  Dinh et al. 2017 (arXiv:1605.08803); Kingma &
Dhariwal 2018 (arXiv:1807.03039). Training differentiates the NLL with autograd (through
``nn.dense``, one node per network layer); the norm of each gradient is clipped (one outlier
batch otherwise stalls Adam for ~1000 steps).
"""

from minigen import backend, io, nn
from minigen.backend import xp
from minigen.flows.layers import (ActNorm, AffineCoupling, LinearMixing, check_training,
                                  count_bad_rows, log_normal)

LAYERS = {"ActNorm": ActNorm, "LinearMixing": LinearMixing, "AffineCoupling": AffineCoupling}


@io.register
class CouplingFlow:
    """A composition of layers with forward (data -> latent) and inverse; base N(0, I_d)."""

    def __init__(self, layers, dim):
        self.layers, self.dim = list(layers), backend.check_int(dim, "dim", low=2)
        for i, layer in enumerate(self.layers):
            if getattr(layer, "dim", None) != self.dim:
                raise ValueError(f"layers[{i}] must be a flow layer of dimension {self.dim}; "
                                 f"got {type(layer).__name__}")
        self.history = []

    @property
    def params(self):
        """The pytree of all layer params (a list, one entry per layer)."""
        return [layer.params for layer in self.layers]

    @params.setter
    def params(self, values):
        for layer, p in zip(self.layers, values):
            layer.params = p

    def state(self):
        """For minigen.io: each layer's settings (and the training history); the layer params."""
        config = {"dim": self.dim, "layers": [layer.config() for layer in self.layers],
                  "history": [float(v) for v in self.history]}
        return config, self.params

    @classmethod
    def from_state(cls, config, params):
        # the layers draw initial params from rng; they are replaced by the saved ones
        rng, layers = backend.rng(0), []
        for c in config["layers"]:
            kw = {k: v for k, v in c.items() if k not in ("kind", "dim")}
            rest = () if c["kind"] == "ActNorm" else (rng,)
            layers.append(LAYERS[c["kind"]](c["dim"], *rest, **kw))
        flow = cls(layers, config["dim"])
        flow.params, flow.history = params, list(config["history"])
        return flow

    def forward(self, x, params=None):
        """z = T^{-1}(x), log|det J_{T^{-1}}(x)|: (n, d) -> ((n, d), (n,)); log-dets add (79)."""
        z, log_det = backend.as_points(x, "x", self.dim), 0.0
        for layer, p in zip(self.layers, self._params(params)):
            z, ld = layer.forward(z, p)
            log_det = log_det + ld
        return z, log_det

    def inverse(self, z, params=None):
        """x = T(z) and log|det J_T(z)|, the layers undone in reverse order (Eq. (70))."""
        x, log_det = backend.as_points(z, "z", self.dim), 0.0
        for layer, p in reversed(list(zip(self.layers, self._params(params)))):
            x, ld = layer.inverse(x, p)
            log_det = log_det + ld
        return x, log_det

    def _params(self, params):
        if params is None:
            return self.params
        if not isinstance(params, (list, tuple)) or len(params) != len(self.layers):
            raise ValueError(f"params must be a list of {len(self.layers)} layer params "
                             "(as flow.params)")
        return params

    def log_prob(self, x, params=None):
        """log p(x) = log N(T^{-1}(x)) + log|det J_{T^{-1}}(x)|: (n, d) -> (n,), Eq. (77)."""
        z, log_det = self.forward(x, params)
        return log_normal(z) + log_det

    def nll(self, x):
        """Mean negative log-likelihood in nats on the points x: Eq. (78)."""
        return -float(xp.mean(self.log_prob(x)))

    def sample(self, n, rng):
        """n points x = T(z), z ~ N(0, I): (n, d)."""
        n, rng = backend.check_int(n, "n"), backend.check_rng(rng)
        try:
            x = self.inverse(rng.standard_normal((n, self.dim)))[0]
            bad = count_bad_rows(x)
        except xp.linalg.LinAlgError:
            bad = n                                         # W = P L U holds NaN or inf
        if bad:
            raise FloatingPointError(f"CouplingFlow.sample: {bad} of {n} samples are NaN or inf: "
                                     "the flow's parameters overflow (a diverged training?)")
        return x

    def interpolate(self, x_start, x_end, *, n_points=9):
        """Path between two points through the latent space: x_e = T((1 - e) z_start + e z_end).

        x_start, x_end: (d,) or (1, d). Returns (x_path (n_points, d), z_path (n_points, d)),
        Figs. 27-28.
        """
        n_points = backend.check_int(n_points, "n_points", low=2)
        ends = [backend.as_points(xp.reshape(backend.asarray(x, name), (1, -1)), name, self.dim)
                for x, name in ((x_start, "x_start"), (x_end, "x_end"))]
        z_ends = self.forward(xp.concatenate(ends, axis=0))[0]                 # (2, d)
        eps = xp.linspace(0.0, 1.0, n_points)[:, None]
        z_path = (1.0 - eps) * z_ends[0] + eps * z_ends[1]                     # Figs. 27-28
        return self.inverse(z_path)[0], z_path


def make_coupling_flow(dim, rng, *, n_blocks=8, hidden=(64, 64), scale_bound=3.0,
                       activation="relu", init_data=None):
    """A Glow-style stack: n_blocks x [actnorm, LU mixing, affine coupling], couplings alternating.

    init_data (n, d): if given, each actnorm is initialized on the data as it arrives at it.
    """
    # d >= 2: a 1-D point has nothing to split
    dim = backend.check_int(dim, "dim", low=2)
    backend.check_rng(rng)
    layers = []
    for k in range(backend.check_int(n_blocks, "n_blocks")):
        layers += [ActNorm(dim), LinearMixing(dim, rng),
                   AffineCoupling(dim, rng, hidden=hidden, flip=k % 2 == 1,
                                  scale_bound=scale_bound, activation=activation)]
    flow = CouplingFlow(layers, dim)
    if init_data is not None:
        h = backend.as_points(init_data, "init_data", dim)
        for i, layer in enumerate(layers):
            if isinstance(layer, ActNorm):
                layer.initialize(h, "init_data" if i == 0 else f"init_data at layer {i}")
            h = layer.forward(h)[0]
    return flow


def train_coupling_flow(data, rng, *, n_blocks=12, hidden=(32, 32), n_steps=2000,
                        batch_size=1024, lr=1e-2, clip=10.0, scale_bound=3.0, activation="relu",
                        callback=None, progress=None):
    """Fit a coupling flow to data (n, d) by minimizing the NLL of Eq. (78) with Adam (cosine lr).

    Returns the trained CouplingFlow with ``.history`` (the minibatch NLL of every step). The
    gradient is autograd's, its norm clipped to ``clip`` (None: no clipping): rare batches with
    gradient norms 10-50x the median otherwise inflate Adam's v, and learning stalls for ~1000
    steps. The defaults fit the course's blobs, polygon_blobs(8, 2.0, 0.3), to within 0.1 nats of
    their entropy in about 45 s on a 2-core CPU (README, training table).
    """
    data, rng, n_steps, batch_size, lr = check_training(data, rng, n_steps, batch_size, lr, clip,
                                                        callback, progress)
    if data.shape[1] < 2:
        raise ValueError(f"data has dimension d={data.shape[1]}: a coupling flow needs d >= 2")
    # the actnorms start on a bootstrap sample of the data (4096 points at most)
    init = data[rng.integers(0, data.shape[0], size=(min(4096, data.shape[0]),))]
    flow = make_coupling_flow(data.shape[1], rng, n_blocks=n_blocks, hidden=hidden,
                              scale_bound=scale_bound, activation=activation, init_data=init)

    def nll(params, step):                                  # Eq. (78) on a minibatch
        return -xp.mean(flow.log_prob(nn.minibatch(data, batch_size, rng), params))

    schedule = nn.cosine_lr(lr, n_steps, warmup=min(100, n_steps // 10))
    flow.params, flow.history = nn.train(nll, flow.params, n_steps, lr=schedule,
                                         callback=callback, name="coupling flow NLL", clip=clip,
                                         progress=progress)
    return nn.check_model(flow, "train_coupling_flow")
