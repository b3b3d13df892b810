"""Flow-matching rows of the transport benchmark: the issue's targets, defaults, CPU seconds.

Usage: python benchmarks/_transport_fm.py [--quick]   (benchmarks/transport.py prints them too)
Samples: train_flow_matching with its defaults on 20000 points of polygon_blobs(8, 2.0, 0.2)
(rng(0)'s first draw, the trainer continuing that rng, as benchmarks/compare.py does); sliced W2
of 3 x 5000 samples against 10 fresh sets over the mean true-vs-true value (compare.py's protocol:
1 +- 0.2 for an exact sampler). Targets: <= 1.5x the floor with RK4 or Heun in <= 20 steps; the OT
coupling <= 2x with 2 Euler steps. Straightness: mean of int |dx/dt - (x_1 - x_0)|^2 dt along
RK4 paths (0 = straight lines), beside E|x_1 - x_0|^2 of the training pairs and of the learned
ODE map. NLL: the model trained on 30000 points of polygon_blobs(8, 2.0, 0.3) (the coupling
flow's data), log_prob by Liouville (RK4, 50 steps, exact divergence) on 5000 fresh points:
KL = mean(log p - log p_model) with its SE (target <= 0.1 nats; paired, so the
SE is that of the difference). --quick: 100 training steps and small sets, a smoke run.
"""
import argparse
import math

import numpy as np

from compare import sw_floor_refs, sw_over_floor
from minigen import backend
from minigen.distributions import polygon_blobs
from minigen.transport.flow_matching import (ot_pairs, straightness,
                                             train_flow_matching)
from timing import print_table, timed

N_TRAIN, N_SAMPLE, N_NLL_TRAIN, N_NLL = 20_000, 5000, 30_000, 5000
QUICK = {"n_steps": 100, "n_train": 2000, "n_sample": 600, "n_nll": 300}
SOLVERS = {"independent": [("rk4", 10), ("heun", 20), ("euler", 8), ("euler", 2)],
           "ot": [("rk4", 10), ("euler", 8), ("euler", 2), ("euler", 1)]}


def _sample_rows(label, model, refs, n):
    rows = []
    for method, n_steps in SOLVERS["ot" if "ot" in label else "independent"]:
        x, wall, cpu = timed(lambda: model.sample(3 * n, backend.rng(5), n_steps=n_steps,
                                                  method=method))
        target = 2.0 if (method == "euler" and n_steps == 2 and "ot" in label) else (
            1.5 if method != "euler" else None)
        goal = f" (target <= {target:g})" if target else ""
        rows.append((f"{label}: sample {3 * n}, {method} {n_steps} steps", wall, cpu,
                     f"sliced W2 = {sw_over_floor(x, n, refs):.2f} x floor{goal}"))
    z = backend.rng(6).standard_normal((2000, 2))
    path = model.transport(z, n_steps=20)
    u = (path[-1] - model.mean) / model.std                    # T(z) in standardized units
    cost = float(np.mean(np.sum(backend.to_numpy(u - z) ** 2, axis=1)))
    rows.append((f"{label}: paths of 2000 points", 0.0, 0.0,
                 f"straightness {straightness(path):.3f}; the ODE map's E|T(z) - z|^2 = "
                 f"{cost:.2f} (standardized units)"))
    return rows


def coupling_cost_row(data, n=4096, block=128):
    """E|x_1 - x_0|^2 of the training pairs, standardized units: independent vs OT blocks."""
    u = backend.to_numpy(data[:n])
    u = (u - u.mean(axis=0)) / u.std(axis=0)
    z = backend.to_numpy(backend.rng(7).standard_normal(u.shape))
    paired = backend.to_numpy(ot_pairs(backend.asarray(z), backend.asarray(u), block))
    ind, ot = (float(np.mean(np.sum((u - a) ** 2, axis=1))) for a in (z, paired))
    return ("training pairs: E|x_1 - x_0|^2 (standardized)", 0.0, 0.0,
            f"independent {ind:.2f}, OT on blocks of {block}: {ot:.2f}")


def flow_matching_rows(quick=False):
    """Rows (task, wall s, CPU s, figure) for the flow-matching targets of the transport room."""
    kw = {"n_steps": QUICK["n_steps"], "n_pairs": 1024} if quick else {}
    n_train, n, n_nll = ((QUICK["n_train"], QUICK["n_sample"], QUICK["n_nll"]) if quick
                         else (N_TRAIN, N_SAMPLE, N_NLL))
    target = polygon_blobs(8, 2.0, 0.2)
    refs = sw_floor_refs(target, n, 1000)
    rows = []
    for coupling, extra in (("independent", {}), ("ot", {}), ("independent", {"n_reflow": 1})):
        rng = backend.rng(0)
        data = target.sample(n_train, rng)
        label = f"flow matching, {coupling}" + (", 1 reflow" if extra else "")
        model, wall, cpu = timed(lambda: train_flow_matching(data, rng, coupling=coupling,
                                                             progress=False, **kw, **extra))
        rows.append((f"{label}: train (defaults), {n_train} points", wall, cpu, ""))
        rows += _sample_rows(label, model, refs, n)
        if coupling == "ot":
            rows.append(coupling_cost_row(data, min(4096, n_train)))
    blobs = polygon_blobs(8, 2.0, 0.3)
    rng = backend.rng(0)
    data = blobs.sample(QUICK["n_train"] if quick else N_NLL_TRAIN, rng)
    model, wall, cpu = timed(lambda: train_flow_matching(data, rng, progress=False, **kw))
    rows.append(("flow matching, independent: train on polygon_blobs(8, 2.0, 0.3)", wall, cpu,
                 ""))
    fresh = blobs.sample(n_nll, backend.rng(2))
    log_q, wall, cpu = timed(lambda: backend.to_numpy(model.log_prob(fresh)))
    gap = backend.to_numpy(blobs.log_prob(fresh)) - log_q
    entropy, se_h = blobs.entropy(backend.rng(3), 200_000)
    rows.append((f"flow matching: log_prob (RK4 50 steps), {n_nll} points", wall, cpu,
                 f"KL = log p - log p_model = {gap.mean():.3f} +- "
                 f"{gap.std() / math.sqrt(gap.size):.3f} nats (target <= 0.1); NLL - H = "
                 f"{-log_q.mean() - entropy:.3f} +- "
                 f"{math.hypot(log_q.std() / math.sqrt(log_q.size), se_h):.3f}"))
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="100 training steps: a smoke run")
    args = p.parse_args()
    print(f"backend: {backend.get_backend()}")
    print_table(flow_matching_rows(args.quick))


if __name__ == "__main__":
    main()
