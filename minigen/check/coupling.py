"""Check a student's affine coupling layer (notes §5.1, Eq. (80)-(82)); actnorm: actnorm.py.

    z = (x_0, e^{s(x_0)} * x_1 + t(x_0)),  x = (z_0, (z_1 - t(z_0)) * e^{-s(z_0)}),
    log|det J| = +- sum_i s_i                                            Eq. (80), (81), (82)
The layer machinery (Case, contract, formula, log_det) serves actnorm.py too.
Oracles, all exact: the formulas on a fixed small random tanh MLP (s, t) written here; log|det J|
of the student's own map from central differences (one batched call, then slogdet, Eq. (10),
(12)); the exact forward composed with the student's inverse. Dinh et al. 2017, arXiv:1605.08803.
"""
import numpy as np

from minigen import backend
from minigen.check.exercise import (Contract, Exercise, Measurement, Property, StudentError,
                                    jacobians, tolerances)

CASES = [(4, False), (4, True), (5, False), (5, True)]    # (d, flip): even and odd d
N = 6                                                      # points per case
HIDDEN = 8
_W = np.random.default_rng(2025)
W1, C1 = _W.standard_normal((8, HIDDEN)), 0.3 * _W.standard_normal(HIDDEN)
WS, WT, CT = (0.6 * _W.standard_normal((HIDDEN, 8)), _W.standard_normal((HIDDEN, 8)),
              _W.standard_normal(8))


class ScaleShift:
    """The check's conditioner: (s, t) = scale_shift(x_0), x_0 (n, k) -> s, t (n, d - k).

    A fixed tanh MLP with |s| < 0.9; it takes any width 1 <= k < d, so a wrong split gets
    numbers (and a named mistake), not an error."""

    def __init__(self, d):
        self.d = d

    def host(self, x0):
        k, m = x0.shape[1], self.d - x0.shape[1]
        hidden = np.tanh(x0 @ W1[:k] + C1)                                 # (n, HIDDEN)
        return 0.9 * np.tanh(hidden @ WS[:, :m]), hidden @ WT[:, :m] + CT[:m]

    def __call__(self, x0):
        x0 = backend.to_numpy(x0)
        if x0.ndim != 2 or not 1 <= x0.shape[1] < self.d:
            raise StudentError(f"scale_shift takes the conditioning half x_0 as an (n, k) array "
                               f"with 1 <= k < d = {self.d}; it got shape {x0.shape}")
        return tuple(backend.asarray(a) for a in self.host(x0))

    def __repr__(self):
        return f"scale_shift (d = {self.d})"


def coupling(x, d, flip, inverse=False, mistake=None):
    """The exact layer (or the named wrong one) on host arrays: (n, d) -> (y (n, d), log_det)."""
    h = (d + 1) // 2 if mistake == "ceil_split" else d // 2
    first, second = np.arange(h), np.arange(h, d)
    keep, move = (second, first) if flip and mistake != "no_flip" else (first, second)
    s, t = ScaleShift(d).host(x[:, keep])
    x1 = x[:, move]
    if not inverse:
        y1 = {"t_first": (x1 + t) * np.exp(s),
              "minus_s": np.exp(-s) * x1 + t}.get(mistake, np.exp(s) * x1 + t)     # Eq. (80)
    else:
        y1 = {"t_after": x1 * np.exp(-s) - t,
              "plus_s": (x1 - t) * np.exp(s)}.get(mistake, (x1 - t) * np.exp(-s))  # Eq. (81)
    y = np.empty_like(x)
    y[:, keep], y[:, move] = x[:, keep], y1
    if mistake == "not_placed":
        y = np.concatenate([x[:, keep], y1], axis=1)
    log_det = {"exp_s": np.exp(s).sum(1), "sign": -s.sum(1),
               "mean": s.mean(1)}.get(mistake, s.sum(1))                          # Eq. (82)
    return y, -log_det if inverse else log_det


class Case:
    """One input: x (n, d), the other arguments, the exact map oracle(x, mistake=None) ->
    (y, log_det) on host arrays (a named mistake: the wrong map), the exact forward (for an
    inverse), and ``wide``, the shapes of a log_det not summed over the coordinates."""

    def __init__(self, label, x, args, oracle, wide, forward=None):
        self.label, self.x, self.args, self.oracle = label, x, args, oracle
        self.wide, self.forward = wide, forward

    def call(self, student, ctx, x=None, raw=False):
        """The student's (y (n, d), log_det (n,)) at x (self.x by default) as host arrays;
        raw: (y, log_det as returned, the input array after the call)."""
        x = self.x if x is None else x
        x_in = backend.asarray(x.copy())
        out = ctx.call(student, x_in, *self.args)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise StudentError(f"your {ctx.function} must return a pair (array, log_det); got "
                               f"{type(out).__name__}")
        y = ctx.array(out[0], x.shape, "the returned array")
        if raw:
            return y, out[1], backend.to_numpy(x_in)
        return y, ctx.array(out[1], (len(x),), "the returned log_det")


def coupling_cases(ctx, inverse=False):
    def case(d, flip):
        m = d // 2 if flip else d - d // 2                     # d_1, the moved coordinates
        return Case(f"d={d}, flip={flip}",
                    np.random.default_rng([ctx.seed, d]).standard_normal((N, d)),
                    (ScaleShift(d), flip),
                    lambda x, mistake=None: coupling(x, d, flip, inverse, mistake),
                    ((N, m), (m,)), lambda x: coupling(x, d, flip)[0])
    return [case(d, flip) for d, flip in CASES]


SHAPE_MISTAKES = {
    "log_det is one number for the whole batch: return one per point, shape (n,)": [1, 0],
    "log_det not summed over the coordinates: sum them, one number per point, shape (n,)": [2, 0],
    "the input modified in place: build the output in a new array": [0, 1]}


def contract(cases):
    """Codes, 0 when right: log_det of shape (n,) (1: a single number, 2: not summed over the
    coordinates) and the input unchanged (1: changed by the call), at each case."""
    def measure(student, ctx):
        estimate, labels = [], []
        for c in cases(ctx):
            _, ld, x_after = c.call(student, ctx, raw=True)
            shape = np.shape(backend.to_numpy(ld))
            code = 1 if shape in ((), (1,)) else 2 if shape in c.wide else 0
            if code == 0 and shape != (N,):
                raise StudentError(f"log_det must have shape ({N},), one value per point; got "
                                   f"{shape}")
            estimate += [code, float(not np.array_equal(x_after, c.x))]
            labels += [f"{c.label}: log_det shape", f"{c.label}: input after the call"]
        return Measurement(estimate, np.zeros(len(estimate)), tol=0.5, labels=labels,
                           mistakes={k: v * (len(labels) // 2) for k, v in SHAPE_MISTAKES.items()})
    return measure


def _measure(cases, estimate, predict, mistakes, tol, expected=None, columns=None):
    """estimate(c) against expected(c) (default predict(c, None)) over the cases; each named
    mistake m predicts predict(c, m)."""
    est, exp, labels, pred = [], [], [], {name: [] for name in mistakes}
    for c in cases:
        est.append(estimate(c).ravel())
        exp.append((predict(c, None) if expected is None else expected(c)).ravel())
        for name, m in mistakes.items():
            pred[name].append(predict(c, m).ravel())
        names = columns(c) if columns else [f"coordinate {j}" for j in range(c.x.shape[1])]
        labels += [f"{c.label}, point {i}" + (f", {w}" if est[-1].size > N else "")
                   for i in range(N) for w in names]
    return Measurement(np.concatenate(est), np.concatenate(exp), tol=tol, labels=labels,
                       mistakes={k: np.concatenate(v) for k, v in pred.items()})


def formula(cases, mistakes):
    """The student's map against the exact one (Eq. (80) or (86))."""
    def measure(student, ctx):
        return _measure(cases(ctx), lambda c: c.call(student, ctx)[0],
                        lambda c, m: c.oracle(c.x, m)[0], mistakes, tolerances()[0])
    return measure


def log_det(cases, mistakes):
    """The student's log_det against log|det J| of the student's own map by central
    differences (Eq. (10)): true of any map, so it is measured on the student's."""
    def measure(student, ctx):
        _, h, tol = tolerances()

        def log_abs_det(c):
            return np.linalg.slogdet(jacobians(lambda r: c.call(student, ctx, r)[0], c.x, h))[1]
        return _measure(cases(ctx), lambda c: c.call(student, ctx)[1],
                        lambda c, m: c.oracle(c.x, m)[1], mistakes, tol, log_abs_det)
    return measure


def round_trip(student, ctx):
    """inverse(forward(x)) = x and forward(inverse(x)) = x, forward the exact layer (Eq. 80)."""
    def trip(c, inverse):
        return np.concatenate([inverse(c.forward(c.x)), c.forward(inverse(c.x))], axis=1)

    def columns(c):
        d = c.x.shape[1]
        return ([f"inverse(forward(x))[{j}]" for j in range(d)]
                + [f"forward(inverse(x))[{j}]" for j in range(d)])
    return _measure(coupling_cases(ctx, inverse=True),
                    lambda c: trip(c, lambda y: c.call(student, ctx, y)[0]),
                    lambda c, m: trip(c, lambda y: c.oracle(y, m)[0]), INVERSE_MISTAKES,
                    tolerances()[0], lambda c: np.concatenate([c.x, c.x], axis=1), columns)


SPLIT_MISTAKES = {
    "flip ignored: with flip=True, x_0 = x[:, d//2:] conditions and x_1 = x[:, :d//2] moves":
        "no_flip",
    "halves not put back in place: with flip=True the output keeps the positions of x":
        "not_placed",
    "odd d split the other way: x_0 = x[:, :d//2] is the smaller half": "ceil_split"}
FORWARD_MISTAKES = {
    "t added before scaling: (x_1 + t) e^s instead of e^s x_1 + t": "t_first",
    "e^{-s} instead of e^{s}": "minus_s", **SPLIT_MISTAKES}
INVERSE_MISTAKES = {
    "t subtracted after unscaling: z_1 e^{-s} - t instead of (z_1 - t) e^{-s}": "t_after",
    "e^{s} instead of e^{-s}: (z_1 - t) e^{s}": "plus_s", **SPLIT_MISTAKES}
MEAN = "mean instead of the sum over the moved coordinates"
LOG_DET_MISTAKES = {"sum of e^s instead of sum of s": "exp_s", "sign: -sum s": "sign",
                    MEAN: "mean"}
INVERSE_LOG_DET_MISTAKES = {"sign: the inverse's log-det is minus the forward's, -sum s(z_0)":
                            "sign", MEAN: "mean"}
def _contract_of(function, x, title, formula):
    y = "z" if x == "x" else "x"
    return Contract(function=function, params=(x, "scale_shift", "flip=False"), title=title,
                    doc=f"""{formula}

{x}: (n, d) array, n points of dimension d >= 2.
scale_shift: a function {x}_0 (n, d_0) -> (s, t), two (n, d_1) arrays (given, fixed).
flip: False: {x}_0 = {x}[:, :d // 2] (kept; conditions s and t), {x}_1 = {x}[:, d // 2:] (moved);
    True: the roles swap, {x}_0 = {x}[:, d // 2:], {x}_1 = {x}[:, :d // 2]. Every coordinate
    keeps its position in the output.
Returns ({y}, log_det): (n, d) and (n,), log_det = log|det J| of this map at each point
    (Eq. (82)). Do not modify {x} in place.""")


SHAPES = "returns ((n, d), log_det (n,)), the input left unchanged"
HINT_C = ("return a pair (y, log_det): y (n, d), log_det (n,), one value per point (Eq. 82); "
          "build y in a new array (np.concatenate), never write into the input")
HINT_F = "notes §5.1 Eq. (80): z = (x_0, e^{s(x_0)} * x_1 + t(x_0)), x_0 kept in place"
HINT_I = "notes §5.1 Eq. (81): x = (z_0, (z_1 - t(z_0)) * e^{-s(z_0)})"
HINT_LD = ("notes Eq. (82): log|det J_{T^{-1}}| = sum_i s_i(x_0), summed over the d_1 moved "
           "coordinates, one value per point; the inverse's is its negative (Eq. (10), (12))")
CHECKS = "minigen.flows.layers"
EXERCISES = [
    Exercise(name="coupling_layer", aliases=("coupling_forward", "affine_coupling"),
             contract=_contract_of("coupling_forward", "x", "Exercise: the affine coupling "
                                   "layer, forward, notes §5.1 Eq. (80), (82)",
                                   "The affine coupling layer T^{-1}, data -> latent (Eq. (80)):"
                                   "\nz = (x_0, e^{s(x_0)} * x_1 + t(x_0))."),
             properties=[
                 Property("contract", SHAPES, contract(coupling_cases), HINT_C),
                 Property("forward_formula", "z = (x_0, e^{s(x_0)} x_1 + t(x_0)) (Eq. 80), even "
                          "and odd d, flip or not", formula(coupling_cases, FORWARD_MISTAKES),
                          HINT_F, ("contract",)),
                 Property("log_det", "log_det = log|det J| of your map (Eq. 82, 10)",
                          log_det(coupling_cases, LOG_DET_MISTAKES), HINT_LD,
                          ("forward_formula",))]),
    Exercise(name="coupling_inverse", aliases=("affine_coupling_inverse",),
             contract=_contract_of("coupling_inverse", "z", "Exercise: the affine coupling "
                                   "layer, inverse, notes §5.1 Eq. (81), (82)",
                                   "The inverse T of coupling_forward, latent -> data "
                                   "(Eq. (81))."),
             properties=[
                 Property("contract", SHAPES, contract(coupling_cases), HINT_C),
                 Property("round_trip", "inverse(forward(x)) = x and forward(inverse(z)) = z "
                          "(Eq. 80, 81)", round_trip, HINT_I, ("contract",)),
                 Property("log_det", "log_det = log|det J| of your map = minus the forward's "
                          "(Eq. 82, 10)", log_det(lambda ctx: coupling_cases(ctx, True),
                                                  INVERSE_LOG_DET_MISTAKES), HINT_LD,
                          ("round_trip",))]),
]
