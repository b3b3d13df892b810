"""Exercise mode: every check passes minigen's own implementation (on every backend), fails each
known-wrong variant of tests/mutants/ at exactly its targeted properties with the right named
mistake (at >= 10 SE), passes correct variants written otherwise, and shares no code with the
module it checks."""
import ast
import json
import pathlib

import numpy as np
import pytest

from conftest import assert_fails_exactly
from minigen import check
from minigen.check.__main__ import main as cli
from minigen.mcmc import metropolis_hastings
from mutants import metropolis as mh_mutants

CHECK_DIR = pathlib.Path(check.__file__).parent


def reference_mh(log_prob, x0, n_steps, step_size, rng, proposal=None):
    return metropolis_hastings(log_prob, x0, n_steps, step_size, rng, proposal=proposal,
                               progress=False).samples


def test_minigen_passes_its_own_check(backend_name):
    report = check.metropolis_hastings(reference_mh)
    assert report.ok, str(report)
    assert report.exit_code == 0


@pytest.mark.parametrize("mistake", sorted(mh_mutants.MUTANTS))
@pytest.mark.usefixtures("on_numpy")
def test_each_mutant_fails_exactly_its_property(mistake):
    fails, named = mh_mutants.MUTANTS[mistake]
    report = check.metropolis_hastings(mh_mutants.variant(mistake=mistake))
    assert_fails_exactly(report, fails, named)


@pytest.mark.parametrize("fn", [mh_mutants.variant(order="uniform_first"), mh_mutants.presampled,
                                mh_mutants.mh], ids=["uniform_first", "presampled", "plain"])
@pytest.mark.usefixtures("on_numpy")
def test_correct_variants_pass(fn):
    report = check.metropolis_hastings(fn)
    assert report.ok, str(report)


@pytest.mark.usefixtures("on_numpy")
def test_an_unvectorized_implementation_is_told_to_vectorize(small_budget):
    report = check.metropolis_hastings(mh_mutants.chain_by_chain)
    assert report.exit_code == 2
    assert "vectorize over chains" in report["contract"].message
    assert all(r.status == "skipped" for r in report.results[1:])


@pytest.mark.usefixtures("on_numpy")
def test_the_report_never_shows_the_reference_and_shows_the_students_frames():
    def broken(log_prob, x0, n_steps, step_size, rng, proposal=None):
        return np.zeros(3)[10]                       # IndexError in the student's code
    report = check.metropolis_hastings(broken)
    text = str(report)
    assert report.exit_code == 2 and "IndexError" in text and "broken" in text
    assert "minigen/check" not in text and "minigen/mcmc" not in text
    wrong_signature = check.metropolis_hastings(lambda x0, log_prob: None)
    assert "must take (log_prob, x0, n_steps, step_size, rng, proposal)" in str(wrong_signature)


@pytest.mark.usefixtures("on_numpy")
def test_skeleton_matches_the_contract_and_runs_to_not_implemented(tmp_path):
    text = check.skeleton("mh")
    tree = ast.parse(text)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    assert [a.arg for a in fn.args.args] == ["log_prob", "x0", "n_steps", "step_size", "rng",
                                              "proposal"]
    path = tmp_path / "student.py"
    path.write_text(text)
    assert cli(["metropolis_hastings", str(path)]) == 2     # raises NotImplementedError


@pytest.mark.usefixtures("on_numpy")
def test_cli_exit_codes_and_json(tmp_path, capsys):
    good = tmp_path / "good.py"
    good.write_text("from mutants.metropolis import presampled as metropolis_hastings\n")
    bad = tmp_path / "bad.py"
    bad.write_text("import functools\nfrom mutants.metropolis import mh\n"
                   "metropolis_hastings = functools.wraps(mh)(functools.partial(mh, "
                   "mistake='no_hastings'))\n")
    out = tmp_path / "report.json"
    assert cli(["mh", str(good)]) == 0
    assert cli(["mh", str(bad), "--json", str(out)]) == 1
    data = json.loads(out.read_text())
    assert data["ok"] is False
    assert [r["status"] for r in data["results"]].count("fail") == 1
    assert cli(["list"]) == 0 and "metropolis_hastings" in capsys.readouterr().out
    assert cli(["nonexistent", str(good)]) == 3
    assert cli(["mh", str(tmp_path / "missing.py")]) == 3
    (tmp_path / "syntax.py").write_text("def metropolis_hastings(:\n")
    assert cli(["mh", str(tmp_path / "syntax.py")]) == 2


@pytest.mark.usefixtures("on_numpy")
def test_report_api():
    report = check.metropolis_hastings(mh_mutants.variant(mistake="variance"))
    assert not report.ok and report["random_walk_acceptance"].status == "fail"
    assert report["invariance"].status == "skipped"
    with pytest.raises(AssertionError, match="random_walk_acceptance"):
        report.assert_ok()
    with pytest.raises(KeyError, match="properties"):
        report["nope"]
    assert "<table>" in report._repr_html_()
    assert "metropolis_hastings" in check.list()


@pytest.mark.parametrize("name", sorted(check.MODULES))
def test_a_check_never_imports_what_it_checks(name):
    checked = check.MODULES[name].CHECKS               # e.g. "minigen.mcmc.metropolis"
    tree = ast.parse((CHECK_DIR / f"{name}.py").read_text())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    names += [f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
              for a in n.names]
    # nor its room's package, which re-exports it (minigen.metrics has no room: only itself)
    package = checked.rsplit(".", 1)[0] if checked.count(".") > 1 else checked
    assert not [n for n in names if n.startswith(checked) or n == package], names
    assert [ex.name for ex in check.MODULES[name].EXERCISES]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")
@pytest.mark.usefixtures("on_numpy")
def test_pytest_helper_makes_one_marked_case_per_property():
    from minigen.check.grading import property_tests
    test = property_tests("mh", mh_mutants.variant(mistake="no_hastings"))
    marks = {m.name: m for m in test.pytestmark}
    assert "metropolis_hastings" in marks
    assert marks["parametrize"].args[1] == [p.name for p in check.find("mh").properties]
    test("symmetric_kernel")                                   # passes
    with pytest.raises(AssertionError, match="Hastings factor"):
        test("hastings_correction")
