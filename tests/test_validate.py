"""The input checks of minigen.validate: each accepts what it should, converts it, and refuses the
rest with a message naming the parameter and the value."""
import math

import numpy as np
import pytest

from minigen import backend, validate
from minigen.distributions import GaussianMixture


@pytest.mark.parametrize("value, low, high, expected", [
    (3, 1, None, 3), (np.int64(7), 1, None, 7), (0, 0, None, 0), (5, 1, 5, 5)])
def test_check_int_accepts_integers_in_range(value, low, high, expected):
    out = validate.check_int(value, "n", low, high)
    assert out == expected and type(out) is int


@pytest.mark.parametrize("value, low, high", [
    (2.5, 1, None), (2.0, 1, None), (True, 1, None), ("3", 1, None), (None, 1, None),
    (0, 1, None), (-1, 0, None), (6, 1, 5)])
def test_check_int_refuses(value, low, high):
    with pytest.raises(ValueError, match=rf"n_steps must be an integer .*got n_steps={value!r}"):
        validate.check_int(value, "n_steps", low, high)


def test_check_number_intervals_open_and_closed():
    assert validate.check_number(0.0, "a", 0.0, 1.0) == 0.0
    assert validate.check_number(np.array(0.25), "a", 0.0, 1.0) == 0.25   # a 0-d array
    with pytest.raises(ValueError, match=r"a must be in \(0.0, 1.0\]; got a=0.0"):
        validate.check_number(0.0, "a", 0.0, 1.0, low_open=True)
    with pytest.raises(ValueError, match=r"a must be in \[0.0, 1.0\); got a=1.0"):
        validate.check_number(1.0, "a", 0.0, 1.0, high_open=True)
    for bad in [math.nan, math.inf, -math.inf, "0.5", None, True, np.ones(2)]:
        with pytest.raises(ValueError, match="a must be a finite number"):
            validate.check_number(bad, "a")


def test_check_positive_and_probability():
    assert validate.check_positive(np.float32(0.5), "h") == 0.5
    for bad in [0, -1e-9, math.nan, math.inf, "1", None, False]:
        with pytest.raises(ValueError, match="step_size must be a finite number > 0"):
            validate.check_positive(bad, "step_size")
    assert validate.check_probability(1.0, "p") == 1.0
    with pytest.raises(ValueError, match=r"b2 must be in \[0.0, 1.0\)"):
        validate.check_probability(1.0, "b2", open_high=True)
    with pytest.raises(ValueError, match="p must be in"):
        validate.check_probability(1.5, "p")


def test_check_choice_lists_the_known_names():
    assert validate.check_choice("rk4", "method", ("euler", "rk4")) == "rk4"
    with pytest.raises(ValueError, match=r"method='RK4' is unknown; known: \['euler', 'rk4'\]"):
        validate.check_choice("RK4", "method", ("euler", "rk4"))
    with pytest.raises(ValueError, match="method=None is unknown"):
        validate.check_choice(None, "method", ("euler",))


def test_check_callable_points_a_target_to_its_method():
    gm = GaussianMixture(np.zeros((1, 2)), 1.0)
    assert validate.check_callable(gm.log_prob, "log_prob") == gm.log_prob
    with pytest.raises(TypeError, match=r"GaussianMixture has a method log_prob: pass it"):
        validate.check_callable(gm, "log_prob")
    with pytest.raises(TypeError, match=r"score must be a function \(n, d\) -> \(n, d\); got "
                                        r"score=ndarray$"):
        validate.check_callable(np.zeros(2), "score", "(n, d) -> (n, d)")


def test_check_rng_tells_a_seed_from_a_generator():
    g = backend.rng(0)
    assert validate.check_rng(g) is g
    assert validate.check_rng(np.random.default_rng(1)) is not None
    with pytest.raises(TypeError, match=r"use rng=minigen.backend.rng\(3\)"):
        validate.check_rng(3)
    with pytest.raises(TypeError, match=r"use rng=minigen.backend.rng\(\)"):
        validate.check_rng(None)
    with pytest.raises(TypeError, match="random generator with methods standard_normal"):
        validate.check_rng(np.random)   # the module has no .integers: not a Generator


def test_check_optional_passes_none_only():
    assert validate.check_optional(validate.check_positive, None, "clip") is None
    assert validate.check_optional(validate.check_positive, 2, "clip") == 2.0
    with pytest.raises(ValueError, match="clip must be a finite number > 0; got clip=-1"):
        validate.check_optional(validate.check_positive, -1, "clip")


def test_as_points_refuses_empty_and_non_finite():
    x = backend.as_points([[0.0, 1.0]], "x0")
    assert x.shape == (1, 2)
    with pytest.raises(ValueError,
                       match=r"x0 must have shape \(n, d\) with n, d >= 1; got shape \(0, 2\)"):
        backend.as_points(np.zeros((0, 2)), "x0")
    with pytest.raises(ValueError, match=r"x0 contains NaN or inf \(1 of 4 entries"):
        backend.as_points([[0.0, np.nan], [1.0, 2.0]], "x0")
    assert np.isnan(backend.to_numpy(backend.as_points([[np.nan]], "x0", finite=False))).all()
    with pytest.raises(TypeError, match="data: expected an array"):
        backend.as_points("abc", "data")


def test_check_lr_bounds_adam_and_accepts_schedules():
    assert validate.check_lr(1.0) == 1.0 and validate.check_lr(np.float32(1e-3)) > 0
    schedule = lambda step: 1e-3   # noqa: E731
    assert validate.check_lr(schedule) is schedule
    for bad in [0.0, -1e-3, 1.5, math.nan, math.inf, "1e-3", None]:
        with pytest.raises(ValueError, match=r"lr must be a number in \(0, 1\]"):
            validate.check_lr(bad)


def test_check_widths_flag_progress_and_adam_betas():
    assert validate.check_widths((32, np.int64(16)), "hidden") == (32, 16)
    assert validate.check_widths([], "hidden") == ()
    with pytest.raises(ValueError, match=r"sizes must be a tuple of at least 2 layer widths"):
        validate.check_widths([3], "sizes", min_len=2)
    for bad, where in [((0, 8), r"hidden\[0\]=0"), ((8.5,), r"hidden\[0\]=8.5"),
                       ((8, -1), r"hidden\[1\]=-1"), ("32", "hidden='32'"), (32, "hidden=32"),
                       ((True,), r"hidden\[0\]=True")]:
        with pytest.raises(ValueError, match=where):
            validate.check_widths(bad, "hidden")
    assert validate.check_flag(np.bool_(True), "flip") is True
    for bad in [0, 1, "no", None]:
        with pytest.raises(ValueError, match="flip must be True or False"):
            validate.check_flag(bad, "flip")
    assert validate.check_progress(None) is None and validate.check_progress(False) is False
    with pytest.raises(ValueError, match="progress must be True or False"):
        validate.check_progress("yes")
    assert validate.check_adam_betas([0.5, 0.9]) == (0.5, 0.9)
    for bad, where in [((1.0, 0.9), r"betas\[0\] must be in \[0.0, 1.0\)"), (0.5, "a pair"),
                       ((0.5,), "a pair"), ((0.5, np.nan), r"betas\[1\]")]:
        with pytest.raises(ValueError, match=where):
            validate.check_adam_betas(bad)


def test_check_callable_suggests_the_method_a_function_is_built_from():
    gm = GaussianMixture(np.zeros((1, 2)), 1.0)
    with pytest.raises(TypeError, match=r"has a method ou_marginal: pass it, score=lambda"):
        validate.check_callable(gm, "score", methods={"ou_marginal": "score=lambda x, t: ..."})
    with pytest.raises(TypeError, match=r"got score=NoneType$"):
        validate.check_callable(None, "score", methods={"ou_marginal": "score=lambda x, t: ..."})
