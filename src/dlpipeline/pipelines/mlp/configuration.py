"""What a trained MLP configuration is, beside how it was trained: its flavour and hidden widths."""

from dataclasses import dataclass

from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.pipelines.mlp.params import Flavour


@dataclass(frozen=True)
class MLPConfiguration:
    """The ``about`` of a trained MLP model: which configuration of the sweep it is.

    ``kept_restarts`` (torch) says which restart of each seed was kept; ``unconverged_seeds``
    (scikit-learn) how many seeds stopped at ``max_iter``.
    """

    flavour: Flavour
    hidden_layers: tuple[int, ...]
    kept_restarts: tuple[int, ...] = ()
    unconverged_seeds: int | None = None


DrawModels = dict[int, dict[str, TrainedModule]]
"""A flavour's trained models by data draw (``mlp.draws``), each draw's by name (``torch-5``)."""
