"""What a check returns: one ``Result`` per property, gathered in a ``Report``.

A result says pass / fail / skipped / error, the largest deviation in standard errors and where it
occurs, the known mistake the behaviour matches (if any), and a hint citing the lecture. It never
holds the reference implementation's outputs: only the student's deviations from them.
"""
import json
import textwrap
from dataclasses import asdict, dataclass
from typing import Optional

STATUSES = ("pass", "fail", "skipped", "error")
_MARK = {"pass": "PASS", "fail": "FAIL", "skipped": "SKIP", "error": "ERROR"}


@dataclass
class Result:
    """One property of one exercise, as checked on a student's function."""
    name: str
    status: str
    what: str                           # the property, in one sentence
    deviation: Optional[float] = None   # max |estimate - expected| / SE (or / tolerance)
    unit: str = "SE"                    # "SE" (statistical, fails at 5) or "tol" (fails at 1)
    where: str = ""                     # the case at which the deviation is largest
    mistake: str = ""                   # the named mistake the behaviour matches
    hint: str = ""                      # what to reread (lecture equation)
    message: str = ""                   # for skipped / error: why

    def lines(self):
        out = textwrap.wrap(f"[{_MARK[self.status]:5}] {self.name}: {self.what}", 96,
                            subsequent_indent=" " * 8)
        if self.deviation is not None:
            at = f" at {self.where}" if self.where else ""
            if self.unit == "SE":
                out.append(f"        deviation {self.deviation:.1f} SE{at} (fails at 5 SE)")
            else:
                out.append(f"        error {self.deviation:.3g} x the tolerance{at} (fails at 1)")
        if self.mistake:
            out += _wrap(f"matches a known mistake: {self.mistake}")
        if self.message:
            out.extend("        " + line for line in self.message.splitlines())
        if self.status in ("fail", "error") and self.hint:
            out += _wrap(f"hint: {self.hint}")
        return out


class Report:
    """The results of one exercise: ``report.ok``, ``report["name"]``, ``print(report)``."""

    def __init__(self, exercise, results, seed):
        self.exercise, self.results, self.seed = exercise, list(results), seed

    @property
    def ok(self):
        """True when every property passed."""
        return all(r.status == "pass" for r in self.results)

    @property
    def exit_code(self):
        """0 all pass, 1 a property fails, 2 the student's code raised or has the wrong shape."""
        if any(r.status == "error" for r in self.results):
            return 2
        return 0 if self.ok else 1

    def __getitem__(self, name):
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"no property {name!r}; properties: {[r.name for r in self.results]}")

    def __iter__(self):
        return iter(self.results)

    def assert_ok(self):
        """Raise AssertionError with the report's text unless every property passed."""
        if not self.ok:
            raise AssertionError("\n" + str(self))

    def __str__(self):
        n_pass = sum(r.status == "pass" for r in self.results)
        lines = [f"minigen.check {self.exercise} (seed {self.seed}): "
                 f"{n_pass}/{len(self.results)} properties pass"]
        for r in self.results:
            lines.extend(r.lines())
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self):
        colour = {"pass": "#1a7f37", "fail": "#cf222e", "skipped": "#6e7781", "error": "#9a6700"}
        rows = "".join(
            f"<tr><td style='color:{colour[r.status]}'><b>{_MARK[r.status]}</b></td>"
            f"<td>{r.name}</td><td>{_escape(chr(10).join(r.lines()[1:]) or r.what)}</td></tr>"
            for r in self.results)
        return (f"<p><b>minigen.check {self.exercise}</b> (seed {self.seed})</p>"
                f"<table>{rows}</table>")

    def to_dict(self):
        return {"exercise": self.exercise, "seed": self.seed, "ok": self.ok,
                "results": [asdict(r) for r in self.results]}

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2)


def _wrap(text):
    return textwrap.wrap(text, 96, initial_indent=" " * 8, subsequent_indent=" " * 10)


def _escape(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\n", "<br>"))
