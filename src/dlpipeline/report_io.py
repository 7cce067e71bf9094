"""How the claims report reads what the experiments left and writes its page.

The report takes the experiments' own catalog datasets as inputs, so in ``kedro run`` it runs
after every node that writes them. Run alone (``kedro run --pipelines report``), an
experiment that has not run yet has no files: :class:`ReportOnWhatExists` then hands the
report a :class:`NotProduced` marker for each missing input instead of failing, and the
report says which pipeline to run. A file that exists but is damaged still stops the run.
"""

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import AbstractDataset
from kedro.pipeline import Pipeline

from dlpipeline.datasets import atomic_path

REPORT_TAG = "report"
"""The tag of the nodes that read whatever the experiments produced."""
CATALOG_LOGGER = "kedro.io.data_catalog"


@dataclass(frozen=True)
class NotProduced:
    """Stands in for a dataset whose file does not exist: its pipeline has not run yet."""

    dataset: str

    @property
    def pipeline(self) -> str:
        """The pipeline that writes the dataset (the first part of its name)."""
        return self.dataset.split(".", maxsplit=1)[0]


class NotProducedDataset(AbstractDataset[NotProduced, None]):
    """A missing input of the report: loads as :class:`NotProduced`."""

    def __init__(self, dataset: str) -> None:
        self._dataset = dataset

    def load(self) -> NotProduced:
        """The marker naming the missing dataset."""
        return NotProduced(self._dataset)

    def save(self, data: None) -> None:
        """Never written: it only stands in for a file another pipeline writes."""
        raise NotImplementedError(f"{self._dataset} is written by its own pipeline")

    def _describe(self) -> dict[str, Any]:
        return {"dataset": self._dataset}


class HTMLDataset(AbstractDataset[str, str]):
    """A self-contained HTML page in a local file, written atomically."""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def load(self) -> str:
        """The page's text."""
        return self._filepath.read_text(encoding="utf-8")

    def save(self, data: str) -> None:
        """Replace the page in one rename."""
        with atomic_path(self._filepath) as partial:
            partial.write_text(data, encoding="utf-8")

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}


def missing_report_inputs(pipeline: Pipeline, exists: Any) -> list[str]:
    """Inputs of the report's nodes that no node of this run writes and whose file is absent.

    ``exists(name)`` tells whether a catalog dataset's file is there.
    """
    free = pipeline.inputs()
    wanted = {
        name
        for node in pipeline.only_nodes_with_tags(REPORT_TAG).nodes
        for name in node.inputs
        if name in free and not name.startswith("params:")
    }
    return sorted(name for name in wanted if not exists(name))


class ReportOnWhatExists:
    """Before a run: each missing input of the report loads as :class:`NotProduced`."""

    @hook_impl
    def before_pipeline_run(self, pipeline: Pipeline, catalog: Any) -> None:
        """Swap each missing input of the report's nodes for a :class:`NotProducedDataset`."""
        if not any(REPORT_TAG in node.tags for node in pipeline.nodes):
            return
        catalog_log = logging.getLogger(CATALOG_LOGGER)
        replacing = _DropReplacing()
        catalog_log.addFilter(replacing)  # the swap is the point here, not a mistake to warn about
        try:
            for name in missing_report_inputs(pipeline, catalog.exists):
                catalog[name] = NotProducedDataset(name)
        finally:
            catalog_log.removeFilter(replacing)


class _DropReplacing(logging.Filter):
    """Drops the catalog's "Replacing dataset" warning while the hook swaps missing inputs."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every other record."""
        return not record.getMessage().startswith("Replacing dataset")
