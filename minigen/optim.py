"""Adam, a learning-rate schedule, and the training loop every room's trainer runs.

Adam (Kingma & Ba 2015, arXiv:1412.6980), for each parameter theta with gradient g:
    m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2,
    theta <- theta - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
Gradients come from autograd (``autograd.value_and_grad``) of a loss written with ``xp``; this is
the gradient descent of notes Eq. (31). Adam is written here, not taken from
autograd.misc.optimizers.adam, whose fixed step size leaves no room for a learning-rate schedule,
gradient clipping or the NaN guard. Params are lists/dicts of arrays, so any room's model
(coupling layers, Hamiltonians, generators, critics) plugs into the same ``train`` loop.
"""
import contextlib
import math

import autograd

from minigen import backend, host
from minigen.backend import xp
from minigen.nn import flatten, tree_map
from minigen.progress import Bar

# train: a loss this many times its first value (or 1) means divergence
EXPLODED = 1e6


def adam_init(params):
    """Adam state: first and second moments at zero, step count 0."""
    return {"m": tree_map(xp.zeros_like, params), "v": tree_map(xp.zeros_like, params), "t": 0}


def adam_step(params, grads, state, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """One Adam update (see the module docstring); returns (new params, new state).

    Pure: nothing is mutated.
    """
    t = state["t"] + 1
    m = tree_map(lambda m_, g: b1 * m_ + (1.0 - b1) * g, state["m"], grads)
    v = tree_map(lambda v_, g: b2 * v_ + (1.0 - b2) * g * g, state["v"], grads)
    c1, c2 = 1.0 - b1 ** t, 1.0 - b2 ** t
    params = tree_map(lambda p, m_, v_: p - lr * (m_ / c1) / (xp.sqrt(v_ / c2) + eps),
                      params, m, v)
    return params, {"m": m, "v": v, "t": t}


def check_finite(value, name, step):
    """Raise FloatingPointError if a training quantity became NaN or infinite."""
    if not math.isfinite(value):
        raise FloatingPointError(f"{name} became {value} at step {step}: training diverged "
                                 "(try a smaller lr)")
    return value


def check_loss(value, name, step, first):
    """``value`` if finite and not exploded: |loss| > EXPLODED * max(1, |first loss|) raises."""
    check_finite(value, name, step)
    if abs(value) > EXPLODED * max(1.0, abs(first)):
        raise FloatingPointError(f"{name} exploded to {value:.3g} at step {step} (it began at "
                                 f"{first:.3g}): training diverged (try a smaller lr)")
    return value


def check_model(model, name, n=256):
    """A trained model must sample finite points (and a density model give them a finite log_prob).

    Draws n samples from its own generator (seed 0), so the caller's rng is left untouched; raises
    FloatingPointError naming the trainer, never returns a model whose samples are NaN."""
    x = model.sample(n, backend.rng(0))
    bad, what = int(backend.to_numpy(~xp.all(xp.isfinite(x), axis=1)).sum()), "are NaN or inf"
    if bad == 0 and hasattr(model, "log_prob"):
        bad = int(backend.to_numpy(~xp.isfinite(model.log_prob(x))).sum())
        what = "have a NaN or infinite log_prob"
    if bad:
        raise FloatingPointError(f"{name}: {bad} of {n} samples of the trained model {what} "
                                 "although the loss stayed finite: training diverged "
                                 "(try a smaller lr)")
    return model


def cosine_lr(lr, n_steps, warmup=0, final_frac=0.05):
    """Learning-rate schedule: linear warm-up, then cosine decay from lr to final_frac * lr."""
    def schedule(step):
        if step < warmup:
            return lr * (step + 1) / warmup
        frac = (step - warmup) / max(1, n_steps - warmup)
        return lr * (final_frac + (1.0 - final_frac) * 0.5 * (1.0 + math.cos(math.pi * frac)))
    return schedule


def train(loss, params, n_steps, *, lr=1e-3, callback=None, name="loss", clip=None,
          progress=None):
    """Minimize ``loss(params, step) -> scalar`` with Adam for n_steps; returns (params, history).

    ``lr`` is a float or a function step -> float (e.g. ``cosine_lr``). The loss of each step is
    recorded in ``history``; a NaN or infinite loss raises FloatingPointError, never a broken
    model. ``callback(step, params, loss_value)`` is called after every step when given.
    ``clip``: rescale a gradient whose Euclidean norm exceeds it to that norm. One outlier batch
    can otherwise inflate Adam's second moment v and stall learning for ~1/(1 - b2) = 1000 steps.
    ``progress``: the progress bar (``minigen.progress``): None shows it in a terminal, False never.
    """
    n_steps = backend.check_int(n_steps, "n_steps")
    lr = backend.check_lr(lr)
    backend.check_optional(backend.check_positive, clip, "clip")
    # one flat vector: see nn.flatten
    flat, unflatten = flatten(params)
    value_and_grad = autograd.value_and_grad(lambda v, step: loss(unflatten(v), step))
    state, history = adam_init(flat), []
    bar = Bar(n_steps, name, progress)
    with host.one_blas_thread(), contextlib.closing(bar):
        for step in range(n_steps):
            value, grads = value_and_grad(flat, step)
            first = history[0] if history else float(value)
            history.append(check_loss(float(value), name, step, first))
            if clip is not None:
                norm = float(xp.sqrt(xp.sum(grads * grads)))
                grads = grads * min(1.0, clip / (norm + 1e-300))
            flat, state = adam_step(flat, grads, state, lr(step) if callable(lr) else lr)
            if callback is not None:
                callback(step, unflatten(flat), history[-1])
            bar.update(step, history[-1])
    if not bool(xp.all(xp.isfinite(flat))):
        raise FloatingPointError(f"{name}: the trained parameters hold NaN or inf after "
                                 f"{n_steps} steps: training diverged (try a smaller lr)")
    return unflatten(flat), history


def minibatch(data, batch_size, rng):
    """A random minibatch of rows of data (drawn with replacement): (batch_size, d)."""
    return data[rng.integers(0, data.shape[0], size=(int(batch_size),))]


def standardize(data):
    """(data - mean) / std per coordinate, with the (mean, std) to undo it.

    The trainers' pre-processing: data (n, d) -> ((n, d), mean (d,), std (d,)).
    """
    data = backend.as_points(data, "data")
    if not bool(xp.all(xp.isfinite(data))):
        raise ValueError("data contains NaN or infinite values")
    mean, std = xp.mean(data, axis=0), xp.std(data, axis=0)
    if not bool(xp.all(std > 0)):
        raise ValueError(f"data has a constant coordinate (std = {backend.to_numpy(std)}); "
                         "cannot standardize")
    return (data - mean) / std, mean, std
