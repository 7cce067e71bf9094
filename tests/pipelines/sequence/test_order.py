"""The steps shuffled: a permutation of each sequence's steps, and the study end to end on smoke."""

from pathlib import Path

import pandas as pd
import pytest
import torch

from dlpipeline.config import load_parameters
from dlpipeline.pipelines.sequence.order import ORDER_STUDY, shuffle_steps


def test_shuffling_permutes_each_sequences_steps_keeping_a_steps_values_together():
    steps = torch.arange(6, dtype=torch.float32)
    features = torch.stack([torch.stack([steps, steps * 10 + n], dim=-1) for n in range(50)])  # (50, 6, 2)
    shuffled = shuffle_steps(features, seed=3)
    for original, permuted in zip(features, shuffled, strict=True):
        assert sorted(permuted[:, 0].tolist()) == steps.tolist()  # the same steps, each once
        assert torch.equal(permuted[:, 1], original[permuted[:, 0].long(), 1])  # channels stay together
    orders = {tuple(row[:, 0].long().tolist()) for row in shuffled}
    assert len(orders) > 1  # each sequence its own order
    assert torch.equal(shuffle_steps(features, seed=3), shuffled)  # seeded


@pytest.fixture(scope="module")
def project(smoke_run) -> Path:
    """The project copy where the sequence pipeline ran on the smoke environment."""
    return smoke_run("sequence")


@pytest.mark.parametrize("task", ["adding", "digits_rows"])
def test_each_seed_of_the_cell_is_trained_on_shuffled_steps_beside_itself_in_order(project: Path, task: str):
    params = load_parameters("smoke", project)["sequence"][task]
    table = pd.read_csv(project / f"data/08_reporting/sequence/{task}/order.csv")
    units = pd.read_csv(project / "data/08_reporting/sequence/units.csv")
    assert sorted(table.seed) == list(range(params["model"]["n_seeds"]))
    assert (table.cell == params["order"]["cell"]).all() and (table.study == ORDER_STUDY).all()
    for _, row in table.iterrows():
        same = units[(units.task == task) & (units.cell == row["cell"]) & (units.seq_len == row["seq_len"])]
        assert row["in_order"] == pytest.approx(float(same[same.seed == row["seed"]]["value"].iloc[0]))
    assert (project / f"data/08_reporting/sequence/{task}/order.png").stat().st_size > 0


def test_each_shuffled_model_is_a_child_run_of_the_study(project: Path, runs: dict):
    shuffled = [child for child in runs["children"] if child.data.params.get("study") == ORDER_STUDY]
    tasks = {child.data.params["task"] for child in shuffled}
    assert tasks == {"adding-shuffled", "digits_rows-shuffled"}
    assert all("cell" in child.data.params for child in shuffled)
