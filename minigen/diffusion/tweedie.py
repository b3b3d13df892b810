"""Denoising gives the score: Tweedie's formula, a learned denoiser, and the score it defines.

    x_sigma = x + z, z ~ N(0, sigma^2 Id)                  (Eq. 140, sigma_t = sqrt(e^{2t} - 1))
    D*(y, sigma) = argmin E ||D(x_sigma) - x||^2 = E[x | x_sigma = y]               (Eq. 141)
                 = y + sigma^2 grad log p_sigma(y)                    (Th. 10, Eq. 142-146)
Rescaling x_sigma = e^t x_t turns the OU marginal into the noisy data, so the score of p_t is
    grad log p_t(x) = e^t (D*(e^t x, sigma_t) - e^t x) / sigma_t^2,  which drives reverse.py.
Notes §2.8.2 Eq. (18)-(20), §6.2.3. Tweedie (Robbins 1956); Miyasawa 1961; Song et al. 2021
arXiv:2011.13456; preconditioning of Karras et al. 2022 arXiv:2206.00364.
"""
import math

from minigen import backend, io, nn
from minigen.backend import xp
from minigen.diffusion.reverse import reverse_sde, time_grid

# sigma_t = sqrt(e^{2t} - 1) overflows a float64 beyond t = 354.9
T_MAX = 350.0


def sigma_of_t(t):
    """Noise level of the rescaled OU marginal at time t in (0, T_MAX] (Eq. 140, kappa = 1)."""
    t = backend.check_number(t, "t", 0.0, T_MAX, low_open=True)
    return math.sqrt(math.expm1(2.0 * t))                                 # Eq. (140)


def tweedie_denoise(score, y, sigma):
    """Optimal denoiser from the score of the noisy law p_sigma (Eq. 142).

    score: callable y (n, d) -> (n, d), grad log p_sigma. y: (n, d). sigma: finite, > 0.
    Returns y + sigma^2 score(y): (n, d).
    """
    score = backend.check_callable(score, "score", "(y (n, d)) -> (n, d)")
    sigma = backend.check_positive(sigma, "sigma")
    y = backend.as_points(y, "y")
    s = score(y)
    if tuple(getattr(s, "shape", ())) != tuple(y.shape):
        raise ValueError(f"score(y) must return an array of shape {tuple(y.shape)}; "
                         f"got {type(s).__name__} of shape {getattr(s, 'shape', None)}")
    if not bool(xp.all(xp.isfinite(s))):
        bad = int(backend.to_numpy(~xp.all(xp.isfinite(s), axis=1)).sum())
        raise FloatingPointError(f"tweedie_denoise: score(y) returned NaN or inf for {bad} of "
                                 f"{y.shape[0]} points")
    return y + sigma ** 2 * s                                            # Eq. (142)


def _preconditioning(sigma):
    """Karras et al. (2022) scalings for unit-variance data.

    D = c_skip y + c_out F(c_in y, c_noise); sigma: an array, (1, 1) or (B, 1)."""
    r = 1.0 / xp.sqrt(sigma ** 2 + 1.0)
    return r ** 2, sigma * r, r, 0.25 * xp.log(sigma)             # c_skip, c_out, c_in, c_noise


@io.register
class Denoiser:
    """A trained denoiser D_theta(y, sigma) on data of mean `mean` (d,) and overall scale `scale`.

    The network works on standardized data u = (x - mean) / scale (noise sigma / scale there);
    log sigma is clipped to the training range before it enters the network (c_skip, c_out stay
    exact). ``save(path)`` / ``minigen.io.load(path)`` give back the same denoiser.
    """

    def __init__(self, params, mean, scale, sigma_range, activation):
        self.params, self.mean, self.scale = params, mean, float(scale)
        self.sigma_range = (float(sigma_range[0]), float(sigma_range[1]))
        self.activation = nn.check_activation(activation)
        self.history = []                                                 # training losses

    def state(self):
        """(config, params) for minigen.io: the network, the data mean, scale and noise range."""
        config = {"scale": self.scale, "sigma_range": list(self.sigma_range),
                  "activation": self.activation, "history": [float(v) for v in self.history]}
        return config, {"mlp": self.params, "mean": self.mean}

    @classmethod
    def from_state(cls, config, params):
        model = cls(params["mlp"], params["mean"], config["scale"], config["sigma_range"],
                    config["activation"])
        model.history = list(config["history"])
        return model

    def sample(self, n, rng, *, n_steps=200, alpha=1.0, T=5.0, t_min=1e-3, progress=None):
        """n new points by reverse diffusion (Eq. 135) from N(0, Id), this denoiser's score: (n, d).

        alpha > 0 integrates the SDE by Euler-Maruyama, alpha = 0 the ODE by Heun, on
        time_grid(n_steps, T=T, t_min=t_min).
        """
        n = backend.check_int(n, "n")
        rng = backend.check_rng(rng)
        alpha = backend.check_number(alpha, "alpha", low=0.0)
        times = time_grid(n_steps, T=T, t_min=t_min)
        x_T = rng.standard_normal((n, self.mean.shape[0]))
        return reverse_sde(score_from_denoiser(self), x_T, times, rng, alpha=alpha,
                           method="euler" if alpha > 0 else "heun", progress=progress)

    def standardized(self, u, sigma):
        """D in standardized units: u (n, d), sigma (1, 1) or (n, 1) array -> (n, d)."""
        c_skip, c_out, c_in, _ = _preconditioning(sigma)
        lo, hi = self.sigma_range
        # log sigma / 4, with sigma clipped to the training range
        c_noise = _preconditioning(xp.clip(sigma, lo, hi))[3]
        c_noise = c_noise * xp.ones((u.shape[0], 1), dtype=u.dtype)     # (n, 1)
        F = nn.mlp(self.params, xp.concatenate([c_in * u, c_noise], axis=1), self.activation)
        return c_skip * u + c_out * F

    def __call__(self, y, sigma):
        """E[x | x + sigma z = y] as learned: y (n, d), sigma > 0 finite -> (n, d)."""
        sigma = backend.check_positive(sigma, "sigma")
        y = backend.as_points(y, "y", self.mean.shape[0])
        u = (y - self.mean) / self.scale
        sigma_u = xp.full((1, 1), sigma / self.scale, dtype=u.dtype)    # (1, 1), standardized
        return self.mean + self.scale * self.standardized(u, sigma_u)


def train_denoiser(data, rng, *, n_steps=6000, batch_size=512, hidden=(96, 96, 96), lr=3e-3,
                   sigma_min=0.01, sigma_max=20.0, activation="relu", progress=None):
    """Fit D_theta(y, sigma) by the denoising MSE of Eq. (141), sigma log-uniform in
    [sigma_min, sigma_max].

    data: (n, d). Standardized internally (mean per coordinate, one overall scale, so the noise
    stays isotropic); sigma_min, sigma_max are in units of that scale.
    Parametrization D = c_skip y + c_out F(c_in y, log sigma / 4) (Karras et al. 2022): F's target
    (x - c_skip y) / c_out has unit variance at every sigma, and the loss
    E ||F - target||^2 = E ||D - x||^2 / c_out^2 is Eq. (141) reweighted per sigma (same minimizer).
    Defaults: an MLP 3 x 96 ReLU; 6000 Adam steps of 512 fresh (x, sigma, z) draws, cosine
    learning rate from 3e-3; sigma in [0.01, 20] x scale, from below the blob width to beyond
    the data spread: the noise levels of a reverse diffusion from T = 5 to t_min = 1e-3. On the
    8 blobs they come within ~1% of the Bayes MSE at sigma = 0.1, 0.3, 1 (README).
    Raises FloatingPointError if training diverges (a NaN, inf or exploded loss, or samples of
    the trained model that are NaN). Returns a callable Denoiser.
    """
    data = backend.as_points(data, "data")
    rng = backend.check_rng(rng)
    n_steps = backend.check_int(n_steps, "n_steps")
    batch_size = backend.check_int(batch_size, "batch_size")
    hidden = backend.check_widths(hidden, "hidden")
    lr = backend.check_positive(lr, "lr")
    sigma_min = backend.check_positive(sigma_min, "sigma_min")
    sigma_max = backend.check_positive(sigma_max, "sigma_max")
    if not sigma_min < sigma_max:
        raise ValueError(f"need sigma_min < sigma_max; got sigma_min={sigma_min}, "
                         f"sigma_max={sigma_max}")
    nn.check_activation(activation)
    _, mean, std = nn.standardize(data)             # checks non-constant coordinates
    # one overall scale: isotropic noise stays isotropic
    scale = float(xp.sqrt(xp.mean(std ** 2)))
    u = (data - mean) / scale                                                  # (n, d)
    d = u.shape[1]
    params = nn.init_mlp([d + 1, *hidden, d], rng)
    model = Denoiser(params, mean, scale, (sigma_min, sigma_max), activation)
    log_lo, log_hi = math.log(sigma_min), math.log(sigma_max)

    def loss(params, step):
        x = nn.minibatch(u, batch_size, rng)                                  # (B, d)
        sigma = xp.exp(log_lo + (log_hi - log_lo) * rng.random((batch_size, 1)))   # (B, 1)
        y = x + sigma * rng.standard_normal(x.shape)                          # Eq. (140)
        c_skip, c_out, c_in, c_noise = _preconditioning(sigma)
        F = nn.mlp(params, xp.concatenate([c_in * y, c_noise], axis=1), activation)
        return xp.mean(xp.sum((F - (x - c_skip * y) / c_out) ** 2, axis=1))  # Eq. (141) / c_out^2

    schedule = nn.cosine_lr(lr, n_steps, warmup=100)
    model.params, model.history = nn.train(loss, params, n_steps, lr=schedule,
                                           name="denoiser", progress=progress)
    return nn.check_model(model, "train_denoiser")


def score_from_denoiser(denoiser):
    """score(x, t) of p_t in OU time (dX = -X dt + sqrt(2) dW) from a denoiser D(y, sigma).

    x_sigma = e^t x_t has the law of x + sigma_t z (Eq. 140), so p_t(x) = e^{td} p_sigma(e^t x):
        grad log p_t(x) = e^t grad log p_sigma(x_sigma)
                        = e^t (D(x_sigma, sigma_t) - x_sigma) / sigma_t^2           (Eq. 146)
    denoiser: callable (y (n, d), sigma float) -> (n, d). The score takes t in (0, T_MAX].
    """
    denoiser = backend.check_callable(denoiser, "denoiser", "(y (n, d), sigma) -> (n, d)")

    def score(x, t):
        sigma_t, e_t = sigma_of_t(t), math.exp(t)
        x_sigma = e_t * backend.as_points(x, "x")                          # Eq. (140) rescaling
        D = denoiser(x_sigma, sigma_t)
        if tuple(getattr(D, "shape", ())) != tuple(x_sigma.shape):
            raise ValueError(f"denoiser(y, sigma) must return an array of shape "
                             f"{tuple(x_sigma.shape)} like y; got {getattr(D, 'shape', None)}")
        return e_t * (D - x_sigma) / sigma_t ** 2                     # Eq. (146), chain rule
    return score
