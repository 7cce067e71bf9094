"""The claims' units: every trained network of every draw, measured for what the notes say of it.

One row per flavour × configuration × draw × seed (:func:`claim_units`), the same rows averaged
over the widths the notes speak of together (``3–4 neurons``, :func:`claim_groups`), and the
torch networks' training loss before and after training (:func:`claim_losses`). A draw is a
fresh set of points with its own split (``mlp.draws``); a seed is a network's initial weights;
the claims pair their condition and control by draw and seed. Only the seeds trained on every
draw are units, so each draw weighs the same.
"""

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from dlpipeline.data.toy2d import features_and_labels
from dlpipeline.figures.boundaries import BoundaryGrid, mesh_over
from dlpipeline.pipelines.mlp.boundary_shape import bayes_radius, distance_to_circle, encloses_class_1
from dlpipeline.pipelines.mlp.configuration import DrawModels
from dlpipeline.pipelines.mlp.data import draw_split
from dlpipeline.pipelines.mlp.evaluate import predicted_labels
from dlpipeline.pipelines.mlp.params import Flavour, SweepParams, ToyDataParams, UnitsParams, widths_text

MEASURES = [
    "test_accuracy",
    "share_predicted_0",
    "share_class_0",
    "min_class_error",
    "encloses_class_1",
    "bayes_distance",
    "linear_test_accuracy",
    "linear_bayes_distance",
]
"""What every unit measures (see :func:`unit_measures` and :func:`linear_baseline`)."""
DECIMALS = 6  # the tables are DVC-tracked: a fixed precision keeps them byte-stable


def circle_radius(data: ToyDataParams) -> float:
    """The Bayes boundary's radius for the notes' circles; ``inf`` for a set without a known one."""
    return bayes_radius(data.noise, data.factor) if data.name == "circles" else float("inf")


def unit_measures(predicted: np.ndarray, labels: np.ndarray, grid: BoundaryGrid, radius: float) -> dict:
    """One network's measures from its test predictions and its boundary grid.

    ``share_predicted_0`` is the share of test points it labels 0, beside ``share_class_0``,
    the share that are 0; ``min_class_error`` is the error rate of the class it gets more right
    (0 when every mistake falls on one class); ``encloses_class_1`` whether its class-1 region
    is closed; ``bayes_distance`` its boundary's mean distance to the Bayes circle.
    """
    return {
        "test_accuracy": float((predicted == labels).mean()),
        "share_predicted_0": float((predicted == 0).mean()),
        "share_class_0": float((labels == 0).mean()),
        "min_class_error": float(min((predicted[labels == c] != c).mean() for c in np.unique(labels))),
        "encloses_class_1": int(encloses_class_1(grid)),
        "bayes_distance": distance_to_circle(grid, radius),
    }


def linear_baseline(
    train: pd.DataFrame, test: pd.DataFrame, xx: np.ndarray, yy: np.ndarray, radius: float
) -> dict[str, float]:
    """A logistic regression on the same draw and split: its test accuracy and its boundary's distance.

    The linear model the claims compare with: the best straight cut a classifier of the same
    points finds, deterministic, so one per draw, beside every network of that draw.
    """
    train_features, train_labels = features_and_labels(train)
    test_features, test_labels = features_and_labels(test)
    linear = LogisticRegression().fit(train_features, train_labels)
    mesh = np.column_stack([xx.ravel(), yy.ravel()])
    grid = BoundaryGrid(xx, yy, linear.predict(mesh).reshape(xx.shape))
    return {
        "linear_test_accuracy": float((linear.predict(test_features) == test_labels).mean()),
        "linear_bayes_distance": distance_to_circle(grid, radius),
    }


def common_seeds(per_draw: DrawModels) -> list[int]:
    """The seeds every draw of a flavour has, in order: the units of that flavour."""
    seed_sets = [
        {seed for model in models.values() for seed in model.trained_record.seeds}
        for models in per_draw.values()
    ]
    return sorted(set.intersection(*seed_sets))


def claim_units(
    torch_draws: DrawModels,
    sklearn_draws: DrawModels,
    draws: pd.DataFrame,
    data: ToyDataParams,
    sweep: SweepParams,
) -> pd.DataFrame:
    """One row per flavour × configuration × draw × seed with :data:`MEASURES` (the linear baseline per draw).

    Every network is measured on its own draw's test points and on a grid of
    ``sweep.grid_resolution``² nodes over its draw's training points (as the figures draw it).
    """
    radius = circle_radius(data)
    flavours: dict[Flavour, DrawModels] = {"torch": torch_draws, "sklearn": sklearn_draws}
    rows = []
    for draw in sorted(int(draw) for draw in draws["draw"].unique()):
        train, test = draw_split(draws, draw)
        xx, yy = mesh_over(features_and_labels(train)[0], sweep.grid_resolution)
        mesh = np.column_stack([xx.ravel(), yy.ravel()])
        test_features, test_labels = features_and_labels(test)
        linear = linear_baseline(train, test, xx, yy, radius)
        for flavour, per_draw in flavours.items():
            seeds = common_seeds(per_draw)
            for model in per_draw[draw].values():
                tested = predicted_labels(model, test_features)
                meshed = predicted_labels(model, mesh)
                for member, seed in enumerate(model.trained_record.seeds):
                    if seed not in seeds:
                        continue
                    grid = BoundaryGrid(xx, yy, meshed[member].reshape(xx.shape))
                    rows.append(
                        {
                            "flavour": flavour,
                            "hidden_neurons": widths_text(model.about.hidden_layers),
                            "draw": draw,
                            "seed": seed,
                            **unit_measures(tested[member], test_labels, grid, radius),
                            **linear,
                        }
                    )
    return pd.DataFrame(rows).round(DECIMALS)


def claim_groups(units_table: pd.DataFrame, units: UnitsParams) -> pd.DataFrame:
    """The units averaged over each group of widths the notes name together, per flavour × draw × seed.

    ``neurons`` is the group's label (``3-4``); ``encloses_class_1`` becomes the share of the
    group's widths whose class-1 region is closed. A group with a width the sweep did not train
    is left out.
    """
    trained = set(units_table["hidden_neurons"].astype(str))
    groups = []
    for label, widths in units.groups.items():
        if not {str(width) for width in widths} <= trained:
            continue
        rows = units_table[units_table["hidden_neurons"].astype(str).isin([str(width) for width in widths])]
        grouped = rows.groupby(["flavour", "draw", "seed"], sort=False)[MEASURES].mean().reset_index()
        grouped.insert(1, "neurons", label)
        groups.append(grouped)
    columns = ["flavour", "neurons", "draw", "seed", *MEASURES]
    return (pd.concat(groups, ignore_index=True) if groups else pd.DataFrame(columns=columns)).round(DECIMALS)


def claim_losses(torch_draws: DrawModels) -> pd.DataFrame:
    """Each torch network's mean training loss in its first and its last epoch, per draw × seed.

    Trained on the full batch (the base setting) the first epoch's loss is the loss at the
    initial weights, before backpropagation changed them.
    """
    seeds = common_seeds(torch_draws)
    rows = []
    for draw, models in sorted(torch_draws.items()):
        for model in models.values():
            loss = model.trained_history.loss
            for member, seed in enumerate(model.trained_record.seeds):
                if seed in seeds:
                    rows.append(
                        {
                            "hidden_neurons": widths_text(model.about.hidden_layers),
                            "draw": draw,
                            "seed": seed,
                            "epochs": len(loss),
                            "loss_initial": float(loss[0, member]),
                            "loss_final": float(loss[-1, member]),
                        }
                    )
    return pd.DataFrame(rows).round(DECIMALS)
