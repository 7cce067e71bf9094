"""What the claims report may read of an experiment, declared by the experiment's own pipeline.

A pipeline whose experiment tests claims of the notes puts an :class:`Evidence` named
``EVIDENCE`` in ``pipelines/<name>/evidence.py`` and its claims under ``<name>.claims`` in its
parameters file. The report pipeline finds every such module: adding an experiment with
claims edits no report file.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Evidence:
    """An experiment's datasets that its claims name: tables their checks read, figures they show.

    Keys are the names claims use (``source`` of a check, ``figure`` of a claim); values are
    the experiment's catalog datasets. Trained models count as tables of their training facts:
    one row per model, ``name``, ``train_seconds`` and ``cpu_seconds``.
    """

    tables: Mapping[str, str]
    figures: Mapping[str, str] = field(default_factory=dict)
