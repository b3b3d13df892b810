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
    import test_check_cgan
    import test_check_diffusion
    import test_check_flow_matching
    import test_check_flows
    import test_check_fokker_planck
    import test_check_gan
    import test_check_hmc
    import test_check_langevin
    import test_check_ode
    import test_check_optimal_transport
    import test_check_pcd
    import test_check_score_matching
    import test_check_vae
    from minigen import metrics
    refs = {"metropolis_hastings": test_check.reference_mh,
            "precision_recall": metrics.precision_recall,
            "conditional_value": test_check_cgan.cgan.value_function,
            "conditional_flow_loss": test_check_flow_matching.conditional_flow_loss,
            "fokker_planck_1d": test_check_fokker_planck.reference,
            "hmc": test_check_hmc.reference, "pcd_gradient": test_check_pcd.reference,
            "score_matching_exponential": test_check_score_matching.score_matching_exponential}
    for module in (test_check_diffusion, test_check_flows, test_check_gan, test_check_langevin,
                   test_check_ode, test_check_optimal_transport, test_check_vae):
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
