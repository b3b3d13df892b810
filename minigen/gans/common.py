"""What the two adversarial trainers share: data scaling, the generator, and Algorithm 2's loop.

A generator pushes the latent law p_z = N(0, I_k) forward, x = G_theta(z), so p_G = G_# p_z
(notes §3.4, Eq. (50)). Algorithm 2 (Goodfellow et al. 2014, arXiv:1406.2661) alternates k
updates of the adversary (discriminator D or critic f) with one update of G; WGAN keeps the same
loop with k = n_critic (Arjovsky et al. 2017, arXiv:1701.07875; Gulrajani et al. 2017,
arXiv:1704.00028). The adversary's loss and the generator's loss are what gan.py and wgan.py define.
"""
import contextlib
import math

import autograd

from minigen import backend, host, nn
from minigen.backend import check_int, xp
from minigen.progress import Bar


def scale_data(data, batch_size, name="data"):
    """Centre data (n, d) and divide by ONE scale s = sqrt(mean coordinate variance).

    One scale for all coordinates keeps the geometry (a circle stays a circle) so distances, hence
    W1 (Eq. (59)) and Lipschitz constants, convert exactly: W1 in data units = s * W1 scaled.
    Returns (x_scaled (n, d), mean (d,), s float).
    """
    data = backend.as_points(data, name)
    if data.shape[0] < int(batch_size):
        raise ValueError(f"{name} has {data.shape[0]} points, fewer than batch_size={batch_size}")
    if not bool(xp.all(xp.isfinite(data))):
        raise ValueError(f"{name} contains NaN or infinite values")
    mean = xp.mean(data, axis=0)
    s = math.sqrt(float(xp.mean(xp.var(data, axis=0))))
    if not s > 0:
        raise ValueError(f"{name} has zero variance: all points are equal")
    return (data - mean) / s, mean, s


class AdversarialModel:
    """A trained generator: G's params, the data scaling to undo, and the training history."""

    def __init__(self, gen_params, latent_dim, mean, scale, activation, history):
        self.gen_params, self.latent_dim = gen_params, latent_dim
        self.mean, self.scale, self.activation = mean, scale, activation
        self.history = history          # dict of lists: step, d_loss, g_loss, ..., snapshots

    def generate(self, z):
        """x = G(z) in data units: z (n, latent_dim) -> (n, d)."""
        z = backend.as_points(z, "z", self.latent_dim)
        return self.mean + self.scale * nn.mlp(self.gen_params, z, self.activation)

    def sample(self, n, rng):
        """n samples of p_G: z ~ N(0, I), x = G(z) (Eq. (50)): (n, d)."""
        n = check_int(n, "n")
        return self.generate(rng.standard_normal((n, self.latent_dim)))

    def _to_scaled(self, x):
        return (backend.as_points(x, "x", self.mean.shape[0]) - self.mean) / self.scale


def adversarial_loop(x, rng, g_params, d_params, d_loss, g_loss, *, n_steps, n_inner, batch_size,
                     latent_dim, lr_g, lr_d, betas, g_activation, after_d_step=None, monitor=None,
                     n_snapshots=6, snapshot_size=1000, unscale=lambda y: y, name="GAN",
                     progress=None):
    """Algorithm 2 on scaled data x (n, d); returns (g_params, d_params, history).

    d_loss(d_params, x_real, x_fake, u) is minimized by the adversary, u ~ U[0,1] (m, 1) being
    spare randomness (the gradient penalty's interpolation weights); g_loss(g_params, d_params, z)
    by the generator. ``after_d_step(d_params)`` (weight clipping) is applied after every adversary
    step; both learning rates decay by a cosine to a tenth (nn.cosine_lr).
    ``monitor(d_params, x_real, x_fake) -> float`` is recorded per generator step.
    ``progress``: the bar (minigen.progress), ``name`` its label.
    """
    g_flat, g_tree = nn.flatten(g_params)            # train on flat vectors: cheaper gradients (nn.flatten)
    d_flat, d_tree = nn.flatten(d_params)
    d_vg = autograd.value_and_grad(lambda dv, *args: d_loss(d_tree(dv), *args))
    g_vg = autograd.value_and_grad(lambda gv, dv, z: g_loss(g_tree(gv), d_tree(dv), z))
    d_state, g_state = nn.adam_init(d_flat), nn.adam_init(g_flat)
    b1, b2 = betas
    sched_g, sched_d = nn.cosine_lr(lr_g, n_steps, final_frac=0.1), nn.cosine_lr(lr_d, n_steps, final_frac=0.1)
    z_snap = rng.standard_normal((snapshot_size, latent_dim))     # fixed z: snapshots are comparable
    snap_at = {round(i * (n_steps - 1) / max(1, n_snapshots - 1)) for i in range(n_snapshots)}
    hist = {"step": [], "d_loss": [], "g_loss": [], "monitor": [], "snapshots": []}
    bar = Bar(n_steps, name, progress)
    with host.one_blas_thread(), contextlib.closing(bar):
        for step in range(n_steps):                                        # Algorithm 2, line 1
            g_params = g_tree(g_flat)
            for _ in range(n_inner):                                   # line 2: k adversary steps
                z = rng.standard_normal((batch_size, latent_dim))          # line 3: m noise samples
                x_real = nn.minibatch(x, batch_size, rng)                  # line 4: m data
                x_fake = nn.mlp(g_params, z, g_activation)
                val, grads = d_vg(d_flat, x_real, x_fake, rng.random((batch_size, 1)))
                nn.check_finite(float(val), "adversary loss", step)
                lr_d = sched_d(step)
                d_flat, d_state = nn.adam_step(d_flat, grads, d_state, lr_d, b1, b2)   # line 5
                if after_d_step is not None:
                    # leaf-wise maps (weight clipping) act on the flat vector alike
                    d_flat = after_d_step(d_flat)
            z = rng.standard_normal((batch_size, latent_dim))              # line 6
            g_val, grads = g_vg(g_flat, d_flat, z)
            nn.check_finite(float(g_val), "generator loss", step)
            g_flat, g_state = nn.adam_step(g_flat, grads, g_state, sched_g(step), b1, b2)  # l. 7
            hist["step"].append(step)
            hist["d_loss"].append(float(val))
            hist["g_loss"].append(float(g_val))
            if monitor is not None:
                hist["monitor"].append(monitor(d_tree(d_flat), x_real, x_fake))
            if step in snap_at:
                shot = unscale(nn.mlp(g_tree(g_flat), z_snap, g_activation))
                hist["snapshots"].append((step + 1, shot))
            bar.update(step, hist["d_loss"][-1])
    return g_tree(g_flat), d_tree(d_flat), hist
