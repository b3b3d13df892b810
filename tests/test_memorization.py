"""The exact score of a noised training set against autograd of its log-density, finite
differences and the one-point Gaussian; its reverse ODE regenerates training points (the issue's
oracle); wrong variants of the score fail both; the experiment of Fig. 13 in miniature, and with
its default training (slow): memorization at N = 8, generalization at N = 512."""
import math

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from autograd.scipy.special import logsumexp

from conftest import assert_close, assert_on_backend, host
from minigen import backend
from minigen.distributions import GaussianMixture, polygon_blobs
from minigen.diffusion import memorization
from minigen.diffusion.memorization import (blobs, empirical_score, empirical_score_fn,
                                            memorization_curve, nearest_distance,
                                            transition_size)
from minigen.diffusion.reverse import reverse_sde, time_grid

R = backend.rng
DATA = np.random.default_rng(0).normal(size=(7, 3))                 # N = 7 points in d = 3
X_EVAL = np.random.default_rng(1).normal(size=(40, 3))


def ou(t):
    """(a, s^2) = (e^{-t}, 1 - e^{-2t}): x_t = a x_0 + s z for dX = -X dt + sqrt(2) dW."""
    return math.exp(-t), 1.0 - math.exp(-2.0 * t)


def log_density(x, data, t):
    """log (1/N) sum_i N(x; a x_i, s^2 Id), written with autograd.numpy: (n,)."""
    a, s2 = ou(t)
    sq = anp.sum((x[:, None, :] - a * data[None]) ** 2, axis=2)                  # (n, N)
    d = data.shape[1]
    return logsumexp(-sq / (2 * s2), axis=1) - math.log(len(data)) - d / 2 * math.log(2 * math.pi
                                                                                       * s2)


def autograd_score(x, data, t):
    return autograd.elementwise_grad(lambda z: anp.sum(log_density(z, data, t)))(x)


@pytest.mark.parametrize("t", [1e-3, 0.05, 0.5, 3.0])
def test_the_score_is_the_gradient_of_the_log_density(t):
    # autograd through the log-sum-exp of the mixture: no softmax weights written anywhere
    got = host(empirical_score(X_EVAL, t, DATA))
    np.testing.assert_allclose(got, autograd_score(X_EVAL, DATA, t), rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("t", [0.05, 0.5, 3.0])
def test_the_score_matches_finite_differences_of_the_mixture(t):
    # central differences of minigen.distributions' mixture log_prob (its own code), step 1e-5:
    # truncation O(h^2 |grad^3 log p|) and round-off O(eps / h) are both below 1e-6 here
    a, s2 = ou(t)
    mix = GaussianMixture(a * DATA, math.sqrt(s2))
    h, fd = 1e-5, np.zeros_like(X_EVAL)
    for j in range(3):
        e = np.zeros(3)
        e[j] = h
        fd[:, j] = host(mix.log_prob(X_EVAL + e) - mix.log_prob(X_EVAL - e)) / (2 * h)
    np.testing.assert_allclose(host(empirical_score(X_EVAL, t, DATA)), fd, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("t", [1e-3, 0.3, 4.0])
def test_with_one_training_point_the_score_is_the_gaussians(t):
    a, s2 = ou(t)                                        # N(a x_1, s^2 Id): score (a x_1 - x)/s^2
    np.testing.assert_allclose(host(empirical_score(X_EVAL, t, DATA[:1])),
                               (a * DATA[:1] - X_EVAL) / s2, rtol=1e-12, atol=1e-10)


def _softmax_score(x, data, t, *, means, s2, logits=None):
    """A softmax-weighted score sum_i w_i (m_i - x) / s2 with the parts a wrong variant changes."""
    lg = -np.sum((x[:, None] - means[None]) ** 2, axis=2) / (2 * s2) if logits is None else logits
    w = np.exp(lg - lg.max(axis=1, keepdims=True))
    return (w / w.sum(axis=1, keepdims=True)) @ means / s2 - x / s2


def _no_decay(x, data, t):                  # the means x_i, not e^{-t} x_i
    return _softmax_score(x, data, t, means=data, s2=ou(t)[1])


def _rescaled_variance(x, data, t):         # sigma_t^2 = e^{2t} - 1 (Eq. 140) for 1 - e^{-2t}
    return _softmax_score(x, data, t, means=ou(t)[0] * data, s2=math.expm1(2 * t))


def _dot_product_weights(x, data, t):       # softmax of a x.x_i / s^2: the |a x_i|^2 term lost
    a, s2 = ou(t)
    return _softmax_score(x, data, t, means=a * data, s2=s2, logits=a * x @ data.T / s2)


def _bandwidth(x, data, t):                 # a kernel estimate: s^2 + 0.01, a fixed bandwidth 0.1
    a, s2 = ou(t)
    return _softmax_score(x, data, t, means=a * data, s2=s2 + 0.01)


WRONG = [_no_decay, _rescaled_variance, _dot_product_weights, _bandwidth]


@pytest.mark.parametrize("wrong", WRONG, ids=lambda f: f.__name__)
def test_wrong_variants_fail_the_autograd_oracle(wrong):
    # the correct score in the same helper passes at rtol 1e-8: the bar is not too strict
    a, s2 = ou(0.5)
    np.testing.assert_allclose(_softmax_score(X_EVAL, DATA, 0.5, means=a * DATA, s2=s2),
                               autograd_score(X_EVAL, DATA, 0.5), rtol=1e-8, atol=1e-8)
    err = np.abs(wrong(X_EVAL, DATA, 0.5) - autograd_score(X_EVAL, DATA, 0.5)).max()
    assert err > 1e-2, err


def test_the_log_sum_exp_keeps_the_score_finite_far_from_the_data():
    # at t = 1e-3 and distance ~ 1e3 every Gaussian weight underflows: exp(-|x - a x_i|^2 / 2 s^2)
    # = 0 for all i, and a plain softmax gives 0 / 0 = NaN. The nearest point takes all the weight.
    a, s2 = ou(1e-3)
    x = np.array([[1e3, 0.0, 0.0], [0.0, -2e3, 5e2]])
    with np.errstate(all="ignore"):
        w = np.exp(-np.sum((x[:, None] - a * DATA[None]) ** 2, axis=2) / (2 * s2))
        assert np.isnan(w / w.sum(axis=1, keepdims=True)).all()
    nearest = DATA[np.argmin(np.sum((x[:, None] - a * DATA[None]) ** 2, axis=2), axis=1)]
    np.testing.assert_allclose(host(empirical_score(x, 1e-3, DATA)), (a * nearest - x) / s2,
                               rtol=1e-9)


def test_blocks_do_not_change_the_results(monkeypatch):
    full = host(empirical_score(X_EVAL, 0.2, DATA)), host(nearest_distance(X_EVAL, DATA))
    monkeypatch.setattr(memorization, "BLOCK", 20)       # blocks of 2 rows of 7 points
    assert memorization._blocks(40, 7)[1] == slice(2, 4)
    assert_close(empirical_score(X_EVAL, 0.2, DATA), full[0])
    assert_close(nearest_distance(X_EVAL, DATA), full[1])


def test_nearest_distance_against_brute_force():
    brute = np.sqrt(((X_EVAL[:, None] - DATA[None]) ** 2).sum(axis=2)).min(axis=1)
    np.testing.assert_allclose(host(nearest_distance(X_EVAL, DATA)), brute, rtol=1e-10)
    np.testing.assert_allclose(host(nearest_distance(DATA, DATA)), 0.0, atol=1e-7)


# the oracle. The ODE keeps the marginals (Th. 9), so at t_min the samples have the law
# p_t = (1/N) sum_i N(a x_i, s^2 Id), s = 0.0141 at t_min = 1e-4: each lies at s |z| from its
# a x_i, z ~ N(0, Id_2), and each training point gets a share 1/N. The 20 points are >= 0.126 =
# 9 s apart, so the nearest a x_i is its own.
TRAIN_SET = polygon_blobs(8, 2.0, 0.2).sample(20, R(0))
N_GEN, T_MIN = 2000, 1e-4


def _landing_failures(score):
    """Which of the three landing criteria the reverse ODE driven by score fails."""
    x = host(reverse_sde(score, R(1).standard_normal((N_GEN, 2)), time_grid(200, t_min=T_MIN),
                         None, alpha=0.0, method="heun"))
    a, s2 = ou(T_MIN)
    sq = ((x[:, None] - a * host(TRAIN_SET)[None]) ** 2).sum(axis=2)         # (n, N)
    r2 = sq.min(axis=1) / s2                                                  # |z|^2 ~ chi^2_2
    counts = np.bincount(sq.argmin(axis=1), minlength=20)
    fails = []
    # P(|z| > 6) = e^{-18}: one of 2000 beyond 6 s with probability 3e-5 (measured max 4.2 s)
    if r2.max() > 36:
        fails.append("a sample lands farther than 6 std from every training point")
    # E|z|^2 = 2, SE sqrt(2 d / n) = 0.045 (measured 1.99)
    if abs(r2.mean() - 2) > 5 * math.sqrt(4 / N_GEN):
        fails.append("mean |x - a x_i|^2 / s^2 is not d = 2")
    # multinomial: SE sqrt(n p (1 - p)) = 9.7 for p = 1/20 (measured at most 1.6 SE off)
    if np.abs(counts - N_GEN / 20).max() > 5 * math.sqrt(N_GEN / 20 * 19 / 20):
        fails.append("the training points are not regenerated with weight 1/N")
    return fails


def test_the_empirical_score_ode_regenerates_the_training_points():
    assert _landing_failures(empirical_score_fn(TRAIN_SET)) == []


@pytest.mark.parametrize("wrong", WRONG, ids=lambda f: f.__name__)
def test_wrong_scores_do_not_regenerate_the_training_points(wrong):
    # measured: every variant fails the 6-std bound (max 14 to 600 std); all but the fixed
    # bandwidth also the 1/N shares
    data = host(TRAIN_SET)
    assert _landing_failures(lambda x, t: backend.asarray(wrong(host(x), data, t))) != []


def test_transition_size_interpolates_in_log_n():
    sizes = [8, 32, 128]
    assert transition_size(sizes, [0.1, 0.3, 0.7]) == pytest.approx(32 * 4 ** 0.5)
    assert transition_size(sizes, [0.6, 0.8, 0.9]) == 8.0
    assert transition_size(sizes, [0.1, 0.2, 0.4]) is None
    assert transition_size(sizes, [0.1, 0.9, 0.95], level=0.9) == pytest.approx(32.0)


def test_blobs_are_the_course_blobs_in_the_first_two_coordinates():
    assert_close(blobs(2).means, polygon_blobs(8, 2.0, 0.2).means)
    g = blobs(10)
    m = host(g.means)
    assert m.shape == (8, 10) and np.all(m[:, 2:] == 0) and np.allclose(host(g.stds), 0.2)
    assert_close(g.means[:, :2], polygon_blobs(8, 2.0, 0.2).means)


TINY = dict(n_steps=5, batch_size=16, hidden=(8,))


def _tiny_curve(sizes=(4, 9), d=3):
    return memorization_curve(blobs(d), list(sizes), R(0), n_samples=6, n_ode_steps=4,
                              sigmas=(0.1, 1.0), n_mse=5, train=TINY)


def test_a_tiny_experiment_returns_every_measure_per_size():
    out = _tiny_curve()
    assert out["sizes"] == [4, 9]
    for key in ("gap_ratio", "nn_ratio", "empirical_gap_ratio", "empirical_nn_ratio"):
        assert len(out[key]) == 2 and all(v > 0 and math.isfinite(v) for v in out[key]), key
    assert np.array(out["mse_train"]).shape == np.array(out["mse_test"]).shape == (2, 2)
    run = out["samples"][1]
    assert host(run["train_a"]).shape == host(run["train_b"]).shape == (9, 3)
    for key in ("a", "b", "empirical_a", "empirical_b"):
        assert host(run[key]).shape == (6, 3)
    # disjoint training sets; the two models differ but start from the same x_T
    assert not np.isin(host(run["train_a"]), host(run["train_b"])).any()


def test_the_experiment_is_reproducible_from_its_seed():
    a, b = _tiny_curve((5,), 2), _tiny_curve((5,), 2)
    assert a["gap_ratio"] == b["gap_ratio"] and a["mse_test"] == b["mse_test"]


def test_the_score_and_the_experiment_run_on_the_backend(backend_name):
    data = backend.asarray(DATA)
    s = empirical_score_fn(data)(backend.asarray(X_EVAL), 0.3)
    assert_on_backend(s, "empirical score")
    assert_close(s, autograd_score(X_EVAL, DATA, 0.3), rtol=1e-8, atol=1e-8)
    dist = nearest_distance(backend.asarray(X_EVAL), data)
    assert_on_backend(dist, "nearest_distance")
    run = _tiny_curve((4,), 2)["samples"][0]
    for key, value in run.items():
        assert_on_backend(value, key)


BAD = [
    (lambda: empirical_score(X_EVAL, 0.0, DATA), ValueError, "t must"),
    (lambda: empirical_score(X_EVAL, -1.0, DATA), ValueError, "t must"),
    (lambda: empirical_score(X_EVAL, math.nan, DATA), ValueError, "t must"),
    (lambda: empirical_score(X_EVAL, math.inf, DATA), ValueError, "t must"),
    (lambda: empirical_score(X_EVAL[:, :2], 0.1, DATA), ValueError, "x must have 3 columns"),
    (lambda: empirical_score(X_EVAL, 0.1, DATA[:, 0]), ValueError, "data must have shape"),
    (lambda: empirical_score_fn(np.full((3, 2), np.nan)), ValueError, "data contains NaN"),
    (lambda: nearest_distance(X_EVAL, DATA[:, :2]), ValueError, "x must have 2 columns"),
    (lambda: nearest_distance(X_EVAL, np.zeros((0, 3))), ValueError, "points must have shape"),
    (lambda: blobs(1), ValueError, "d must be an integer >= 2"),
    (lambda: memorization_curve(polygon_blobs(8, 2.0, 0.2).log_prob, [4], R(0)), TypeError,
     "target.sample must be a function"),
    (lambda: memorization_curve(blobs(2), 8, R(0)), ValueError, "sizes must be a non-empty"),
    (lambda: memorization_curve(blobs(2), [], R(0)), ValueError, "sizes must be a non-empty"),
    (lambda: memorization_curve(blobs(2), [8, 1], R(0)), ValueError, r"sizes\[1\]"),
    (lambda: memorization_curve(blobs(2), [8.5], R(0)), ValueError, r"sizes\[0\]"),
    (lambda: memorization_curve(blobs(2), [8], 0), TypeError, "rng"),
    (lambda: memorization_curve(blobs(2), [8], R(0), n_samples=1), ValueError, "n_samples"),
    (lambda: memorization_curve(blobs(2), [8], R(0), sigmas=(0.1, -1)), ValueError,
     r"sigmas\[1\]"),
    (lambda: memorization_curve(blobs(2), [8], R(0), sigmas=0.1), ValueError,
     "sigmas must be a non-empty"),
    (lambda: memorization_curve(blobs(2), [8], R(0), t_min=0.0), ValueError, "t_min"),
    (lambda: memorization_curve(blobs(2), [8], R(0), n_ode_steps=0), ValueError, "n_steps"),
    (lambda: memorization_curve(blobs(2), [8], R(0), train=(3,)), TypeError, "train must be"),
    (lambda: memorization_curve(blobs(2), [8], R(0), train=dict(n_steps=0)), ValueError,
     "n_steps"),
    (lambda: memorization_curve(blobs(2), [8], R(0), progress="yes"), ValueError, "progress"),
    (lambda: memorization_curve(blobs(2), [8], R(0), 100), TypeError, "positional"),
]


@pytest.mark.parametrize("call,error,message", BAD)
def test_bad_inputs_raise_errors_naming_the_parameter(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.slow
def test_denoisers_memorize_few_points_and_generalize_from_many():
    # 2D blobs, the default budget (TRAIN): measured distance ratio 0.031 at N = 8 (the exact
    # empirical score: 0.003) and 0.99 at N = 512; test/train MSE at sigma = 0.05: 807 and 1.05
    out = memorization_curve(blobs(2), [8, 512], R(0), sigmas=(0.05,))
    nn, mse = out["nn_ratio"], np.array(out["mse_test"])[:, 0] / np.array(out["mse_train"])[:, 0]
    assert nn[0] < 0.2 and nn[1] > 0.7, nn
    assert mse[0] > 10 and mse[1] < 1.5, mse
    # the memorizer's samples sit on training points at every N (its nn ratio << 1)
    assert max(out["empirical_nn_ratio"]) < 0.1, out["empirical_nn_ratio"]


@pytest.mark.slow
def test_in_d_10_two_models_agree_more_than_two_memorizers():
    # blobs(10), N = 512: the same noise lands 0.17 E|Y - Y'| apart through the two trained
    # denoisers, 0.28 through the exact scores of their training sets (whose samples sit on
    # training points, spaced like N^(-1/10)). Paired over the samples: measured -0.29, SE 0.015.
    run = memorization_curve(blobs(10), [512], R(0), sigmas=(0.05,))["samples"][0]
    dist = lambda a, b: np.linalg.norm(host(run[a]) - host(run[b]), axis=1)     # noqa: E731
    diff = dist("a", "b") - dist("empirical_a", "empirical_b")
    assert diff.mean() < -5 * diff.std() / math.sqrt(len(diff)), (diff.mean(), diff.std())
