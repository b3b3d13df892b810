"""Benchmark of the conditional GAN (issue 15): per-label accuracy with defaults on 8 blobs.

Trains train_cgan (Eq. (64); and its Wasserstein variant) with default settings on
polygon_blobs(8, 2.0, 0.2), 5000 points labelled by their mode, and prints for each label y the
fraction of sample(2000, rng, y) within 3 std of mode y (target: >= 95% for every y), the mode
coverage of samples drawn with the training label frequencies, the std of each label's samples
along their principal axes over the blob's std (1, 1 for a perfect generator: a GAN's blobs are
narrower streaks), and CPU seconds (target: <= 60 s). A perfect generator gives
P(chi2_2 <= 9) = 98.9% per label. --quick: a few steps (smoke run).
"""
import argparse

import numpy as np

from minigen import backend, metrics
from minigen.distributions import polygon_blobs
from minigen.gans.cgan import train_cgan
from timing import timed

p = argparse.ArgumentParser(description=__doc__)
p.add_argument("--quick", action="store_true", help="a few steps only (smoke run)")
p.add_argument("--seed", type=int, default=0)
args = p.parse_args()

N_DATA, STD, TARGET = 5000, 0.2, 0.95
target = polygon_blobs(8, 2.0, STD)
means = backend.to_numpy(target.means)
rows = []
for name, kw in (("cGAN (non-saturating)", {}), ("cWGAN-GP", {"wasserstein": True})):
    rng = backend.rng(args.seed)
    labels = rng.integers(0, 8, size=(N_DATA,))                    # labels = mode index
    data = target.means[labels] + STD * rng.standard_normal((N_DATA, 2))
    n_steps = 20 if args.quick else None                         # None: the default
    model, wall, cpu = timed(lambda: train_cgan(data, labels, rng, n_steps=n_steps, **kw))
    samples = [backend.to_numpy(model.sample(2000, rng, y)) for y in range(8)]
    acc = [float(np.mean(np.sum((x - means[y]) ** 2, axis=1) <= (3 * STD) ** 2))
           for y, x in enumerate(samples)]
    # the shape inside a blob: std along the principal axes of each label's samples / STD
    axes = np.array([np.sqrt(np.linalg.eigvalsh(np.cov(x.T))) / STD for x in samples])  # (8, 2)
    x = model.sample(5000, rng)
    cov = metrics.mode_coverage(x, target.means, STD)
    rows.append((name, len(model.history["step"]), wall, cpu, acc, cov, *np.median(axes, axis=0)))

print("| model | G steps | wall s | CPU s | min over labels | per label y = 0..7 (% within 3 std "
      "of mode y) | modes covered | blob axes / std (median; 1 = exact) | target met |")
print("|---|---:|---:|---:|---:|---|---:|---|---|")
for name, n, wall, cpu, acc, cov, short, long in rows:
    ok = "yes" if min(acc) >= TARGET and cpu <= 60 else "NO"
    print(f"| {name} | {n} | {wall:.1f} | {cpu:.1f} | {100 * min(acc):.1f}% | "
          f"{' '.join(f'{100 * a:.1f}' for a in acc)} | {cov}/8 | {short:.2f}, {long:.2f} | "
          f"{ok} |")
