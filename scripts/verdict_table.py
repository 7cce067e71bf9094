"""Print the claims report's verdicts as the Markdown table of docs/report.md.

Run after a base `kedro run` (it reads the report's two verdict tables and the claims'
parameters): `python scripts/verdict_table.py > table.md`.
"""

import sys
from pathlib import Path

import pandas as pd
from kedro.framework.project import configure_project

from dlpipeline.config import load_parameters
from dlpipeline.pipelines.report.params import PipelineClaims
from dlpipeline.pipelines.report.pipeline import discovered_evidence

TABLES = ("data/08_reporting/report/verdicts.csv", "data/09_timings/report/timing_verdicts.csv")


def units_of(project: Path) -> dict[str, str]:
    """Each claim's unit columns, e.g. ``draw × seed``, by claim id."""
    parameters = load_parameters("base", project)
    return {
        claim.id: " × ".join(claim.effect.units)
        for name in discovered_evidence()
        for claim in PipelineClaims.model_validate(parameters[name]["claims"]).root
    }


def effect_cell(row: pd.Series) -> str:
    """The effect and its interval, or an empty cell when it was not measured."""
    if pd.isna(row["effect"]):
        return "—"
    return f"{row['effect']:.3g} [{row['ci_low']:.3g}, {row['ci_high']:.3g}]"


def markdown(project: Path) -> str:
    """One row per claim: quote, pipeline, control, effect with interval, units, verdict."""
    units = units_of(project)
    rows = ["| claim | quote (the notes) | control | effect [95 % interval] | n (units) | verdict |"]
    rows.append("| --- | --- | --- | --- | --- | --- |")
    for table, timed in zip(TABLES, (False, True), strict=True):
        for _, row in pd.read_csv(project / table).iterrows():
            n = "—" if pd.isna(row["n"]) else f"{int(row['n'])} ({units[row['claim']]})"
            name = f"`{row['claim']}`" + (" (time)" if timed else "")
            cells = [name, row["quote"], row["control"], effect_cell(row), n, row["verdict"]]
            rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


if __name__ == "__main__":
    configure_project("dlpipeline")
    print(markdown(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()))
