"""What the trust tests need from the cnn pipeline (see tests/trust/test_runs.py)."""

BAD_PARAMETERS = [
    ("cnn.experiments.n_seeds=0", ["cnn.experiments", "n_seeds", "greater than or equal to 1"]),
    ("cnn.training.augment=flips", ["cnn.training", "augment", "flips", "'none' or 'shifts'"]),
    # training draws from torch's global generator: configurations must not share it on threads
    ("cnn.executor.kind=threads", ["cnn.executor", "threads", "global random generator"]),
    # the champion is chosen by a validation metric: a test metric (or any other) is refused
    ("cnn.registry.rank_by=test_accuracy", ["cnn.registry", "rank_by", "test_accuracy", "'val_accuracy'"]),
    ("cnn.data_size.min_steps=0", ["cnn.data_size", "min_steps", "greater than or equal to 1"]),
    ("cnn.cost.repeats=0", ["cnn.cost", "repeats", "greater than or equal to 1"]),
    # an odd number of grating directions would give a quarter-turn-symmetric filter a selectivity
    ("cnn.edges.n_angles=7", ["cnn.edges", "n_angles", "multiple of 2"]),
]
"""``--params`` overrides that must be refused before any node runs, and words the answer names."""

ENDLESS_TRAINING = "cnn.training.train.epochs=1000000"
"""A ``--params`` override that keeps the first training node busy until it is interrupted."""
