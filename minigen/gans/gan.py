"""The original GAN: a generator G against a discriminator D (Goodfellow et al. 2014, arXiv:1406.2661).

    min_G max_D V(D, G) = E_{x~p_data} log D(x) + E_{z~p_z} log(1 - D(G(z)))        notes §3.4, Eq. (47)
Lemma 1: for G fixed the best D is D*(x) = p_data(x) / (p_data(x) + p_G(x))              Eq. (48)
Theorem 1: V(D*, G) = 2 JS(p_data || p_G) - log 4, minimal (= -log 4) iff p_G = p_data   Eq. (53)-(54)
Training alternates k ascent steps on D and one descent step on G (Algorithm 2, §4.1); D outputs
logits a(x), D = sigmoid(a), so log D = -softplus(-a) and log(1 - D) = -softplus(a) never overflow.
"""
import math

from minigen import backend, nn
from minigen.backend import xp
from minigen.gans import common

LOSSES = ("minimax", "non_saturating")
LOG4 = math.log(4.0)                      # -V(D*, G) when p_G = p_data (Theorem 1)


def _softplus(a):
    return xp.logaddexp(a, 0.0)


def optimal_discriminator(p_data, p_g):
    """Lemma 1, Eq. (48): D*(x) = p_data / (p_data + p_G) from the two densities at the same points."""
    return p_data / (p_data + p_g)


def value_function(d_real, d_fake):
    """Monte-Carlo V(D, G) of Eq. (47) from D's probabilities on data (n,) and on G's samples (m,)."""
    return float(xp.mean(xp.log(d_real)) + xp.mean(xp.log(1.0 - d_fake)))


def discriminator_loss(d_params, x_real, x_fake, u=None, activation="leaky_relu"):
    """-V(D, G) on a batch (Algorithm 2, line 5, as a descent): E softplus(-a(x)) + E softplus(a(G(z)))."""
    a_real = nn.mlp(d_params, x_real, activation)[:, 0]
    a_fake = nn.mlp(d_params, x_fake, activation)[:, 0]
    return xp.mean(_softplus(-a_real)) + xp.mean(_softplus(a_fake))   # Eq. (47): -log D, -log(1 - D)


def generator_loss(a_fake, loss="non_saturating"):
    """The generator's loss from D's logits on G(z), a_fake (m,).

    "minimax": E log(1 - D(G(z))) (Eq. (47), Algorithm 2 line 7). When D wins early, D(G(z)) ~ 0
    and this loss is flat: its gradient vanishes exactly when G is worst. "non_saturating":
    -E log D(G(z)) has the same fixed point but a strong gradient there (Goodfellow et al. 2014, §3).
    """
    if loss == "minimax":
        return -xp.mean(_softplus(a_fake))                  # log(1 - sigmoid(a)) = -softplus(a)
    return xp.mean(_softplus(-a_fake))                      # -log sigmoid(a) = softplus(-a)


def fit_discriminator(x_data, x_g, rng, *, n_steps=2000, hidden=(64, 64), batch_size=512, lr=3e-3,
                      activation="tanh", progress=None):
    """Lemma 1 in practice: G fixed (its samples x_g), train D by ascent on V; returns D(x) -> (n,).

    x_data (n, d) and x_g (m, d) are used as they are (no scaling). Learning rate decays by cosine.
    """
    x_data, x_g = backend.as_points(x_data, "x_data"), backend.as_points(x_g, "x_g", x_data.shape[1])
    n_steps = backend.check_int(n_steps, "n_steps")
    params = nn.init_mlp([x_data.shape[1], *hidden, 1], rng)

    def loss(p, step):
        xr, xf = nn.minibatch(x_data, batch_size, rng), nn.minibatch(x_g, batch_size, rng)
        return discriminator_loss(p, xr, xf, activation=activation)

    params, _ = nn.train(loss, params, n_steps, lr=nn.cosine_lr(lr, n_steps),
                         name="discriminator loss", progress=progress)
    return lambda x: 0.5 * (xp.tanh(0.5 * nn.mlp(params, backend.as_points(x, "x"), activation)[:, 0]) + 1.0)


class GAN(common.AdversarialModel):
    """A trained GAN: ``sample(n, rng)``, ``generate(z)``, ``discriminator(x)``, ``history``."""

    def __init__(self, gen_params, disc_params, latent_dim, mean, scale, activation, history):
        super().__init__(gen_params, latent_dim, mean, scale, activation, history)
        self.disc_params = disc_params

    def discriminator(self, x):
        """D(x) in (0, 1), the probability that x is a real sample: x (n, d) -> (n,)."""
        a = nn.mlp(self.disc_params, self._to_scaled(x), self.activation)[:, 0]
        return 0.5 * (xp.tanh(0.5 * a) + 1.0)


def train_gan(data, rng, *, n_steps=4000, k=1, loss="non_saturating", latent_dim=2, hidden=(64, 64),
              batch_size=256, lr=1e-3, betas=(0.5, 0.999), activation="leaky_relu", n_snapshots=6,
              progress=None):
    """Algorithm 2 on data (n, d): k discriminator steps per generator step, n_steps generator steps.

    The data are centred and scaled internally (common.scale_data); samples come back in data units.
    history: step, d_loss (= -V on the last D batch), g_loss, snapshots [(step, samples (1000, d))].
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}; got {loss!r}")
    k, n_steps = backend.check_int(k, "k"), backend.check_int(n_steps, "n_steps")
    latent_dim, batch_size = backend.check_int(latent_dim, "latent_dim"), backend.check_int(batch_size, "batch_size")
    lr = backend.check_positive(lr, "lr")
    x, mean, s = common.scale_data(data, batch_size)
    d = x.shape[1]
    g_params = nn.init_mlp([latent_dim, *hidden, d], rng)
    d_params = nn.init_mlp([d, *hidden, 1], rng)

    def d_loss(dp, xr, xf, u):
        return discriminator_loss(dp, xr, xf, activation=activation)

    def g_loss(gp, dp, z):
        return generator_loss(nn.mlp(dp, nn.mlp(gp, z, activation), activation)[:, 0], loss)

    g_params, d_params, hist = common.adversarial_loop(
        x, rng, g_params, d_params, d_loss, g_loss, n_steps=n_steps, n_inner=k, batch_size=batch_size,
        latent_dim=latent_dim, lr_g=lr, lr_d=lr, betas=betas, g_activation=activation,
        n_snapshots=n_snapshots, unscale=lambda y: mean + s * y, name="GAN", progress=progress)
    hist["value"] = [-v for v in hist.pop("d_loss")]          # V(D, G) estimate, Eq. (47); -log 4 at equilibrium
    del hist["monitor"]
    return GAN(g_params, d_params, latent_dim, mean, s, activation, hist)

