"""The generative experiment: autoencoders against PCA; a VAE, a GAN and a diffusion model."""

from dlpipeline.pipelines.generative.pipeline import create_pipeline

__all__ = ["create_pipeline"]
