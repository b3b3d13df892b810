"""The original GAN: a generator G against a discriminator D (Goodfellow et al. 2014,
arXiv:1406.2661).

    min_G max_D V(D, G) = E_{x~p_data} log D(x) + E_{z~p_z} log(1 - D(G(z)))   (notes §3.4, Eq. 47)
Lemma 1: for G fixed the best D is D*(x) = p_data(x) / (p_data(x) + p_G(x))          Eq. (48)
Theorem 1: V(D*, G) = 2 JS(p_data || p_G) - log 4, minimal (= -log 4) iff p_G = p_data,
Eq. (53)-(54). Training alternates k ascent steps on D and one descent step on G (Algorithm 2,
§4.1); D outputs logits a(x), D = sigmoid(a), so log D = -softplus(-a) and
log(1 - D) = -softplus(a) never overflow.
"""
import math

from minigen import backend, io, nn
from minigen.backend import check_choice, check_int, xp
from minigen.gans import common

LOSSES = ("minimax", "non_saturating")
LOG4 = math.log(4.0)                      # -V(D*, G) when p_G = p_data (Theorem 1)


def _softplus(a):
    return xp.logaddexp(a, 0.0)


def _values(a, name, low=0.0, high=math.inf):
    """a as a backend array of shape (n,), finite, in [low, high]; else a ValueError."""
    a = backend.asarray(a, name)
    if a.ndim != 1 or a.shape[0] == 0:
        raise ValueError(f"{name} must have shape (n,) with n >= 1; got shape {tuple(a.shape)}")
    backend.check_finite(a, name)
    if not bool(xp.all((a >= low) & (a <= high))):
        lo, hi = float(xp.min(a)), float(xp.max(a))
        raise ValueError(f"{name} must lie in [{low}, {high}]; got values in [{lo:.3g}, {hi:.3g}]")
    return a


def optimal_discriminator(p_data, p_g):
    """Lemma 1, Eq. (48): D* = p_data / (p_data + p_G) from the two densities at the same points.

    p_data, p_g: (n,), >= 0 and not both 0 at a point -> D* (n,) in [0, 1].
    """
    p_data, p_g = _values(p_data, "p_data"), _values(p_g, "p_g")
    if p_data.shape != p_g.shape:
        raise ValueError(f"p_data and p_g must have the same shape; got {tuple(p_data.shape)} "
                         f"and {tuple(p_g.shape)}")
    total = p_data + p_g
    if not bool(xp.all(total > 0)):
        raise ValueError(f"p_data + p_g is 0 at {int(backend.to_numpy(total <= 0).sum())} "
                         "points, where D* = 0 / 0 is undefined")
    return p_data / total


def value_function(d_real, d_fake):
    """Monte-Carlo V(D, G) of Eq. (47) from D's probabilities on data d_real (n,) and on G's
    samples d_fake (m,), both in [0, 1]; -inf where D is 0 on data or 1 on a sample."""
    d_real, d_fake = _values(d_real, "d_real", high=1.0), _values(d_fake, "d_fake", high=1.0)
    return float(xp.mean(xp.log(d_real)) + xp.mean(xp.log(1.0 - d_fake)))


def discriminator_loss(d_params, x_real, x_fake, *, activation):
    """-V(D, G) on a batch (Algorithm 2, line 5, as a descent): x_real (n, d), x_fake (m, d).

    E softplus(-a(x)) + E softplus(a(G(z))), a the logits of D.
    """
    common.check_net_input(d_params, x_real, "x_real")
    common.check_net_input(d_params, x_fake, "x_fake")
    a_real = nn.mlp(d_params, x_real, activation)[:, 0]
    a_fake = nn.mlp(d_params, x_fake, activation)[:, 0]
    return xp.mean(_softplus(-a_real)) + xp.mean(_softplus(a_fake))   # Eq. (47): -log D, -log(1-D)


def generator_loss(a_fake, *, loss):
    """The generator's loss from D's logits on G(z), a_fake (m,).

    "minimax": E log(1 - D(G(z))) (Eq. (47), Algorithm 2 line 7). When D wins early, D(G(z)) ~ 0
    and this loss is flat: its gradient vanishes exactly when G is worst. "non_saturating":
    -E log D(G(z)) has the same fixed point but a strong gradient there (Goodfellow et al. 2014,
    §3).
    """
    if check_choice(loss, "loss", LOSSES) == "minimax":
        return -xp.mean(_softplus(a_fake))                  # log(1 - sigmoid(a)) = -softplus(a)
    return xp.mean(_softplus(-a_fake))                      # -log sigmoid(a) = softplus(-a)


def fit_discriminator(x_data, x_g, rng, *, n_steps=2000, hidden=(64, 64), batch_size=512,
                      lr=3e-3, activation="tanh", progress=None):
    """Lemma 1 in practice: G fixed (its samples x_g), train D by ascent on V; returns D(x) -> (n,).

    x_data (n, d) and x_g (m, d) are used as they are (no scaling); batch_size <= n, m. The
    learning rate decays by a cosine.
    """
    x_data = backend.as_points(x_data, "x_data")
    x_g = backend.as_points(x_g, "x_g", x_data.shape[1])
    rng, hidden = backend.check_rng(rng), backend.check_widths(hidden, "hidden", min_len=0)
    n_steps, lr = check_int(n_steps, "n_steps"), backend.check_lr(lr)
    batch_size = common.check_batch_size(batch_size, x_data, "x_data")
    common.check_batch_size(batch_size, x_g, "x_g")
    activation, progress = nn.check_activation(activation), backend.check_progress(progress)
    params = nn.init_mlp([x_data.shape[1], *hidden, 1], rng)

    def loss(p, step):
        xr, xf = nn.minibatch(x_data, batch_size, rng), nn.minibatch(x_g, batch_size, rng)
        return discriminator_loss(p, xr, xf, activation=activation)

    params, _ = nn.train(loss, params, n_steps, lr=nn.cosine_lr(lr, n_steps),
                         name="discriminator loss", progress=progress)

    def D(x):
        """The trained D(x) = sigmoid(a(x)): x (n, d) -> (n,) in (0, 1)."""
        x = backend.as_points(x, "x", x_data.shape[1])
        return nn.sigmoid(nn.mlp(params, x, activation)[:, 0])

    return D


@io.register
class GAN(common.AdversarialModel):
    """A trained GAN: ``sample(n, rng)``, ``generate(z)``, ``discriminator(x)``, ``history``,
    ``save(path)``."""

    @property
    def disc_params(self):
        """D's params (an MLP from d inputs to one logit, on the scaled data)."""
        return self.adversary_params

    def discriminator(self, x):
        """D(x) in (0, 1), the probability that x is a real sample: x (n, d) -> (n,).

        Trained with pack = m > 1, D takes packs: x (n, m d), row i the m points x_i1, ..., x_im
        (each in data units) concatenated, and gives the probability that they are m real
        samples."""
        return nn.sigmoid(nn.mlp(self.disc_params, self._to_scaled(x), self.activation)[:, 0])


def train_gan(data, rng, *, n_steps=4000, k=1, loss="non_saturating", latent_dim=2,
              hidden=(64, 64), batch_size=256, lr=1e-3, betas=(0.5, 0.999),
              activation="leaky_relu", n_snapshots=6, pack=1, progress=None):
    """Algorithm 2 on data (n, d): k discriminator steps per generator step, n_steps G steps.

    loss: the generator's, "non_saturating" or "minimax" (generator_loss). The data are centred
    and scaled internally (common.scale_data); samples come back in data units. history: step,
    value (V of Eq. (47) on the last D batch), g_loss, snapshots [(step, samples (1000, d))].
    The defaults reach the 8 modes of the course's blobs (README, training table).
    On data with finer modes, raise n_steps (gans.common says why and by how much).

    pack = m (PacGAN, Lin et al. 2018, arXiv:1712.04086): D sees m samples concatenated, a
    point of R^{m d}; each batch of batch_size points (a multiple of m) is cut into batch_size / m
    real packs and as many fake packs (common.pack_points). Then Eq. (47) is the game between
    p_data^{(x)m} and p_G^{(x)m}, whose optimum is still p_G = p_data, but D sees the joint law of m
    samples: a generator that has collapsed onto a few modes puts the m points of a pack in the
    same few modes far more often than data do, a lack of diversity D can detect, and the packed
    JS(p_data^m || p_G^m) penalizes a missing mode more strongly than JS (Lin et al. prove it for
    the total variation); history["value"] is then V on packs.
    pack = 1 is Algorithm 2 unchanged.
    """
    rng, loss = backend.check_rng(rng), check_choice(loss, "loss", LOSSES)
    config = common.loop_config(check_int(k, "k"), n_steps=n_steps, batch_size=batch_size,
                                latent_dim=latent_dim, lr=lr, betas=betas, activation=activation,
                                n_snapshots=n_snapshots)
    hidden = backend.check_widths(hidden, "hidden", min_len=0)
    progress = backend.check_progress(progress)
    pack = common.check_pack(pack, config.batch_size)
    x, mean, s = common.scale_data(data, config.batch_size)
    d, act = x.shape[1], config.activation
    g_params = nn.init_mlp([config.latent_dim, *hidden, d], rng)
    d_params = nn.init_mlp([pack * d, *hidden, 1], rng)

    def d_loss(dp, xr, xf, u):
        return discriminator_loss(dp, common.pack_points(xr, pack), common.pack_points(xf, pack),
                                  activation=act)

    def g_loss(dp, x_fake):
        a_fake = nn.mlp(dp, common.pack_points(x_fake, pack), act)[:, 0]    # logits of D(G(z))
        return generator_loss(a_fake, loss=loss)

    game = common.Game("GAN", "discriminator", d_loss, g_loss)
    g_params, d_params, hist = common.adversarial_loop(x, rng, g_params, d_params, game, config,
                                                       progress=progress)
    hist["value"] = [-v for v in hist.pop("d_loss")]           # V(D, G) on the batch, Eq. (47)
    del hist["monitor"]
    hist["snapshots"] = [(step, mean + s * y) for step, y in hist["snapshots"]]
    return nn.check_model(GAN(g_params, d_params, config.latent_dim, mean, s, act, hist, pack),
                          "train_gan")
