"""Small neural networks as pure functions of a params pytree, Adam, and a training loop.

MLP:   h_0 = x,  h_{l+1} = act(h_l W_l + b_l),  output h_L W_L + b_L (linear last layer).
Adam (Kingma & Ba 2015, arXiv:1412.6980), for each parameter theta with gradient g:
    m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2,
    theta <- theta - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
Gradients come from autograd (``autograd.value_and_grad``) of a loss written with ``xp``; this is
the gradient descent of notes Eq. (31). Params are lists/dicts of arrays, so any room's model
(coupling layers, Hamiltonians, generators, critics) plugs into the same ``train`` loop.
"""
import math

import autograd
from autograd.extend import defvjp, primitive

from minigen import backend
from minigen.backend import xp


@primitive
def tanh(a):
    """tanh, whose gradient autograd takes from the output: tanh' = 1 - tanh^2 (its own VJP calls cosh)."""
    return xp.tanh(a)


defvjp(tanh, lambda ans, a: lambda g: g * (1.0 - ans * ans))


def _sigmoid(a):
    return 0.5 * (tanh(0.5 * a) + 1.0)


ACTIVATIONS = {
    "tanh": tanh,
    "relu": lambda a: xp.maximum(a, 0.0),
    "leaky_relu": lambda a: xp.where(a > 0, a, 0.2 * a),   # where, not maximum: 2x cheaper under autograd
    "softplus": lambda a: xp.logaddexp(a, 0.0),
    "silu": lambda a: a * _sigmoid(a),
}

# act'(a) for backpropagation, from the pre-activation a and the activation h = act(a)
DERIVATIVES = {
    "tanh": lambda a, h: 1.0 - h * h,
    "relu": lambda a, h: (a > 0).astype(a.dtype),
    "leaky_relu": lambda a, h: 0.2 + 0.8 * (a > 0).astype(a.dtype),
    "softplus": lambda a, h: _sigmoid(a),
    "silu": lambda a, h: _sigmoid(a) * (1.0 + a * (1.0 - _sigmoid(a))),
}


def tree_map(f, tree, *rest):
    """Apply f leaf-wise to a pytree of lists, tuples and dicts of arrays (and to matching trees)."""
    if isinstance(tree, dict):
        return {k: tree_map(f, tree[k], *[r[k] for r in rest]) for k in tree}
    if isinstance(tree, (list, tuple)):
        return type(tree)(tree_map(f, t, *r) for t, *r in zip(tree, *rest))
    return f(tree, *rest)


def tree_leaves(tree):
    """The arrays of a pytree, in a fixed order."""
    if isinstance(tree, dict):
        return [leaf for k in tree for leaf in tree_leaves(tree[k])]
    if isinstance(tree, (list, tuple)):
        return [leaf for t in tree for leaf in tree_leaves(t)]
    return [tree]


def flatten(params):
    """(flat vector, unflatten) for a pytree of arrays.

    Differentiating with respect to one flat vector keeps autograd's bookkeeping small: taking a
    leaf out of a traced list or dict costs a zero-filled copy of the whole container in the
    backward pass, slicing a vector costs one array operation.
    """
    leaves = tree_leaves(params)
    shapes = [tuple(leaf.shape) for leaf in leaves]
    flat = xp.concatenate([xp.reshape(leaf, (-1,)) for leaf in leaves])

    def unflatten(vector):
        pieces, start = [], 0
        for shape in shapes:
            size = math.prod(shape)
            piece = vector[start:start + size]
            pieces.append(piece if len(shape) == 1 else xp.reshape(piece, shape))
            start += size
        it = iter(pieces)
        return tree_map(lambda _: next(it), params)

    return flat, unflatten


def init_mlp(sizes, rng, final_scale=1.0):
    """Params of an MLP with layer widths ``sizes`` = [d_in, h_1, ..., d_out]: a list of {"W", "b"}.

    Weights are N(0, 2 / (fan_in + fan_out)) (Glorot); the last layer is multiplied by
    ``final_scale`` (0 makes the network start as the zero function, e.g. an identity coupling).
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes must list at least two positive widths; got {sizes}")
    params = []
    for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:])):
        scale = math.sqrt(2.0 / (m + n)) * (final_scale if i == len(sizes) - 2 else 1.0)
        params.append({"W": scale * rng.standard_normal((m, n)), "b": xp.zeros(n)})
    return params


def mlp(params, x, activation="tanh", tape=None):
    """Evaluate the MLP on x: (n, d_in) -> (n, d_out). A list given as ``tape`` receives, layer by
    layer, (h_l, a_l): each layer's input and pre-activation, what ``mlp_vjp`` needs to go back."""
    act = ACTIVATIONS[activation]
    for layer in params[:-1]:
        a = x @ layer["W"] + layer["b"]
        if tape is not None:
            tape.append((x, a))
        x = act(a)
    if tape is not None:
        tape.append((x, None))
    return x @ params[-1]["W"] + params[-1]["b"]


def mlp_vjp(params, tape, grad_out, activation="tanh"):
    """Backpropagation through ``mlp``: from grad_out = dL/d(out) (n, d_out) to (dL/dx, dL/dparams).

    ``tape`` is the list filled by ``mlp(params, x, activation, tape)``. With a_l = h_l W_l + b_l and
    h_{l+1} = act(a_l), the chain rule goes back from the last layer:
        dL/dW_l = h_l^T dL/da_l,  dL/db_l = sum over rows of dL/da_l,
        dL/dh_l = dL/da_l W_l^T,  dL/da_{l-1} = dL/dh_l * act'(a_{l-1}).
    Plain array operations, no tracing: at these sizes autograd's tape costs as much as the arithmetic,
    and the coupling flow trains about twice as fast with it (the tests compare it with autograd).
    """
    d_act = DERIVATIVES[activation]
    g, grads = grad_out, [None] * len(params)
    for l in reversed(range(len(params))):
        h = tape[l][0]
        grads[l] = {"W": h.T @ g, "b": xp.sum(g, axis=0)}
        g = g @ params[l]["W"].T
        if l > 0:
            g = g * d_act(tape[l - 1][1], h)
    return g, grads


def adam_init(params):
    """Adam state: first and second moments at zero, step count 0."""
    return {"m": tree_map(xp.zeros_like, params), "v": tree_map(xp.zeros_like, params), "t": 0}


def adam_step(params, grads, state, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """One Adam update (see the module docstring); returns (new params, new state). Pure: nothing mutated."""
    t = state["t"] + 1
    m = tree_map(lambda m_, g: b1 * m_ + (1.0 - b1) * g, state["m"], grads)
    v = tree_map(lambda v_, g: b2 * v_ + (1.0 - b2) * g * g, state["v"], grads)
    c1, c2 = 1.0 - b1 ** t, 1.0 - b2 ** t
    params = tree_map(lambda p, m_, v_: p - lr * (m_ / c1) / (xp.sqrt(v_ / c2) + eps), params, m, v)
    return params, {"m": m, "v": v, "t": t}


def check_finite(value, name, step):
    """Raise FloatingPointError if a training quantity became NaN or infinite."""
    if not math.isfinite(value):
        raise FloatingPointError(f"{name} became {value} at step {step}: training diverged "
                                 "(try a smaller learning rate)")
    return value


def cosine_lr(lr, n_steps, warmup=0, final_frac=0.05):
    """Learning-rate schedule: linear warm-up, then cosine decay from lr to final_frac * lr."""
    def schedule(step):
        if step < warmup:
            return lr * (step + 1) / warmup
        frac = (step - warmup) / max(1, n_steps - warmup)
        return lr * (final_frac + (1.0 - final_frac) * 0.5 * (1.0 + math.cos(math.pi * frac)))
    return schedule


def train(loss, params, n_steps, lr=1e-3, callback=None, name="loss", value_and_grad=None, clip=None):
    """Minimize ``loss(params, step) -> scalar`` with Adam for n_steps; returns (params, history).

    ``lr`` is a float or a function step -> float (e.g. ``cosine_lr``). The loss of each step is
    recorded in ``history``; a NaN or infinite loss raises FloatingPointError, never a broken model.
    ``callback(step, params, loss_value)`` is called after every step when given.
    ``value_and_grad(params, step) -> (loss, grads pytree)``, if given, replaces autograd (loss unused).
    ``clip``: rescale a gradient whose Euclidean norm exceeds it to that norm. One outlier batch can
    otherwise inflate Adam's second moment v and stall learning for ~1/(1 - b2) = 1000 steps.
    """
    if int(n_steps) < 1:
        raise ValueError(f"n_steps must be >= 1; got {n_steps}")
    flat, unflatten = flatten(params)                  # one flat vector: see flatten
    if value_and_grad is None:
        value_and_grad = autograd.value_and_grad(lambda v, step: loss(unflatten(v), step))
    else:                                              # a written-out gradient, flattened like params
        given = value_and_grad

        def value_and_grad(v, step):
            value, grads = given(unflatten(v), step)
            leaves = tree_leaves(tree_map(lambda _, g: g, params, grads))
            return value, xp.concatenate([xp.reshape(g, (-1,)) for g in leaves])
    state, history = adam_init(flat), []
    for step in range(int(n_steps)):
        value, grads = value_and_grad(flat, step)
        history.append(check_finite(float(value), name, step))
        if clip is not None:
            grads = grads * min(1.0, clip / (float(xp.sqrt(xp.sum(grads * grads))) + 1e-300))
        flat, state = adam_step(flat, grads, state, lr(step) if callable(lr) else lr)
        if callback is not None:
            callback(step, unflatten(flat), history[-1])
    return unflatten(flat), history


def minibatch(data, batch_size, rng):
    """A random minibatch of rows of data (drawn with replacement): (batch_size, d)."""
    return data[rng.integers(0, data.shape[0], size=(int(batch_size),))]


def standardize(data):
    """(data - mean) / std per coordinate, with the (mean, std) to undo it: the trainers' pre-processing."""
    data = backend.as_points(data, "data")
    if not bool(xp.all(xp.isfinite(data))):
        raise ValueError("data contains NaN or infinite values")
    mean, std = xp.mean(data, axis=0), xp.std(data, axis=0)
    if not bool(xp.all(std > 0)):
        raise ValueError(f"data has a constant coordinate (std = {backend.to_numpy(std)}); cannot standardize")
    return (data - mean) / std, mean, std
