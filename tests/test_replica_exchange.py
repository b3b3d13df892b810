"""Replica exchange (Eq. 43): tempered marginals, swap rates and unequal mode weights across a barrier.

Statistical checks read one state per independent chain: SE of a frequency p is sqrt(p (1 - p) / m),
of a variance v sqrt(2 / m) v (Gaussian law); tolerances are 5 SE.
"""
import math

import numpy as np
import pytest

from minigen import backend
from minigen.backend import xp
from minigen.distributions import GaussianMixture
from minigen.mcmc.metropolis import metropolis_hastings
from minigen.mcmc.replica_exchange import replica_exchange


def std_normal(x):
    return -0.5 * xp.sum(x ** 2, axis=1)


def test_replicas_sample_tempered_laws_and_swap_rate_matches_eq43():
    # pi = N(0, 1), so pi^beta ∝ N(0, 1/beta); at stationarity the two replicas are independent.
    betas, m, n_steps = [1.0, 0.25], 2000, 400
    res = replica_exchange(std_normal, np.zeros((m, 1)), betas, n_steps, [1.5, 3.0], backend.rng(0),
                           thin=n_steps, return_all=True)
    last = backend.to_numpy(res.replicas[-1, :, :, 0])                    # (R, m)
    for b, z in zip(betas, last):
        v = 1.0 / b
        assert abs(z.var() - v) < 5 * v * math.sqrt(2 / m), (b, z.var())
    np.testing.assert_array_equal(backend.to_numpy(res.samples[-1]), backend.to_numpy(res.final))
    # Expected swap acceptance E min(1, exp((b1 - b2)(log pi(x2) - log pi(x1)))), x_i ~ N(0, 1/b_i) drawn exactly
    g = np.random.default_rng(1)
    x1, x2 = g.standard_normal(10 ** 6), 2.0 * g.standard_normal(10 ** 6)
    expected = np.mean(np.minimum(1.0, np.exp(0.75 * (-0.5 * x2 ** 2 + 0.5 * x1 ** 2))))
    # m * 200 swap attempts, indicators of variance <= 1/4 and autocorrelation time <= 10:
    # SE <= sqrt(10 / 4 / 4e5) = 0.0025, so 0.0125 is 5 SE (burn-in of ~10 of 400 steps adds < 0.003)
    assert res.swap_rate.shape == (1,)
    assert abs(float(res.swap_rate[0]) - expected) < 0.0125 + 0.003, (float(res.swap_rate[0]), expected)
    assert res.accept_rate.shape == (2, m)


def test_recovers_unequal_weights_across_a_barrier_where_plain_mh_does_not():
    # Modes at -3 and +3 (std 0.5, weights 1/4 and 3/4): log pi drops by 18 at the barrier.
    target = GaussianMixture([[-3.0], [3.0]], 0.5, [0.25, 0.75])
    m, n_steps, step = 2000, 300, 1.0
    x0 = np.full((m, 1), -3.0)                                            # every chain in the light mode
    betas = np.geomspace(1.0, 0.02, 6)
    rex = replica_exchange(target.log_prob, x0, betas, n_steps, step, backend.rng(2), thin=n_steps)
    mh = metropolis_hastings(target.log_prob, x0, n_steps, step, backend.rng(2), thin=n_steps)
    right_rex = np.mean(backend.to_numpy(rex.final[:, 0]) > 0)
    right_mh = np.mean(backend.to_numpy(mh.final[:, 0]) > 0)
    se = math.sqrt(0.75 * 0.25 / m)
    assert abs(right_rex - 0.75) < 5 * se, right_rex
    assert right_mh < 0.75 - 20 * se, right_mh                            # plain MH stays where it started
    assert np.all(backend.to_numpy(rex.swap_rate) > 0.3)


def test_one_batched_target_call_per_step():
    calls = []

    def counted(x):
        calls.append(x.shape[0])
        return std_normal(x)
    replica_exchange(counted, np.zeros((5, 2)), [1.0, 0.5, 0.2], 10, 0.5, backend.rng(0))
    assert calls == [15] * 11


@pytest.mark.parametrize("kwargs, name", [
    (dict(x0=np.zeros(4)), "x0"),
    (dict(betas=[0.9, 0.5]), "betas"),
    (dict(betas=[1.0, 0.5, 0.5]), "betas"),
    (dict(betas=[1.0, 0.2, 0.5]), "betas"),
    (dict(betas=[1.0, 0.5, 0.0]), "betas"),
    (dict(betas=[1.0, 1.5]), "betas"),
    (dict(betas=[[1.0, 0.5]]), "betas"),
    (dict(betas=[1.0, float("nan"), 0.5]), "betas"),
    (dict(step_size=0.0), "step_size"),
    (dict(step_size=[0.5, -0.1]), "step_size"),
    (dict(step_size=[0.5, 0.5, 0.5]), "step_size"),
    (dict(n_steps=0), "n_steps"),
    (dict(thin=0), "thin"),
    (dict(log_prob=lambda x: xp.zeros(3)), "log_prob"),
    (dict(log_prob=lambda x: xp.full(x.shape[0], float("nan"))), "log_prob"),
])
def test_bad_input(kwargs, name):
    args = dict(log_prob=std_normal, x0=np.zeros((3, 2)), betas=[1.0, 0.5], n_steps=10, step_size=0.5,
                rng=backend.rng(0))
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        replica_exchange(**args)
