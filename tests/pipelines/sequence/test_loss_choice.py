"""Cross-entropy against MSE for the digits read row by row: the loss, the scores, and the study on smoke."""

import dataclasses
import math
from pathlib import Path

import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient
from tests.tracking import logged_models

from dlpipeline.config import load_parameters
from dlpipeline.models.losses import softmax_mse
from dlpipeline.pipelines.report.claims import NOT_MEASURED, VERDICTS, evaluate_claim
from dlpipeline.pipelines.report.params import PipelineClaims, RuleParams
from dlpipeline.pipelines.sequence.loss_choice import (
    CROSS_ENTROPY,
    LOSS_STUDY,
    MSE,
    mse_task,
    probability_scores,
)
from dlpipeline.pipelines.sequence.training import TaskTensors, loss_function, score

TABLE = "data/08_reporting/sequence/digits_rows/loss_choice.csv"


def test_the_mse_of_a_classification_is_the_squared_error_of_the_softmax_against_the_one_hot_target():
    logits = torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0]])  # softmax (1/2, 1/2) and (3/4, 1/4)
    labels = torch.tensor([0, 1])  # one-hot (1, 0) and (0, 1)
    expected = (0.5**2 + 0.5**2 + 0.75**2 + 0.75**2) / 4  # the mean over every row and class
    assert float(softmax_mse(logits, labels)) == pytest.approx(expected)
    sure = torch.tensor([[20.0, 0.0, 0.0]])
    assert float(softmax_mse(sure, torch.tensor([0]))) == pytest.approx(0.0, abs=1e-12)
    assert float(softmax_mse(sure, torch.tensor([1]))) == pytest.approx(2 / 3, rel=1e-6)


def test_the_scores_read_the_argmax_and_the_softmax_probabilities():
    logits = torch.tensor([[math.log(3.0), 0.0], [math.log(3.0), 0.0]])  # both predict class 0 at 3/4
    scores = probability_scores(logits, torch.tensor([0, 1]))
    assert scores["test_accuracy"] == pytest.approx(0.5)
    assert scores["test_nll"] == pytest.approx((-math.log(0.75) - math.log(0.25)) / 2)
    assert scores["test_brier"] == pytest.approx((2 * 0.25**2 + 2 * 0.75**2) / 2)


def classification(n: int = 6) -> TaskTensors:
    """A tiny classification task: ``n`` sequences of 3 steps of 2 values, 4 classes."""
    features, labels = torch.randn(n, 3, 2), torch.arange(n) % 4
    return TaskTensors("toy", features, labels, features, labels, kind="classification", output_size=4)


def test_the_mse_task_holds_the_same_tensors_and_changes_only_the_loss():
    task = classification()
    mse = mse_task(task)
    assert mse.task == "toy-mse" and mse.metric == task.metric == "test_accuracy"
    assert mse.train_features is task.train_features and mse.test_targets is task.test_targets
    assert mse.shape == task.shape
    assert loss_function(mse.kind) is softmax_mse
    outputs = torch.randn(6, 4)
    assert score(mse.kind, outputs, task.test_targets) == score(task.kind, outputs, task.test_targets)


def test_a_task_that_is_not_a_classification_is_refused():
    regression = dataclasses.replace(classification(), kind="regression", output_size=1)
    with pytest.raises(ValueError, match="classification"):
        mse_task(regression)


@pytest.fixture(scope="module")
def project(smoke_run) -> Path:
    """The project copy where the sequence pipeline ran on the smoke environment (shared with the others)."""
    return smoke_run("sequence")


def test_each_seed_of_the_cell_has_its_cross_entropy_model_beside_the_same_cell_with_mse(project: Path):
    params = load_parameters("smoke", project)["sequence"]["digits_rows"]
    table = pd.read_csv(project / TABLE)
    units = pd.read_csv(project / "data/08_reporting/sequence/units.csv")
    seeds = list(range(params["model"]["n_seeds"]))
    assert (table.cell == params["loss_choice"]["cell"]).all() and (table.study == LOSS_STUDY).all()
    assert (table.task == "digits_rows").all()
    for loss in (CROSS_ENTROPY, MSE):
        assert sorted(table[table.loss == loss].seed) == seeds
    # the control is the task's own cross-entropy models, as trained and scored by the task
    control = units[(units.task == "digits_rows") & (units.cell == params["loss_choice"]["cell"])]
    for _, row in table[table.loss == CROSS_ENTROPY].iterrows():
        recorded = control[control.seed == row["seed"]]["value"]
        assert row["test_accuracy"] == pytest.approx(float(recorded.iloc[0]), abs=1e-6)
    assert (project / "data/08_reporting/sequence/digits_rows/loss_choice.png").stat().st_size > 0


def test_every_network_of_the_comparison_is_a_child_run_with_its_loss_and_its_model(
    project: Path, runs: dict, mlflow_client: MlflowClient
):
    cell = load_parameters("smoke", project)["sequence"]["digits_rows"]["loss_choice"]["cell"]
    table = pd.read_csv(project / TABLE)
    mse = [child for child in runs["children"] if child.data.params.get("study") == LOSS_STUDY]
    assert {child.data.params["task"] for child in mse} == {"digits_rows-mse"}
    assert {child.data.params["loss"] for child in mse} == {MSE}
    assert sorted(int(child.data.params["seed"]) for child in mse) == sorted(table[table.loss == MSE].seed)
    assert {child.data.params["cell"] for child in mse} == {cell}
    task = [child for child in runs["children"] if child.data.params["task"] == "digits_rows"]
    assert task and {child.data.params["loss"] for child in task} == {CROSS_ENTROPY}
    assert {child.data.params["cell"] for child in task} >= {cell}
    logged = logged_models(mlflow_client, mse + task)
    assert set(logged) == {child.info.run_name for child in mse + task}


def test_the_claim_pairs_the_two_losses_seed_by_seed_and_gets_a_verdict_on_smoke(project: Path):
    parameters = load_parameters("smoke", project)
    claims = PipelineClaims.model_validate(parameters["sequence"]["claims"]).root
    (claim,) = [claim for claim in claims if claim.id == "loss-per-task"]
    assert claim.effect.units == ["seed"]
    assert claim.effect.condition.where["loss"] == CROSS_ENTROPY and claim.effect.control.where["loss"] == MSE
    table = pd.read_csv(project / TABLE)
    result = evaluate_claim(claim, {"digits_rows_loss": table}, RuleParams(**parameters["report"]["rule"]))
    assert result.verdict in VERDICTS and result.verdict != NOT_MEASURED, result.missing
    assert result.effect.n == parameters["sequence"]["digits_rows"]["model"]["n_seeds"]
    by_seed = table.pivot(index="seed", columns="loss", values="test_accuracy")
    assert result.effect.effect == pytest.approx((by_seed[CROSS_ENTROPY] - by_seed[MSE]).mean())
