"""The units table the claims read: one row per trained model, beside its baseline on the same unit.

A unit is one ``(draw, seed)`` of a configuration (task × cell × length): the model's test
metric (``value``) and the task's baseline scored on the same test set (``baseline``), so a
claim pairs a model with its baseline, or with another cell, unit by unit. Rows derived per
unit from several cells (``sequence.units.derived``: the worst or best of some cells, or the
gap between two rows) let one claim test a quote that names several models with one effect.
"""

from collections.abc import Mapping, Sequence

import pandas as pd

from dlpipeline.pipelines.sequence.params import DerivedUnitRow, UnitsParams
from dlpipeline.pipelines.sequence.training import TrainedModels

UNIT_KEYS = ["task", "seq_len", "draw", "seed"]
"""What one unit of a task is: a length, a data draw and a seed (a cell is compared across it)."""
COLUMNS = ["task", "cell", "seq_len", "draw", "seed", "metric", "value", "baseline", "baseline_name"]
LOWER_IS_BETTER = {"test_mse", "test_nll"}


def unit_rows(
    models: TrainedModels, baselines: Mapping[tuple[int, int], float] | float, baseline_name: str
) -> pd.DataFrame:
    """One row per trained model: its test metric and the baseline on its own test set.

    ``baselines`` is one number for every unit, or one per ``(draw, seq_len)`` where each
    draw (and length) has its own test set.
    """
    rows = []
    for trained in models.values():
        run = trained.about
        baseline = baselines if isinstance(baselines, float) else baselines[(run.draw, run.seq_len)]
        rows.append(
            {
                "task": run.task,
                "cell": run.cell,
                "seq_len": run.seq_len,
                "draw": run.draw,
                "seed": run.seed,
                "metric": run.metric,
                "value": float(run.test_metrics[run.metric]),
                "baseline": float(baseline),
                "baseline_name": baseline_name,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def claim_units(units: UnitsParams, *task_units: pd.DataFrame) -> pd.DataFrame:
    """Every task's unit rows, then the derived rows, in the order ``sequence.units.derived`` lists them."""
    table = pd.concat(task_units, ignore_index=True)
    for derived in units.derived:
        table = pd.concat([table, derived_rows(table, derived)], ignore_index=True)
    return table[COLUMNS]


def derived_rows(table: pd.DataFrame, derived: DerivedUnitRow) -> pd.DataFrame:
    """``derived`` computed on every unit of its task where all its cells were measured.

    A pick keeps the chosen row's baseline; a gap's baseline is 0 (no gap) and its metric is
    ``<metric> gap``. Where no unit has all the cells (a run that trains fewer cells), there is
    no row, and a claim that reads it is not measured.
    """
    rows = table[(table["task"] == derived.task) & table["cell"].isin(derived.cells)]
    found = []
    for _, unit in rows.groupby(UNIT_KEYS, sort=True):
        by_cell = unit.set_index("cell")
        if not set(derived.cells) <= set(by_cell.index):
            continue
        found.append(_derived_row(by_cell.loc[derived.cells].reset_index(), derived))
    return pd.DataFrame(found, columns=COLUMNS)


def _derived_row(unit: pd.DataFrame, derived: DerivedUnitRow) -> dict[str, object]:
    """One unit's derived row from its rows of ``derived.cells`` (in that order)."""
    metric = unit["metric"].iloc[0]
    if derived.pick == "gap":
        chosen = unit.iloc[0].to_dict()
        value = float(unit["value"].iloc[0] - unit["value"].iloc[1])
        chosen.update(metric=f"{metric} gap", value=value, baseline=0.0, baseline_name="no gap")
    else:
        lower_wins = (metric in LOWER_IS_BETTER) == (derived.pick == "best")
        position = unit["value"].argmin() if lower_wins else unit["value"].argmax()
        chosen = unit.iloc[int(position)].to_dict()
    return {**chosen, "cell": derived.name}


def beside_baseline(
    task: str,
    scores: pd.DataFrame,
    metrics: Sequence[str],
    baseline_cell: str,
    seq_len: int,
    baseline_name: str,
) -> pd.DataFrame:
    """A task's own units: one row per model run and metric of ``scores``, beside the baseline's on its draw.

    ``scores`` has a row per run (columns ``cell``, ``draw``, ``seed`` and each metric); the
    rows of ``baseline_cell`` (one per draw) are the baselines.
    """
    baseline = scores[scores["cell"] == baseline_cell].set_index("draw")
    models = scores[scores["cell"] != baseline_cell]
    return pd.DataFrame(
        [
            {
                "task": task,
                "cell": row["cell"],
                "seq_len": seq_len,
                "draw": row["draw"],
                "seed": row["seed"],
                "metric": metric,
                "value": row[metric],
                "baseline": baseline.loc[row["draw"], metric],
                "baseline_name": baseline_name,
            }
            for metric in metrics
            for _, row in models.iterrows()
        ],
        columns=COLUMNS,
    )
