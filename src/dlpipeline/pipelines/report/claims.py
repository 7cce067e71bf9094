"""Verdicts computed from the experiments' tables: one rule for every claim.

A claim's checks are evaluated on the tables the experiments wrote. The verdict is
``supported`` when every check holds, ``not supported`` when none holds, and ``mixed``
otherwise. A claim whose experiment has not run is ``not run yet``; one whose tables lack a
figure it needs (a smaller configuration, e.g. the smoke environment) is ``not measured``.
"""

import fnmatch
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.pipelines.report.params import Check, Claim, Figure, PipelineClaims
from dlpipeline.report_io import NotProduced

SUPPORTED, NOT_SUPPORTED, MIXED = "supported", "not supported", "mixed"
NOT_RUN, NOT_MEASURED = "not run yet", "not measured"
RULE = "supported when every check holds, not supported when none holds, mixed otherwise"
COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
EXTREMES = {"max": "idxmax", "min": "idxmin"}

Source = pd.DataFrame | Mapping[str, TrainedModule] | NotProduced


class NotMeasuredError(LookupError):
    """A figure a check needs is not in the tables (its rows were not produced)."""


@dataclass(frozen=True)
class CheckResult:
    """One evaluated comparison: both sides named and measured, and whether it holds."""

    left: str
    left_value: float | None
    op: str
    right: str
    right_value: float | None
    holds: bool | None
    missing: str | None = None


@dataclass(frozen=True)
class ClaimResult:
    """A claim with its evaluated checks and its verdict."""

    claim: Claim
    verdict: str
    checks: tuple[CheckResult, ...]
    not_run: tuple[str, ...] = ()


def as_table(source: pd.DataFrame | Mapping[str, TrainedModule]) -> pd.DataFrame:
    """A table as is; trained models as one row per model: ``name`` and its training facts."""
    if isinstance(source, pd.DataFrame):
        return source
    return pd.DataFrame([{"name": name, **trained.timing.as_dict()} for name, trained in source.items()])


def select_rows(table: pd.DataFrame, where: Mapping[str, Any]) -> pd.DataFrame:
    """The rows matching ``where``: values (as text), lists, globs, then ``max`` / ``min`` picks."""
    rows = table
    extremes = {
        column: value for column, value in where.items() if isinstance(value, str) and value in EXTREMES
    }
    for column, wanted in where.items():
        if column in extremes:
            continue
        if column not in rows.columns:
            raise NotMeasuredError(f"no column {column}")
        text = rows[column].astype(str)
        if isinstance(wanted, list):
            rows = rows[text.isin([str(value) for value in wanted])]
        elif isinstance(wanted, str) and any(mark in wanted for mark in "*?["):
            rows = rows[[fnmatch.fnmatchcase(value, wanted) for value in text]]
        else:
            rows = rows[text == str(wanted)]
    for column, extreme in extremes.items():
        numbers = pd.to_numeric(rows[column], errors="coerce") if column in rows.columns else None
        if numbers is None or numbers.isna().all():
            raise NotMeasuredError(f"no number in column {column}")
        rows = rows[numbers == numbers.loc[getattr(numbers, EXTREMES[extreme])()]]
    return rows


def measure(
    figure: Figure, tables: Mapping[str, pd.DataFrame], extra: Mapping[str, Any] | None = None
) -> float:
    """The number ``figure`` names; ``extra`` adds conditions (one value of a check's ``each``)."""
    table = tables[figure.source]
    rows = select_rows(table, {**figure.where, **(extra or {})})
    if figure.column not in rows.columns:
        raise NotMeasuredError(f"{figure.source} has no column {figure.column}")
    values = pd.to_numeric(rows[figure.column], errors="coerce").dropna()
    if values.empty:
        raise NotMeasuredError(f"no row of {figure.source} matches {describe(figure, extra)}")
    if figure.aggregate == "one":
        if len(values) > 1:
            raise ValueError(f"{describe(figure, extra)} matches {len(values)} rows: name an aggregate")
        return float(values.iloc[0])
    return float(getattr(values, figure.aggregate)())


def describe(figure: Figure | float, extra: Mapping[str, Any] | None = None) -> str:
    """A figure as the report shows it, e.g. ``median of cnn_experiments.test_accuracy [model=cnn]``."""
    if not isinstance(figure, Figure):
        return f"{figure:g}"
    conditions = {**figure.where, **(extra or {})}
    where = ", ".join(f"{column}={_shown(value)}" for column, value in conditions.items())
    name = f"{figure.source}.{figure.column}" + (f" [{where}]" if where else "")
    return name if figure.aggregate == "one" else f"{figure.aggregate} of {name}"


def _shown(value: Any) -> str:
    """A ``where`` value as text (a list as ``a|b``)."""
    return "|".join(str(item) for item in value) if isinstance(value, list) else str(value)


def each_values(check: Check, tables: Mapping[str, pd.DataFrame]) -> list[Any]:
    """The values of ``check.each`` found on the left side (and on the right, if it is a table)."""
    sides = [check.left] + ([check.right] if isinstance(check.right, Figure) else [])
    found: list[set[str]] = []
    order: list[str] = []
    for side in sides:
        rows = select_rows(tables[side.source], side.where)
        if check.each not in rows.columns:
            raise NotMeasuredError(f"{side.source} has no column {check.each}")
        values = [str(value) for value in rows[check.each]]
        found.append(set(values))
        order = order or list(dict.fromkeys(values))
    shared = set.intersection(*found)
    return [value for value in order if value in shared]


def evaluate_check(check: Check, tables: Mapping[str, pd.DataFrame]) -> list[CheckResult]:
    """A check's comparisons (one per value of ``each``, else one)."""
    try:
        extras = [{check.each: value} for value in each_values(check, tables)] if check.each else [{}]
    except NotMeasuredError as missing:
        extras, reason = [], str(missing)
    else:
        reason = f"no value of {check.each} on both sides"
    if not extras:
        return [CheckResult(describe(check.left), None, check.op, describe(check.right), None, None, reason)]
    return [_compare(check, tables, extra) for extra in extras]


def _compare(check: Check, tables: Mapping[str, pd.DataFrame], extra: Mapping[str, Any]) -> CheckResult:
    """``left op times × right`` for one value of ``each``."""
    left_name = describe(check.left, extra)
    right_name = describe(check.right, extra if isinstance(check.right, Figure) else None)
    if check.times != 1:
        right_name = f"{check.times:g} × {right_name}"
    try:
        left = measure(check.left, tables, extra)
        right = check.right if not isinstance(check.right, Figure) else measure(check.right, tables, extra)
    except NotMeasuredError as missing:
        return CheckResult(left_name, None, check.op, right_name, None, None, str(missing))
    right = check.times * right
    return CheckResult(left_name, left, check.op, right_name, right, COMPARE[check.op](left, right))


def verdict(results: list[CheckResult]) -> str:
    """The one rule: every check holds, none holds, or some do."""
    if any(result.holds is None for result in results):
        return NOT_MEASURED
    held = sum(result.holds for result in results)
    if held == len(results):
        return SUPPORTED
    return NOT_SUPPORTED if held == 0 else MIXED


def sources_of(claim: Claim) -> set[str]:
    """The tables a claim's checks read."""
    figures = [
        side for check in claim.checks for side in (check.left, check.right) if isinstance(side, Figure)
    ]
    return {figure.source for figure in figures}


def evaluate_claim(claim: Claim, sources: Mapping[str, Source]) -> ClaimResult:
    """A claim's verdict from the sources, or which pipelines must run first."""
    unknown = sources_of(claim) - set(sources)
    if unknown:
        raise KeyError(f"claim {claim.id} reads {sorted(unknown)}: not inputs of the report")
    missing = sorted(
        {source.pipeline for name in sources_of(claim) if isinstance(source := sources[name], NotProduced)}
    )
    if missing:
        return ClaimResult(claim, NOT_RUN, (), tuple(missing))
    tables = {name: as_table(sources[name]) for name in sources_of(claim)}
    results = [result for check in claim.checks for result in evaluate_check(check, tables)]
    return ClaimResult(claim, verdict(results), tuple(results))


def experiment_claims(claims: PipelineClaims) -> list[Claim]:
    """One experiment's claims, validated before any node runs (a node)."""
    return list(claims.root)


def gather_claims(*per_experiment: list[Claim]) -> list[Claim]:
    """Every experiment's claims in one list; each claim needs its own id and its own quote (a node)."""
    claims = [claim for claims in per_experiment for claim in claims]
    for attribute in ("id", "quote"):
        values = [getattr(claim, attribute) for claim in claims]
        repeated = sorted({value for value in values if values.count(value) > 1})
        if repeated:
            raise ValueError(f"every claim needs its own {attribute}: {repeated} appear more than once")
    return claims


def evaluate_claims(claims: list[Claim], **sources: Source) -> list[ClaimResult]:
    """Every claim evaluated on the experiments' tables (a node)."""
    return [evaluate_claim(claim, sources) for claim in claims]


def verdict_table(results: list[ClaimResult]) -> pd.DataFrame:
    """One row per claim: id, quote, pipeline, verdict, and how many checks held (a node)."""
    return pd.DataFrame(
        [
            {
                "claim": result.claim.id,
                "quote": result.claim.quote,
                "pipeline": result.claim.pipeline,
                "verdict": result.verdict,
                "checks": len(result.checks),
                "checks_held": sum(bool(check.holds) for check in result.checks),
            }
            for result in results
        ],
        columns=["claim", "quote", "pipeline", "verdict", "checks", "checks_held"],
    )
