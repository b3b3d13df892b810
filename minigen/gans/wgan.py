"""Wasserstein GAN: the discriminator becomes a 1-Lipschitz critic f and V becomes W1.

    W1(p, q) = sup_{||f||_L <= 1} E_p f(x) - E_q f(x)    (Kantorovich-Rubinstein, Th. 3, Eq. (62))
    min_G W1(p_data, p_G) = min_G sup_f E_data f(x) - E_z f(G(z))          notes §4.2, Eq. (63)
W1 is continuous in G's parameters where JS is not (Theorem 2, footnote 48). ||f||_L <= 1 is
imposed by clipping every weight to [-c, c] (Arjovsky et al. 2017, arXiv:1701.07875) or by the
gradient penalty lam E (||grad f(x~)|| - 1)^2 on x~ = u x + (1 - u) G(z), u ~ U[0, 1] (Gulrajani
et al. 2017, arXiv:1704.00028), whose parameter gradient is a double backpropagation (autograd
differentiates grad).
"""
import autograd

from minigen import backend, host, io, nn
from minigen.backend import check_choice, check_int, xp
from minigen.gans import common
from minigen.progress import steps

LIPSCHITZ = ("gp", "clip")


def critic_value(params, x, *, activation):
    """f(x): the critic is an MLP with a linear (unbounded) output: x (n, d) -> (n,)."""
    return nn.mlp(params, common.check_net_input(params, x), activation)[:, 0]


def critic_gradient_norm(params, x, *, activation):
    """||grad_x f(x)|| per point: x (n, d) -> (n,) (grad of sum_i f(x_i) holds every row's)."""
    g = nn.input_gradient(params, common.check_net_input(params, x), activation)     # (n, d)
    return xp.sqrt(xp.sum(g * g, axis=1) + 1e-12)


def gradient_penalty(params, x_real, x_fake, u, *, activation):
    """E (||grad f(x~)|| - 1)^2, x~ = u x_real + (1 - u) x_fake (Gulrajani et al.).

    x_real, x_fake: (m, d); u: (m, 1), in [0, 1].
    """
    if tuple(x_fake.shape) != tuple(x_real.shape) or tuple(u.shape) != (x_real.shape[0], 1):
        raise ValueError(f"gradient_penalty needs x_real, x_fake (m, d) and u (m, 1); got shapes "
                         f"{tuple(x_real.shape)}, {tuple(x_fake.shape)}, {tuple(u.shape)}")
    x_tilde = u * x_real + (1.0 - u) * x_fake
    return xp.mean((critic_gradient_norm(params, x_tilde, activation=activation) - 1.0) ** 2)


def critic_loss(params, x_real, x_fake, u, *, lam, activation):
    """-(E f(x_real) - E f(x_fake)) + lam * penalty, lam >= 0: descended by the critic
    (Eq. (63) as an ascent on f); lam = 0 leaves f unconstrained (weight clipping bounds it)."""
    lam = backend.check_number(lam, "lam", low=0.0)
    w1 = (xp.mean(critic_value(params, x_real, activation=activation))
          - xp.mean(critic_value(params, x_fake, activation=activation)))       # Eq. (63)
    if lam == 0.0:
        return -w1
    return -w1 + lam * gradient_penalty(params, x_real, x_fake, u, activation=activation)


def clip_weights(params, c):
    """Arjovsky et al.'s crude Lipschitz bound: every weight and bias clipped to [-c, c], c > 0."""
    c = backend.check_positive(c, "c")
    return nn.tree_map(lambda p: xp.clip(p, -c, c), params)


def fit_critic(x_p, x_q, rng, *, lipschitz="gp", n_steps=1500, lam=10.0, clip=0.01,
               hidden=(64, 64), batch_size=512, lr=2e-3, activation="leaky_relu", progress=None):
    """Theorem 3 in practice: train f on two fixed samples x_p (n, d), x_q (m, d), in their units.

    lipschitz="gp": penalty weight lam > 0; "clip": weights in [-clip, clip]; batch_size <= n, m.
    Returns (f, w1): f(x) -> (n,) and the dual estimate w1 = mean f(x_p) - mean f(x_q) <= W1(p, q).
    """
    lipschitz = check_choice(lipschitz, "lipschitz", LIPSCHITZ)
    x_p = backend.as_points(x_p, "x_p")
    x_q = backend.as_points(x_q, "x_q", x_p.shape[1])
    rng, hidden = backend.check_rng(rng), backend.check_widths(hidden, "hidden", min_len=0)
    n_steps, lr = check_int(n_steps, "n_steps"), backend.check_lr(lr)
    lam, clip = backend.check_positive(lam, "lam"), backend.check_positive(clip, "clip")
    batch_size = common.check_batch_size(batch_size, x_p, "x_p")
    common.check_batch_size(batch_size, x_q, "x_q")
    activation, progress = nn.check_activation(activation), backend.check_progress(progress)
    lam = lam if lipschitz == "gp" else 0.0
    # f starts at 0, as in train_wgan (which says why)
    params = nn.init_mlp([x_p.shape[1], *hidden, 1], rng, final_scale=0.0)
    if lipschitz == "clip":
        params = clip_weights(params, clip)
    loss = autograd.value_and_grad(
        lambda p, xr, xf, u: critic_loss(p, xr, xf, u, lam=lam, activation=activation))
    state, sched, first = nn.adam_init(params), nn.cosine_lr(lr, n_steps), None
    with host.one_blas_thread():
        for step in steps(n_steps, "critic", progress):
            xr, xf = nn.minibatch(x_p, batch_size, rng), nn.minibatch(x_q, batch_size, rng)
            val, grads = loss(params, xr, xf, rng.random((batch_size, 1)))
            first = float(val) if first is None else first
            nn.check_loss(float(val), "critic loss", step, first)
            params, state = nn.adam_step(params, grads, state, sched(step), 0.5, 0.9)
            if lipschitz == "clip":
                params = clip_weights(params, clip)

    def f(x):
        """The trained critic f(x): x (n, d) -> (n,)."""
        return critic_value(params, backend.as_points(x, "x", x_p.shape[1]), activation=activation)

    w1 = float(xp.mean(f(x_p)) - xp.mean(f(x_q)))
    return f, nn.check_finite(w1, "fit_critic: the W1 estimate", n_steps)


@io.register
class WGAN(common.AdversarialModel):
    """A trained WGAN: ``sample(n, rng)``, ``generate(z)``, ``critic(x)``, ``history`` (with
    "w1"), ``save(path)``."""

    @property
    def critic_params(self):
        """f's params (an MLP from d inputs to one linear output, on the scaled data)."""
        return self.adversary_params

    def critic(self, x):
        """f(x) in data units, s f((x - mean) / s), with the trained f's Lipschitz constant.

        x (n, d) -> (n,); trained with pack = m > 1, f takes packs x (n, m d), row i the m points
        x_i1, ..., x_im (each in data units) concatenated."""
        f = critic_value(self.critic_params, self._to_scaled(x), activation=self.activation)
        return self.scale * f


def train_wgan(data, rng, *, lipschitz="gp", n_steps=4000, n_critic=2, lam=0.1, clip=0.01,
               latent_dim=2, hidden=(64, 64, 64), batch_size=256, lr=2e-3, betas=(0.5, 0.9),
               activation="leaky_relu", n_snapshots=6, pack=1, progress=None):
    """WGAN on data (n, d): n_critic critic steps (Eq. (63)) per generator step, n_steps G steps.

    lipschitz="gp": penalty weight lam; "clip": weights clipped to [-clip, clip]. Data are centred
    and scaled by one factor s internally; history["w1"] is the critic's W1 estimate in data
    units. lam = 0.1 is Gulrajani et al.'s value for 2D toy data (10 is for images). The defaults
    (WGAN-GP) cover the 8 modes of the course's blobs (README, training table).
    On data with finer modes, raise n_steps (gans.common says why and by how much).

    pack = m (PacGAN, Lin et al. 2018, arXiv:1712.04086): f sees m samples concatenated, a point
    of R^{m d}; a batch of batch_size points (a multiple of m) makes batch_size / m real and fake
    packs, and the penalty is taken on interpolated packs u p_real + (1 - u) p_fake, one u per
    pack. The critic then estimates W1(p_data^{(x)m}, p_G^{(x)m}) on R^{m d} (history["w1"]), zero
    iff p_G = p_data; f sees the joint law of m samples, so a generator that collapses onto a few
    modes makes packs of low diversity, which f can tell from data packs. pack = 1 is the WGAN.
    """
    rng = backend.check_rng(rng)
    lipschitz = check_choice(lipschitz, "lipschitz", LIPSCHITZ)
    config = common.loop_config(check_int(n_critic, "n_critic"), n_steps=n_steps,
                                batch_size=batch_size, latent_dim=latent_dim, lr=lr, betas=betas,
                                activation=activation, n_snapshots=n_snapshots)
    lam, clip = backend.check_positive(lam, "lam"), backend.check_positive(clip, "clip")
    hidden = backend.check_widths(hidden, "hidden", min_len=0)
    progress = backend.check_progress(progress)
    pack = common.check_pack(pack, config.batch_size)
    x, mean, s = common.scale_data(data, config.batch_size)
    d, act = x.shape[1], config.activation
    lam = lam if lipschitz == "gp" else 0.0
    n_packs = config.batch_size // pack
    g_params = nn.init_mlp([config.latent_dim, *hidden, d], rng)
    # the critic starts as f = 0, where the penalty has no gradient, so the W1 term picks the sign
    # of f's slope first; from a random start the penalty can lock f into the wrong sign (slope -1
    # is as Lipschitz as +1, and flipping crosses slope 0, where the penalty is lam)
    f_params = nn.init_mlp([pack * d, *hidden, 1], rng, final_scale=0.0)
    if lipschitz == "clip":
        f_params = clip_weights(f_params, clip)

    def packs(x):
        return common.pack_points(x, pack)

    def d_loss(fp, xr, xf, u):
        # u: one interpolation weight per pack (the loop draws batch_size, the first n_packs serve)
        u = u if pack == 1 else u[:n_packs]
        return critic_loss(fp, packs(xr), packs(xf), u, lam=lam, activation=act)

    def g_loss(fp, x_fake):
        return -xp.mean(critic_value(fp, packs(x_fake), activation=act))  # Eq. (63): min over G

    def monitor(fp, xr, xf):
        # E f(x) - E f(G(z)) on the batch (of packs), in data units
        return s * float(xp.mean(critic_value(fp, packs(xr), activation=act))
                         - xp.mean(critic_value(fp, packs(xf), activation=act)))

    project = (lambda v: clip_weights(v, clip)) if lipschitz == "clip" else None
    game = common.Game(f"WGAN-{lipschitz}", "critic", d_loss, g_loss, project, monitor)
    g_params, f_params, hist = common.adversarial_loop(x, rng, g_params, f_params, game, config,
                                                       progress=progress)
    hist["w1"] = hist.pop("monitor")
    hist["snapshots"] = [(step, mean + s * y) for step, y in hist["snapshots"]]
    return nn.check_model(WGAN(g_params, f_params, config.latent_dim, mean, s, act, hist, pack),
                          "train_wgan")
