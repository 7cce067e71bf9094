"""The MLP experiment trained once on tiny settings, shared by the node tests."""

import pandas as pd
import pytest

from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.pipelines.mlp import data as data_nodes
from dlpipeline.pipelines.mlp.configuration import DrawModels
from dlpipeline.pipelines.mlp.evaluate import SweepResult, evaluate_sweep, validation_accuracy
from dlpipeline.pipelines.mlp.params import (
    SklearnParams,
    SweepParams,
    TorchParams,
    ToyDataParams,
    UnitsParams,
)
from dlpipeline.pipelines.mlp.sklearn_flavour import fit_sklearn_draws, fit_sklearn_sweep
from dlpipeline.pipelines.mlp.torch_flavour import fit_torch_draws, fit_torch_sweep
from dlpipeline.pipelines.mlp.units import claim_units
from dlpipeline.training import TrainConfig

TORCH_EPOCHS = 300
SKLEARN_MAX_ITER = 200


@pytest.fixture(scope="package")
def data() -> ToyDataParams:
    return ToyDataParams(random_state=42)


@pytest.fixture(scope="package")
def split(data) -> tuple[pd.DataFrame, pd.DataFrame]:
    return data_nodes.split_points(data_nodes.generate_points(data), data)


@pytest.fixture(scope="package")
def sweep() -> SweepParams:
    return SweepParams(hidden_neurons=[1, [6, 6]], n_seeds=3, grid_resolution=15)


@pytest.fixture(scope="package")
def torch_params() -> TorchParams:
    return TorchParams(restarts=2, train=TrainConfig(epochs=TORCH_EPOCHS, learning_rate=0.05, device="cpu"))


@pytest.fixture(scope="package")
def sklearn_params() -> SklearnParams:
    return SklearnParams(max_iter=SKLEARN_MAX_ITER)


@pytest.fixture(scope="package")
def torch_models(split, sweep, torch_params) -> dict[str, TrainedModule]:
    return fit_torch_sweep(split[0], sweep, torch_params)


@pytest.fixture(scope="package")
def sklearn_models(split, sweep, sklearn_params) -> dict[str, TrainedModule]:
    return fit_sklearn_sweep(split[0], sweep, sklearn_params)


@pytest.fixture(scope="package")
def results(torch_models, sklearn_models, split, sweep) -> list[SweepResult]:
    train, test = split
    return evaluate_sweep(torch_models, sklearn_models, train, test, sweep)


@pytest.fixture(scope="package")
def validation(torch_models, sklearn_models, data) -> dict:
    return validation_accuracy(torch_models, sklearn_models, data)


N_DRAWS = 3
SKLEARN_UNIT_SEEDS = 2


@pytest.fixture(scope="package")
def drawn_data(data) -> ToyDataParams:
    return data.model_copy(update={"n_draws": N_DRAWS})


@pytest.fixture(scope="package")
def draws(drawn_data) -> pd.DataFrame:
    return data_nodes.draw_points(drawn_data)


@pytest.fixture(scope="package")
def unit_params() -> UnitsParams:
    return UnitsParams(sklearn_seeds=SKLEARN_UNIT_SEEDS, groups={"1": [1], "1-2": [1, 2]})


@pytest.fixture(scope="package")
def torch_draws(torch_models, draws, sweep, torch_params) -> DrawModels:
    return fit_torch_draws(torch_models, draws, sweep, torch_params)


@pytest.fixture(scope="package")
def sklearn_draws(sklearn_models, draws, sweep, sklearn_params, unit_params) -> DrawModels:
    return fit_sklearn_draws(sklearn_models, draws, sweep, sklearn_params, unit_params)


@pytest.fixture(scope="package")
def units_table(torch_draws, sklearn_draws, draws, drawn_data, sweep) -> pd.DataFrame:
    return claim_units(torch_draws, sklearn_draws, draws, drawn_data, sweep)
