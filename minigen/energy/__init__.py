"""Gibbs energy models p_theta = exp(-U_theta) / Z_theta (notes §3.1, §3.3, Eq. 22-35, 44-46).

``exponential_family``: U = theta . Phi (Eq. 25) fitted by maximum likelihood, the gradient
E_data Phi - E_theta Phi (Eq. 32) estimated on persistent chains (Eq. 35); ``features``: the
Gaussian and radial-basis Phi; ``score_matching``: the Fisher objective (Eq. 46) in its implicit,
sliced and denoising forms, and its closed form for exponential families; ``quadrature``: log Z
and moments on a 2-D grid; ``phi4`` and ``phi4_fit``: the lattice field and its parameters
recovered from samples; ``neural`` and ``pcd``: an MLP energy trained by persistent chains or
by score matching (``train_energy``).
"""
from minigen.energy.exponential_family import ExponentialFamily, fit_max_likelihood
from minigen.energy.features import GaussianFeatures, RadialBasis
from minigen.energy.neural import EnergyModel, train_energy
from minigen.energy.phi4 import (Phi4, free_spectrum, magnetization, observables, phi4_features,
                                 spectrum, tau_abs_m)
from minigen.energy.phi4_fit import max_likelihood_phi4, score_matching_phi4
from minigen.energy.quadrature import grid_log_partition, grid_moments, grid_points
from minigen.energy.score_matching import (denoising_score_matching_loss, fisher_divergence,
                                           implicit_score_matching_loss, score_and_divergence,
                                           score_matching_exponential, sliced_score_matching_loss)

__all__ = ["EnergyModel", "train_energy", "ExponentialFamily", "fit_max_likelihood",
           "GaussianFeatures", "RadialBasis", "Phi4", "free_spectrum", "magnetization",
           "observables", "phi4_features", "spectrum", "tau_abs_m", "max_likelihood_phi4",
           "score_matching_phi4", "grid_log_partition", "grid_moments", "grid_points",
           "denoising_score_matching_loss", "fisher_divergence", "implicit_score_matching_loss",
           "score_and_divergence", "score_matching_exponential", "sliced_score_matching_loss"]
