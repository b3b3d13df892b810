"""A neural Gibbs energy p_theta = exp(-U_theta) / Z_theta, learned by PCD or by score matching.

U_theta(x) = |z|^2 / 2 + V_theta(z),  z = (x - mean) / std: the Gaussian model of the
standardized data (Eq. 23) plus a neural potential, an MLP V_theta (Eq. 24); the quadratic term
keeps exp(-U) integrable. Maximum likelihood follows Eq. (32) with model samples from persistent
MALA chains (Eq. 35, pcd.py); score matching minimizes Eq. (46) without Z (score_matching.py).
Notes §3.1, §3.3, Eq. (22)-(24), (32), (35), (44)-(46). Tieleman 2008 (PCD); Hyvarinen 2005;
Vincent 2011; Nijkamp, Hill, Zhu & Wu 2019, arXiv:1904.09770 (short-run chains).
"""
import autograd

from minigen import backend, io, nn
from minigen.backend import check_choice, check_int, check_rng, xp
from minigen.energy import pcd, score_matching
from minigen.energy.quadrature import grid_log_partition
from minigen.mcmc.langevin import mala

BOX = 5.0            # log_prob: the quadrature box [-BOX, BOX]^2 in standardized units
GRID = 256           # ... and its n x n midpoint grid (cells 0.04 wide, blob std 0.14)
METHODS = ("pcd", "score_matching")


def standardized_energy(params, z, activation):
    """U in standardized coordinates, |z|^2 / 2 + V_theta(z) (Eq. 23-24): z (n, d) -> (n,)."""
    return 0.5 * xp.sum(z * z, axis=1) + nn.mlp(params, z, activation)[:, 0]      # Eq. (24)


@io.register
class EnergyModel:
    """p(x) ∝ exp(-U(x)), U(x) = |z|^2 / 2 + V_theta(z), z = (x - mean) / std.

    params: the MLP V_theta (d -> 1); mean, std: (d,); step_size: the MALA step in standardized
    units that sample() uses (the one training adapted); method: how it was fitted.
    """

    def __init__(self, params, mean, std, *, activation="tanh", step_size=0.02, method="pcd"):
        self.params, self.mean, self.std = params, mean, std
        self.activation = nn.check_activation(activation)
        self.step_size = backend.check_positive(step_size, "step_size")
        self.method = check_choice(method, "method", METHODS)
        self.dim = int(mean.shape[0])
        self.history, self._log_z = [], None

    def state(self):
        """(config, params) for minigen.io."""
        config = {"activation": self.activation, "step_size": self.step_size,
                  "method": self.method, "history": [float(v) for v in self.history]}
        return config, {"mlp": self.params, "mean": self.mean, "std": self.std}

    @classmethod
    def from_state(cls, config, params):
        model = cls(params["mlp"], params["mean"], params["std"], activation=config["activation"],
                    step_size=config["step_size"], method=config["method"])
        model.history = list(config["history"])
        return model

    def _energy(self, params, z):
        return standardized_energy(params, z, self.activation)

    def _z(self, x):
        return (backend.as_points(x, "x", self.dim) - self.mean) / self.std

    def energy(self, x):
        """U(x): (n, d) -> (n,), up to the constant log Z."""
        return standardized_energy(self.params, self._z(x), self.activation)

    def score(self, x):
        """grad_x log p = -grad_x U(x) (Eq. 44): (n, d) -> (n, d), by autograd."""
        x = backend.as_points(x, "x", self.dim)
        return -autograd.grad(lambda y: xp.sum(self.energy(y)))(x)

    def log_partition(self):
        """log of int exp(-U(x)) dx, by the midpoint rule on a GRID^2 grid of [-BOX, BOX]^2 in
        standardized units (the quadratic term leaves < 1e-5 of the mass outside); 2D only."""
        if self.dim != 2:
            raise ValueError("log_prob needs a quadrature grid: 2D only; this model has "
                             f"d={self.dim}")
        if self._log_z is None:
            log_z = grid_log_partition(
                lambda z: standardized_energy(self.params, z, self.activation), (-BOX, BOX), GRID)
            # dx = prod(std) dz: the Jacobian of the standardization
            self._log_z = log_z + float(backend.to_numpy(xp.sum(xp.log(self.std))))
        return self._log_z

    def log_prob(self, x):
        """log p(x) = -U(x) - log Z (Eq. 22), Z by quadrature: (n, 2) -> (n,)."""
        return -self.energy(x) - self.log_partition()

    def sample(self, n, rng, *, n_steps=500, step_size=None, progress=None):
        """n points by MALA from noise: z_0 ~ N(0, I), n_steps steps, x = mean + std z: (n, d).

        A chain falls into a blob in a few tens of steps and then samples it (MALA is exact);
        between blobs it does not cross, so the share of each blob is set by where the noise
        fell, not by the weights exp(-U) gives the blobs (log_prob has those).
        step_size: in standardized units, default the one adapted during training.
        """
        n, rng = check_int(n, "n"), check_rng(rng)
        h = self.step_size if step_size is None else backend.check_positive(step_size, "step_size")
        log_prob, score = pcd.langevin_target(self._energy, self.params)
        z0 = rng.standard_normal((n, self.dim))
        z = mala(log_prob, score, z0, n_steps, h, rng, thin=n_steps, progress=progress).final
        return self.mean + self.std * z


def train_energy(data, rng, *, method="pcd", hidden=(64, 64), activation="tanh", n_steps=None,
                 batch_size=256, lr=3e-3, callback=None, progress=None, **options):
    """Fit an EnergyModel to data (n, d) by maximum likelihood (PCD) or by score matching.

    method="pcd": Eq. (32) with persistent MALA chains, options of pcd.fit_pcd (n_chains,
    mcmc_steps, chains="persistent" | "short_run", alpha, restart); default n_steps 3000.
    method="score_matching": Eq. (46), options objective="implicit" | "denoising", sigma;
    default n_steps 2000. Adam with a cosine schedule on lr. On polygon_blobs(8, 2.0, 0.2)
    (10^4 points) the defaults give, in ~30 s (PCD) and ~12 s (score matching) of CPU:
    KL(p || p_theta) ~ 0.06-0.08 nats and MALA samples from noise on all 8 blobs (PCD); a
    relative Fisher divergence ~ 0.03-0.04, but KL ~ 0.3-0.5, the blob weights unseen (score
    matching). See benchmarks/energy.py.
    """
    method = check_choice(method, "method", METHODS)
    rng = check_rng(rng)
    z, mean, std = nn.standardize(data)
    hidden = backend.check_widths(hidden, "hidden")
    activation = nn.check_activation(activation)
    n_steps = check_int({"pcd": 3000, "score_matching": 2000}[method] if n_steps is None
                        else n_steps, "n_steps")
    batch_size = check_int(batch_size, "batch_size")
    backend.check_optional(backend.check_callable, callback, "callback", "(step, params, loss)")
    params = nn.init_mlp([z.shape[1], *hidden, 1], rng)
    energy = lambda p, y: standardized_energy(p, y, activation)                  # noqa: E731
    schedule = nn.cosine_lr(backend.check_lr(lr), n_steps, warmup=min(100, n_steps // 10))
    fit = {"pcd": pcd.fit_pcd, "score_matching": fit_score_matching}[method]
    params, history, step_size = fit(energy, params, z, rng, n_steps=n_steps,
                                     batch_size=batch_size, lr=schedule, callback=callback,
                                     progress=progress, **options)
    model = EnergyModel(params, mean, std, activation=activation, step_size=step_size,
                        method=method)
    model.history = history
    return nn.check_model(model, "train_energy")


def fit_score_matching(energy, params, z, rng, *, n_steps, batch_size, lr, callback, progress,
                       objective="implicit", sigma=0.05, step_size=0.02):
    """Minimize a score-matching objective (Eq. 46) of s_theta = -grad_z U in standardized units.

    objective="implicit": Hyvarinen's, with the exact divergence (d backward passes);
    "denoising": Vincent's at noise sigma (standardized units), which fits the score of the data
    blurred by N(0, sigma^2 I). Returns (params, history, step_size) like pcd.fit_pcd.
    """
    objective = check_choice(objective, "objective", ("implicit", "denoising"))
    sigma = backend.check_positive(sigma, "sigma")

    def loss(p, step):
        def score_fn(y):                                                       # Eq. (44)
            return -autograd.grad(lambda u: xp.sum(energy(p, u)))(y)
        batch = nn.minibatch(z, batch_size, rng)
        if objective == "implicit":
            return score_matching.implicit_score_matching_loss(score_fn, batch)
        return score_matching.denoising_score_matching_loss(score_fn, batch, rng, sigma)

    params, history = nn.train(loss, params, n_steps, lr=lr, callback=callback,
                               name=f"{objective} score matching", progress=progress)
    return params, history, backend.check_positive(step_size, "step_size")


__all__ = ["EnergyModel", "train_energy", "standardized_energy", "fit_score_matching"]
