"""What the two adversarial trainers share: data scaling, the generator, and Algorithm 2's loop.

A generator pushes the latent law p_z = N(0, I_k) forward, x = G_theta(z), so p_G = G_# p_z
(notes §3.4, Eq. (50)). Algorithm 2 (Goodfellow et al. 2014, arXiv:1406.2661) alternates k
updates of the adversary (discriminator D or critic f) with one update of G; WGAN keeps the same
loop with k = n_critic (Arjovsky et al. 2017, arXiv:1701.07875; Gulrajani et al. 2017,
arXiv:1704.00028). The adversary's loss and the generator's loss are what gan.py and wgan.py define.

What depends on the data. Both trainers centre the data and divide them by one scale s
(scale_data), so the learning rate, the widths and WGAN-GP's penalty weight lam (a penalty on
gradients in scaled units) act alike on data of any position and size. What is left is the
budget, n_steps, set by the resolution rho = (a mode's std) / s: G must send N(0, I) onto modes of
relative width rho, and a continuous G leaves on the lines between modes the mass it has not yet
squeezed into them, at a rate limited by how fast Adam grows the weights. The defaults (4000
steps) suit the course's blobs, rho = 0.14; PacGAN's grid and ring (rho = 0.018 and 0.014) need
15-20x more steps (benchmarks/gan_benchmarks.py and the README give what each budget reaches).
"""
import contextlib
import math
from typing import Callable, NamedTuple, Optional

import autograd

from minigen import backend, host, nn
from minigen.backend import check_int, xp
from minigen.progress import Bar

SNAPSHOT_SIZE = 1000          # points of each snapshot of G(z) in the history, for fixed z


class Game(NamedTuple):
    """One adversarial game: the two losses Algorithm 2 alternates, and its two hooks.

    d_loss(d_params, x_real, x_fake, u) -> scalar, descended by the adversary; u ~ U[0, 1] (m, 1)
    is spare randomness (the gradient penalty's interpolation weights).
    g_loss(d_params, x_fake) -> scalar, descended by the generator through x_fake = G(z).
    project(d_flat) -> d_flat, applied after every adversary step (weight clipping), or None.
    monitor(d_params, x_real, x_fake) -> float, recorded once per generator step, or None.
    generator(g_params, z, x_real) -> x_fake, G's samples against the batch x_real, or None for
    x = G(z) (Eq. (50)); a conditional game gives G the labels of x_real (cgan.py). The
    generator's step reuses the last adversary batch, and snapshots use data rows 0, 1, 2, ...
    """
    name: str                 # the progress bar's label, "GAN" or "WGAN-gp"
    adversary: str            # "discriminator" or "critic", in error messages
    d_loss: Callable
    g_loss: Callable
    project: Optional[Callable] = None
    monitor: Optional[Callable] = None
    generator: Optional[Callable] = None


class LoopConfig(NamedTuple):
    """The settings of Algorithm 2's loop, checked by ``loop_config``."""
    n_steps: int              # generator steps
    n_inner: int              # adversary steps per generator step: k, or n_critic
    batch_size: int           # m, for data, noise and the generator's step alike
    latent_dim: int
    lr: float                 # both players; cosine decay to a tenth (nn.cosine_lr)
    betas: tuple              # Adam's (b1, b2)
    activation: str           # the hidden layers of G (and of the adversary)
    n_snapshots: int          # snapshots of G(z_fixed) kept in the history


def loop_config(n_inner, *, n_steps, batch_size, latent_dim, lr, betas, activation, n_snapshots):
    """A LoopConfig from a trainer's keywords, each checked (n_inner is checked by its caller)."""
    return LoopConfig(check_int(n_steps, "n_steps"), n_inner, check_int(batch_size, "batch_size"),
                      check_int(latent_dim, "latent_dim"), backend.check_lr(lr),
                      backend.check_adam_betas(betas), nn.check_activation(activation),
                      check_int(n_snapshots, "n_snapshots", low=0))


def check_batch_size(batch_size, x, name):
    """batch_size as an int in [1, n], x (n, d) being the points it is drawn from."""
    batch_size = check_int(batch_size, "batch_size")
    if x.shape[0] < batch_size:
        raise ValueError(f"{name} has {x.shape[0]} points, fewer than batch_size={batch_size}")
    return batch_size


def check_net_input(params, x, name="x"):
    """x (n, d_in) for the MLP params, whose first layer takes d_in inputs; else a ValueError."""
    d_in = params[0]["W"].shape[0]
    if len(x.shape) != 2 or x.shape[1] != d_in:
        raise ValueError(f"{name} must have shape (n, {d_in}); got shape {tuple(x.shape)}")
    return x


def check_pack(pack, batch_size):
    """pack m as an int >= 1 dividing batch_size: a batch of batch_size points makes
    batch_size / m packs of m points each (the adversary sees as many packs per step)."""
    pack = check_int(pack, "pack")
    if batch_size % pack:
        raise ValueError(f"batch_size={batch_size} must be a multiple of pack={pack}: a batch of "
                         "batch_size points is cut into batch_size / pack packs")
    return pack


def pack_points(x, pack):
    """PacGAN's packs: x (B, d) -> (B / m, m d), row j the concatenation x_{jm}, ..., x_{jm+m-1}.

    The rows of a batch are independent draws, so each pack is m independent samples; m = 1
    returns x itself."""
    if pack == 1:
        return x
    return xp.reshape(x, (x.shape[0] // pack, pack * x.shape[1]))


def scale_data(data, batch_size, name="data"):
    """Centre data (n, d) and divide by ONE scale s = sqrt(mean coordinate variance).

    One scale for all coordinates keeps the geometry (a circle stays a circle) so distances, hence
    W1 (Eq. (59)) and Lipschitz constants, convert exactly: W1 in data units = s * W1 scaled.
    Returns (x_scaled (n, d), mean (d,), s float).
    """
    data = backend.as_points(data, name)
    check_batch_size(batch_size, data, name)
    mean = xp.mean(data, axis=0)
    s = math.sqrt(float(xp.mean(xp.var(data, axis=0))))
    if not 0 < s < math.inf:
        raise ValueError(f"{name} has variance {s * s:.3g}: all points are equal, or so large "
                         "that it overflows (rescale the data)")
    return (data - mean) / s, mean, s


class AdversarialModel:
    """A trained generator: G's params, the adversary's, the data scaling, the training history.

    Subclasses name the adversary (GAN.disc_params, WGAN.critic_params) and are saved by
    minigen.io with ``state`` / ``from_state``.
    """

    def __init__(self, gen_params, adversary_params, latent_dim, mean, scale, activation,
                 history, pack=1):
        self.gen_params, self.adversary_params = gen_params, adversary_params
        self.pack = pack                # m: the adversary takes packs of m points, (n, m d)
        self.latent_dim, self.mean, self.scale = latent_dim, mean, scale
        self.activation = activation
        self.history = history          # dict of lists: step, losses, snapshots [(step, (N, d))]

    def generate(self, z):
        """x = G(z) in data units: z (n, latent_dim) -> (n, d)."""
        z = backend.as_points(z, "z", self.latent_dim)
        return self.mean + self.scale * nn.mlp(self.gen_params, z, self.activation)

    def sample(self, n, rng):
        """n samples of p_G: z ~ N(0, I), x = G(z) (Eq. (50)): (n, d)."""
        n, rng = check_int(n, "n"), backend.check_rng(rng)
        return self.generate(rng.standard_normal((n, self.latent_dim)))

    def _to_scaled(self, x):
        """Packs x (n, m d) in data units -> the same packs in scaled units, point by point."""
        d, m = self.mean.shape[0], self.pack
        x = backend.as_points(x, "x", m * d)
        y = (xp.reshape(x, (x.shape[0], m, d)) - self.mean) / self.scale
        return xp.reshape(y, (x.shape[0], m * d))

    def state(self):
        """For minigen.io: settings and loss curves (JSON); G, adversary and snapshot arrays."""
        snaps = self.history.get("snapshots", [])
        curves = {k: list(v) for k, v in self.history.items() if k != "snapshots"}
        config = {"latent_dim": self.latent_dim, "scale": float(self.scale),
                  "activation": self.activation, "pack": self.pack, "history": curves,
                  "snapshot_steps": [int(step) for step, _ in snaps]}
        params = {"generator": self.gen_params, "adversary": self.adversary_params,
                  "mean": self.mean, "snapshots": [shot for _, shot in snaps]}
        return config, params

    @classmethod
    def from_state(cls, config, params):
        history = {k: list(v) for k, v in config["history"].items()}
        history["snapshots"] = list(zip(config["snapshot_steps"], params["snapshots"]))
        return cls(params["generator"], params["adversary"], config["latent_dim"],
                   params["mean"], config["scale"], config["activation"], history,
                   config.get("pack", 1))


def adversarial_loop(x, rng, g_params, d_params, game, config, *, progress=None):
    """Algorithm 2 on scaled data x (n, d); returns (g_params, d_params, history).

    game: the two losses and hooks (Game); config: the loop's settings (LoopConfig). history:
    step, d_loss, g_loss (per generator step), monitor (if any), snapshots [(step, (N, d))] of
    G(z) for one fixed z, in scaled units. A loss that becomes non-finite or explodes raises.
    """
    c = config

    def G(g_params, z, x_real):
        if game.generator is not None:
            return game.generator(g_params, z, x_real)
        return nn.mlp(g_params, z, c.activation)                      # x = G(z), Eq. (50)

    # train on flat vectors: cheaper gradients (nn.flatten)
    g_flat, g_tree = nn.flatten(g_params)
    d_flat, d_tree = nn.flatten(d_params)
    d_vg = autograd.value_and_grad(lambda dv, *args: game.d_loss(d_tree(dv), *args))
    g_vg = autograd.value_and_grad(
        lambda gv, dv, z, xr: game.g_loss(d_tree(dv), G(g_tree(gv), z, xr)))
    d_state, g_state = nn.adam_init(d_flat), nn.adam_init(g_flat)
    sched = nn.cosine_lr(c.lr, c.n_steps, final_frac=0.1)
    # one z for every snapshot, so that they show the same points moving
    z_snap = rng.standard_normal((SNAPSHOT_SIZE, c.latent_dim))
    x_snap = x[xp.arange(SNAPSHOT_SIZE) % x.shape[0]]                # a conditional G's labels
    snap_at = {round(i * (c.n_steps - 1) / max(1, c.n_snapshots - 1))
               for i in range(c.n_snapshots)}
    hist = {"step": [], "d_loss": [], "g_loss": [], "monitor": [], "snapshots": []}
    d_name, g_name = f"{game.name} {game.adversary} loss", f"{game.name} generator loss"
    # the first losses: an explosion is relative to them (nn.check_loss)
    d_first = g_first = None
    bar = Bar(c.n_steps, game.name, progress)
    with host.one_blas_thread(), contextlib.closing(bar):
        for step in range(c.n_steps):                                  # Algorithm 2, line 1
            g_params = g_tree(g_flat)
            for _ in range(c.n_inner):                                 # line 2: k adversary steps
                z = rng.standard_normal((c.batch_size, c.latent_dim))  # line 3: m noise samples
                x_real = nn.minibatch(x, c.batch_size, rng)            # line 4: m data
                x_fake = G(g_params, z, x_real)
                val, grads = d_vg(d_flat, x_real, x_fake, rng.random((c.batch_size, 1)))
                d_first = float(val) if d_first is None else d_first
                val = nn.check_loss(float(val), d_name, step, d_first)
                # line 5: the adversary's step
                d_flat, d_state = nn.adam_step(d_flat, grads, d_state, sched(step), *c.betas)
                if game.project is not None:
                    # leaf-wise maps (weight clipping) act on the flat vector alike
                    d_flat = game.project(d_flat)
            z = rng.standard_normal((c.batch_size, c.latent_dim))      # line 6
            g_val, grads = g_vg(g_flat, d_flat, z, x_real)
            g_first = float(g_val) if g_first is None else g_first
            hist["g_loss"].append(nn.check_loss(float(g_val), g_name, step, g_first))
            g_flat, g_state = nn.adam_step(g_flat, grads, g_state, sched(step), *c.betas)  # l. 7
            hist["step"].append(step)
            hist["d_loss"].append(val)
            if game.monitor is not None:
                hist["monitor"].append(game.monitor(d_tree(d_flat), x_real, x_fake))
            if step in snap_at:
                hist["snapshots"].append((step + 1, G(g_tree(g_flat), z_snap, x_snap)))
            bar.update(step, val)
    if not (bool(xp.all(xp.isfinite(g_flat))) and bool(xp.all(xp.isfinite(d_flat)))):
        raise FloatingPointError(f"{game.name}: the trained parameters hold NaN or inf after "
                                 f"{c.n_steps} steps: training diverged (try a smaller lr)")
    return g_tree(g_flat), d_tree(d_flat), hist
