"""Markov chains and Langevin dynamics (notes §3.2, §6.1): samplers of a density pi ∝ exp(-U).

``metropolis``: Metropolis-Hastings, Algorithm 1, Eq. (40)-(42), any proposal with its log
density; ``transition_matrix``, the exact kernel on a finite space (Eq. 39-41).
``replica_exchange``: parallel tempering on pi^beta with the swaps of Eq. (43).
``langevin``: ULA (Euler-Maruyama Eq. 122 of Eq. 119), MALA, simulated annealing (Eq. 121).
``hmc``: Hamiltonian Monte Carlo, a leapfrog trajectory (Eq. 10-12) as the proposal of Algorithm 1.
Every sampler runs n_chains chains in lockstep and returns samples (n_steps // thin, n_chains, d),
and raises FloatingPointError (the step, how many chains, why) if a chain turns NaN or inf.
"""
from minigen.mcmc.hmc import hmc
from minigen.mcmc.langevin import annealed_langevin, langevin, mala
from minigen.mcmc.metropolis import (ChainResult, GaussianRandomWalk, metropolis_hastings,
                                     transition_matrix)
from minigen.mcmc.replica_exchange import ReplicaResult, replica_exchange

__all__ = ["metropolis_hastings", "replica_exchange", "langevin", "mala", "annealed_langevin",
           "hmc", "transition_matrix", "GaussianRandomWalk", "ChainResult", "ReplicaResult"]
