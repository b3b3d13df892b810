"""Latent-variable generators (companion reading): the variational autoencoder."""
