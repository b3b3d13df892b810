"""minigen's metrics, by what they measure.

chains:   Markov-chain diagnostics (notes §3.2): acceptance_rate, autocorrelation,
          integrated_autocorr_time, effective_sample_size, mcse.
samples:  distances between two sample sets (§4.2, §4.4): sliced_wasserstein, mmd_rbf,
          frechet_distance (Eq. 69); mode statistics of a known mixture (Eq. 65-66):
          mode_occupancy, mode_coverage, high_quality_fraction, reverse_kl_modes.
fidelity: fidelity and diversity from samples alone (§4.4, Eq. 65-68): precision_recall,
          density_coverage, moment_matching (features: monomials by default).
Every name is importable from ``minigen.metrics`` itself.
"""
from minigen.metrics.chains import (acceptance_rate, autocorrelation,  # noqa: F401
                                    effective_sample_size, integrated_autocorr_time, mcse)
from minigen.metrics.fidelity import (DensityCoverage, MomentMatching,  # noqa: F401
                                      PrecisionRecall, density_coverage, moment_matching,
                                      monomials, precision_recall)
from minigen.metrics.samples import (PROB_FLOOR, ModeOccupancy, frechet_distance,  # noqa: F401
                                     high_quality_fraction, mmd_rbf, mode_coverage,
                                     mode_occupancy, reverse_kl_modes, sliced_wasserstein)
