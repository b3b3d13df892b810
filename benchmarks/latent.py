"""Latent-variable generators: the VAE with its defaults against the targets of its issue.

Usage: python benchmarks/latent.py [--quick] [--seed S]   (--quick: 50 training steps and 2000
points, a smoke run whose numbers mean nothing). On polygon_blobs(8, 2.0, 0.2), 20000 training
points (rng(seed)'s first draw, the trainer continuing that rng, as benchmarks/compare.py does):
modes with a sample within 3 std and the fraction of such samples (minigen.metrics, 5000 samples);
-ELBO - H and -IWAE_64 - H on 20000 fresh points, H the target's entropy (Monte Carlo), both
upper bounds on KL(p || p_model) = NLL - H (Eq. 27-28), with their standard errors; CPU seconds of
the training call (time.process_time). Targets: 8/8 modes, -ELBO - H <= 0.4 nats, <= 60 s CPU.
"""
import argparse
import math

import numpy as np

from minigen import backend
from minigen.distributions import polygon_blobs
from minigen.latent.vae import train_vae
from minigen.metrics import high_quality_fraction, mode_coverage
from timing import timed

N_MODES, RADIUS, STD = 8, 2.0, 0.2
N_TRAIN, N_SAMPLE, N_FRESH = 20_000, 5000, 20_000
IWAE_SAMPLES = 64
TARGET_GAP, TARGET_CPU = 0.4, 60.0


def gap(bound, entropy):
    """mean(-bound) - H and its standard error (the entropy's included)."""
    v = -backend.to_numpy(bound)
    return float(v.mean()) - entropy[0], math.hypot(v.std() / math.sqrt(v.size), entropy[1])


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    s = args.seed
    n_train, n_fresh, kw = ((2000, 2000, {"n_steps": 50}) if args.quick
                            else (N_TRAIN, N_FRESH, {}))
    target = polygon_blobs(N_MODES, RADIUS, STD)
    entropy = target.entropy(backend.rng(s + 1), 200_000)
    rng = backend.rng(s)
    data = target.sample(n_train, rng)
    vae, wall, cpu = timed(lambda: train_vae(data, rng, progress=False, **kw))
    x = vae.sample(N_SAMPLE, backend.rng(s + 5))
    modes = mode_coverage(x, target.means, STD, 3.0)
    hq = high_quality_fraction(x, target.means, STD, 3.0)
    fresh = target.sample(n_fresh, backend.rng(s + 2))
    elbo = gap(vae.elbo(fresh, backend.rng(s + 6)), entropy)
    iwae = gap(vae.elbo(fresh, backend.rng(s + 7), n_samples=IWAE_SAMPLES), entropy)
    sigma = backend.to_numpy(vae.decode(backend.asarray(np.zeros((1, vae.latent_dim))))[1])
    print(f"backend {backend.get_backend()}; polygon_blobs({N_MODES}, {RADIUS:g}, {STD:g}); "
          f"{n_train} training points (seed {s}); entropy H = {entropy[0]:.4f} ± "
          f"{entropy[1]:.4f} nats; decoder std {np.round(sigma, 3)} (data units)"
          + ("; --quick: numbers meaningless" if args.quick else "") + "\n")
    print("| VAE (defaults) | measured | target | met |")
    print("|---|---:|---:|:---:|")
    rows = [("modes within 3 std", f"{modes}/{N_MODES}", f"{N_MODES}/{N_MODES}",
             modes == N_MODES),
            ("samples within 3 std of a mode", f"{100 * hq:.1f}%", "–", None),
            ("-ELBO - H (nats)", f"{elbo[0]:.3f} ± {elbo[1]:.3f}", f"≤ {TARGET_GAP}",
             elbo[0] <= TARGET_GAP),
            (f"-IWAE_{IWAE_SAMPLES} - H (nats)", f"{iwae[0]:.3f} ± {iwae[1]:.3f}", "reported",
             None),
            ("train CPU s (wall s)", f"{cpu:.1f} ({wall:.1f})", f"≤ {TARGET_CPU:g}",
             cpu <= TARGET_CPU)]
    for name, value, goal, ok in rows:
        print(f"| {name} | {value} | {goal} | {'–' if ok is None else ('yes' if ok else 'NO')} |")


if __name__ == "__main__":
    main()
