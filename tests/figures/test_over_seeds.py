"""Values over seeds: every seed shown, the centre, the spread and the worst seed."""

import numpy as np
from matplotlib.collections import LineCollection, PathCollection, PolyCollection
from matplotlib.figure import Figure

from dlpipeline.figures.over_seeds import (
    Reference,
    SeedSpread,
    draw_seed_strip,
    seed_strip_figure,
    spread_over_seeds_figure,
)

PER_SEED = [np.array([0.90, 0.99, 1.00]), np.array([0.60, 0.95, 0.97])]


def _lines(ax) -> dict:
    return {line.get_label(): line for line in ax.get_lines()}


def test_the_mean_and_the_worst_seed_are_drawn_against_the_swept_value():
    series = [SeedSpread(label="torch", x=[2, 4], per_seed=PER_SEED)]
    ax = spread_over_seeds_figure(series, "neurons", "test accuracy", "accuracy").axes[0]
    lines = _lines(ax)
    np.testing.assert_allclose(lines["torch: mean"].get_ydata(), [values.mean() for values in PER_SEED])
    np.testing.assert_allclose(lines["torch: worst seed"].get_ydata(), [values.min() for values in PER_SEED])
    dots = [points for points in ax.collections if isinstance(points, PathCollection)]
    assert sum(len(points.get_offsets()) for points in dots) == sum(len(values) for values in PER_SEED)


def test_when_lower_is_better_the_worst_seed_is_the_highest_and_the_scale_may_be_log():
    series = [SeedSpread(label="lstm", x=[10, 100], per_seed=PER_SEED)]
    reference = Reference(1 / 6, "predict the mean")
    ax = spread_over_seeds_figure(
        series, "T", "test MSE", "mse", references=[reference], higher_is_better=False, log=True
    ).axes[0]
    lines = _lines(ax)
    np.testing.assert_allclose(lines["lstm: worst seed"].get_ydata(), [values.max() for values in PER_SEED])
    np.testing.assert_allclose(lines["predict the mean"].get_ydata(), [reference.value] * 2)
    assert ax.get_yscale() == "log"


def test_the_band_never_leaves_the_values_the_seeds_measured():
    series = [SeedSpread(label="torch", x=[2, 4], per_seed=PER_SEED)]
    ax = spread_over_seeds_figure(series, "neurons", "test accuracy", "accuracy").axes[0]
    (band,) = [collection for collection in ax.collections if isinstance(collection, PolyCollection)]
    heights = band.get_paths()[0].vertices[:, 1]
    assert heights.min() >= min(values.min() for values in PER_SEED)
    assert heights.max() <= max(values.max() for values in PER_SEED)


def test_a_strip_shows_every_seed_and_its_median_per_category_and_series():
    series = {"train": PER_SEED, "test": [values - 0.1 for values in PER_SEED]}
    ax = seed_strip_figure(["cnn", "mlp"], series, ylabel="accuracy", title="by configuration").axes[0]
    bars = [bar for bar in ax.collections if isinstance(bar, LineCollection)]
    medians = sorted(float(bar.get_segments()[0][0, 1]) for bar in bars)
    expected = sorted(float(np.median(values)) for per_category in series.values() for values in per_category)
    np.testing.assert_allclose(medians, expected)
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["cnn", "mlp"]


def test_a_strip_composes_into_panels_with_a_floor_and_a_baseline_and_skips_a_category_without_values():
    figure = Figure()
    ax = figure.subplots()
    floor, baseline = Reference(0.1, "floor"), Reference(0.8, "baseline", linestyle=":")
    draw_seed_strip(
        ax, ["vae", "gan", "diffusion"], {"fd": [PER_SEED[0], np.array([]), PER_SEED[1]]}, [floor, baseline]
    )
    bars = [bar for bar in ax.collections if isinstance(bar, LineCollection)]
    assert len(bars) == 2
    lines = _lines(ax)
    assert [lines[name].get_linestyle() for name in ("floor", "baseline")] == ["--", ":"]
