"""Hamiltonian flow: a volume-preserving flow in phase space (q, p), leapfrog steps of a learned
H = V(q) + K(p).

One leapfrog step of size eps (half kick, drift, half kick):
    p <- p - (eps/2) grad V(q),   q <- q + eps grad K(p),   p <- p - (eps/2) grad V(q)
is a composition of three shears, so det J = 1 (log|det J| = 0 in Eq. (12)), it is symplectic,
and running it with -eps undoes it exactly. Base N(0, I_2d) -> actnorm -> [leapfrog block,
actnorm] x B gives log p(q, p) by Eq. (77) with only the actnorm log-dets (per-coordinate
scales, Eq. (86)); the data density is bounded by an ELBO over p,
    log p(q) >= E_{p ~ r(p|q)} [log p(q, p) - log r(p|q)],   r = N(mu(q), C(q) C(q)^T),
an MLP of q giving the mean and the lower-triangular factor C (full covariance: the model's
p(p|q) is tilted, a diagonal r is not). Notes §2.8.1, §4.5 (Eq. (10)-(12), (77)); Toth et al.
2020 (Hamiltonian Generative Networks and Neural Hamiltonian Flows, arXiv:1909.13789); Burda
et al. 2016 (importance-weighted bound, arXiv:1509.00519).
"""
from minigen import backend, io, nn
from minigen.backend import xp
from minigen.backend import check_flag, check_widths
from minigen.ode import leapfrog  # noqa: F401  (one copy, shared with HMC)
from minigen.flows.layers import ActNorm, check_training, check_vector, count_bad_rows, log_normal

SETTINGS = ("n_blocks", "n_leapfrog", "step_size", "hidden", "r_hidden", "init_scale",
            "quadratic_kinetic", "block_scale")


@io.register
class HamiltonianFlow:
    """Phase-space flow on (q, p) in R^{2d}; data q are standardized by (mean, std) of the model.

    params: {"V": [mlp], "K": [mlp] (one Hamiltonian per block), "pre", "post": actnorm on the
    2d coordinates, "mid": [actnorm] between blocks (empty if block_scale is False),
    "r": mlp q -> (mean, log diag C, below-diagonal C) of r(p|q)}.
    H_b(q, p) = V_b(q) + |p|^2/2 + K_b(p) (|p|^2/2 dropped if quadratic_kinetic is False);
    V_b, K_b start with their last layer scaled by init_scale.
    """

    def __init__(self, dim, rng, *, n_blocks=4, n_leapfrog=2, step_size=0.5, hidden=(64, 64),
                 r_hidden=(64,), init_scale=1.0, quadratic_kinetic=True, block_scale=True,
                 mean=None, std=None):
        d = self.dim = backend.check_int(dim, "dim")
        backend.check_rng(rng)
        self.n_blocks = backend.check_int(n_blocks, "n_blocks")
        self.n_leapfrog = backend.check_int(n_leapfrog, "n_leapfrog")
        self.step_size = backend.check_positive(step_size, "step_size")
        self.hidden = check_widths(hidden, "hidden")
        self.r_hidden = check_widths(r_hidden, "r_hidden")
        self.init_scale = backend.check_number(init_scale, "init_scale", low=0.0)
        self.quadratic_kinetic = check_flag(quadratic_kinetic, "quadratic_kinetic")
        self.block_scale = check_flag(block_scale, "block_scale")
        self.mean = xp.zeros(d) if mean is None else check_vector(mean, "mean", d)
        self.std = xp.ones(d) if std is None else check_vector(std, "std", d, positive=True)
        self.history, self._act, B = [], ActNorm(2 * d), self.n_blocks

        def scale():
            return {"a": xp.zeros(2 * d), "b": xp.zeros(2 * d)}
        self.params = {
            "V": [nn.init_mlp([d, *self.hidden, 1], rng, self.init_scale) for _ in range(B)],
            "K": [nn.init_mlp([d, *self.hidden, 1], rng, self.init_scale) for _ in range(B)],
            "pre": scale(), "post": scale(),
            "mid": [scale() for _ in range(B - 1)] if self.block_scale else [],
            "r": nn.init_mlp([d, *self.r_hidden, 2 * d + d * (d - 1) // 2], rng, final_scale=0.1)}
        # C's m = d(d-1)/2 entries below the diagonal, row by row: (e @ pick)_k = e_{j_k} and
        # v @ place adds v_k to row i_k, so C e = diag(C) e + (below * (e @ pick)) @ place
        below = [(i, j) for i in range(d) for j in range(i)]
        self._pick = xp.eye(d)[:, [j for _, j in below]]        # (d, m)
        self._place = xp.eye(d)[[i for i, _ in below]]          # (m, d)

    def state(self):
        """For minigen.io: the settings (and training history); params, mean and std."""
        config = {"dim": self.dim, **{k: getattr(self, k) for k in SETTINGS},
                  "history": [float(v) for v in self.history]}
        return config, {"flow": self.params, "mean": self.mean, "std": self.std}

    @classmethod
    def from_state(cls, config, params):
        flow = cls(config["dim"], backend.rng(0), **{k: config[k] for k in SETTINGS},
                   mean=params["mean"], std=params["std"])
        flow.params, flow.history = params["flow"], list(config["history"])
        return flow

    def forces(self, b, params=None):
        """(grad V_b, grad K_b) of block b's H_b: functions (n, d) -> (n, d)."""
        params, c = params or self.params, 1.0 if self.quadratic_kinetic else 0.0
        pv, pk = params["V"][b], params["K"][b]
        return (lambda q: nn.input_gradient(pv, q)), (lambda p: c * p + nn.input_gradient(pk, p))

    def _pieces(self, params):
        """The flow in the generative order: ("scale", actnorm params), ("leapfrog", forces)."""
        yield "scale", params["pre"]
        for b in range(self.n_blocks):
            if b > 0 and params["mid"]:
                yield "scale", params["mid"][b - 1]
            yield "leapfrog", self.forces(b, params)
        yield "scale", params["post"]

    def _apply(self, y, piece, direction, n_steps=None):
        """One piece on y (n, 2d), generative (direction 1) or normalizing (-1): (y, log_det)."""
        kind, arg = piece
        if kind == "scale":
            return (self._act.inverse if direction > 0 else self._act.forward)(y, arg)
        d, n_steps = self.dim, self.n_leapfrog if n_steps is None else n_steps
        q, p = leapfrog(y[:, :d], y[:, d:], *arg, direction * self.step_size, n_steps)
        return xp.concatenate([q, p], axis=1), 0.0           # Eq. (12): log|det J| = 0

    def inverse(self, u, params=None):
        """Generative direction: latent u (n, 2d) -> phase point (q, p) (n, 2d), log|det J| (n,)."""
        y, log_det = backend.as_points(u, "u", 2 * self.dim), 0.0
        for piece in self._pieces(params or self.params):
            y, ld = self._apply(y, piece, 1)
            log_det = log_det + ld
        return y, log_det

    def forward(self, y, params=None):
        """Normalizing direction (leapfrog backwards): y (n, 2d) -> (u (n, 2d), log|det J| (n,))."""
        u, log_det = backend.as_points(y, "y", 2 * self.dim), 0.0
        for piece in reversed(list(self._pieces(params or self.params))):
            u, ld = self._apply(u, piece, -1)
            log_det = log_det + ld
        return u, log_det

    def log_joint(self, x, p, params=None):
        """log p(x, p) in data units: Eq. (77) on the phase point (q, p), q = (x - mean) / std,
        minus sum log std (the standardization's log|det|): x, p (n, d) -> (n,)."""
        x, p = backend.as_points(x, "x", self.dim), backend.as_points(p, "p", self.dim)
        if x.shape[0] != p.shape[0]:
            raise ValueError(f"x and p must have as many rows; got {x.shape[0]} and {p.shape[0]}")
        q = (x - self.mean) / self.std
        u, log_det = self.forward(xp.concatenate([q, p], axis=1), params)
        return log_normal(u) + log_det - xp.sum(xp.log(self.std))

    def posterior(self, x, params=None):
        """r(p|x) = N(mu(x), C(x) C(x)^T): mu (n, d), log diag C (n, d), below-diagonal C
        (n, d(d-1)/2), row by row."""
        x, d = backend.as_points(x, "x", self.dim), self.dim
        out = nn.mlp((params or self.params)["r"], (x - self.mean) / self.std, "tanh")
        return out[:, :d], 3.0 * xp.tanh(out[:, d:2 * d] / 3.0), out[:, 2 * d:]

    def momentum(self, x, e, params=None):
        """p = mu(x) + C(x) e, a reparametrized draw from r(p|x) for e (n, d) ~ N(0, I):
        (p (n, d), log r(p|x) (n,))."""
        e = backend.as_points(e, "e", self.dim)
        mu, log_sigma, below = self.posterior(x, params)
        p = mu + xp.exp(log_sigma) * e + (below * (e @ self._pick)) @ self._place   # C e
        return p, log_normal(e) - xp.sum(log_sigma, axis=1)          # |det C| = prod diag C

    def elbo(self, x, rng, *, n_samples=1, params=None):
        """log p(x) >= log (1/S) sum_s p(x, p_s) / r(p_s|x), p_s ~ r(.|x): (n, d) -> (n,).

        S = n_samples = 1: the ELBO; S > 1: the importance-weighted bound (IWAE)."""
        x, rng = backend.as_points(x, "x", self.dim), backend.check_rng(rng)
        weights = []
        for _ in range(backend.check_int(n_samples, "n_samples")):
            p, log_r = self.momentum(x, rng.standard_normal(tuple(x.shape)), params)
            weights.append(self.log_joint(x, p, params) - log_r)
        w = xp.stack(weights, axis=0)                                  # (S, n)
        m = xp.max(w, axis=0)
        return m + xp.log(xp.mean(xp.exp(w - m), axis=0))

    def sample(self, n, rng, *, return_momentum=False):
        """n points q (data units) from the base pushed by the flow: (n, d) (and p if asked)."""
        n, rng = backend.check_int(n, "n"), backend.check_rng(rng)
        check_flag(return_momentum, "return_momentum")
        y = self.inverse(rng.standard_normal((n, 2 * self.dim)))[0]
        if bad := count_bad_rows(y):
            raise FloatingPointError(f"HamiltonianFlow.sample: {bad} of {n} samples are NaN or "
                                     "inf: the flow's parameters overflow (a diverged training?)")
        x = y[:, :self.dim] * self.std + self.mean
        return (x, y[:, self.dim:]) if return_momentum else x

    def trajectory(self, u):
        """Phase points after every leapfrog step from latent u (n, 2d): (B n_leapfrog + 1, n, 2d).

        Each is shown through the scales still to come (fixed affine maps per coordinate) and in
        data units, so the last state is the sample (q, p) and the path is the dynamics'."""
        y, d = backend.as_points(u, "u", 2 * self.dim), self.dim
        # states: (index of the last piece applied, y): the start, then every leapfrog step
        pieces, states = list(self._pieces(self.params)), []
        for i, piece in enumerate(pieces):
            for _ in range(1 if piece[0] == "scale" else self.n_leapfrog):
                y = self._apply(y, piece, 1, n_steps=1)[0]
                if i == 0 or piece[0] == "leapfrog":
                    states.append((i, y))

        def shown(i, y):
            for piece in pieces[i + 1:]:
                y = self._apply(y, piece, 1)[0] if piece[0] == "scale" else y
            return xp.concatenate([y[:, :d] * self.std + self.mean, y[:, d:]], axis=1)

        return xp.stack([shown(i, y) for i, y in states], axis=0)


def train_hamiltonian_flow(data, rng, *, n_blocks=4, n_leapfrog=2, step_size=0.5, hidden=(32,),
                           n_steps=3000, batch_size=256, lr=3e-2, init_scale=1.0,
                           quadratic_kinetic=True, block_scale=True, r_hidden=(64,), clip=None,
                           callback=None, progress=None):
    """Fit a Hamiltonian flow to data (n, d) by maximizing the ELBO with Adam (cosine lr).

    Returns the trained HamiltonianFlow with ``.history`` (the minibatch -ELBO of every step).
    The defaults bring the ELBO within 0.3 nats of the true log p of the course's blobs,
    polygon_blobs(8, 2.0, 0.3), with samples within 2x the two-sample sliced-W2 floor, in about
    35 s on a 2-core CPU (README, training table); about half of the gap is KL(r || p(p|q)),
    which the importance-weighted bound (``elbo(..., n_samples=64)``) mostly closes.
    """
    data, rng, n_steps, batch_size, lr = check_training(data, rng, n_steps, batch_size, lr, clip,
                                                        callback, progress)
    _, mean, std = nn.standardize(data)
    flow = HamiltonianFlow(data.shape[1], rng, n_blocks=n_blocks, n_leapfrog=n_leapfrog,
                           step_size=step_size, hidden=hidden, r_hidden=r_hidden,
                           init_scale=init_scale, quadratic_kinetic=quadratic_kinetic,
                           block_scale=block_scale, mean=mean, std=std)

    def loss(params, step):                                  # -ELBO on a minibatch
        return -xp.mean(flow.elbo(nn.minibatch(data, batch_size, rng), rng, params=params))

    schedule = nn.cosine_lr(lr, n_steps, warmup=min(100, n_steps // 10))
    flow.params, flow.history = nn.train(loss, flow.params, n_steps, lr=schedule,
                                         callback=callback, name="Hamiltonian flow -ELBO",
                                         clip=clip, progress=progress)
    return nn.check_model(flow, "train_hamiltonian_flow")
