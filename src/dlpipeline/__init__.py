"""dlpipeline: reproducible deep-learning experiments with Kedro, MLflow and DVC."""

import os

# Idle OpenMP threads sleep instead of spinning: with spinning threads, torch on a CPU
# shared with another busy process runs up to ~30x slower. Must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
