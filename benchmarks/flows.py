"""Flows benchmark: training time with defaults, and log_prob / ELBO / sample throughput.

Usage: python benchmarks/flows.py [--quick]   (--quick: 20 training steps and 1e4 points instead
of 1e5, a smoke run). Prints a markdown table; quality figures (NLL gap to the entropy, ELBO gap to
the true log-likelihood, sliced W2 over its two-sample floor) come with the training rows.
"""
import argparse

from minigen import backend, distributions, metrics
from minigen.backend import xp
from minigen.flows.coupling import train_coupling_flow
from minigen.flows.hamiltonian import train_hamiltonian_flow
from timing import print_table, timed


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    n_eval = 10_000 if args.quick else 100_000
    steps = {"n_steps": 20} if args.quick else {}
    target = distributions.polygon_blobs(8, 2.0, 0.3)
    rng = backend.rng(0)
    data = target.sample(30_000, rng)
    fresh = target.sample(n_eval, backend.rng(1))
    entropy, _ = target.entropy(backend.rng(2), n_eval)
    true_ll = float(xp.mean(target.log_prob(fresh)))
    rows = []

    def rate(wall):
        return f"{n_eval / wall:.2e} points/s"

    flow, wall, cpu = timed(lambda: train_coupling_flow(data, backend.rng(3), **steps))
    rows.append(("coupling flow: train (defaults)", wall, cpu,
                 f"NLL - entropy = {flow.nll(fresh) - entropy:.3f} nats"))
    _, wall, cpu = timed(lambda: flow.log_prob(fresh))
    rows.append((f"coupling flow: log_prob, {n_eval:.0e} points", wall, cpu, rate(wall)))
    _, wall, cpu = timed(lambda: flow.sample(n_eval, rng))
    rows.append((f"coupling flow: sample, {n_eval:.0e} points", wall, cpu, rate(wall)))

    ham, wall, cpu = timed(lambda: train_hamiltonian_flow(data, backend.rng(4), **steps))
    elbo = float(xp.mean(ham.elbo(fresh, backend.rng(5))))
    n_sw = min(5000, n_eval // 2)
    floor = sum(metrics.sliced_wasserstein(target.sample(n_sw, backend.rng(10 + i)),
                                           target.sample(n_sw, backend.rng(20 + i)),
                                           backend.rng(30 + i)) for i in range(3)) / 3
    sw = metrics.sliced_wasserstein(ham.sample(n_sw, backend.rng(6)), fresh[:n_sw], backend.rng(7))
    rows.append(("Hamiltonian flow: train (defaults)", wall, cpu,
                 f"log p - ELBO = {true_ll - elbo:.3f} nats; "
                 f"sliced W2 = {sw / floor:.2f} x two-sample floor"))
    _, wall, cpu = timed(lambda: ham.elbo(fresh, rng))
    rows.append((f"Hamiltonian flow: ELBO (1 sample), {n_eval:.0e} points", wall, cpu, rate(wall)))
    _, wall, cpu = timed(lambda: ham.sample(n_eval, rng))
    rows.append((f"Hamiltonian flow: sample, {n_eval:.0e} points", wall, cpu, rate(wall)))

    print(f"backend: {backend.get_backend()}; data polygon_blobs(8, 2.0, 0.3), "
          "30000 training points")
    print_table(rows)


if __name__ == "__main__":
    main()
