"""The input checks of every public entry: one rule per kind of argument, one wording of the error.

Each check returns the value converted (an ``int``, a ``float``, the function itself) or raises a
``ValueError`` / ``TypeError`` whose message names the parameter and the value it got:

    check_int(2.5, "n_steps")        ValueError: n_steps must be an integer >= 1; got n_steps=2.5
    check_callable(gm, "log_prob")   TypeError: log_prob must be a function ...; pass gm.log_prob
    check_rng(0)                     TypeError: rng must be a random generator ...; use
                                     minigen.backend.rng(0)

They are re-exported by ``minigen.backend``, next to the array checks (``asarray``, ``as_points``).
"""
import math
import numbers

import numpy as np

RNG_METHODS = ("standard_normal", "random", "integers")


def check_int(value, name, low=1, high=None):
    """``value`` as an int in [low, high]: bools, floats (2.5 or 2.0) and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {low}; got {name}={value!r}")
    if value < low or (high is not None and value > high):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be an integer {bound}; got {name}={value!r}")
    return int(value)


def check_number(value, name, low=-math.inf, high=math.inf, low_open=False, high_open=False):
    """``value`` as a finite float in the interval from low to high (open ends on request).

    NaN, inf, bools, strings and arrays of one or more dimensions are refused."""
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {name}={value!r}")
    below = value <= low if low_open else value < low
    above = value >= high if high_open else value > high
    if below or above:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name} must be in {left}{low}, {high}{right}; got {name}={value!r}")
    return float(value)


def check_positive(value, name):
    """``value`` as a finite float > 0 (a rate, a step size, a scale)."""
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < math.inf:
        raise ValueError(f"{name} must be a finite number > 0; got {name}={value!r}")
    return float(value)


def check_lr(lr, name="lr"):
    """An Adam learning rate: a float in (0, 1], or a schedule (a function step -> lr).

    Adam moves every parameter by about lr per step, whatever the gradient's scale, so lr > 1 only
    ever throws the parameters away."""
    if callable(lr):
        return lr
    value = _scalar(lr)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value <= 1:
        raise ValueError(f"{name} must be a number in (0, 1] (Adam moves each parameter by about "
                         f"{name} per step) or a schedule step -> {name}; got {name}={lr!r}")
    return float(value)


def check_probability(value, name, open_low=False, open_high=False):
    """``value`` as a float in [0, 1] (ends excluded on request: an Adam beta is in [0, 1))."""
    return check_number(value, name, 0.0, 1.0, open_low, open_high)


def check_choice(value, name, choices):
    """``value`` if it is one of ``choices``; the error lists them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}={value!r} is unknown; known: {sorted(choices)}")
    return value


def check_callable(f, name, signature="", methods=None):
    """``f`` if it can be called; a target object passed for its method gets the method's name.

    signature: what the function maps, e.g. "(n, d) -> (n,)", said in the error.
    methods: {method: the call to suggest} for objects that are not the function but have a
    method to build it from; by default {name: f"{name}=target.{name}"}."""
    if callable(f):
        return f
    what = f"a function {signature}".rstrip()
    hint = ""
    for method, call in (methods or {name: f"{name}=target.{name}"}).items():
        if callable(getattr(f, method, None)):
            hint = f"; this {type(f).__name__} has a method {method}: pass it, {call}"
            break
    raise TypeError(f"{name} must be {what}; got {name}={type(f).__name__}{hint}")


def check_rng(rng, name="rng"):
    """``rng`` if it draws like a generator; an int or None (a seed) gets "use rng(seed)"."""
    if all(callable(getattr(rng, m, None)) for m in RNG_METHODS):
        return rng
    if rng is None or isinstance(rng, numbers.Integral):
        raise TypeError(f"{name} must be a random generator, got {name}={rng!r}; "
                        f"use {name}=minigen.backend.rng({'' if rng is None else rng})")
    raise TypeError(f"{name} must be a random generator with methods {', '.join(RNG_METHODS)} "
                    f"(make one with minigen.backend.rng(seed)); got {type(rng).__name__}")


def check_widths(widths, name="hidden", min_len=0):
    """An MLP's layer widths: a tuple or list of at least ``min_len`` integers >= 1, as a tuple
    (an empty one gives a linear network); the error names the entry, e.g. hidden[1]."""
    if not isinstance(widths, (tuple, list)) or len(widths) < min_len:
        raise ValueError(f"{name} must be a tuple of at least {min_len} layer widths, e.g. "
                         f"(64, 64); got {name}={widths!r}")
    return tuple(check_int(w, f"{name}[{i}]") for i, w in enumerate(widths))


def check_flag(value, name):
    """``value`` as a bool: True, False (or a NumPy bool); 0, 1, "no" are refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {name}={value!r}")
    return bool(value)


def check_progress(progress):
    """The setting of a progress bar (minigen.progress): None (in a terminal), True or False."""
    return None if progress is None else check_flag(progress, "progress")


def check_adam_betas(betas, name="betas"):
    """Adam's pair (b1, b2), each in [0, 1)."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"{name} must be a pair (b1, b2) in [0, 1); got {name}={betas!r}")
    return tuple(check_probability(b, f"{name}[{i}]", open_high=True) for i, b in enumerate(betas))


def check_optional(check, value, name, *args):
    """``None`` stays ``None``; any other value goes through ``check``."""
    return None if value is None else check(value, name, *args)


def _scalar(value):
    """A 0-d array (NumPy or CuPy) as the Python number it holds; anything else unchanged."""
    return value.item() if getattr(value, "ndim", None) == 0 else value
