"""Wiring of the claims report; it reads the experiments' own datasets, so it runs after them.

The report names no experiment: it discovers every pipeline package with an ``evidence.py``
(see :mod:`dlpipeline.evidence`) and reads that experiment's claims (``params:<name>.claims``),
the tables its checks read and the figures its claims show.
"""

import functools
import importlib
import importlib.util
from collections.abc import Callable, Collection, Mapping

from kedro.pipeline import Pipeline

from dlpipeline.cli_checks import pipeline_folders
from dlpipeline.evidence import Evidence
from dlpipeline.pipelines.report.claims import (
    ClaimResult,
    evaluate_claims,
    experiment_claims,
    gather_claims,
    timing_verdict_table,
    verdict_table,
)
from dlpipeline.pipelines.report.render import render_report, render_timings
from dlpipeline.pipelines.wiring import step
from dlpipeline.report_io import REPORT_TAG

PACKAGE = "dlpipeline"


def discovered_evidence(package: str = PACKAGE) -> dict[str, Evidence]:
    """Every pipeline's :class:`~dlpipeline.evidence.Evidence`, by pipeline name, in name order."""
    found = {}
    for name in pipeline_folders(package):
        module = f"{package}.pipelines.{name}.evidence"
        if importlib.util.find_spec(module) is not None:
            found[name] = importlib.import_module(module).EVIDENCE
    return found


def merged(kind: str, named: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """The ``kind`` (tables or figures) of every experiment in one mapping; a name used twice is an error."""
    merged_names: dict[str, str] = {}
    owners: dict[str, str] = {}
    for pipeline, names in named.items():
        for name, dataset in names.items():
            if name in merged_names:
                raise ValueError(
                    f"the {kind} name {name!r} is declared by both {owners[name]} and {pipeline}"
                )
            merged_names[name], owners[name] = dataset, pipeline
    return merged_names


def claims_evaluator(timed_sources: Collection[str]) -> Callable[..., list[ClaimResult]]:
    """:func:`evaluate_claims` knowing which of its tables hold timings (they are known when wiring)."""
    evaluate = functools.partial(evaluate_claims, timed_sources=frozenset(timed_sources))
    return functools.update_wrapper(evaluate, evaluate_claims)


def create_pipeline() -> Pipeline:
    """Claims → verdicts → the HTML page and the verdict table, under the ``report`` namespace."""
    evidence = discovered_evidence()
    tables = merged("table", {name: {**found.tables, **found.timings} for name, found in evidence.items()})
    timings = {name for found in evidence.values() for name in found.timings}
    figures = merged("figure", {name: found.figures for name, found in evidence.items()})
    claim_nodes = [
        step(experiment_claims, f"params:{name}.claims", f"{name}_claims", name=f"{name}_claims")
        for name in evidence
    ]
    nodes = Pipeline(
        [
            *claim_nodes,
            step(gather_claims, [f"{name}_claims" for name in evidence], "claims"),
            step(
                claims_evaluator(timings),
                {"claims": "claims", "rule": "params:rule", **tables},
                "results",
                name="evaluate_claims",
            ),
            step(verdict_table, "results", "verdicts"),
            step(timing_verdict_table, "results", "timing_verdicts"),
            step(render_timings, "results", "timings_page"),
            step(render_report, {"results": "results", "notes": "params:notes", **figures}, "index"),
        ],
        tags=REPORT_TAG,
    )
    return Pipeline(
        nodes,
        namespace="report",
        inputs=set(tables.values()) | set(figures.values()),
        parameters={f"params:{name}.claims" for name in evidence},
    )
