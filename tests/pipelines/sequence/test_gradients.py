"""Exploding and vanishing gradients: the measures on constructed cases, the studies end to end on smoke."""

import math
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient
from tests.tracking import logged_models, tracking_at
from torch import nn

from dlpipeline.config import load_parameters
from dlpipeline.data.sequences import adding_problem, adding_tensors
from dlpipeline.executor import ExecutorParams
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.recurrent import RecurrentModel, unroll
from dlpipeline.pipelines.sequence.gates import forget_gate_means, gate_means
from dlpipeline.pipelines.sequence.gradients import (
    EXPLOSION_STUDY,
    RATIO_STUDY,
    GradientRecordingModel,
    exploding_share,
    gradient_explosion,
    gradient_ratio,
)
from dlpipeline.pipelines.sequence.params import ExplosionParams
from dlpipeline.served import WEIGHTS_HASH_TAG, weights_hash
from dlpipeline.training import TrainConfig, initial_module, train_configuration

REPORTING = Path("data/08_reporting/sequence/adding")


def test_a_step_explodes_when_its_norm_is_above_the_threshold_or_not_finite():
    norms = [0.5, 999.0, 1000.0, 1000.5, math.inf, math.nan, -math.inf, 3.0]
    # above 1000: 1000.5 and +inf; not finite: +inf, nan, -inf -> 4 of 8 (1000 itself is not above)
    assert exploding_share(norms, threshold=1000.0) == 4 / 8
    assert exploding_share(torch.tensor([1.0, 2.0]), threshold=1.5) == 0.5
    assert exploding_share(np.array([0.1, 0.2]), threshold=1000.0) == 0.0


def test_no_norms_is_refused_rather_than_counted_as_no_explosion():
    with pytest.raises(ValueError, match="no gradient norms"):
        exploding_share([], threshold=1.0)


def test_the_gradient_ratio_is_the_first_steps_norm_over_the_last():
    assert gradient_ratio([8.0, 4.0, 2.0]) == 4.0
    assert gradient_ratio(np.array([1e-30, 1.0, 10.0])) == pytest.approx(1e-31)
    assert gradient_ratio(torch.tensor([0.0, 1.0])) == 0.0
    with pytest.raises(ValueError, match="positive last"):
        gradient_ratio([1.0, 0.0])


@pytest.mark.parametrize("gain", [0.5, 3.0])
def test_a_gain_sets_the_spectral_radius_of_the_rnns_recurrent_weights(gain: float):
    torch.manual_seed(0)
    model = GradientRecordingModel("rnn", input_size=2, hidden_size=16, output_size=1, gain=gain)
    radius = torch.linalg.eigvals(model.recurrent.weight_hh_l0.detach()).abs().max()
    assert float(radius) == pytest.approx(gain, rel=1e-5)


def test_a_gain_is_refused_for_a_gated_cell():
    with pytest.raises(ValueError, match="not the lstm"):
        GradientRecordingModel("lstm", input_size=2, hidden_size=4, output_size=1, gain=2.0)


def test_the_shared_loop_records_every_steps_gradient_norm_as_clipping_would_read_it():
    torch.manual_seed(1)
    features, targets = torch.rand(10, 5, 2), torch.rand(10, 1)
    config = TrainConfig(epochs=3, batch_size=4, learning_rate=0.01, threads=1)
    trained = train_configuration(
        lambda: TrainedModule.build(
            GradientRecordingModel, cell="rnn", input_size=2, hidden_size=4, output_size=1, gain=1.5
        ),
        features,
        targets,
        nn.functional.mse_loss,
        config,
        [0],
        "recording",
    )
    # 3 epochs of batches 4, 4, 2: nine steps, one norm each (a hook that stayed would count twice)
    norms = trained.module.gradient_norms
    assert len(norms) == 9
    # the last step's norm, recomputed on the weights before that step, is what clip_grad_norm_ reads
    model = GradientRecordingModel("rnn", 2, 4, 1)
    model.load_state_dict(trained.module.state_dict())
    model.gradient_norms.clear()
    model.eval()
    with torch.no_grad():
        model(features)
    assert model.gradient_norms == []  # no record outside training
    model.train()
    nn.functional.mse_loss(model(features[:4]), targets[:4]).backward()
    clipped_reads = float(nn.utils.clip_grad_norm_(model.parameters(), max_norm=math.inf))
    assert model.gradient_norms == [pytest.approx(clipped_reads, rel=1e-6)]


def first_test_sequences(test: pd.DataFrame, draw: int, seq_len: int, count: int) -> tuple[torch.Tensor, ...]:
    """Features and targets of the first ``count`` test sequences of one draw and length (the study's)."""
    part = test[(test["draw"] == draw) & (test["seq_len"] == seq_len)]
    return adding_tensors(part[part["sequence"].isin(sorted(part["sequence"].unique())[:count])])


def test_each_explosion_child_run_carries_the_network_it_trained_with_its_draws_test_sequences():
    seq_len, n_train, n_test = 6, 8, 4
    table = pd.concat([adding_problem(n_train + n_test, seq_len, draw).assign(draw=draw) for draw in (0, 1)])
    train, test = table[table["sequence"] < n_train], table[table["sequence"] >= n_train]
    explosion = ExplosionParams(
        seq_len=seq_len,
        n_train=n_train,
        n_test=n_test,
        rnn_gains=[0.5, 3.0],
        cells=["lstm"],
        hidden_size=4,
        n_seeds=2,
        train=TrainConfig(epochs=2, batch_size=4, learning_rate=0.01, max_grad_norm=None, threads=1),
    )
    _, runs = gradient_explosion(train, test, explosion, ExecutorParams())
    assert len(runs) == 3 * 2
    for run in runs:
        assert run.model is not None, run.name
        trained = run.model.trained
        features, targets = first_test_sequences(test, trained.about.draw, seq_len, n_test)
        assert run.model.kind == "sequence"
        np.testing.assert_array_equal(run.model.input_example, features[:3].numpy())
        # trained weights, not the initial ones: the model answers the test MSE the run logs
        assert weights_hash(trained.module) != weights_hash(initial_module(trained))
        outputs = torch.from_numpy(run.model.predict(features.numpy()))
        assert float(nn.functional.mse_loss(outputs, targets)) == pytest.approx(run.metrics["test_mse"])


@pytest.fixture(scope="module")
def project(smoke_run) -> Path:
    """The project copy where the sequence pipeline ran on the smoke environment."""
    return smoke_run("sequence")


def adding_parameters(project: Path) -> dict:
    """``sequence.adding`` as ``kedro run --env smoke`` sees it."""
    return load_parameters("smoke", project)["sequence"]["adding"]


def test_the_explosion_study_trains_every_gain_and_cell_for_every_seed_on_its_draw(project: Path):
    params = adding_parameters(project)
    study = params["explosion"]
    table = pd.read_csv(project / REPORTING / "gradient_explosion.csv")
    expected = {("rnn", gain, seed) for gain in study["rnn_gains"] for seed in range(study["n_seeds"])}
    expected |= {(cell, None, seed) for cell in study["cells"] for seed in range(study["n_seeds"])}
    found = {
        (cell, None if pd.isna(gain) else gain, seed)
        for cell, gain, seed in zip(table.cell, table.gain, table.seed, strict=True)
    }
    assert found == expected and len(table) == len(expected)
    assert (table.draw == table.seed % params["data"]["n_draws"]).all()
    steps = study["train"]["epochs"] * math.ceil(study["n_train"] / study["train"]["batch_size"])
    assert (table.steps == steps).all()
    assert table.share_exploding.between(0, 1).all()
    assert (table.share_exploding >= table.share_non_finite).all()
    assert (table.seq_len == study["seq_len"]).all()
    assert (project / REPORTING / "gradient_explosion.png").stat().st_size > 0


def test_the_ratio_table_has_each_trained_recurrent_model_at_the_longest_length_trained_and_initial(
    project: Path,
):
    params = adding_parameters(project)
    table = pd.read_csv(project / REPORTING / "gradient_ratios.csv")
    longest = max(params["data"]["seq_lens"])
    cells = [cell for cell in params["model"]["cells"] if cell in params["analysis"]["gradient_cells"]]
    expected = {
        (cell, stage, seed)
        for cell in cells
        for stage in ("trained", "initial")
        for seed in range(params["model"]["n_seeds"])
    }
    assert set(zip(table.cell, table.stage, table.seed, strict=True)) == expected
    assert len(table) == len(expected)
    assert (table.seq_len == longest).all()
    assert np.allclose(table.ratio, table.norm_first / table.norm_last, rtol=1e-9)
    assert np.allclose(table.log10_ratio, np.log10(table.ratio))
    assert (project / REPORTING / "gradient_ratios.png").stat().st_size > 0


def test_each_studied_model_is_a_child_run_with_task_cell_and_study(
    project: Path, runs: dict, mlflow_client: MlflowClient
):
    study = adding_parameters(project)["explosion"]
    (parent,) = runs["parents"]
    children = [child for child in runs["children"] if "study" in child.data.params]
    explosion = [child for child in children if child.data.params["study"] == EXPLOSION_STUDY]
    assert len(explosion) == (len(study["rnn_gains"]) + len(study["cells"])) * study["n_seeds"]
    for child in explosion:
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.data.params["task"] == "adding"
        assert child.data.params["max_grad_norm"] == "none"
        assert "share_exploding" in child.data.metrics
        history = mlflow_client.get_metric_history(child.info.run_id, "gradient_norm")
        assert len(history) > 0
    ratios = pd.read_csv(project / REPORTING / "gradient_ratios.csv")
    ratio_runs = [child for child in children if child.data.params["study"] == RATIO_STUDY]
    assert len(ratio_runs) == len(ratios)
    assert {child.data.params["cell"] for child in ratio_runs} == set(ratios.cell)


def test_each_explosion_child_run_logs_the_network_it_trained(
    project: Path, runs: dict, mlflow_client: MlflowClient
):
    study = adding_parameters(project)["explosion"]
    test = pd.read_parquet(project / "data/05_model_input/sequence/adding/test.parquet")
    children = [child for child in runs["children"] if child.data.params.get("study") == EXPLOSION_STUDY]
    logged = logged_models(mlflow_client, children)
    assert set(logged) == {child.info.run_name for child in children}
    for child in children:
        model = logged[child.info.run_name]
        with tracking_at(mlflow_client.tracking_uri):
            loaded = mlflow.pyfunc.load_model(f"models:/{model.model_id}")
        network = loaded.unwrap_python_model().trained.module
        assert model.tags[WEIGHTS_HASH_TAG] == weights_hash(network)
        draw = int(child.data.params["draw"])
        features, targets = first_test_sequences(test, draw, study["seq_len"], study["n_test"])
        np.testing.assert_array_equal(loaded.input_example, features[:3].numpy())
        outputs = torch.from_numpy(loaded.predict(features.numpy()))
        # the weights training ended with: they answer the test MSE the run logged (none when not finite)
        mse = float(nn.functional.mse_loss(outputs, targets))
        if math.isfinite(mse):
            assert mse == pytest.approx(child.data.metrics["test_mse"], rel=1e-5), child.info.run_name
        else:
            assert "test_mse" not in child.data.metrics, child.info.run_name


def test_gate_means_split_marked_steps_from_the_others():
    gate = torch.tensor([[[0.9], [0.1], [0.2]], [[0.3], [0.7], [0.1]]])  # (2 sequences, 3 steps, 1 unit)
    markers = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    marked, unmarked = gate_means(gate, markers)
    assert marked == pytest.approx((0.9 + 0.7) / 2)
    assert unmarked == pytest.approx((0.1 + 0.2 + 0.3 + 0.1) / 4)
    with pytest.raises(ValueError, match="both marked and unmarked"):
        gate_means(gate, torch.zeros(2, 3))


def test_the_forget_gate_is_averaged_between_the_marks_and_after_the_second():
    forget = torch.arange(12, dtype=torch.float32).reshape(2, 6, 1)  # values 0..5 and 6..11
    markers = torch.tensor([[1.0, 0, 0, 1, 0, 0], [0, 1.0, 1, 0, 0, 0]])
    between, after = forget_gate_means(forget, markers)
    assert between == pytest.approx((1 + 2) / 2)  # steps 1, 2 of the first; none of the second
    assert after == pytest.approx((4 + 5 + 9 + 10 + 11) / 5)
    last = torch.tensor([[1.0, 0, 0, 1]])  # the second mark is the last step: nothing after it
    assert math.isnan(forget_gate_means(forget[:1, :4], last)[1])


def test_zeroing_the_cell_state_leaves_only_the_hidden_state_to_carry_the_past():
    torch.manual_seed(0)
    model = RecurrentModel("lstm", input_size=1, hidden_size=3, output_size=1)
    with torch.no_grad():
        model.recurrent.weight_hh_l0.zero_()  # no recurrence through h: the cell state is the only memory
    inputs = torch.zeros(2, 4, 1)
    inputs[1, 0, 0] = 5.0  # the two sequences differ at the first step only
    with torch.no_grad():
        intact = unroll(model, inputs).output
        ablated = unroll(model, inputs, zero_cell_state=True).output
    assert not torch.allclose(intact[0], intact[1])
    assert torch.equal(ablated[0], ablated[1])
    assert torch.allclose(unroll(model, inputs).output, model(inputs), atol=1e-6)


def test_each_trained_lstm_at_the_longest_length_has_its_gates_scored(project: Path):
    params = adding_parameters(project)
    scores = pd.read_csv(project / REPORTING / "gate_scores.csv")
    assert sorted(scores.seed) == list(range(params["model"]["n_seeds"]))
    assert (scores.cell == "lstm").all() and (scores.seq_len == max(params["data"]["seq_lens"])).all()
    assert (scores.draw == scores.seed % params["data"]["n_draws"]).all()
    gates = scores[["input_gate_marked", "input_gate_unmarked"]]
    assert gates.gt(0).all().all() and gates.lt(1).all().all()
    assert (scores.probe_mse > 0).all() and (scores.probe_mse_cell_state_zeroed > 0).all()
    assert (project / REPORTING / "gate_scores.png").stat().st_size > 0
