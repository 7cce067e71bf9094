"""What the trust tests need from the mlp pipeline (see tests/trust/test_runs.py)."""

BAD_PARAMETERS = [
    ("mlp.sweep.hidden_neurons=[0]", ["mlp.sweep", "hidden_neurons", "greater than 0"]),
    ("mlp.data.noise=-1", ["mlp.data", "noise", "-1", "greater than or equal to 0"]),
    ("mlp.data.name=swirls", ["mlp.data", "name", "swirls", "'circles'"]),
    ("mlp.torch.train.epochs=many", ["mlp.torch", "epochs", "many", "valid integer"]),
    # the champion is chosen by a validation metric: a test metric (or any other) is refused
    ("mlp.registry.rank_by=test_accuracy", ["mlp.registry", "rank_by", "test_accuracy", "'val_accuracy'"]),
]
"""``--params`` overrides that must be refused before any node runs, and words the answer names."""

ENDLESS_TRAINING = "mlp.torch.train.epochs=1000000"
"""A ``--params`` override that keeps the first training node busy until it is interrupted."""
