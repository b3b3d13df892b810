"""Markov chains and Langevin dynamics (notes §3.2 and §6.1): samplers of a known density pi ∝ exp(-U).

``metropolis``: Metropolis-Hastings, Algorithm 1, Eq. (40)-(42); any proposal with its log density.
``replica_exchange``: parallel tempering on pi^beta with swaps of Eq. (43).
``langevin``: ULA (Euler-Maruyama Eq. 122 of Eq. 119), MALA, simulated annealing (Eq. 121).
Every sampler runs n_chains chains in lockstep and returns samples (n_steps // thin, n_chains, d).
"""
from minigen.mcmc.langevin import annealed_langevin, langevin, mala
from minigen.mcmc.metropolis import ChainResult, metropolis_hastings
from minigen.mcmc.replica_exchange import ReplicaResult, replica_exchange

__all__ = ["metropolis_hastings", "replica_exchange", "langevin", "mala", "annealed_langevin",
           "ChainResult", "ReplicaResult"]
