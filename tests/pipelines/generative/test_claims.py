"""The generative claims as specifications: each pairs a measure with a control on the same unit, a
control that can make it fail, and the units tables give the rows the report pairs."""

import numpy as np
import pandas as pd
import pytest
from tests.helpers import PROJECT_ROOT

from dlpipeline.config import load_parameters
from dlpipeline.pipelines.generative.report import autoencoder_units, generator_units
from dlpipeline.pipelines.report.claims import measured_effect
from dlpipeline.pipelines.report.effects import CONTRADICTED, INCONCLUSIVE, SUPPORTED
from dlpipeline.pipelines.report.params import Measure, PipelineClaims, RuleParams


def claims() -> dict:
    """The generative claims as the report reads them, by id."""
    parameters = load_parameters("base", PROJECT_ROOT)["generative"]["claims"]
    return {claim.id: claim for claim in PipelineClaims.model_validate(parameters).root}


def _scores(
    values: dict[tuple[str, int, int], float], baselines: dict[tuple[str, int, int], float]
) -> pd.DataFrame:
    """A generator-scores table: ``(dataset, draw, seed) → value`` of the GAN's and the baseline's fd."""
    rows = [
        {"dataset": d, "model": "gan", "draw": draw, "seed": seed, "metric": "fd", "value": value}
        for (d, draw, seed), value in values.items()
    ]
    for (d, draw, seed), value in baselines.items():
        for suffix, number in (("_baseline", value), ("_floor", 0.1)):
            rows.append(
                {
                    "dataset": d,
                    "model": "reference",
                    "draw": draw,
                    "seed": seed,
                    "metric": f"fd{suffix}",
                    "value": number,
                }
            )
    return pd.DataFrame(rows)


def test_every_generator_is_paired_with_the_baseline_of_its_own_unit():
    units = {("digits", 0, seed): 10.0 + seed for seed in range(3)}
    table = generator_units(_scores({key: 1.0 for key in units}, units))
    assert table.set_index("seed")["baseline"].to_dict() == {0: 10.0, 1: 11.0, 2: 12.0}
    assert (table["floor"] == 0.1).all() and (table["value"] == 1.0).all()


def test_each_autoencoder_row_sits_beside_pca_at_its_own_code_size_and_the_pixels():
    scores = pd.DataFrame(
        [
            {
                "model": "pixels",
                "latent_dim": 64,
                "seed": 0,
                "reconstruction_mse": 0.0,
                "downstream_accuracy": 0.97,
            },
            *(
                {
                    "model": "pca",
                    "latent_dim": size,
                    "seed": 0,
                    "reconstruction_mse": 1 / size,
                    "downstream_accuracy": size / 20,
                }
                for size in (2, 8)
            ),
            *(
                {
                    "model": model,
                    "latent_dim": size,
                    "seed": seed,
                    "reconstruction_mse": 0.01,
                    "downstream_accuracy": 0.5,
                }
                for model in ("linear_ae", "autoencoder")
                for size in (2, 8)
                for seed in (0, 1)
            ),
        ]
    )
    units = autoencoder_units(scores)
    assert len(units) == 8
    assert (units["pca_reconstruction_mse"] == 1 / units["latent_dim"]).all()
    assert (units["pca_downstream_accuracy"] == units["latent_dim"] / 20).all()
    assert (units["pixels_downstream_accuracy"] == 0.97).all()


def test_every_claim_reads_its_control_beside_its_condition_never_the_condition_itself():
    """A control is another column of the condition's rows (a baseline scored on the same samples),
    or the same column of another model's rows on the same seeds (text to image: prompted against
    unprompted); never the condition's own column and rows."""
    for claim in claims().values():
        condition, control = claim.effect.condition, claim.effect.control
        assert isinstance(control, Measure), claim.id
        assert control.source == condition.source, claim.id
        if control.where == condition.where:
            assert control.column != condition.column, claim.id
        else:
            assert control.column == condition.column, claim.id
            changed = {
                key
                for key in {*control.where, *condition.where}
                if control.where.get(key) != condition.where.get(key)
            }
            assert changed == {"model"}, claim.id
        assert "seed" in claim.effect.units, claim.id


def test_images_and_points_are_judged_apart_and_the_points_over_their_draws():
    for claim in claims().values():
        datasets = claim.effect.condition.where.get("dataset")
        if datasets is None:
            continue
        if datasets == "digits":
            assert claim.effect.units == ["seed"], claim.id
        else:
            assert sorted(datasets) == ["moons", "ring"], claim.id
            assert {"dataset", "draw", "seed"} == set(claim.effect.units), claim.id


@pytest.mark.parametrize(
    "ratio, verdict", [(0.25, SUPPORTED), (0.9, INCONCLUSIVE), (1.0, INCONCLUSIVE), (2.0, CONTRADICTED)]
)
def test_a_gan_judged_against_its_baseline_can_fail(ratio: float, verdict: str):
    claim = claims()["gan-synthetic-data-images"]
    baselines = {("digits", 0, seed): 40.0 + seed for seed in range(6)}
    spread = np.linspace(0.97, 1.03, 6)
    values = {key: ratio * value * s for (key, value), s in zip(baselines.items(), spread, strict=True)}
    tables = {"generative_units": generator_units(_scores(values, baselines))}
    effect = measured_effect(claim.effect, tables, RuleParams(resamples=1000))
    assert effect.n == 6
    assert effect.verdict == verdict
