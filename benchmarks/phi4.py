"""The phi^4 field: HMC and MALA cost and mixing on 16^2-32^2 lattices, and parameter recovery.

Table 1: CPU seconds per sampler step (64 chains) against one score call, for HMC (L leapfrog
steps: L score calls) and MALA (one log_prob + one score), on 16^2 and 32^2 lattices.
Table 2: integrated autocorrelation time tau of |m| (in steps and in score calls) at lam = 0.02,
kappa in {0.2, 0.25, 0.3}: the work per independent sample, larger near kappa_c ~ 0.26.
Table 3 (the issue's target): (kappa, lam) recovered from HMC samples on 16^2 by score matching
within 2%, and by maximum likelihood (Eq. 32) started 5% / 25% off.
CPU time from time.process_time(); run with OPENBLAS_NUM_THREADS=1.

    python benchmarks/phi4.py [--quick] [--seed S]
"""
import argparse
import time

import numpy as np

from minigen import backend
from minigen.energy.phi4 import Phi4, tau_abs_m
from minigen.energy.phi4_fit import max_likelihood_phi4, score_matching_phi4
from minigen.mcmc import hmc, mala

LAM, KAPPAS = 0.02, (0.2, 0.25, 0.3)
EPS, N_LEAPFROG, JITTER, H_MALA = 0.25, 8, 0.2, 0.05


def cpu(f):
    t0 = time.process_time()
    out = f()
    return time.process_time() - t0, out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    rng = backend.rng(a.seed)
    n_chains, n_time = (16, 20) if a.quick else (64, 100)
    n_steps, burn = (200, 50) if a.quick else (2000, 200)
    t_total = time.process_time()

    print("1. cost per step, 64 chains (CPU s)")
    print(f"{'lattice':>8} {'score call':>11} {'HMC step':>10} {'/ score':>8} {'MALA step':>10}"
          f" {'/ (lp + score)':>15}")
    for L in (16, 32):
        t = Phi4(L, 0.25, LAM)
        x = 0.5 * rng.standard_normal((64, L * L))
        score_s = cpu(lambda: [t.score(x) for _ in range(n_time)])[0] / n_time
        lp_s = cpu(lambda: [t.log_prob(x) for _ in range(n_time)])[0] / n_time
        hmc_s = cpu(lambda: hmc(t.log_prob, t.score, x, n_time, EPS, N_LEAPFROG, rng,
                                thin=n_time, progress=False))[0] / n_time
        mala_s = cpu(lambda: mala(t.log_prob, t.score, x, n_time, H_MALA, rng, thin=n_time,
                                  progress=False))[0] / n_time
        print(f"{f'{L}x{L}':>8} {score_s:11.2e} {hmc_s:10.2e} {hmc_s / score_s:8.1f} "
              f"{mala_s:10.2e} {mala_s / (lp_s + score_s):15.1f}")

    print(f"\n2. mixing of |m| on 16x16, lam = {LAM}: tau in steps (score calls per independent "
          "sample)")
    print(f"{'kappa':>6} {'HMC tau':>9} {'HMC calls':>10} {'acc':>5} {'MALA tau':>9} "
          f"{'MALA calls':>11} {'acc':>5}")
    samples = {}
    for kappa in KAPPAS:
        t = Phi4(16, kappa, LAM)
        x0 = 0.1 * rng.standard_normal((n_chains, 256))
        rh = hmc(t.log_prob, t.score, x0, n_steps, EPS, N_LEAPFROG, rng, jitter=JITTER,
                 progress=False)
        rm = mala(t.log_prob, t.score, x0, n_steps, H_MALA, rng, progress=False)
        samples[kappa] = rh.samples[burn:]
        th, tm = float(tau_abs_m(rh.samples[burn:])), float(tau_abs_m(rm.samples[burn:]))
        print(f"{kappa:6.2f} {th:9.1f} {th * N_LEAPFROG:10.0f} "
              f"{float(np.mean(rh.accept_rate)):5.2f} {tm:9.1f} {tm:11.0f} "
              f"{float(np.mean(rm.accept_rate)):5.2f}")
    print("   (MALA's tau is a lower bound when it approaches the run length / 50)")

    print(f"\n3. recovery from {n_chains} HMC chains x {n_steps - burn} steps on 16x16, "
          f"lam = {LAM} (target: score matching within 2%)")
    print(f"{'kappa':>6} {'SM kappa':>9} {'err':>7} {'SM lam':>8} {'err':>7} {'CPU s':>6} | "
          f"{'ML from':>14} {'ML kappa':>9} {'err':>7} {'ML lam':>8} {'err':>7} {'CPU s':>6}")
    for kappa in KAPPAS:
        s = samples[kappa]
        t_sm, (k_sm, l_sm) = cpu(lambda: score_matching_phi4(s, 16))
        for start in ((0.95, 1.25), (0.9, 2.0)):
            k0, l0 = start[0] * kappa, start[1] * LAM
            t_ml, (k_ml, l_ml, _) = cpu(lambda: max_likelihood_phi4(
                s, 16, rng, kappa0=k0, lam0=l0, n_iter=3 if a.quick else 10,
                n_sweeps=20 if a.quick else 100))
            print(f"{kappa:6.2f} {k_sm:9.4f} {100 * (k_sm / kappa - 1):+6.2f}% {l_sm:8.4f} "
                  f"{100 * (l_sm / LAM - 1):+6.2f}% {t_sm:6.2f} | {f'({k0:.3f}, {l0:.3f})':>14} "
                  f"{k_ml:9.4f} {100 * (k_ml / kappa - 1):+6.2f}% {l_ml:8.4f} "
                  f"{100 * (l_ml / LAM - 1):+6.2f}% {t_ml:6.2f}")
    print(f"\ntotal CPU {time.process_time() - t_total:.1f} s")


if __name__ == "__main__":
    main()
