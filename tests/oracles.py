"""Oracles shared by several test files (independent of the code under test)."""
import numpy as np

from minigen import backend
from minigen.metrics import sliced_wasserstein


def sw_ratio(out, target, n_chunks=3, n_ref=10, seed=100):
    """Sliced W2 of generated points to the target over the two-sample floor, both averaged.

    The two-sample sliced W2 fluctuates by ~30% from draw to draw (mode counts are multinomial;
    measured on the 8 blobs, n = 5000), so `out` is split in n_chunks parts of n points, each
    compared with n_ref fresh true samples of n points, and the floor is the mean over n_ref pairs
    of true samples: SE of the floor ~10%, of the numerator ~15%, so a sampler of the exact law
    gives 1 +- 0.2.
    """
    n = out.shape[0] // n_chunks

    def sw(a, b):
        # the same projections everywhere
        return sliced_wasserstein(a, b, backend.rng(seed), n_projections=64)
    truth = [target.sample(n, backend.rng(seed + 1 + k)) for k in range(2 * n_ref)]
    floor = np.mean([sw(truth[2 * k], truth[2 * k + 1]) for k in range(n_ref)])
    chunks = [out[c * n:(c + 1) * n] for c in range(n_chunks)]
    return np.mean([sw(chunk, truth[k]) for chunk in chunks for k in range(n_ref)]) / floor
