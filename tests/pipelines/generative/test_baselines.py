"""PCA, the autoencoders' baseline: fitted once in its own node, saved, and read wherever it is needed."""

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project
from tests.helpers import PROJECT_ROOT

from dlpipeline.config import load_parameters
from dlpipeline.datasets import PcaDataset
from dlpipeline.pipelines.generative.autoencoders import fit_pca_baselines
from dlpipeline.pipelines.generative.params import AutoencoderParams
from dlpipeline.pipelines.generative.training import data_matrix

PCA_DATASET = "generative.autoencoders.pca"


def _images(n: int, seed: int) -> pd.DataFrame:
    """``n`` random 8×8 images in [0, 1] as a digits table."""
    pixels = np.random.default_rng(seed).random((n, 64))
    table = pd.DataFrame(pixels, columns=[f"px_{index}" for index in range(64)])
    return table.assign(label=np.arange(n) % 10)


def test_pca_is_fitted_by_one_node_and_read_by_evaluation_plots_and_child_runs():
    bootstrap_project(PROJECT_ROOT)
    nodes = pipelines["generative"].nodes
    assert [node.name for node in nodes if PCA_DATASET in node.outputs] == ["generative.autoencoders.fit_pca"]
    readers = {node.name.rpartition(".")[2] for node in nodes if PCA_DATASET in node.inputs}
    assert readers == {"evaluate", "plot_codes", "plot_reconstructions", "child_runs"}


def test_one_fit_per_code_size_the_same_fit_every_time_and_timed_apart():
    train = _images(40, seed=1)
    params = AutoencoderParams(code_sizes=[2, 5])
    baselines, fit_seconds = fit_pca_baselines(train, params)
    assert {size: pca.n_components_ for size, pca in baselines.items()} == {2: 2, 5: 5}
    assert set(fit_seconds) == {2, 5} and all(seconds >= 0 for seconds in fit_seconds.values())
    again, _ = fit_pca_baselines(train, params)
    assert pickle.dumps(again) == pickle.dumps(baselines)


def test_the_pca_rows_of_the_scores_are_those_of_the_saved_fits(smoke_run):
    project: Path = smoke_run("generative")
    params = load_parameters("smoke", project)["generative"]["autoencoders"]["model"]
    saved = PcaDataset(filepath=str(project / "data/06_models/generative/autoencoders_pca.json")).load()
    assert sorted(saved) == sorted(params["code_sizes"])
    test_images = data_matrix(pd.read_csv(project / "data/05_model_input/generative/digits_test.csv"))
    scores = pd.read_csv(project / "data/08_reporting/generative/autoencoders/scores.csv")
    pca_rows = scores[scores["model"] == "pca"].set_index("latent_dim")["reconstruction_mse"]
    for code_size, pca in saved.items():
        reconstructed = pca.inverse_transform(pca.transform(test_images))
        mse = ((reconstructed - test_images) ** 2).mean()
        np.testing.assert_allclose(pca_rows[code_size], mse, rtol=1e-9)
