"""Curves over epochs: one line per named curve, epochs counted from 1."""

import numpy as np
from matplotlib.figure import Figure

from dlpipeline.figures.curves import LearningCurves, curves_figure, draw_curves, learning_curves_figure


def test_each_named_curve_is_a_line_over_the_epochs_it_ran():
    curves = {"short": np.array([1.0, 0.5]), "long": np.array([2.0, 1.0, 0.4, 0.2])}
    ax = curves_figure(curves, title="losses").axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == set(curves)
    for label, values in curves.items():
        np.testing.assert_array_equal(lines[label].get_xdata(), np.arange(1, len(values) + 1))
        np.testing.assert_array_equal(lines[label].get_ydata(), values)
    assert [text.get_text() for text in ax.get_legend().get_texts()] == list(curves)


def test_a_loss_is_drawn_on_a_log_scale_and_a_metric_may_be_linear():
    curves = {"run": np.array([0.9, 0.95, 0.97])}
    loss = curves_figure(curves, title="loss").axes[0]
    accuracy = curves_figure(curves, title="accuracy", ylabel="test_accuracy", log=False).axes[0]
    assert (loss.get_yscale(), loss.get_ylabel()) == ("log", "training loss")
    assert (accuracy.get_yscale(), accuracy.get_ylabel()) == ("linear", "test_accuracy")


def test_curves_compose_into_a_pipelines_own_panels():
    figure = Figure()
    left, right = figure.subplots(1, 2)
    draw_curves(left, {"seed 0": np.array([1.0, 2.0])}, ylabel="discriminator loss", log=False)
    draw_curves(
        right, {"seed 0": np.array([3.0, 1.0]), "seed 1": np.array([2.0, 2.0])}, "generator loss", False
    )
    assert [len(ax.get_lines()) for ax in (left, right)] == [1, 2]
    assert [ax.get_xlabel() for ax in (left, right)] == ["epoch", "epoch"]


def test_learning_curves_put_training_beside_validation_in_one_panel_per_configuration():
    curves = {
        name: LearningCurves(np.array([1.0, 0.5, 0.2]), np.array([1.1, 0.7, 0.6]), corner_text=name)
        for name in ["cnn", "mlp", "dropout", "pooling"]
    }
    figure = learning_curves_figure(curves, title="train vs validation", n_columns=3)
    shown = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_title() for ax in shown] == list(curves)
    assert all([line.get_label() for line in ax.get_lines()] == ["train", "validation"] for ax in shown)
