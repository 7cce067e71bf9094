"""Start-up objects kept out of the garbage collector's full passes.

A ``kedro run`` imports torch, MLflow, SQLAlchemy, pandas, scikit-learn and matplotlib and
builds every pipeline: millions of objects that live as long as the process. CPython's
collector walks all of them at each full (oldest-generation) collection, and the
allocation-heavy start-up triggers about ten such passes, the later ones 0.2 to 0.4 s each:
about 1.7 s of a 10 s smoke run of the mlp pipeline, measured with ``gc.callbacks``.
Freezing moves the objects alive at that moment into a permanent generation that collections
skip; objects made afterwards, the nodes' own, are collected as usual.

The settings' imports (Kedro, MLflow, pandas) and the pipelines' (torch, scikit-learn, the
node modules) run with the collector paused, then what they made is frozen. Collecting while
the heap only grows finds almost nothing (about 2 % of the objects the settings' imports make
are cyclic garbage, frozen with the rest), yet those passes cost about 0.5 s per run. A hook
freezes again once the catalog and the tracking store exist, before the first node.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kedro.framework.hooks import hook_impl


def freeze_long_lived_objects() -> None:
    """Exclude every object alive now from later collections (``gc.freeze``)."""
    gc.freeze()


@contextmanager
def long_lived_objects_made() -> Iterator[None]:
    """Run the block (imports) without collections, then freeze every object alive.

    Imports make objects that live as long as the process, and few cycles of garbage:
    collecting while they are made only walks the growing heap again and again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        freeze_long_lived_objects()
        if was_enabled:
            gc.enable()


class FreezeStartUpObjects:
    """Freezes what the run's start built, once the catalog and the tracking store exist."""

    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        """Called after the catalog, the MLflow store and the parent run are made, before any node."""
        del run_params
        freeze_long_lived_objects()
