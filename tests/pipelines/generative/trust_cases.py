"""What the trust tests need from the generative pipeline (see tests/trust/test_runs.py)."""

BAD_PARAMETERS = [
    ("generative.ring.data.std=0", ["generative.ring.data", "std", "greater than 0"]),
    ("generative.autoencoders.model.denoising_noise=0", ["generative.autoencoders.model", "denoising_noise"]),
    (
        "generative.moons.generators.gan.train.learning_rate=-1",
        ["generative.moons.generators", "gan.train.learning_rate", "greater than 0"],
    ),
    # training draws from torch's global generator: configurations must not share it on threads
    ("generative.executor.kind=threads", ["generative.executor", "threads", "global random generator"]),
    ("generative.text_to_image.model.n_samples=0", ["generative.text_to_image.model", "n_samples"]),
    # the champion is chosen by a validation metric: a test metric (or any other) is refused
    (
        "generative.registry.rank_by=reconstruction_mse",
        ["generative.registry", "rank_by", "reconstruction_mse", "'val_reconstruction_mse'"],
    ),
]
"""``--params`` overrides that must be refused before any node runs, and words the answer names."""

ENDLESS_TRAINING = "generative.autoencoders.model.train.epochs=100000000"
"""A ``--params`` override that keeps a training node busy until it is interrupted."""
