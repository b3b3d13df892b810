"""How long a full exercise check takes (the target is <= 10 s on 2 cores), on minigen's own
implementations wrapped to each exercise's contract (the wrappers of tests/test_check*.py).

    python benchmarks/checks.py
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from minigen import check  # noqa: E402


def references():
    """exercise name -> minigen's implementation, from the test modules of exercise mode."""
    import test_check
    import test_check_diffusion
    import test_check_flows
    import test_check_gan
    import test_check_langevin
    from minigen import metrics
    refs = {"metropolis_hastings": test_check.reference_mh,
            "precision_recall": metrics.precision_recall}
    for module in (test_check_diffusion, test_check_flows, test_check_gan, test_check_langevin):
        for name, fn in module.REFERENCES.items():
            refs[name] = fn[0] if isinstance(fn, tuple) else fn
    return refs


def main():
    print("| exercise | properties | seconds | all pass |\n| --- | ---: | ---: | --- |")
    for name, fn in sorted(references().items()):
        t0 = time.perf_counter()
        report = check.run(name, fn)
        seconds = time.perf_counter() - t0
        print(f"| {name} | {len(report.results)} | {seconds:.2f} | {report.ok} |")


if __name__ == "__main__":
    main()
