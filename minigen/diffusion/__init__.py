"""Score diffusion (notes §2.8.2, §6.2): noise the data by Ornstein-Uhlenbeck, learn to denoise,
run it backwards.

``ornstein_uhlenbeck``: forward noising dX = -kappa X dt + sigma dW, exact (Th. 8) and by
Euler-Maruyama.
``reverse``: the reverse-time family of Th. 9 (alpha = 0 probability-flow ODE, alpha = 1 reverse
SDE).
``tweedie``: optimal denoiser = y + sigma^2 score (Th. 10), a learned denoiser, the score it
defines. A trained ``Denoiser`` saves and loads with ``minigen.io``.
``memorization``: the exact score of a training set, and two denoisers trained on disjoint sets
driven by the same noise (Fig. 13: memorization vs generalization).
"""
