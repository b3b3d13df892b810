"""Small neural networks as pure functions of a params pytree, Adam, and a training loop.

MLP:   h_0 = x,  h_{l+1} = act(h_l W_l + b_l),  output h_L W_L + b_L (linear last layer).
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
from autograd.extend import SparseObject, defvjp, defvjp_argnums, primitive, vspace

from minigen import backend, host
from minigen.backend import xp
from minigen.progress import Bar


@primitive
def tanh(a):
    """tanh, whose gradient autograd takes from the output: tanh' = 1 - tanh^2 (its own VJP calls cosh)."""
    return xp.tanh(a)


defvjp(tanh, lambda ans, a: lambda g: g * (1.0 - ans * ans))


def sigmoid(a):
    """1 / (1 + e^{-a}), written with tanh so that it never overflows."""
    return 0.5 * (tanh(0.5 * a) + 1.0)


EXPLODED = 1e6      # nn.train: a loss this many times its first value (or 1) means divergence

# act(a), on the arrays inside the primitive ``dense``
ACTIVATIONS = {
    "tanh": lambda a: xp.tanh(a),
    "relu": lambda a: xp.maximum(a, 0.0),
    "leaky_relu": lambda a: xp.maximum(a, 0.2 * a),
    "softplus": lambda a: xp.logaddexp(a, 0.0),
    "silu": lambda a: a * sigmoid(a),
}

# act'(a), from the output h = act(a) where act' is a function of it (a() recomputes a otherwise)
SLOPES = {
    "tanh": lambda h, a: 1.0 - h * h,
    "relu": lambda h, a: (h > 0).astype(h.dtype),
    "leaky_relu": lambda h, a: 0.2 + 0.8 * (h > 0).astype(h.dtype),
    "softplus": lambda h, a: -xp.expm1(-h),                      # sigmoid(a) = 1 - e^{-softplus(a)}
    "silu": lambda h, a: _silu_slope(a()),
}


def _silu_slope(a):
    s = sigmoid(a)
    return s * (1.0 + a * (1.0 - s))


def check_activation(activation):
    """The activation name, or a ValueError listing the known ones."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation={activation!r} is unknown; known: {sorted(ACTIVATIONS)}")
    return activation


@primitive
def dense(x, W, b, activation=None):
    """One layer, h = act(x W + b): x (n, m), W (m, k), b (k,) -> (n, k); activation None is linear.

    An autograd primitive: one node on the tape instead of four or five (matmul, add, the
    activation's pieces), with the chain rule written once, for a = x W + b and g = dL/dh:
        dL/da = g * act'(a),   dL/dx = dL/da W^T,   dL/dW = x^T dL/da,   dL/db = sum_rows dL/da.
    The VJP is written in ``xp`` operations and ``dense_transpose``, so autograd differentiates it
    again: the gradient penalty's double backpropagation and the Hamiltonian flow's energy
    gradients go through it.
    """
    a = x @ W + b
    return a if activation is None else ACTIVATIONS[activation](a)


def _dense_vjp(argnums, h, args, kwargs):
    x, W, b = args[:3]
    activation = args[3] if len(args) > 3 else kwargs.get("activation")
    s = None if activation is None else SLOPES[activation](h, lambda: x @ W + b)    # act'(a)

    def vjp(g):
        if argnums == (0,):                                            # an input gradient only
            return (dense_transpose(g, s, W),)                         # dL/dx = (g * act'(a)) W^T
        ga = g if s is None else g * s                                 # dL/da
        parts = {0: lambda: dense_transpose(ga, None, W), 1: lambda: xp.transpose(x) @ ga,
                 2: lambda: xp.sum(ga, axis=0)}
        return tuple(parts[i]() for i in argnums)
    return vjp


@primitive
def dense_transpose(g, s, W):
    """The backward pass of a layer as a layer of its own: (g * s) W^T, g (n, k), s (n, k) or None.

    Linear in g, so it is cheap to differentiate once more (for a penalty on input gradients):
        d/dg = (G W) * s,   d/ds = (G W) * g,   d/dW = G^T (g * s),   with G the cotangent (n, m).
    """
    return (g if s is None else g * s) @ xp.transpose(W)


def _dense_transpose_vjp(argnums, out, args, kwargs):
    g, s, W = args

    def vjp(G):
        GW = G @ W                                                     # (n, k)
        parts = {0: lambda: GW if s is None else GW * s, 1: lambda: GW * g,
                 2: lambda: xp.transpose(G) @ (g if s is None else g * s)}
        return tuple(parts[i]() for i in argnums)
    return vjp


defvjp_argnums(dense, _dense_vjp)
defvjp_argnums(dense_transpose, _dense_transpose_vjp)


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

    Training differentiates with respect to one flat vector: each leaf is one ``_piece`` of it,
    whose cotangent is added in place into one zero vector in the backward pass. (Taking a leaf
    out of a traced list or dict, or autograd.misc.flatten's unflatten, costs a zero-filled copy of
    a whole container or vector per leaf, and autograd's own slice gradient is a slow ufunc.at.)
    """
    leaves = tree_leaves(params)
    shapes = [tuple(leaf.shape) for leaf in leaves]
    flat = xp.concatenate([xp.reshape(leaf, (-1,)) for leaf in leaves])
    starts = [0]
    for shape in shapes:
        starts.append(starts[-1] + math.prod(shape))

    def unflatten(vector):
        it = iter([_piece(vector, start, shape) for start, shape in zip(starts, shapes)])
        return tree_map(lambda _: next(it), params)

    return flat, unflatten


@primitive
def _piece(vector, start, shape):
    """vector[start:start + size] as an array of ``shape``."""
    return xp.reshape(vector[start:start + math.prod(shape)], shape)


@primitive
def _put(g, start, vs):
    """The cotangent of ``_piece``: g added in place into the zero vector of ``vs`` at start."""
    def add_into(vector):
        vector[start:start + math.prod(g.shape)] += xp.reshape(g, (-1,))
        return vector
    return SparseObject(vs, add_into)


defvjp(_piece, lambda ans, vector, start, shape: lambda g: _put(g, start, vspace(vector)))
defvjp(_put, lambda ans, g, start, vs: lambda h: _piece(h, start, tuple(g.shape)))


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


def mlp(params, x, activation="tanh"):
    """Evaluate the MLP on x: (n, d_in) -> (n, d_out), one ``dense`` layer after another."""
    check_activation(activation)
    if len(x.shape) != 2:
        raise ValueError(f"mlp: x must have shape (n, d_in); got shape {tuple(x.shape)}")
    for layer in params[:-1]:
        x = dense(x, layer["W"], layer["b"], activation)
    return dense(x, params[-1]["W"], params[-1]["b"])


def input_gradient(params, x, activation="tanh"):
    """grad_x f(x) at each row, for a scalar MLP f(x) = mlp(params, x): (n, d_in) -> (n, d_in).

    Rows are independent, so the gradient of sum_i f(x_i) holds every row's gradient. autograd takes
    it through ``dense``'s VJP, so it is itself differentiable (``dense_transpose``): a training
    loss
    may contain it (the WGAN gradient penalty, the Hamiltonian flow's forces).
    """
    return autograd.grad(lambda y: xp.sum(mlp(params, y, activation)))(x)


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


def check_loss(value, name, step, first):
    """``value`` if finite and not exploded: |loss| > EXPLODED * max(1, |first loss|) raises."""
    check_finite(value, name, step)
    if abs(value) > EXPLODED * max(1.0, abs(first)):
        raise FloatingPointError(f"{name} exploded to {value:.3g} at step {step} (it began at "
                                 f"{first:.3g}): training diverged (try a smaller learning rate)")
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


def train(loss, params, n_steps, *, lr=1e-3, callback=None, name="loss", clip=None, progress=None):
    """Minimize ``loss(params, step) -> scalar`` with Adam for n_steps; returns (params, history).

    ``lr`` is a float or a function step -> float (e.g. ``cosine_lr``). The loss of each step is
    recorded in ``history``; a NaN or infinite loss raises FloatingPointError, never a broken model.
    ``callback(step, params, loss_value)`` is called after every step when given.
    ``clip``: rescale a gradient whose Euclidean norm exceeds it to that norm. One outlier batch can
    otherwise inflate Adam's second moment v and stall learning for ~1/(1 - b2) = 1000 steps.
    ``progress``: the progress bar (``minigen.progress``): None shows it in a terminal, False never.
    """
    n_steps = backend.check_int(n_steps, "n_steps")
    if not callable(lr):
        backend.check_positive(lr, "lr")
    backend.check_optional(backend.check_positive, clip, "clip")
    flat, unflatten = flatten(params)                  # one flat vector: see flatten
    value_and_grad = autograd.value_and_grad(lambda v, step: loss(unflatten(v), step))
    state, history = adam_init(flat), []
    bar = Bar(n_steps, name, progress)
    with host.one_blas_thread(), contextlib.closing(bar):
        for step in range(n_steps):
            value, grads = value_and_grad(flat, step)
            history.append(check_loss(float(value), name, step, history[0] if history else float(value)))
            if clip is not None:
                grads = grads * min(1.0, clip / (float(xp.sqrt(xp.sum(grads * grads))) + 1e-300))
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
    """(data - mean) / std per coordinate, with the (mean, std) to undo it: the trainers' pre-processing."""
    data = backend.as_points(data, "data")
    if not bool(xp.all(xp.isfinite(data))):
        raise ValueError("data contains NaN or infinite values")
    mean, std = xp.mean(data, axis=0), xp.std(data, axis=0)
    if not bool(xp.all(std > 0)):
        raise ValueError(f"data has a constant coordinate (std = {backend.to_numpy(std)}); cannot standardize")
    return (data - mean) / std, mean, std
