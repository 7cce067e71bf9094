"""The tables and figures of the generative experiment that its claims (``generative.claims``) may read."""

from dlpipeline.evidence import Evidence

EVIDENCE = Evidence(
    tables={
        "autoencoders": "generative.autoencoders.summary",
        "generators": "generative.generator_summary",
        "generative_units": "generative.claim_units",
        "autoencoder_units": "generative.autoencoders.units",
        "text_to_image_units": "generative.text_to_image.units",
    },
    figures={
        "autoencoders_comparison": "generative.autoencoders.comparison_plot",
        "generative_comparison": "generative.comparison_plot",
        "ring_samples": "generative.ring.samples_plot",
        "digits_samples": "generative.digits.samples_plot",
        "text_to_image_samples": "generative.text_to_image.samples_plot",
    },
)
