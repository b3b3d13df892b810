"""What the public API does with bad input: each call below is a mistake a student makes, and the
table counts how each one ends.

    clear error            ValueError / TypeError / FloatingPointError naming the parameter
    error, name missing    one of those, but its message does not name the parameter
    obscure error          any other exception (AttributeError, KeyError, IndexError, ...)
    sensible result        the call is legitimate after all and returned finite numbers
    silent NaN             it returned, and the result (or the trained model's samples) has NaN/inf
    silently coerced       it returned, having quietly changed the argument (2.5 steps run as 2)
    silent garbage         it returned finite numbers from a meaningless argument

    python benchmarks/bad_inputs.py [--verbose]      (--verbose prints every call and its message)
"""
import argparse
import collections
import importlib
import inspect
import warnings

import numpy as np

from minigen import backend, distributions, metrics, nn
from minigen.diffusion import ornstein_uhlenbeck as ou
from minigen.diffusion import reverse, tweedie
from minigen.flows import coupling, hamiltonian
from minigen.gans import gan, wgan
from minigen.mcmc import metropolis

langevin = importlib.import_module("minigen.mcmc.langevin")    # the package exports the function

R = backend.rng
GM = distributions.polygon_blobs(8, 2.0, 0.2)
N01 = distributions.GaussianMixture(np.zeros((1, 2)), 1.0)
X0 = np.zeros((16, 2))
DATA = backend.to_numpy(GM.sample(512, R(0)))
NAN_DATA = DATA.copy()
NAN_DATA[3, 1] = np.nan
SCORE = N01.score
LOGP = N01.log_prob
Q3 = np.array([[0.5, 0.5, 0.0], [0.25, 0.5, 0.25], [0.0, 0.5, 0.5]])
TIMES = reverse.time_grid(20)
Z2 = np.zeros((4, 2))


def case(param, call, silent="silent garbage"):
    """A bad call: the parameter at fault, the call, what it is if it returns without NaN."""
    return param, call, silent


def sampler_cases():
    mh, ula, ma, al = (metropolis.metropolis_hastings, langevin.langevin, langevin.mala,
                       langevin.annealed_langevin)
    rx = importlib.import_module("minigen.mcmc.replica_exchange").replica_exchange
    return [
        case("n_steps", lambda: mh(LOGP, X0, 2.5, 0.5, R(0)), "silently coerced"),
        case("n_steps", lambda: mh(LOGP, X0, 0, 0.5, R(0))),
        case("n_steps", lambda: mh(LOGP, X0, -3, 0.5, R(0))),
        case("step_size", lambda: mh(LOGP, X0, 10, -0.5, R(0))),
        case("step_size", lambda: mh(LOGP, X0, 10, np.nan, R(0))),
        case("step_size", lambda: mh(LOGP, X0, 10, np.inf, R(0))),
        case("rng", lambda: mh(LOGP, X0, 10, 0.5, 0)),
        case("rng", lambda: mh(LOGP, X0, 10, 0.5, None)),
        case("log_prob", lambda: mh(GM, X0, 10, 0.5, R(0))),
        case("log_prob", lambda: mh(None, X0, 10, 0.5, R(0))),
        case("x0", lambda: mh(LOGP, np.zeros(2), 10, 0.5, R(0))),
        case("x0", lambda: mh(LOGP, np.zeros((0, 2)), 10, 0.5, R(0))),
        case("x0", lambda: mh(LOGP, np.full((4, 2), np.nan), 10, 0.5, R(0))),
        case("x0", lambda: mh(LOGP, np.zeros((4, 3)), 10, 0.5, R(0))),
        case("x0", lambda: mh(LOGP, "zeros", 10, 0.5, R(0))),
        case("thin", lambda: mh(LOGP, X0, 10, 0.5, R(0), thin=0)),
        case("thin", lambda: mh(LOGP, X0, 10, 0.5, R(0), thin=2.5), "silently coerced"),
        case("thin", lambda: mh(LOGP, X0, 10, 0.5, R(0), thin=20)),
        case("proposal", lambda: mh(LOGP, X0, 10, 0.5, R(0), proposal="gaussian")),
        case("log_prob", lambda: mh(lambda x: np.full(len(x), np.inf), X0, 10, 0.5, R(0))),
        case("log_prob", lambda: mh(lambda x: x, X0, 10, 0.5, R(0))),
        case("step_size", lambda: ula(SCORE, X0, 200, 10.0, R(0))),
        case("step_size", lambda: ula(SCORE, X0, 10, 0.0, R(0))),
        case("n_steps", lambda: ula(SCORE, X0, 2.5, 0.1, R(0)), "silently coerced"),
        case("beta", lambda: ula(SCORE, X0, 10, 0.1, R(0), beta=0.0)),
        case("beta", lambda: ula(SCORE, X0, 10, 0.1, R(0), beta=-1.0)),
        case("sigma", lambda: ula(SCORE, X0, 10, 0.1, R(0), sigma=-1.0)),
        case("score", lambda: ula(N01, X0, 10, 0.1, R(0))),
        case("score", lambda: ula(lambda x: x[:, :1], X0, 10, 0.1, R(0))),
        case("rng", lambda: ula(SCORE, X0, 10, 0.1, 7)),
        case("x0", lambda: ula(SCORE, np.array([[np.inf, 0.0]]), 10, 0.1, R(0))),
        case("step_size", lambda: ma(LOGP, SCORE, X0, 10, -0.1, R(0))),
        case("score", lambda: ma(LOGP, N01, X0, 10, 0.1, R(0))),
        case("log_prob", lambda: ma(N01, SCORE, X0, 10, 0.1, R(0))),
        case("rng", lambda: ma(LOGP, SCORE, X0, 10, 0.1, 3)),
        case("n_steps", lambda: ma(LOGP, SCORE, X0, 3.5, 0.1, R(0)), "silently coerced"),
        case("step_size", lambda: ma(LOGP, SCORE, X0, 50, 1e6, R(0)), "sensible result"),
        case("betas", lambda: al(SCORE, X0, [0.1, 2.0], 0.1, R(0))),
        case("betas", lambda: al(SCORE, X0, 0.5, 0.1, R(0))),
        case("betas", lambda: al(SCORE, X0, [], 0.1, R(0))),
        case("betas", lambda: al(SCORE, X0, [0.1, np.nan], 0.1, R(0))),
        case("step_size", lambda: al(SCORE, X0, [0.5] * 100, 10.0, R(0))),
        case("rng", lambda: al(SCORE, X0, [0.5, 1.0], 0.1, 1)),
        case("betas", lambda: rx(LOGP, X0, 1.0, 10, 0.5, R(0))),
        case("betas", lambda: rx(LOGP, X0, [1.0, 1.5], 10, 0.5, R(0))),
        case("betas", lambda: rx(LOGP, X0, [0.5, 0.2], 10, 0.5, R(0))),
        case("betas", lambda: rx(LOGP, X0, [1.0, 0.0], 10, 0.5, R(0))),
        case("betas", lambda: rx(LOGP, X0, [1.0, np.nan], 10, 0.5, R(0))),
        case("n_steps", lambda: rx(LOGP, X0, [1.0, 0.5], 2.5, 0.5, R(0)), "silently coerced"),
        case("step_size", lambda: rx(LOGP, X0, [1.0, 0.5], 10, [0.5], R(0))),
        case("step_size", lambda: rx(LOGP, X0, [1.0, 0.5], 10, -1.0, R(0))),
        case("rng", lambda: rx(LOGP, X0, [1.0, 0.5], 10, 0.5, 0)),
        case("log_prob", lambda: rx(GM, X0, [1.0, 0.5], 10, 0.5, R(0))),
        case("Q", lambda: metropolis.transition_matrix([0.2, 0.3, 0.5], Q3[:2])),
        case("pi", lambda: metropolis.transition_matrix([0.2, -0.3, 0.5], Q3)),
        case("Q", lambda: metropolis.transition_matrix([0.2, 0.3, 0.5], 2 * Q3)),
        case("Q", lambda: metropolis.transition_matrix([0.2, 0.3, 0.5], -Q3)),
        case("pi", lambda: metropolis.transition_matrix([0.2, np.nan, 0.5], Q3)),
        case("step_size", lambda: metropolis.GaussianRandomWalk(0.0)),
    ]


def distribution_cases():
    gm = distributions.GaussianMixture
    return [
        case("stds", lambda: gm(np.zeros((2, 2)), -1.0)),
        case("stds", lambda: gm(np.zeros((2, 2)), [1.0, 2.0, 3.0])),
        case("stds", lambda: gm(np.zeros((2, 2)), np.nan)),
        case("weights", lambda: gm(np.zeros((2, 2)), 1.0, [0.5, 0.6])),
        case("weights", lambda: gm(np.zeros((2, 2)), 1.0, [np.nan, 1.0])),
        case("means", lambda: gm(np.zeros(2), 1.0)),
        case("means", lambda: gm(np.array([[0.0, np.nan]]), 1.0)),
        case("x", lambda: GM.log_prob(np.zeros((3, 3)))),
        case("x", lambda: GM.log_prob(np.full((2, 2), np.nan))),
        case("n", lambda: GM.sample(2.5, R(0)), "silently coerced"),
        case("n", lambda: GM.sample(0, R(0))),
        case("rng", lambda: GM.sample(10, 0)),
        case("n_modes", lambda: distributions.polygon_blobs(2.5, 2.0, 0.2), "silently coerced"),
        case("n_modes", lambda: distributions.polygon_blobs(0, 2.0, 0.2)),
        case("std", lambda: distributions.polygon_blobs(8, 2.0, -0.2)),
        case("radius", lambda: distributions.polygon_blobs(8, np.nan, 0.2)),
        case("beta", lambda: distributions.Gibbs(lambda x: x[:, 0], beta=0.0)),
        case("beta", lambda: distributions.Gibbs(lambda x: x[:, 0], beta=np.inf)),
        case("energy", lambda: distributions.Gibbs(GM, beta=1.0)),
        case("t", lambda: GM.ou_marginal(-1.0)),
        case("t", lambda: GM.ou_marginal(np.nan)),
        case("kappa", lambda: GM.ou_marginal(1.0, kappa=-1.0)),
        case("sigma", lambda: GM.posterior_mean(Z2, 0.0)),
        case("sigma", lambda: GM.posterior_mean(Z2, np.inf)),
        case("y", lambda: GM.posterior_mean(np.zeros((2, 3)), 1.0)),
        case("n", lambda: GM.entropy(R(0), n=0)),
    ]


def diffusion_cases():
    den = tweedie.train_denoiser
    return [
        case("t", lambda: ou.ou_sample(Z2, -1.0, R(0))),
        case("t", lambda: ou.ou_sample(Z2, np.nan, R(0))),
        case("kappa", lambda: ou.ou_sample(Z2, 1.0, R(0), kappa=0.0)),
        case("sigma", lambda: ou.ou_sample(Z2, 1.0, R(0), sigma=-1.0)),
        case("kappa", lambda: ou.ou_sample(Z2, 1.0, R(0), kappa=np.nan)),
        case("rng", lambda: ou.ou_sample(Z2, 1.0, 0)),
        case("x0", lambda: ou.ou_sample(np.full((2, 2), np.nan), 1.0, R(0))),
        case("times", lambda: ou.ou_paths(Z2, [0.0, 1.0, 0.5], R(0))),
        case("times", lambda: ou.ou_paths(Z2, [0.0, np.nan], R(0))),
        case("times", lambda: ou.ou_paths(Z2, 1.0, R(0))),
        case("n_steps", lambda: reverse.time_grid(2.5), "silently coerced"),
        case("n_steps", lambda: reverse.time_grid(0)),
        case("T", lambda: reverse.time_grid(10, T=np.inf)),
        case("t_min", lambda: reverse.time_grid(10, t_min=0.0)),
        case("t_min", lambda: reverse.time_grid(10, T=1.0, t_min=2.0)),
        case("method", lambda: reverse.reverse_sde(lambda x, t: -x, Z2, TIMES, R(0), method="rk4")),
        case("alpha", lambda: reverse.reverse_sde(lambda x, t: -x, Z2, TIMES, R(0), alpha=-1.0)),
        case("alpha", lambda: reverse.reverse_sde(lambda x, t: -x, Z2, TIMES, R(0), alpha=np.nan)),
        case("rng", lambda: reverse.reverse_sde(lambda x, t: -x, Z2, TIMES, 0)),
        case("score", lambda: reverse.reverse_sde(GM, Z2, TIMES, R(0))),
        case("score", lambda: reverse.reverse_sde(lambda x, t: 1e200 * x ** 3, Z2 + 1.0, TIMES,
                                                  R(0))),
        case("x_T", lambda: reverse.reverse_sde(lambda x, t: -x, np.full((2, 2), np.nan), TIMES,
                                                R(0))),
        case("times", lambda: reverse.reverse_sde(lambda x, t: -x, Z2, [1.0, 2.0], R(0))),
        case("sigma", lambda: tweedie.tweedie_denoise(N01.score, Z2, np.inf)),
        case("sigma", lambda: tweedie.tweedie_denoise(N01.score, Z2, 0.0)),
        case("sigma", lambda: tweedie.tweedie_denoise(N01.score, Z2, np.nan)),
        case("score", lambda: tweedie.tweedie_denoise(N01, Z2, 1.0)),
        case("y", lambda: tweedie.tweedie_denoise(N01.score, np.full((2, 2), np.nan), 1.0)),
        case("n_steps", lambda: den(DATA, R(0), n_steps=2.5), "silently coerced"),
        case("lr", lambda: den(DATA, R(0), n_steps=5, lr=-1e-3)),
        case("lr", lambda: den(DATA, R(0), n_steps=5, lr=np.nan)),
        case("batch_size", lambda: den(DATA, R(0), n_steps=5, batch_size=0)),
        case("batch_size", lambda: den(DATA, R(0), n_steps=5, batch_size=2.5), "silently coerced"),
        case("sigma_min", lambda: den(DATA, R(0), n_steps=5, sigma_min=-0.1)),
        case("sigma_max", lambda: den(DATA, R(0), n_steps=5, sigma_max=np.inf)),
        case("activation", lambda: den(DATA, R(0), n_steps=5, activation="gelu")),
        case("hidden", lambda: den(DATA, R(0), n_steps=5, hidden=(0, 8))),
        case("hidden", lambda: den(DATA, R(0), n_steps=5, hidden=(8.5,)), "silently coerced"),
        case("data", lambda: den(NAN_DATA, R(0), n_steps=5)),
        case("data", lambda: den(DATA[:, 0], R(0), n_steps=5)),
        case("rng", lambda: den(DATA, 0, n_steps=5)),
        case("lr", lambda: den(DATA, R(0), n_steps=200, lr=50.0)),
    ]


def flow_cases():
    cf, hf = coupling.train_coupling_flow, hamiltonian.train_hamiltonian_flow
    return [
        case("lr", lambda: cf(DATA, R(0), n_steps=5, lr=-0.05)),
        case("clip", lambda: cf(DATA, R(0), n_steps=5, clip=-1.0)),
        case("n_steps", lambda: cf(DATA, R(0), n_steps=2.5), "silently coerced"),
        case("n_blocks", lambda: cf(DATA, R(0), n_steps=5, n_blocks=0)),
        case("n_blocks", lambda: cf(DATA, R(0), n_steps=5, n_blocks=1.5), "silently coerced"),
        case("scale_bound", lambda: cf(DATA, R(0), n_steps=5, scale_bound=-1.0)),
        case("activation", lambda: cf(DATA, R(0), n_steps=5, activation="gelu")),
        case("batch_size", lambda: cf(DATA, R(0), n_steps=5, batch_size=0)),
        case("hidden", lambda: cf(DATA, R(0), n_steps=5, hidden=(-4,))),
        case("data", lambda: cf(NAN_DATA, R(0), n_steps=5)),
        case("data", lambda: cf(DATA[:, :1], R(0), n_steps=5)),
        case("rng", lambda: cf(DATA, 1, n_steps=5)),
        case("lr", lambda: cf(DATA, R(0), n_steps=100, lr=1e3, clip=None)),
        case("lr", lambda: hf(DATA, R(0), n_steps=100, lr=50.0)),
        case("step_size", lambda: hf(DATA, R(0), n_steps=5, step_size=-0.5)),
        case("step_size", lambda: hf(DATA, R(0), n_steps=5, step_size=np.nan)),
        case("n_leapfrog", lambda: hf(DATA, R(0), n_steps=5, n_leapfrog=0)),
        case("n_leapfrog", lambda: hf(DATA, R(0), n_steps=5, n_leapfrog=1.5), "silently coerced"),
        case("n_blocks", lambda: hf(DATA, R(0), n_steps=5, n_blocks=0)),
        case("init_scale", lambda: hf(DATA, R(0), n_steps=5, init_scale=-1.0)),
        case("batch_size", lambda: hf(DATA, R(0), n_steps=5, batch_size=2.5), "silently coerced"),
        case("n_steps", lambda: hf(DATA, R(0), n_steps=2.5), "silently coerced"),
        case("clip", lambda: hf(DATA, R(0), n_steps=5, clip=0.0)),
        case("data", lambda: hf(NAN_DATA, R(0), n_steps=5)),
        case("rng", lambda: hf(DATA, None, n_steps=5)),
        case("step_size", lambda: hamiltonian.leapfrog(Z2, Z2, lambda q: q, lambda p: p, 0.0)),
        case("n_steps", lambda: hamiltonian.leapfrog(Z2, Z2, lambda q: q, lambda p: p, 0.1, 2.5),
             "silently coerced"),
    ]


def gan_cases():
    tg, tw = gan.train_gan, wgan.train_wgan
    return [
        case("loss", lambda: tg(DATA, R(0), n_steps=5, loss="wasserstein")),
        case("n_steps", lambda: tg(DATA, R(0), n_steps=2.5), "silently coerced"),
        case("k", lambda: tg(DATA, R(0), n_steps=5, k=0)),
        case("k", lambda: tg(DATA, R(0), n_steps=5, k=1.5), "silently coerced"),
        case("lr", lambda: tg(DATA, R(0), n_steps=5, lr=-1e-3)),
        case("betas", lambda: tg(DATA, R(0), n_steps=5, betas=(1.5, 0.999))),
        case("betas", lambda: tg(DATA, R(0), n_steps=5, betas=(0.5,))),
        case("latent_dim", lambda: tg(DATA, R(0), n_steps=5, latent_dim=0)),
        case("batch_size", lambda: tg(DATA, R(0), n_steps=5, batch_size=10_000)),
        case("activation", lambda: tg(DATA, R(0), n_steps=5, activation="gelu")),
        case("n_snapshots", lambda: tg(DATA, R(0), n_steps=5, n_snapshots=-1)),
        case("data", lambda: tg(NAN_DATA, R(0), n_steps=5)),
        case("rng", lambda: tg(DATA, 0, n_steps=5)),
        case("lr", lambda: tg(DATA, R(0), n_steps=200, lr=1e3)),
        case("lipschitz", lambda: tw(DATA, R(0), n_steps=5, lipschitz="spectral")),
        case("lam", lambda: tw(DATA, R(0), n_steps=5, lam=-1.0)),
        case("clip", lambda: tw(DATA, R(0), n_steps=5, lipschitz="clip", clip=-0.01)),
        case("n_critic", lambda: tw(DATA, R(0), n_steps=5, n_critic=0)),
        case("n_critic", lambda: tw(DATA, R(0), n_steps=5, n_critic=2.5), "silently coerced"),
        case("lr", lambda: tw(DATA, R(0), n_steps=5, lr=np.inf)),
        case("rng", lambda: tw(DATA, 5, n_steps=5)),
        case("lr", lambda: tw(DATA, R(0), n_steps=200, lr=1e3)),
        case("n_steps", lambda: gan.fit_discriminator(DATA, DATA, R(0), n_steps=0)),
        case("x_g", lambda: gan.fit_discriminator(DATA, DATA[:, :1], R(0), n_steps=5)),
        case("lipschitz", lambda: wgan.fit_critic(DATA, DATA, R(0), n_steps=5, lipschitz="x")),
        case("p_g", lambda: gan.optimal_discriminator(np.ones(3), -np.ones(3))),
        case("n", lambda: tg(DATA, R(0), n_steps=2).sample(2.5, R(0)), "silently coerced"),
        case("rng", lambda: tg(DATA, R(0), n_steps=2).sample(10, 0)),
    ]


def nn_metric_cases():
    return [
        case("activation", lambda: nn.mlp(nn.init_mlp([2, 4, 1], R(0)), Z2, activation="gelu")),
        case("sizes", lambda: nn.init_mlp([2, 0, 1], R(0))),
        case("sizes", lambda: nn.init_mlp([2, 2.5, 1], R(0)), "silently coerced"),
        case("n_projections", lambda: metrics.sliced_wasserstein(DATA, DATA, R(0), 0)),
        case("rng", lambda: metrics.sliced_wasserstein(DATA, DATA, 0)),
        case("x", lambda: metrics.mmd_rbf(NAN_DATA, DATA)),
        case("bandwidth", lambda: metrics.mmd_rbf(DATA, DATA, bandwidth=-1.0)),
        case("max_lag", lambda: metrics.autocorrelation(np.zeros((10, 2)), 2.5),
             "silently coerced"),
        case("n_std", lambda: metrics.high_quality_fraction(DATA, GM.means, 0.2, n_std=0)),
        case("std", lambda: metrics.mode_coverage(DATA, GM.means, -0.2)),
    ]


ROOMS = {"samplers": sampler_cases, "distributions": distribution_cases,
         "diffusion": diffusion_cases, "flows": flow_cases, "GANs": gan_cases,
         "nn, metrics": nn_metric_cases}


def non_finite(out):
    """Whether a returned value (array, tuple, model) holds NaN or inf anywhere."""
    if hasattr(out, "sample"):
        out = out.sample(256, R(0))
    if isinstance(out, (tuple, list)):
        return any(non_finite(v) for v in out)
    try:
        return not np.all(np.isfinite(backend.to_numpy(out)))
    except (TypeError, ValueError):
        return False


def outcome(param, call, silent):
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = call()
    except (ValueError, TypeError, FloatingPointError) as err:
        said = param.lower() in str(err).lower()
        return ("clear error" if said else "error, name missing"), f"{type(err).__name__}: {err}"
    except Exception as err:                                        # noqa: BLE001
        return "obscure error", f"{type(err).__name__}: {err}"
    if non_finite(out):
        return "silent NaN", "returned non-finite values"
    return silent, "returned"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    table = collections.OrderedDict()
    for room, cases in ROOMS.items():
        for param, call, silent in cases():
            kind, message = outcome(param, call, silent)
            table.setdefault(kind, []).append(room)
            if args.verbose:
                source = inspect.getsource(call).strip().split("lambda: ", 1)[-1]
                print(f"[{room}] {source.rstrip(',')} -> {kind} | {message.splitlines()[0][:160]}")
    total = sum(len(v) for v in table.values())
    print("\n| outcome | calls |\n| --- | ---: |")
    for kind, rooms in sorted(table.items(), key=lambda kv: -len(kv[1])):
        print(f"| {kind} | {len(rooms)} |")
    print(f"| total | {total} |")


if __name__ == "__main__":
    main()
