"""The machinery every check shares: an exercise's contract, its properties, and the run.

A property measures the student's function on cases whose answer is known exactly (a closed form,
an exact small computation) and returns a ``Measurement``: estimates, their standard errors and
the expected values, plus what each named mistake would give. The run turns it into a ``Result``:
deviation = max |estimate - expected| / SE, a fail at FAIL_SE = 5; when it fails, the named mistake
whose prediction lies within 5 SE of the estimates is reported. Properties form a chain: when a
prerequisite fails, its dependents are skipped ("needs X") instead of failing in cascade.
"""
import inspect
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional, Sequence

import numpy as np

from minigen import backend
from minigen.check.report import Report, Result

FAIL_SE = 5.0          # a statistical property fails beyond 5 standard errors
MISTAKE_SE = 10.0      # a named mistake sits at least this far from the correct behaviour
TIME_BUDGET = 10.0     # seconds for a whole check; the pilot refuses slower functions
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class StudentError(Exception):
    """The student's function raised, or returned the wrong type or shape."""


@dataclass
class Measurement:
    """Estimates against expectations. ``se`` for statistical ones; ``tol`` for exact ones.

    estimate, expected, se: arrays of one shape (se may be a scalar); labels: one string per
    entry (where it was measured); mistakes: name -> what that mistake would give (expected)."""
    estimate: object
    expected: object
    se: object = None
    tol: Optional[float] = None
    labels: Sequence[str] = ()
    mistakes: Dict[str, object] = field(default_factory=dict)

    def deviations(self, expected=None):
        est = np.atleast_1d(np.asarray(self.estimate, dtype=float))
        exp = np.atleast_1d(np.asarray(self.expected if expected is None else expected, float))
        scale = self.tol if self.tol is not None else np.asarray(self.se, dtype=float)
        z = np.abs(est - exp) / np.maximum(scale, 1e-300)
        return np.where(np.isfinite(z), z, np.inf)


@dataclass
class Property:
    """One checked property: ``measure(student, ctx) -> Measurement``."""
    name: str
    what: str
    measure: Callable
    hint: str
    requires: Sequence[str] = ()


@dataclass
class Contract:
    """What the student writes: a function's name, parameters and docstring."""
    function: str
    params: Sequence[str]
    doc: str
    title: str

    @property
    def names(self):
        return [p.split("=")[0] for p in self.params]

    def signature_problem(self, fn):
        """None if ``fn`` takes the contract's parameters in order, else what is wrong."""
        if not callable(fn):
            return f"expected a function {self.function}({', '.join(self.names)}); got {fn!r}"
        try:
            names = list(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            return None
        if names[:len(self.params)] != self.names:
            return (f"{self.function} must take ({', '.join(self.names)}); "
                    f"yours takes ({', '.join(names)})")
        return None

    def skeleton(self, exercise):
        doc = "\n".join("    " + line if line else "" for line in self.doc.strip().splitlines())
        return (f'"""{self.title}.\n\nCheck it with:  python -m minigen.check {exercise} '
                f'<this file>\n"""\nimport numpy as np\n\n\n'
                f'def {self.function}({", ".join(self.params)}):\n    """{doc.strip()}\n    """\n'
                f"    raise NotImplementedError\n")


@dataclass
class Exercise:
    """A contract, its properties in order, and a pilot call that estimates the cost."""
    name: str
    contract: Contract
    properties: Sequence[Property]
    pilot: Optional[Callable] = None      # pilot(student, ctx) -> (seconds, scale of the check)
    aliases: Sequence[str] = ()
    # what the pilot's refusal asks to vectorize over
    vectorize_over: str = ("chains (one array operation for all chains at each step, no Python "
                           "loop over them)")

    def run(self, fn, seed=0):
        ctx = Context(seed, self.contract.function)
        problem = self.contract.signature_problem(fn)
        if problem is None and self.pilot is not None:
            problem = ctx.guard(lambda: _pilot(self.pilot, fn, ctx, self.vectorize_over))
        if problem is not None:
            first, *rest = self.properties
            return Report(self.name, [Result(first.name, "error", first.what, message=problem,
                                             hint=first.hint)]
                          + [Result(p.name, "skipped", p.what, message=f"skipped: needs "
                                    f"{first.name}") for p in rest], seed)
        results = {}
        for p in self.properties:
            missing = [r for r in p.requires if results[r].status != "pass"]
            if missing:
                results[p.name] = Result(p.name, "skipped", p.what,
                                         message=f"skipped: needs {', '.join(missing)}")
                continue
            results[p.name] = _judge(p, fn, ctx)
        return Report(self.name, results.values(), seed)


def _pilot(pilot, fn, ctx, vectorize_over):
    seconds, scale = pilot(fn, ctx)
    if seconds * scale > TIME_BUDGET:       # timed again before refusing: a pause of the machine
        seconds = min(seconds, pilot(fn, ctx)[0])   # is not the student's slowness
    if seconds * scale > TIME_BUDGET:
        return (f"too slow: the pilot call took {seconds:.2f} s, so the check would take about "
                f"{seconds * scale:.0f} s; vectorize over {vectorize_over}")
    return None


def _judge(prop, fn, ctx):
    try:
        m = prop.measure(fn, ctx)
    except StudentError as err:
        return Result(prop.name, "error", prop.what, message=str(err), hint=prop.hint)
    z = m.deviations()
    worst = int(np.argmax(z))
    where = m.labels[worst] if len(m.labels) > worst else ""
    unit, limit = ("tol", 1.0) if m.tol is not None else ("SE", FAIL_SE)
    deviation = float(z[worst])
    if deviation <= limit:
        return Result(prop.name, "pass", prop.what, deviation, unit, where)
    mistake = ""
    for name, predicted in m.mistakes.items():
        if float(np.max(m.deviations(predicted))) <= limit:
            mistake = name
            break
    return Result(prop.name, "fail", prop.what, deviation, unit, where, mistake, prop.hint)


class CountingRng:
    """The generator a check hands the student: it counts draws, to tell if the rng was used."""

    def __init__(self, generator):
        self._g, self.draws = generator, 0

    def __getattr__(self, attr):
        method = getattr(self._g, attr)
        if callable(method):
            def counted(*args, **kwargs):
                self.draws += 1
                return method(*args, **kwargs)
            return counted
        return method


class Context:
    """What a property gets besides the student's function: seeded generators and safe calls."""

    def __init__(self, seed, function):
        self.seed, self.function, self._n = seed, function, 0

    def rng(self, stream=None):
        """A counting generator of the active backend: a new stream at every call, or the
        numbered ``stream`` (the same numbers each time it is asked for)."""
        if stream is None:
            self._n += 1
            stream = 100 + self._n
        return CountingRng(backend.rng(1000 * self.seed + stream))

    def call(self, fn, *args):
        """fn(*args); a student exception becomes a StudentError showing the student's frames."""
        try:
            return fn(*args)
        except StudentError:
            raise
        except Exception as err:                                     # noqa: BLE001
            raise StudentError(_student_traceback(err, self.function)) from None

    def guard(self, thunk):
        """thunk() or, if the student's code failed, the error message."""
        try:
            return thunk()
        except StudentError as err:
            return str(err)

    def array(self, out, shape, what):
        """The student's output as a host array of ``shape``, finite; else a StudentError."""
        try:
            a = backend.to_numpy(out)
        except Exception:                                            # noqa: BLE001
            raise StudentError(f"{what} must be an array of shape {shape}; got "
                               f"{type(out).__name__}") from None
        if a.shape != tuple(shape):
            raise StudentError(f"{what} must have shape {tuple(shape)}; got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise StudentError(f"{what} holds NaN or inf ({int((~np.isfinite(a)).sum())} "
                               "entries)")
        return a.astype(float)

    def timed(self, thunk):
        t0 = time.perf_counter()
        thunk()
        return time.perf_counter() - t0


def _student_traceback(err, function):
    """The exception's type and message with the student's own frames (none of minigen's)."""
    frames = [f for f in traceback.extract_tb(err.__traceback__)
              if not os.path.abspath(f.filename).startswith(_PACKAGE)
              and "site-packages" not in f.filename and not f.filename.startswith(sys.prefix)]
    lines = [f"your {function} raised {type(err).__name__}: {err}"]
    lines += [f'  File "{f.filename}", line {f.lineno}, in {f.name}\n    {f.line}' for f in frames]
    return "\n".join(lines)


def tolerances():
    """(tol of a formula, finite-difference step, tol of a finite-difference log-det)."""
    if np.dtype(backend.float_dtype()) == np.float64:
        return 1e-9, 1e-5, 1e-6
    return 2e-4, 1e-2, 2e-2


def jacobians(f, x, h):
    """Central-difference Jacobians of f: (m, k) -> (m, k) at the rows of x (n, k), from one call
    of f on the 2 k n shifted rows: (n, k, k), J[i, a, b] = d f_a / d x_b at x_i."""
    n, k = x.shape
    shifts = h * np.eye(k)
    rows = np.concatenate([x[:, None] + shifts, x[:, None] - shifts], axis=1)   # (n, 2k, k)
    y = f(rows.reshape(2 * k * n, k)).reshape(n, 2, k, k)    # y[i, 0, b] = f(x_i + h e_b)
    return np.swapaxes(y[:, 0] - y[:, 1], 1, 2) / (2 * h)
