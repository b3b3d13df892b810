"""Replica exchange (Eq. 43): tempered marginals, move and swap rates, the swap itself on
hand-made states, and unequal mode weights across a barrier.

Statistical checks read one state per independent chain: SE of a frequency p is
sqrt(p (1 - p) / m), of a variance v sqrt(2 / m) v (Gaussian law); tolerances are 5 SE.
"""
import math

import numpy as np
import pytest

from minigen import backend
from minigen.backend import xp
from minigen.distributions import GaussianMixture
from minigen.mcmc.metropolis import metropolis_hastings
from minigen.mcmc.replica_exchange import replica_exchange, swap_neighbours


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
    # Expected swap acceptance E min(1, exp((b1 - b2)(log pi(x2) - log pi(x1)))),
    # x_i ~ N(0, 1/b_i) drawn exactly
    g = np.random.default_rng(1)
    x1, x2 = g.standard_normal(10 ** 6), 2.0 * g.standard_normal(10 ** 6)
    expected = np.mean(np.minimum(1.0, np.exp(0.75 * (-0.5 * x2 ** 2 + 0.5 * x1 ** 2))))
    # m * 200 swap attempts, indicators of variance <= 1/4 and autocorrelation time <= 10:
    # SE <= sqrt(10 / 4 / 4e5) = 0.0025, so 0.0125 is 5 SE (burn-in of ~10 of 400 steps adds
    # < 0.003)
    assert res.swap_rate.shape == (1,)
    rate = float(res.swap_rate[0])
    assert abs(rate - expected) < 0.0125 + 0.003, (rate, expected)
    assert res.accept_rate.shape == (2, m)


def test_recovers_unequal_weights_across_a_barrier_where_plain_mh_does_not():
    # Modes at -3 and +3 (std 0.5, weights 1/4 and 3/4): log pi drops by 18 at the barrier.
    target = GaussianMixture([[-3.0], [3.0]], 0.5, [0.25, 0.75])
    m, n_steps, step = 2000, 300, 1.0
    x0 = np.full((m, 1), -3.0)                              # every chain in the light mode
    betas = np.geomspace(1.0, 0.02, 6)
    rex = replica_exchange(target.log_prob, x0, betas, n_steps, step, backend.rng(2), thin=n_steps)
    mh = metropolis_hastings(target.log_prob, x0, n_steps, step, backend.rng(2), thin=n_steps)
    right_rex = np.mean(backend.to_numpy(rex.final[:, 0]) > 0)
    right_mh = np.mean(backend.to_numpy(mh.final[:, 0]) > 0)
    se = math.sqrt(0.75 * 0.25 / m)
    assert abs(right_rex - 0.75) < 5 * se, right_rex
    assert right_mh < 0.75 - 20 * se, right_mh              # plain MH stays where it started
    assert np.all(backend.to_numpy(rex.swap_rate) > 0.3)


def test_one_batched_target_call_per_step():
    calls = []

    def counted(x):
        calls.append(x.shape[0])
        return std_normal(x)
    replica_exchange(counted, np.zeros((5, 2)), [1.0, 0.5, 0.2], 10, 0.5, backend.rng(0))
    assert calls == [15] * 11


def test_move_acceptance_of_each_replica_uses_its_own_step_and_temperature():
    # At stationarity replica r is N(0, 1/beta_r); a random walk of std s on N(0, v) accepts with
    # probability (2/pi) arctan(2 sqrt(v) / s) (1-D). m * n_steps indicators per replica, variance
    # <= 1/4, autocorrelation time <= 10: SE <= sqrt(10 / 4 / 8e5) = 0.0018, 5 SE = 0.009; the
    # ~10 burn-in steps from x0 = 0 (of 400) move the mean by < 0.01.
    betas, steps, m, n_steps = [1.0, 0.25, 0.0625], [1.5, 3.0, 2.0], 2000, 400
    res = replica_exchange(std_normal, np.zeros((m, 1)), betas, n_steps, steps, backend.rng(3),
                           thin=n_steps)
    got = backend.to_numpy(res.accept_rate).mean(axis=1)
    expected = [2 / math.pi * math.atan(2 / (s * math.sqrt(b))) for b, s in zip(betas, steps)]
    np.testing.assert_allclose(got, expected, atol=0.009 + 0.01)
    assert abs(expected[1] - 2 / math.pi * math.atan(2 / (1.5 * 0.5))) > 0.1   # steps told apart


def test_swap_of_eq43_on_hand_made_states():
    # R = 4, parity 0: pairs (0, 1) and (2, 3). log rho = (b_i - b_j)(log pi(x_j) - log pi(x_i))
    # is +50 (a sure swap) or -5000 (a sure refusal), whatever the uniform drawn.
    gap = xp.asarray([[0.5], [0.25], [0.125]])                         # betas 1, .5, .25, .125
    X = xp.asarray([[[10.0], [11.0]], [[20.0], [21.0]], [[30.0], [31.0]], [[40.0], [41.0]]])
    lp = xp.asarray([[0.0, 0.0], [100.0, -2e4], [0.0, 0.0], [-4e4, 400.0]])  # (R, n)
    X2, lp2, n_swap = swap_neighbours(X, lp, gap, 0, backend.rng(0), xp.zeros(3))
    # chain 0 swaps the pair (0, 1) only, chain 1 the pair (2, 3) only
    np.testing.assert_array_equal(backend.to_numpy(X2[:, :, 0]),
                                  [[20.0, 11.0], [10.0, 21.0], [30.0, 41.0], [40.0, 31.0]])
    np.testing.assert_array_equal(backend.to_numpy(lp2),
                                  [[100.0, 0.0], [0.0, -2e4], [0.0, 400.0], [-4e4, 0.0]])
    np.testing.assert_array_equal(backend.to_numpy(n_swap), [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(backend.to_numpy(X[:, :, 0]),               # not modified
                                  [[10.0, 11.0], [20.0, 21.0], [30.0, 31.0], [40.0, 41.0]])
    # parity 1: the pair (1, 2) only; log rho = 0.25 (0 - 100) = -25 for chain 0 (kept, up to
    # a uniform below e^-25), 0.25 (0 + 2e4) > 0 for chain 1 (swapped)
    X3, lp3, n_swap = swap_neighbours(X, lp, gap, 1, backend.rng(0), xp.zeros(3))
    np.testing.assert_array_equal(backend.to_numpy(X3[:, :, 0]),
                                  [[10.0, 11.0], [20.0, 31.0], [30.0, 21.0], [40.0, 41.0]])
    np.testing.assert_array_equal(backend.to_numpy(n_swap), [0.0, 1.0, 0.0])


def test_swap_rate_counts_the_attempts_of_each_parity():
    # flat target: every move and every swap is accepted, so each pair's rate is exactly 1;
    # with n_steps = 3 pair 0 is tried once (k = 2) and pair 1 twice (k = 1, 3); n_steps = 1:
    # pair 0 is never tried (rate 0)
    def flat(x):
        return xp.zeros(x.shape[0])
    for n_steps, rates in ((3, [1.0, 1.0, 1.0]), (1, [0.0, 1.0, 0.0]), (4, [1.0, 1.0, 1.0])):
        res = replica_exchange(flat, np.zeros((6, 2)), [1.0, 0.6, 0.3, 0.1], n_steps, 0.5,
                               backend.rng(0))
        np.testing.assert_array_equal(backend.to_numpy(res.swap_rate), rates)


def test_return_all_keeps_every_replica_and_thin_every_thin_th_step():
    args = (std_normal, np.zeros((4, 2)), [1.0, 0.5, 0.2], 12, [0.5, 0.7, 1.1])
    full = replica_exchange(*args, backend.rng(5), return_all=True)
    thin = replica_exchange(*args, backend.rng(5), thin=3, return_all=True)
    assert full.replicas.shape == (12, 3, 4, 2) and thin.replicas.shape == (4, 3, 4, 2)
    np.testing.assert_array_equal(backend.to_numpy(full.replicas[:, 0]),
                                  backend.to_numpy(full.samples))
    np.testing.assert_array_equal(backend.to_numpy(thin.replicas),
                                  backend.to_numpy(full.replicas[2::3]))
    np.testing.assert_array_equal(backend.to_numpy(full.final_replicas),
                                  backend.to_numpy(full.replicas[-1]))
    assert replica_exchange(*args, backend.rng(5)).replicas is None


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_non_finite_log_prob_raises_with_step_and_count():
    def log_prob(x):                           # +inf beyond |x_1| = 1.2
        return xp.where(xp.abs(x[:, 0]) > 1.2, math.inf, std_normal(x))
    with pytest.raises(FloatingPointError, match=r"replica_exchange: at step \d+, \d+ of 20 chains"
                                                 r" .*\+inf at [1-9]"):
        replica_exchange(log_prob, np.zeros((10, 2)), [1.0, 0.5], 50, 0.5, backend.rng(0))


GM = GaussianMixture([[0.0, 0.0]], 1.0)


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(x0=np.zeros(4)), ValueError, "x0"),
    (dict(x0=np.full((3, 2), math.nan)), ValueError, "x0"),
    (dict(betas=1.0), ValueError, "R >= 2.* scalar betas=1.0"),
    (dict(betas=[1.0]), ValueError, "R >= 2"),
    (dict(betas=[0.9, 0.5]), ValueError, r"betas\[0\]=0.9"),
    (dict(betas=[1.0, 0.5, 0.5]), ValueError, "strictly decreasing"),
    (dict(betas=[1.0, 0.2, 0.5]), ValueError, "strictly decreasing"),
    (dict(betas=[1.0, 0.5, 0.0]), ValueError, r"betas\[2\]=0.0"),
    (dict(betas=[1.0, 1.5]), ValueError, r"betas\[1\]=1.5"),
    (dict(betas=[[1.0, 0.5]]), ValueError, "betas"),
    (dict(betas=[1.0, math.nan, 0.5]), ValueError, r"betas\[1\]=nan"),
    (dict(betas="hot"), TypeError, "betas"),
    (dict(step_size=0.0), ValueError, "step_size"),
    (dict(step_size=True), ValueError, "step_size"),
    (dict(step_size=[0.5, -0.1]), ValueError, r"step_size\[1\]"),
    (dict(step_size=[0.5, math.nan]), ValueError, r"step_size\[1\]"),
    (dict(step_size=[0.5, 0.5, 0.5]), ValueError, "step_size"),
    (dict(n_steps=0), ValueError, "n_steps"),
    (dict(n_steps=2.5), ValueError, "n_steps"),
    (dict(thin=0), ValueError, "thin"),
    (dict(thin=2.5), ValueError, "thin"),
    (dict(rng=0), TypeError, r"rng=minigen.backend.rng\(0\)"),
    (dict(return_all="yes"), ValueError, "return_all"),
    (dict(progress=1), ValueError, "progress"),
    (dict(log_prob=GM), TypeError, "log_prob=target.log_prob"),
    (dict(log_prob=lambda x: xp.zeros(3)), ValueError, "log_prob"),
    (dict(log_prob=lambda x: xp.full(x.shape[0], math.nan)), ValueError, "log_prob"),
])
def test_bad_input(kwargs, error, name):
    args = dict(log_prob=std_normal, x0=np.zeros((3, 2)), betas=[1.0, 0.5], n_steps=10,
                step_size=0.5, rng=backend.rng(0))
    args.update(kwargs)
    with pytest.raises(error, match=name):
        replica_exchange(**args)


def test_hyperparameters_are_keyword_only():
    with pytest.raises(TypeError):
        replica_exchange(std_normal, np.zeros((3, 2)), [1.0, 0.5], 10, 0.5, backend.rng(0), 2)
