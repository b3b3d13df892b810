"""The conditional flow-matching loss written as a student would, in plain NumPy, with switchable
mistakes; correct variants written otherwise (the target as (x_1 - x_t) / (1 - t), a loop)."""
import functools

import numpy as np


def variant(fn, **flags):
    return functools.update_wrapper(functools.partial(fn, **flags), fn)


def conditional_flow_loss(velocity, x0, x1, t, mistake=None):
    x0, x1, t = np.asarray(x0), np.asarray(x1), np.asarray(t)
    s = t.reshape(-1, 1)
    if mistake == "swap":
        xt = s * x0 + (1 - s) * x1                  # the overview's formula, ends exchanged
    elif mistake == "data":
        xt = x1
    elif mistake == "noise":
        xt = x0
    else:
        xt = s * x1 + (1 - s) * x0
    target = x0 - x1 if mistake == "sign" else x1 - x0
    v = np.asarray(velocity(xt, 1 - t if mistake == "one_minus_t" else t))
    err = ((v - target) ** 2).sum(axis=1)
    if mistake == "not_squared":
        return np.sqrt(err)
    if mistake == "mean":
        return err / x0.shape[1]
    return err


def conditional_flow_loss_by_target(velocity, x0, x1, t):
    """Correct, written otherwise: the conditional velocity (x_1 - x_t) / (1 - t) (t < 1)."""
    x0, x1, t = np.asarray(x0), np.asarray(x1), np.asarray(t)
    xt = x0 + t[:, None] * (x1 - x0)
    u = (x1 - xt) / (1 - t[:, None])
    return np.einsum("nd,nd->n", np.asarray(velocity(xt, t)) - u, np.asarray(velocity(xt, t)) - u)


def conditional_flow_loss_by_point(velocity, x0, x1, t):
    """Correct, unvectorized over coordinates: the points one at a time, velocity called once."""
    x0, x1, t = np.asarray(x0), np.asarray(x1), np.asarray(t)
    xt = np.array([t[i] * x1[i] + (1 - t[i]) * x0[i] for i in range(len(t))])
    v = np.asarray(velocity(xt, t))
    return np.array([float(np.dot(v[i] - x1[i] + x0[i], v[i] - x1[i] + x0[i]))
                     for i in range(len(t))])


CONDITIONAL_FLOW_LOSS = {   # mistake -> (the properties that must fail, the named mistake)
    "sign": ({"straight_path", "time", "bayes_floor"}, "target x_0 - x_1"),
    "swap": ({"straight_path", "bayes_floor"}, "t and 1 - t swapped"),
    "data": ({"straight_path", "bayes_floor"}, "x_t = x_1"),
    "noise": ({"straight_path", "bayes_floor"}, "x_t = x_0"),
    "one_minus_t": ({"time", "bayes_floor"}, "called at 1 - t"),
    "not_squared": ({"contract"}, "not squared"),
    "mean": ({"contract"}, "mean over coordinates"),
}
MUTANTS = {"conditional_flow_loss": (conditional_flow_loss, CONDITIONAL_FLOW_LOSS)}
CORRECT = {"conditional_flow_loss": [conditional_flow_loss, conditional_flow_loss_by_target,
                                     conditional_flow_loss_by_point]}
