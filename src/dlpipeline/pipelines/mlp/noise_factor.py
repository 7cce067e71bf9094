"""The ``noise_factor`` study: the notes' ``noise`` and ``factor`` of make_circles, beside the Bayes limit.

Each (noise, factor) of the grid is drawn as the experiment draws its circles (``mlp.data``:
same size, split and draws, only noise and factor changed); one ReLU network of the study's
width trains on every setting × draw × seed in a single batched ensemble, and each is scored
beside the best any classifier can do on that setting (:mod:`dlpipeline.pipelines.mlp.bayes`).
"""

import pandas as pd

from dlpipeline.data.toy2d import features_and_labels
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.pipelines.mlp.bayes import bayes_accuracy, bayes_rule_labels
from dlpipeline.pipelines.mlp.data import SETTING_COLUMNS, draw_split
from dlpipeline.pipelines.mlp.evaluate import predicted_labels
from dlpipeline.pipelines.mlp.neurons import spread_table
from dlpipeline.pipelines.mlp.params import NeuronsParams, SweepParams, TorchParams, model_name
from dlpipeline.pipelines.mlp.torch_flavour import as_tensors, fit_on_sets

DECIMALS = 6  # the tables are DVC-tracked: a fixed precision keeps them byte-stable

Setting = tuple[float, float]
SettingModels = dict[Setting, dict[int, TrainedModule]]
"""The study's trained networks: per (noise, factor), per draw, one ensemble (one member per seed)."""


def _setting_draws(table: pd.DataFrame) -> list[tuple[Setting, int, pd.DataFrame]]:
    """(setting, draw, that setting's draws) for every setting × draw of the table, in order."""
    out = []
    for (noise, factor), rows in table.groupby(SETTING_COLUMNS, sort=False):
        draws = rows.drop(columns=SETTING_COLUMNS)
        out.extend(
            ((float(noise), float(factor)), int(draw), draws) for draw in sorted(draws["draw"].unique())
        )
    return out


def fit_noise_factor(
    table: pd.DataFrame, sweep: SweepParams, torch_params: TorchParams, neurons: NeuronsParams
) -> SettingModels:
    """One ReLU network (``noise_factor.hidden_neurons``) per setting × draw × seed, all in one batch."""
    study_sweep = neurons.study_sweep(sweep, [neurons.noise_factor.hidden_neurons], sweep.activation)
    slots = _setting_draws(table)
    trained = fit_on_sets(
        [as_tensors(draw_split(draws, draw)[0]) for _, draw, draws in slots], study_sweep, torch_params
    )
    name = model_name("torch", (neurons.noise_factor.hidden_neurons,))
    models: SettingModels = {}
    for (setting, draw, _), models_of_slot in zip(slots, trained, strict=True):
        models.setdefault(setting, {})[draw] = models_of_slot[name]
    return models


def noise_factor_units(models: SettingModels, table: pd.DataFrame) -> pd.DataFrame:
    """One row per setting × draw × seed: the network's accuracies beside the Bayes limit.

    ``bayes_accuracy`` is the setting's limit (in expectation); ``bayes_rule_test_accuracy``
    the Bayes classifier's accuracy on the same test points; ``bayes_rule_test_error`` its
    complement, the share of test points the noise scattered across the Bayes circle.
    """
    rows = []
    for setting, draw, draws in _setting_draws(table):
        noise, factor = setting
        (train_x, train_y), (test_x, test_y) = (
            features_and_labels(split) for split in draw_split(draws, draw)
        )
        model = models[setting][draw]
        train_accuracy = (predicted_labels(model, train_x) == train_y).mean(axis=1)
        test_accuracy = (predicted_labels(model, test_x) == test_y).mean(axis=1)
        bayes_rule = float((bayes_rule_labels(test_x, noise, factor) == test_y).mean())
        for member, seed in enumerate(model.trained_record.seeds):
            rows.append(
                {
                    "noise": noise,
                    "factor": factor,
                    "hidden_neurons": model.about.hidden_layers[0],
                    "draw": draw,
                    "seed": seed,
                    "train_accuracy": float(train_accuracy[member]),
                    "test_accuracy": float(test_accuracy[member]),
                    "bayes_accuracy": bayes_accuracy(noise, factor),
                    "bayes_rule_test_accuracy": bayes_rule,
                    "bayes_rule_test_error": 1 - bayes_rule,
                }
            )
    return pd.DataFrame(rows).round(DECIMALS)


def noise_factor_summary(units: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy per setting over draws × seeds (median and spread), beside the setting's Bayes limit."""
    summary = spread_table(units, SETTING_COLUMNS)
    limits = units.groupby(SETTING_COLUMNS, sort=False)["bayes_accuracy"].first().reset_index()
    return summary.merge(limits, on=SETTING_COLUMNS)
