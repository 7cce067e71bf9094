"""The sklearn flavour's fits run where its executor says, and give the same networks wherever they run."""

import pandas as pd
import pytest
import torch

from dlpipeline.data.toy2d import features_and_labels
from dlpipeline.executor import ExecutorParams
from dlpipeline.pipelines.mlp.data import draw_split
from dlpipeline.pipelines.mlp.params import SklearnParams, SweepParams
from dlpipeline.pipelines.mlp.sklearn_flavour import fit_classifiers, fit_on_sets

SWEEP = SweepParams(hidden_neurons=[2, [3, 3]], n_seeds=2)


@pytest.fixture(scope="module")
def two_sets(draws) -> dict[int, pd.DataFrame]:
    """Two of the drawn training sets, keyed by draw as the draws node keys them."""
    return {draw: draw_split(draws, draw)[0] for draw in (1, 2)}


def _weights(models) -> list[torch.Tensor]:
    return [tensor for model in models.values() for tensor in model.module.state_dict().values()]


def test_fits_in_two_worker_processes_are_bit_identical_to_fits_here(two_sets):
    here = SklearnParams(max_iter=40, executor=ExecutorParams(kind="local"))
    workers = here.model_copy(update={"executor": ExecutorParams(kind="processes", workers=2)})
    local = fit_on_sets(two_sets, SWEEP, here)
    pooled = fit_on_sets(two_sets, SWEEP, workers)
    assert list(pooled) == list(local) == [1, 2]
    for key in local:
        assert list(pooled[key]) == list(local[key]) == ["sklearn-2", "sklearn-3x3"]
        for expected, got in zip(_weights(local[key]), _weights(pooled[key]), strict=True):
            assert torch.equal(expected, got)
        for name in local[key]:
            assert pooled[key][name].trained_record == local[key][name].trained_record
            assert pooled[key][name].about == local[key][name].about


def test_each_set_s_models_are_the_classifiers_fitted_on_that_set_alone(two_sets):
    params = SklearnParams(max_iter=40)
    models = fit_on_sets(two_sets, SWEEP, params)
    for key, points in two_sets.items():
        for widths in SWEEP.architectures:
            alone = fit_classifiers(*features_and_labels(points), widths, SWEEP, params)
            member_weights = models[key][f"sklearn-{'x'.join(map(str, widths))}"].module.weights
            for layer, weight in enumerate(member_weights):
                for member, classifier in enumerate(alone):
                    coef = torch.from_numpy(classifier.coefs_[layer])
                    if coef.shape[-1] == 1:  # the binary output unit is stored as the logits [0, z]
                        coef = torch.cat([torch.zeros_like(coef), coef], dim=-1)
                    assert torch.equal(weight[member].detach(), coef)
