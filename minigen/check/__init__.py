"""Exercise mode: minigen's oracles as a library that grades a student's own implementation.

    from minigen import check
    report = check.metropolis_hastings(my_metropolis_hastings)   # runs every property
    print(report); report.ok; report["hastings_correction"].status; report.assert_ok()
    print(check.skeleton("metropolis_hastings"))                 # the file a student starts from
    check.list()                                                 # the exercises

Each property reports pass / fail, the largest deviation in standard errors and where it occurs,
the known mistake the behaviour matches, and a hint citing the lecture equation. The command line
does the same: ``python -m minigen.check list | skeleton NAME | NAME student.py [--json FILE]``.
A check module never imports the minigen module it checks: its oracles are closed forms and exact
small computations.
"""
import importlib
import pkgutil

from minigen.check.exercise import FAIL_SE, MISTAKE_SE, Exercise  # noqa: F401
from minigen.check.report import Report, Result  # noqa: F401

_SHARED = {"exercise", "report", "grading", "__main__"}
# every other module of this package is a check: it defines EXERCISES, a list of Exercise, and
# CHECKS, the name of the minigen module it checks (and must not import)
MODULES = {name: importlib.import_module(f"minigen.check.{name}")
           for _, name, _ in pkgutil.iter_modules(__path__) if name not in _SHARED}
EXERCISES = {ex.name: ex for m in MODULES.values() for ex in m.EXERCISES}


def find(name):
    """The exercise called ``name`` (or one of its aliases)."""
    for ex in EXERCISES.values():
        if name == ex.name or name in ex.aliases:
            return ex
    raise ValueError(f"no exercise {name!r}; known: {sorted(EXERCISES)} "
                     "(python -m minigen.check list)")


def list():                                                  # noqa: A001
    """The exercises: name -> one-line title."""
    return {name: ex.contract.title for name, ex in EXERCISES.items()}


def skeleton(name):
    """The starting file of an exercise: its signature, docstring and NotImplementedError."""
    ex = find(name)
    return ex.contract.skeleton(ex.name)


def run(name, fn, seed=0):
    """Check ``fn`` against the exercise ``name``; returns a Report."""
    return find(name).run(fn, seed)


def _checker(exercise):
    def check_fn(fn, seed=0):
        return exercise.run(fn, seed)
    check_fn.__name__ = exercise.name
    check_fn.__doc__ = (f"Check a student's {exercise.contract.function} "
                        f"({exercise.contract.title}); returns a Report. Properties: "
                        f"{', '.join(p.name for p in exercise.properties)}.")
    return check_fn


for _ex in EXERCISES.values():
    globals()[_ex.name] = _checker(_ex)
