"""Small neural networks as pure functions of a params pytree.

MLP:   h_0 = x,  h_{l+1} = act(h_l W_l + b_l),  output h_L W_L + b_L (linear last layer).
Each layer is one autograd primitive, ``dense``, whose VJP is the chain rule written once
(dL/da = g * act'(a), dL/dx = dL/da W^T, dL/dW = x^T dL/da) and is itself differentiable, so
input gradients can enter a loss. Params are lists/dicts of arrays (pytrees); Adam and the
training loop that fits them are in ``minigen.optim`` (also reachable here as ``nn.train``, ...).
"""
import math

import autograd
from autograd.extend import SparseObject, defvjp, defvjp_argnums, primitive, vspace

from minigen import backend
from minigen.backend import xp


@primitive
def tanh(a):
    """tanh, whose gradient autograd takes from the output: tanh' = 1 - tanh^2.

    (autograd's own VJP for tanh calls cosh.)
    """
    return xp.tanh(a)


defvjp(tanh, lambda ans, a: lambda g: g * (1.0 - ans * ans))


def sigmoid(a):
    """1 / (1 + e^{-a}), written with tanh so that it never overflows."""
    return 0.5 * (tanh(0.5 * a) + 1.0)


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
    # softplus'(a) = sigmoid(a) = 1 - e^{-softplus(a)}
    "softplus": lambda h, a: -xp.expm1(-h),
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
    """One layer, h = act(x W + b): x (n, m), W (m, k), b (k,) -> (n, k); None is linear.

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
    # act'(a)
    s = None if activation is None else SLOPES[activation](h, lambda: x @ W + b)

    def vjp(g):
        if argnums == (0,):
            # an input gradient only: dL/dx = (g * act'(a)) W^T
            return (dense_transpose(g, s, W),)
        ga = g if s is None else g * s                                 # dL/da
        parts = {0: lambda: dense_transpose(ga, None, W), 1: lambda: xp.transpose(x) @ ga,
                 2: lambda: xp.sum(ga, axis=0)}
        return tuple(parts[i]() for i in argnums)
    return vjp


@primitive
def dense_transpose(g, s, W):
    """The backward pass of a layer as a layer of its own: (g * s) W^T -> (n, m).

    g (n, k), s (n, k) or None, W (m, k).

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
    """Apply f leaf-wise to a pytree of lists, tuples and dicts of arrays (and matching trees)."""
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
    """Params of an MLP with layer widths ``sizes`` = [d_in, h_1, ..., d_out].

    A list of {"W": (m, k), "b": (k,)}, one per layer.

    Weights are N(0, 2 / (fan_in + fan_out)) (Glorot); the last layer is multiplied by
    ``final_scale`` (0 makes the network start as the zero function, e.g. an identity coupling).
    """
    sizes = backend.check_widths(sizes, "sizes", min_len=2)
    backend.check_rng(rng)
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

    Rows are independent, so the gradient of sum_i f(x_i) holds every row's gradient. autograd
    takes it through ``dense``'s VJP, so it is itself differentiable (``dense_transpose``): a
    training loss may contain it (the WGAN gradient penalty, the Hamiltonian flow's forces).
    """
    return autograd.grad(lambda y: xp.sum(mlp(params, y, activation)))(x)


# The optimizer lives in minigen.optim, which imports the pytree helpers above; its names stay
# reachable here (nn.train, nn.adam_step, nn.standardize, ...), looked up when first used.
_IN_OPTIM = {"EXPLODED", "adam_init", "adam_step", "check_finite", "check_loss", "check_model",
             "cosine_lr", "minibatch", "standardize", "train"}


def __getattr__(name):
    if name in _IN_OPTIM:
        from minigen import optim
        return getattr(optim, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
