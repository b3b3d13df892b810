"""The conditional GAN: G(z|y) and D(x|y) both see the label y (Mirza & Osindero 2014,
arXiv:1411.1784).

    V(D, G) = E_{(x,y)~p_data} log D(x|y) + E_{z~p_z, y~pi} log(1 - D(G(z|y)|y))   (§4.3, Eq. 64)
y enters both players by concatenation, [z, onehot(y)] and [x, onehot(y)] (notes, Fig. 20). For
each label, Lemma 1 (Eq. (48)) gives D*(x|y) = p(x|y) / (p(x|y) + p_G(x|y)), so Theorem 1 holds
class by class: V(D*, G) = sum_y pi(y) 2 JS(p(.|y) || p_G(.|y)) - log 4 (Eq. (53)). The
Wasserstein variant (notes: "on pourrait tout aussi bien utiliser Wasserstein") swaps D for a
critic f(x|y), 1-Lipschitz in x, with Gulrajani et al.'s penalty (arXiv:1704.00028).
"""
import numbers

from minigen import backend, io, nn
from minigen.backend import check_choice, check_int, xp
from minigen.gans import common, gan, wgan


def one_hot(y, n_classes):
    """Integer labels y (n,) on the backend -> one-hot rows (n, n_classes)."""
    return (y[:, None] == xp.arange(n_classes)[None, :]).astype(backend.float_dtype())


def check_labels(labels, n, n_classes=None, name="labels"):
    """labels as backend integers (n,): one int for every row, or n ints in [0, n_classes) (in
    [0, inf) if n_classes is None)."""
    high = None if n_classes is None else n_classes - 1
    if isinstance(labels, bool) or isinstance(labels, str):
        raise TypeError(f"{name} must be integer class indices; got {name}={labels!r}")
    if isinstance(labels, numbers.Integral):
        labels = [check_int(labels, name, low=0, high=high)] * n
    try:
        a = backend.to_numpy(xp.asarray(labels))
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be integer class indices; got "
                        f"{type(labels).__name__}") from None
    if a.dtype.kind not in "iu":
        raise ValueError(f"{name} must be integers (class indices), not dtype {a.dtype}")
    if a.ndim != 1 or a.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},), one label per point; got shape "
                         f"{tuple(a.shape)}")
    lo, hi = int(a.min()), int(a.max())
    if lo < 0 or (high is not None and hi > high):
        within = "be >= 0" if high is None else f"lie in [0, {high}] (n_classes={n_classes})"
        raise ValueError(f"{name} must {within}; got values in [{lo}, {hi}]")
    return xp.asarray(a)


def value_function(discriminator, x_real, labels_real, x_fake, labels_fake):
    """Monte-Carlo V(D, G) of Eq. (64): mean log D(x_i|y_i) + mean log(1 - D(x'_j|y'_j)).

    discriminator(x (k, d), labels (k,)) -> D(x|y) (k,) in [0, 1] (a trained CGAN's
    ``discriminator``); (x_real (n, d), labels_real (n,)) pairs of the data; (x_fake (m, d),
    labels_fake (m,)) G's samples x'_j = G(z_j|y'_j) with the labels they were drawn for. Each
    point is judged with its own label; -inf where D is 0 on data or 1 on a sample.
    """
    discriminator = backend.check_callable(discriminator, "discriminator", "(x, labels) -> (k,)",
                                           {"discriminator": "discriminator=model.discriminator"})
    x_real = backend.as_points(x_real, "x_real")
    x_fake = backend.as_points(x_fake, "x_fake", x_real.shape[1])
    y_real = check_labels(labels_real, x_real.shape[0], name="labels_real")
    y_fake = check_labels(labels_fake, x_fake.shape[0], name="labels_fake")
    d_real = gan._values(discriminator(x_real, y_real), "discriminator(x_real)", high=1.0)
    d_fake = gan._values(discriminator(x_fake, y_fake), "discriminator(x_fake)", high=1.0)
    return gan.value_function(d_real, d_fake)                          # Eq. (64) as Eq. (47)


def critic_penalty_x(params, x_real, x_fake, u, d, *, activation):
    """E (||grad_x f(x~|y)|| - 1)^2 on x~ = u x + (1 - u) G(z|y), rows [x, onehot(y)] (m, d + K).

    A pair shares its label (the loop gives G the batch's labels), so x~ keeps it; the gradient is
    taken in x only (its first d columns): f(.|y) is to be 1-Lipschitz in x for each y."""
    g = nn.input_gradient(params, u * x_real + (1.0 - u) * x_fake, activation)[:, :d]   # (m, d)
    return xp.mean((xp.sqrt(xp.sum(g * g, axis=1) + 1e-12) - 1.0) ** 2)


@io.register
class CGAN(common.AdversarialModel):
    """A trained conditional GAN: ``sample(n, rng, labels)``, ``generate(z, labels)``,
    ``discriminator(x, labels)`` (or ``critic`` if Wasserstein), ``history``, ``save(path)``."""

    def __init__(self, *args, label_weights=None, wasserstein=False):
        super().__init__(*args)
        k = self.n_classes
        self.label_weights = xp.ones(k) / k if label_weights is None else label_weights   # pi
        self.wasserstein = bool(wasserstein)

    @property
    def n_classes(self):
        """K: G's first layer takes latent_dim + K inputs."""
        return self.gen_params[0]["W"].shape[0] - self.latent_dim

    def generate(self, z, labels):
        """x = G(z|y) in data units: z (n, latent_dim), labels (n,) or one int -> (n, d)."""
        z = backend.as_points(z, "z", self.latent_dim)
        y = one_hot(check_labels(labels, z.shape[0], self.n_classes), self.n_classes)
        return self.mean + self.scale * nn.mlp(self.gen_params, xp.concatenate([z, y], axis=1),
                                               self.activation)

    def sample(self, n, rng, labels=None):
        """n samples of p_G(x|y): labels (n,) or one int; None draws them from pi, the training
        labels' frequencies (then x ~ sum_y pi(y) p_G(x|y)). z ~ N(0, I): (n, d)."""
        n, rng = check_int(n, "n"), backend.check_rng(rng)
        if labels is None:
            w = self.label_weights
            labels = xp.minimum(xp.searchsorted(xp.cumsum(w), rng.random((n,))), w.shape[0] - 1)
        labels = check_labels(labels, n, self.n_classes)
        return self.generate(rng.standard_normal((n, self.latent_dim)), labels)

    def _adversary(self, x, labels, wasserstein):
        if self.wasserstein != wasserstein:
            has = "critic" if self.wasserstein else "discriminator"
            raise ValueError(f"this CGAN was trained with wasserstein={self.wasserstein}: it has "
                             f"a {has}, call model.{has}(x, labels)")
        x = self._to_scaled(x)
        y = one_hot(check_labels(labels, x.shape[0], self.n_classes), self.n_classes)
        return nn.mlp(self.adversary_params, xp.concatenate([x, y], axis=1), self.activation)[:, 0]

    def discriminator(self, x, labels):
        """D(x|y) in (0, 1), the probability that x is a real point of label y: x (n, d) -> (n,)."""
        return nn.sigmoid(self._adversary(x, labels, False))

    def critic(self, x, labels):
        """f(x|y) in data units, s f((x - mean) / s | y) (Wasserstein variant): x (n, d) -> (n,)."""
        return self.scale * self._adversary(x, labels, True)

    def state(self):
        config, params = super().state()
        config["wasserstein"] = self.wasserstein
        params["label_weights"] = self.label_weights
        return config, params

    @classmethod
    def from_state(cls, config, params):
        model = super().from_state(config, params)
        model.label_weights, model.wasserstein = params["label_weights"], config["wasserstein"]
        return model


def train_cgan(data, labels, rng, *, n_classes=None, wasserstein=False, loss="non_saturating",
               lam=0.1, n_steps=None, k=1, latent_dim=8, hidden=(64, 64), batch_size=256,
               lr=None, betas=(0.5, 0.999), activation="leaky_relu", n_snapshots=6,
               progress=None):
    """Algorithm 2 on Eq. (64): data (n, d), labels (n,) ints in [0, n_classes) (None: max + 1).

    Each step draws m pairs (x_i, y_i) of the data and gives G the same labels, so a batch's real
    and fake points share their labels; D sees rows [x, onehot(y)]. loss: the generator's,
    "non_saturating" or "minimax" (gan.generator_loss). wasserstein=True: the critic f(x|y) of
    Eq. (63) per label with the penalty lam E (||grad_x f|| - 1)^2 (then loss is unused);
    history["w1"] estimates sum_y pi(y) W1(p(.|y), p_G(.|y)) in data units, else
    history["value"] is V of Eq. (64) on the batch. history["snapshot_labels"]: the labels of the
    snapshots' points. n_steps, lr: None gives 2000 and 5e-4 for Eq. (64), 4000 and 1e-3 with
    wasserstein=True. The defaults put >= 95% of the samples of every label within 3 std of its
    blob on the course's 8 blobs labelled by mode, each label's samples a little narrower than
    its blob (latent_dim = 8 widens them; with 2 they are thin streaks); README, training table.
    """
    rng, loss = backend.check_rng(rng), check_choice(loss, "loss", gan.LOSSES)
    wasserstein = backend.check_flag(wasserstein, "wasserstein")
    n_steps = (4000 if wasserstein else 2000) if n_steps is None else n_steps
    lr = (1e-3 if wasserstein else 5e-4) if lr is None else lr
    config = common.loop_config(check_int(k, "k"), n_steps=n_steps, batch_size=batch_size,
                                latent_dim=latent_dim, lr=lr, betas=betas, activation=activation,
                                n_snapshots=n_snapshots)
    lam = backend.check_positive(lam, "lam")
    hidden = backend.check_widths(hidden, "hidden", min_len=0)
    progress = backend.check_progress(progress)
    x, mean, s = common.scale_data(data, config.batch_size)
    n, d, act = x.shape[0], x.shape[1], config.activation
    if n_classes is None:
        n_classes = int(backend.to_numpy(check_labels(labels, n)).max()) + 1
    n_classes = check_int(n_classes, "n_classes")
    y = one_hot(check_labels(labels, n, n_classes), n_classes)                  # (n, K)
    counts = xp.sum(y, axis=0)
    if not bool(xp.all(counts > 0)):
        empty = [i for i, c in enumerate(backend.to_numpy(counts)) if c == 0]
        raise ValueError(f"labels: class {empty[0]} of n_classes={n_classes} has no data point "
                         f"(empty classes: {empty})")
    xy = xp.concatenate([x, y], axis=1)                   # the pairs (x, y) of p_data: (n, d + K)
    g_params = nn.init_mlp([config.latent_dim + n_classes, *hidden, d], rng)
    d_params = nn.init_mlp([d + n_classes, *hidden, 1], rng,
                           **({"final_scale": 0.0} if wasserstein else {}))     # as in wgan.py

    def generator(gp, z, xy_real):
        y_real = xy_real[:, d:]                                       # the batch's labels
        x_fake = nn.mlp(gp, xp.concatenate([z, y_real], axis=1), act)    # G(z|y), Eq. (64)
        return xp.concatenate([x_fake, y_real], axis=1)

    def d_loss(dp, xr, xf, u):
        if wasserstein:                                               # Eq. (63) per label
            return (wgan.critic_loss(dp, xr, xf, u, lam=0.0, activation=act)
                    + lam * critic_penalty_x(dp, xr, xf, u, d, activation=act))
        return gan.discriminator_loss(dp, xr, xf, activation=act)    # -V of Eq. (64)

    def g_loss(dp, xf):
        a_fake = nn.mlp(dp, xf, act)[:, 0]                            # D(G(z|y)|y), or f
        return -xp.mean(a_fake) if wasserstein else gan.generator_loss(a_fake, loss=loss)

    def monitor(dp, xr, xf):
        return s * float(xp.mean(nn.mlp(dp, xr, act)) - xp.mean(nn.mlp(dp, xf, act)))

    name = "cWGAN-gp" if wasserstein else "cGAN"
    game = common.Game(name, "critic" if wasserstein else "discriminator", d_loss, g_loss,
                       monitor=monitor if wasserstein else None, generator=generator)
    g_params, d_params, hist = common.adversarial_loop(xy, rng, g_params, d_params, game, config,
                                                       progress=progress)
    if wasserstein:
        hist["w1"] = hist.pop("monitor")
    else:
        hist["value"] = [-v for v in hist.pop("d_loss")]        # V(D, G) on the batch, Eq. (64)
        del hist["monitor"]
    hist["snapshots"] = [(step, mean + s * v[:, :d]) for step, v in hist["snapshots"]]
    snap_y = backend.to_numpy(xp.argmax(xy[xp.arange(common.SNAPSHOT_SIZE) % n, d:], axis=1))
    hist["snapshot_labels"] = [int(v) for v in snap_y] if config.n_snapshots else []
    model = CGAN(g_params, d_params, config.latent_dim, mean, s, act, hist,
                 label_weights=counts / n, wasserstein=wasserstein)
    return nn.check_model(model, "train_cgan")
