"""The variational autoencoder: a Gaussian decoder p(x|z), a Gaussian encoder q(z|x), one bound.

p(z) = N(0, I_k), p(x|z) = N(f(z), diag sigma^2), q(z|x) = N(mu(x), diag e^{log_var(x)}), MLPs
f, mu, log_var trained by Adam on the ELBO through the reparametrization z = mu + e^{log_var/2} eps:
    log p(x) >= ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z))   (KL in closed form, App. B)
    log p(x) >= IWAE_K(x) = E[log (1/K) sum_k p(x, z_k) / q(z_k|x)] >= ELBO(x),  z_k ~ q(.|x).
Companion reading (generative overview, VAE); Kingma & Welling 2014 (arXiv:1312.6114); Burda,
Grosse & Salakhutdinov 2016 (arXiv:1509.00519); the linear case is probabilistic PCA (Tipping &
Bishop 1999). Shapes: x (n, d), z (n, k) or (K, n, k); log-densities (n,) or (K, n).
"""
import math

from minigen import backend, io, nn
from minigen.backend import xp

LOG_2PI = math.log(2.0 * math.pi)


def log_normal(x, mean, log_var):
    """log N(x; mean, diag e^{log_var}) summed over the last axis: (..., d) -> (...,).

    mean and log_var broadcast against x (a (d,) log_var is one variance per coordinate)."""
    r = x - mean
    return -0.5 * xp.sum(r * r * xp.exp(-log_var) + log_var + LOG_2PI, axis=-1)


def kl_standard_normal(mean, log_var):
    """KL(N(mean, diag e^{log_var}) || N(0, I)) in closed form: (n, k), (n, k) -> (n,)."""
    return 0.5 * xp.sum(mean * mean + xp.exp(log_var) - log_var - 1.0, axis=-1)   # App. B


def reparametrize(mean, log_var, eps):
    """z = mean + e^{log_var / 2} eps, eps ~ N(0, I): a draw of q(z|x) differentiable in
    (mean, log_var) (Kingma & Welling 2014, §2.4): (..., n, k) broadcast -> (..., n, k)."""
    return mean + xp.exp(0.5 * log_var) * eps


def log_mean_exp(log_w, axis=0):
    """log (1/K) sum_k e^{log_w_k} along ``axis``, shifted by the max so nothing overflows."""
    m = xp.max(log_w, axis=axis, keepdims=True)
    out = m + xp.log(xp.mean(xp.exp(log_w - m), axis=axis, keepdims=True))
    return xp.squeeze(out, axis=axis)


def importance_bound(log_joint, log_q):
    """IWAE_K from K draws z_k ~ q(.|x): log_joint = log p(x, z_k), log_q = log q(z_k|x), both
    (K, n) -> (n,). K = 1 is the ELBO's one-sample estimate log p(x, z) - log q(z|x)."""
    return log_mean_exp(log_joint - log_q, axis=0)                     # Burda et al., Eq. (8)


SETTINGS = ("latent_dim", "hidden", "activation", "decoder_std")


def check_decoder_std(decoder_std):
    """decoder_std: "learned" or a fixed sigma > 0 (standardized units)."""
    if decoder_std == "learned":
        return decoder_std
    if isinstance(decoder_std, str):
        raise ValueError(f"decoder_std must be 'learned' or a number > 0; got {decoder_std!r}")
    return backend.check_positive(decoder_std, "decoder_std")


def _vector(v, name, d):
    v = backend.check_finite(backend.asarray(v, name), name)
    if tuple(v.shape) != (d,):
        raise ValueError(f"{name} must have shape ({d},); got shape {tuple(v.shape)}")
    return v


@io.register
class VAE:
    """Encoder x -> (mu, log_var) (n, k) and decoder z -> f(z) (n, d), MLPs on standardized data.

    params: {"enc": mlp d -> 2k, "dec": mlp k -> d, "log_sigma": (d,) when decoder_std is
    "learned"}. hidden=() makes both maps affine (the linear VAE of probabilistic PCA). Data enter
    as y = (x - mean) / std; every log-density is returned in data units (minus sum log std).
    """

    def __init__(self, dim, rng, *, latent_dim=2, hidden=(64, 64, 64), activation="relu",
                 decoder_std="learned", mean=None, std=None):
        d = self.dim = backend.check_int(dim, "dim")
        k = self.latent_dim = backend.check_int(latent_dim, "latent_dim")
        backend.check_rng(rng)
        self.hidden = backend.check_widths(hidden, "hidden")
        self.activation = nn.check_activation(activation)
        self.decoder_std = check_decoder_std(decoder_std)
        self.mean = xp.zeros(d) if mean is None else _vector(mean, "mean", d)
        self.std = xp.ones(d) if std is None else _vector(std, "std", d)
        if not bool(xp.all(self.std > 0)):
            raise ValueError(f"std must be > 0; got std={backend.to_numpy(self.std)}")
        self.history = []
        self.params = {"enc": nn.init_mlp([d, *self.hidden, 2 * k], rng),
                       "dec": nn.init_mlp([k, *self.hidden, d], rng)}
        if self.decoder_std == "learned":
            self.params["log_sigma"] = xp.zeros(d)

    def state(self):
        """For minigen.io: the settings and training history; params, mean and std."""
        config = {"dim": self.dim, **{k: getattr(self, k) for k in SETTINGS},
                  "history": [float(v) for v in self.history]}
        return config, {"vae": self.params, "mean": self.mean, "std": self.std}

    @classmethod
    def from_state(cls, config, params):
        vae = cls(config["dim"], backend.rng(0), **{k: config[k] for k in SETTINGS},
                  mean=params["mean"], std=params["std"])
        vae.params, vae.history = params["vae"], list(config["history"])
        return vae

    def _log_sigma(self, params):
        """log sigma of p(x|z) in standardized units: (d,)."""
        if self.decoder_std == "learned":
            return params["log_sigma"]
        return math.log(self.decoder_std) * xp.ones(self.dim)

    def _encode(self, y, params):
        out = nn.mlp(params["enc"], y, self.activation)
        return out[:, :self.latent_dim], out[:, self.latent_dim:]

    def encode(self, x, params=None):
        """q(z|x) = N(mu, diag e^{log_var}): x (n, d), data units -> (mu, log_var), (n, k) each."""
        x = backend.as_points(x, "x", self.dim)
        return self._encode((x - self.mean) / self.std, params or self.params)

    def decode(self, z, params=None):
        """p(x|z) = N(f(z), diag sigma^2) in data units: z (n, k) -> (mean (n, d), std (d,))."""
        z, params = backend.as_points(z, "z", self.latent_dim), params or self.params
        f = nn.mlp(params["dec"], z, self.activation)
        return self.mean + self.std * f, self.std * xp.exp(self._log_sigma(params))

    def _log_likelihood(self, y, z, params):
        """log p(y|z) on standardized y (n, d) for z (K, n, k) -> (K, n)."""
        K, n, k = z.shape
        f = nn.mlp(params["dec"], xp.reshape(z, (K * n, k)), self.activation)
        f = xp.reshape(f, (K, n, self.dim))
        return log_normal(y, f, 2.0 * self._log_sigma(params))

    def terms(self, x, rng, params=None):
        """The ELBO's two terms with the KL in closed form: (E_q log p(x|z) one-sample (n,),
        KL(q(z|x) || p(z)) (n,)); their difference estimates the ELBO, without bias."""
        x, rng = backend.as_points(x, "x", self.dim), backend.check_rng(rng)
        return self._terms((x - self.mean) / self.std, rng, params or self.params)

    def _terms(self, y, rng, params):
        mu, log_var = self._encode(y, params)
        z = reparametrize(mu, log_var, rng.standard_normal((1, *mu.shape)))
        recon = self._log_likelihood(y, z, params)[0] - xp.sum(xp.log(self.std))
        return recon, kl_standard_normal(mu, log_var)

    def elbo(self, x, rng, *, n_samples=1, params=None):
        """IWAE_K = log (1/K) sum_k p(x, z_k) / q(z_k|x), z_k ~ q(.|x), in nats of the data:
        x (n, d) -> (n,). K = n_samples = 1: the (one-sample) ELBO; it grows with K to log p(x)."""
        x, rng = backend.as_points(x, "x", self.dim), backend.check_rng(rng)
        K, params = backend.check_int(n_samples, "n_samples"), params or self.params
        y = (x - self.mean) / self.std
        mu, log_var = self._encode(y, params)
        z = reparametrize(mu, log_var, rng.standard_normal((K, *mu.shape)))   # (K, n, k)
        log_joint = self._log_likelihood(y, z, params) + log_normal(z, 0.0, xp.zeros(1))
        bound = importance_bound(log_joint, log_normal(z, mu, log_var))
        return bound - xp.sum(xp.log(self.std))

    def sample(self, n, rng, *, noise=True):
        """x = f(z) + sigma eps, z ~ N(0, I) (the decoder's mean f(z) only if noise is False):
        (n, d) in data units."""
        n, rng = backend.check_int(n, "n"), backend.check_rng(rng)
        f, sigma = self.decode(rng.standard_normal((n, self.latent_dim)))
        if not backend.check_flag(noise, "noise"):
            return f
        return f + sigma * rng.standard_normal((n, self.dim))


def train_vae(data, rng, *, latent_dim=2, hidden=(64, 64, 64), activation="relu",
              decoder_std="learned", n_steps=8000, batch_size=512, lr=1e-2, kl_warmup=1000,
              clip=None, callback=None, progress=None):
    """Fit a VAE to data (n, d) by maximizing the ELBO (closed-form KL) with Adam (cosine lr).

    decoder_std: a fixed sigma (in units of the standardized data) or "learned" (one per
    coordinate). Fixed: p(x|z) blurs every sample by sigma, and sigma sets the trade-off between
    reconstruction and KL (large sigma: the encoder may ignore x and the decoder give the mean of
    the data; small sigma: a sharp reconstruction, a KL that pays for it). Learned: sigma shrinks
    to the reconstruction error; where the decoder alone can model the data (sigma as wide as the
    data) the posterior collapses onto the prior (q(z|x) = p(z), KL = 0), and with few points a
    shrinking sigma overfits them.
    kl_warmup: the KL term is weighted by beta = step / kl_warmup until it reaches 1 (Bowman et
    al. 2016, arXiv:1511.06349): without it the learned sigma grows to the data's width first and
    the posterior collapses (tested). Returns the trained VAE with ``.history``, the minibatch
    loss of every step (-ELBO in nats once the warm-up is over).
    The defaults (piecewise-linear relu nets, whose folds separate the blobs) give on
    polygon_blobs(8, 2.0, 0.2), 20000 points, in 33-40 s of CPU: 8/8 modes, ~90% of the
    samples within 3 std of a mode, -ELBO - H = 0.31-0.35 nats and -IWAE_64 - H = 0.16-0.18
    (seeds 0-3; benchmarks/latent.py); the rest of the samples lie on bridges between the blobs.
    """
    data = backend.as_points(data, "data")
    _, mean, std = nn.standardize(data)
    rng, batch_size = backend.check_rng(rng), backend.check_int(batch_size, "batch_size")
    n_steps, lr = backend.check_int(n_steps, "n_steps"), backend.check_positive(lr, "lr")
    backend.check_optional(backend.check_callable, callback, "callback", "(step, params, loss)")
    backend.check_progress(progress)
    vae = VAE(data.shape[1], rng, latent_dim=latent_dim, hidden=hidden, activation=activation,
              decoder_std=decoder_std, mean=mean, std=std)
    y, warmup = (data - mean) / std, backend.check_int(kl_warmup, "kl_warmup", low=0)

    def loss(params, step):                                  # -ELBO on a minibatch
        recon, kl = vae._terms(nn.minibatch(y, batch_size, rng), rng, params)
        beta = min(1.0, (step + 1) / (warmup + 1))           # KL warm-up, then beta = 1
        return xp.mean(beta * kl - recon)

    schedule = nn.cosine_lr(lr, n_steps, warmup=min(100, n_steps // 10))
    vae.params, vae.history = nn.train(loss, vae.params, n_steps, lr=schedule, callback=callback,
                                       name="VAE -ELBO", clip=clip, progress=progress)
    return nn.check_model(vae, "train_vae")
