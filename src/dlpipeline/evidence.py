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
    """An experiment's datasets that its claims name: tables they read, figures they show.

    Keys are the names claims use (``source`` of a side, ``figure`` of a claim); values are
    the experiment's catalog datasets. ``timings`` are tables of times measured for a claim
    about time (paired, in turns), written where DVC does not track them: a claim reading one
    is shown apart from the tracked report.
    """

    tables: Mapping[str, str]
    figures: Mapping[str, str] = field(default_factory=dict)
    timings: Mapping[str, str] = field(default_factory=dict)
