"""Latent-variable generators (companion reading): the variational autoencoder.

``vae``: a Gaussian encoder q(z|x) and decoder p(x|z) trained on the ELBO with the
reparametrization trick (Kingma & Welling 2014), and the importance-weighted bound (Burda et al.
2016); a trained ``VAE`` saves and loads with ``minigen.io``.
"""
from minigen.latent.vae import VAE, train_vae

__all__ = ["VAE", "train_vae"]
