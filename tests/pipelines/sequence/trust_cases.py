"""What the trust tests need from the sequence pipeline (see tests/trust/test_runs.py)."""

BAD_PARAMETERS = [
    ("sequence.forecast.model.cells=[cnn]", ["sequence.forecast.model", "cells", "cnn"]),
    ("sequence.adding.train.learning_rate=-0.1", ["sequence.adding.train", "learning_rate"]),
    ("sequence.tagging.data.test_share=1.5", ["sequence.tagging.data", "test_share"]),
    ("sequence.translate.data.train_max_len=2", ["sequence.translate.data", "train_max_len"]),
    # the champion is chosen by a validation metric: a test metric (or any other) is refused
    ("sequence.registry.rank_by=test_mse", ["sequence.registry", "rank_by", "test_mse", "'val_mse'"]),
]
"""``--params`` overrides that must be refused before any node runs, and words the answer names."""

ENDLESS_TRAINING = "sequence.adding.train.epochs=1000000"
"""A ``--params`` override that keeps the first training node busy until it is interrupted."""
