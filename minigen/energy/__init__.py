"""Gibbs energy models p = exp(-U)/Z (notes §3.1, §3.3): maximum likelihood, score matching, phi^4."""
