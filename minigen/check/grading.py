"""Grading with pytest: one test per property of an exercise, run with ``pytest -m <exercise>``.

In a course's test file:

    from minigen.check.grading import property_tests
    from student_mh import metropolis_hastings
    test_mh = property_tests("metropolis_hastings", metropolis_hastings)

Each property becomes one parametrized case marked with the exercise's name; a skipped property
(its prerequisite failed) is reported as skipped, a failed one shows the report's lines.
The check runs once per module, on first use. Nothing here is loaded as a pytest plugin; register
the marker in the course's pytest configuration (``markers = metropolis_hastings``).
"""
from minigen import check


def property_tests(name, fn, seed=0):
    """A pytest test function parametrized over the properties of exercise ``name``."""
    import pytest
    exercise = check.find(name)
    cache = {}

    @pytest.mark.parametrize("prop", [p.name for p in exercise.properties])
    def test(prop):
        if "report" not in cache:
            cache["report"] = exercise.run(fn, seed)
        result = cache["report"][prop]
        if result.status == "skipped":
            pytest.skip(result.message)
        assert result.status == "pass", "\n".join(result.lines())

    return getattr(pytest.mark, exercise.name)(test)
