"""The generative sample-quality metrics, each on cases whose answer is known in closed form."""

import numpy as np
import pytest

from dlpipeline.pipelines.generative.metrics import (
    classes_covered,
    energy_distance,
    frechet_distance,
    gaussian_baseline_samples,
    gaussian_frechet_distance,
    independent_pixel_samples,
    mean_nearest_distance,
    mode_coverage,
    ring_centres,
    sliced_w2,
)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


# Fréchet distance


def test_gaussian_frechet_distance_matches_the_isotropic_closed_form():
    # N(0, I) vs N(m, s^2 I) in d dimensions: |m|^2 + d (1 - s)^2.
    d, m, s = 3, np.array([1.0, -1.0, 0.5]), 2.0
    expected = float(m @ m) + d * (1.0 - s) ** 2
    got = gaussian_frechet_distance(np.zeros(d), np.eye(d), m, s**2 * np.eye(d))
    assert got == pytest.approx(expected, rel=1e-12)


def test_gaussian_frechet_distance_of_a_gaussian_to_itself_is_zero():
    cov = np.array([[2.0, 0.3], [0.3, 0.5]])
    assert gaussian_frechet_distance(np.ones(2), cov, np.ones(2), cov) == pytest.approx(0.0, abs=1e-12)


def test_frechet_distance_of_large_samples_approaches_the_closed_form(rng):
    d, m, s = 3, np.array([1.0, -1.0, 0.5]), 2.0
    a = rng.standard_normal((100_000, d))
    b = m + s * rng.standard_normal((100_000, d))
    assert frechet_distance(a, b) == pytest.approx(float(m @ m) + d * (1.0 - s) ** 2, rel=0.03)


def test_frechet_distance_of_a_set_to_itself_is_zero(rng):
    features = rng.standard_normal((500, 8)) @ rng.standard_normal((8, 8))
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_is_symmetric(rng):
    a = rng.standard_normal((300, 5))
    b = 0.5 + rng.standard_normal((400, 5)) @ np.diag([1.0, 2.0, 0.5, 1.0, 3.0])
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)


def test_frechet_distance_copes_with_singular_covariances(rng):
    # Constant features (a digit's border pixels) make both covariances singular.
    a = np.hstack([rng.standard_normal((5000, 3)), np.zeros((5000, 2))])
    b = np.hstack([1.0 + rng.standard_normal((5000, 3)), np.zeros((5000, 2))])
    assert frechet_distance(a, b) == pytest.approx(3.0, abs=0.3)


def test_frechet_distance_needs_two_rows_and_matching_widths():
    with pytest.raises(ValueError, match="2 rows"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="feature counts"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))


# Classes covered


def test_classes_covered_counts_a_class_exactly_at_the_share_threshold():
    # 100 labels: class 0 gets 2 (exactly 0.02), class 1 gets 1 (0.01), class 2 gets the rest.
    labels = np.array([0] * 2 + [1] * 1 + [2] * 97)
    assert classes_covered(labels, n_classes=10, min_share=0.02) == 2
    assert classes_covered(labels, n_classes=10, min_share=0.01) == 3


def test_classes_covered_of_uniform_predictions_is_every_class():
    assert classes_covered(np.repeat(np.arange(10), 30)) == 10


def test_classes_covered_of_a_collapsed_generator_is_one():
    assert classes_covered(np.full(500, 7)) == 1


def test_classes_covered_rejects_labels_outside_the_classes():
    with pytest.raises(ValueError, match="labels must lie"):
        classes_covered(np.array([0, 10]), n_classes=10)


# Nearest distance (memorisation)


def test_mean_nearest_distance_of_a_set_to_itself_is_zero(rng):
    points = rng.standard_normal((300, 16))
    assert mean_nearest_distance(points, points) == 0.0


def test_mean_nearest_distance_to_a_shifted_copy_is_the_shift():
    # A unit grid, shifted by less than half its spacing: every sample's nearest neighbour is
    # its own unshifted point.
    grid = np.stack(np.meshgrid(np.arange(10.0), np.arange(10.0)), axis=-1).reshape(-1, 2)
    shift = np.array([0.3, 0.1])
    assert mean_nearest_distance(grid + shift, grid) == pytest.approx(np.linalg.norm(shift), rel=1e-12)


def test_mean_nearest_distance_handles_the_digits_sizes_quickly(rng):
    samples, reference = rng.random((1000, 64)), rng.random((1347, 64))
    value = mean_nearest_distance(samples, reference)
    assert 0.0 < value < np.sqrt(64)


# Ring of Gaussians and mode coverage


def test_ring_centres_are_evenly_spaced_on_the_circle_starting_at_angle_zero():
    centres = ring_centres(8, radius=2.0)
    assert centres.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 2.0)
    np.testing.assert_allclose(centres[0], [2.0, 0.0])
    np.testing.assert_allclose(centres[2], [0.0, 2.0], atol=1e-12)
    gaps = np.linalg.norm(np.diff(np.vstack([centres, centres[:1]]), axis=0), axis=1)
    np.testing.assert_allclose(gaps, gaps[0])


def test_samples_at_every_centre_cover_all_modes_with_full_quality(rng):
    centres, std = ring_centres(), 0.05
    samples = np.repeat(centres, 300, axis=0) + 0.5 * std * rng.standard_normal((8 * 300, 2))
    assert mode_coverage(samples, centres, std) == (8, 1.0)


def test_samples_at_three_centres_cover_three_modes(rng):
    centres, std = ring_centres(), 0.05
    samples = np.repeat(centres[[0, 3, 5]], 300, axis=0) + 0.5 * std * rng.standard_normal((900, 2))
    modes, quality = mode_coverage(samples, centres, std)
    assert modes == 3
    assert quality == 1.0


def test_samples_far_from_every_centre_cover_nothing(rng):
    centres, std = ring_centres(), 0.05
    samples = 0.1 * rng.standard_normal((500, 2))  # around the origin, 2 away from the ring
    assert mode_coverage(samples, centres, std) == (0, 0.0)


def test_mode_coverage_counts_high_quality_share_and_min_samples():
    centres, std = ring_centres(), 0.05
    # Ten samples exactly on centre 0, one on centre 1, and nine far away.
    samples = np.vstack([np.repeat(centres[:1], 10, axis=0), centres[1:2], np.zeros((9, 2))])
    assert mode_coverage(samples, centres, std) == (2, 0.55)
    assert mode_coverage(samples, centres, std, min_samples=5) == (1, 0.55)


def test_a_sample_exactly_n_std_from_its_centre_is_high_quality():
    centres, std = ring_centres(), 0.1
    samples = centres[:1] + np.array([[0.25, 0.0]])
    assert mode_coverage(samples, centres, std, n_std=2.5) == (1, 1.0)
    assert mode_coverage(samples, centres, std, n_std=2.4) == (0, 0.0)


# Energy distance


def test_energy_distance_of_identical_sets_is_exactly_zero(rng):
    points = rng.standard_normal((400, 3))
    assert energy_distance(points, points) == 0.0


def test_energy_distance_of_shifted_1d_point_sets_matches_the_hand_computation():
    # x = {0, 1}, y = {2, 3}. V-statistic, all pairs with i = j included:
    #   E|X - Y|  = (2 + 3 + 1 + 2) / 4 = 2
    #   E|X - X'| = (0 + 1 + 1 + 0) / 4 = 0.5, and E|Y - Y'| = 0.5 likewise
    #   energy    = 2 * 2 - 0.5 - 0.5 = 3
    assert energy_distance(np.array([0.0, 1.0]), np.array([2.0, 3.0])) == pytest.approx(3.0)


def test_energy_distance_of_two_single_points_is_twice_their_distance():
    assert energy_distance(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]])) == pytest.approx(10.0)


def test_energy_distance_grows_with_the_shift(rng):
    x = rng.standard_normal((300, 2))
    distances = [energy_distance(x, x + np.array([shift, 0.0])) for shift in (0.5, 1.0, 2.0)]
    assert distances == sorted(distances)
    assert distances[0] > 0.0


# Sliced Wasserstein-2


def test_sliced_w2_of_identical_sets_is_zero(rng):
    points = rng.standard_normal((300, 4))
    assert sliced_w2(points, points) == 0.0


def test_sliced_w2_of_a_shift_is_its_length_over_root_d(rng):
    # On direction u the projected sets differ by the constant u·v, so W2^2 = (u·v)^2, whose mean
    # over uniform unit directions in d dimensions is |v|^2 / d.
    d, v = 4, np.array([1.0, 2.0, -2.0, 0.5])
    x = rng.standard_normal((50, d))
    got = sliced_w2(x, x + v, n_projections=20_000, seed=3)
    assert got == pytest.approx(np.linalg.norm(v) / np.sqrt(d), rel=0.02)


def test_sliced_w2_in_one_dimension_is_the_exact_w2_for_unequal_sizes():
    # 1-D has the single direction ±1. Quantile functions: x takes 0 on (0, 1/2) and 1 on (1/2, 1);
    # y takes 0 on (0, 1/3), 1 on (1/3, 2/3), 2 on (2/3, 1). The gap is 1 on (1/3, 1/2) and on
    # (2/3, 1): W2^2 = 1/6 + 1/3 = 1/2.
    x, y = np.array([0.0, 1.0]), np.array([0.0, 1.0, 2.0])
    assert sliced_w2(x, y, n_projections=5) == pytest.approx(np.sqrt(0.5), rel=1e-12)


def test_sliced_w2_of_unequal_sized_samples_of_one_distribution_is_small(rng):
    x, y = rng.standard_normal((3000, 2)), rng.standard_normal((2000, 2))
    assert sliced_w2(x, y) < 0.1
    assert sliced_w2(x, y + np.array([2.0, 0.0])) == pytest.approx(2.0 / np.sqrt(2.0), rel=0.15)


def test_sliced_w2_is_deterministic_given_the_seed(rng):
    x, y = rng.standard_normal((200, 3)), rng.standard_normal((200, 3)) + 0.5
    assert sliced_w2(x, y, seed=7) == sliced_w2(x, y, seed=7)
    assert sliced_w2(x, y, seed=7) != sliced_w2(x, y, seed=8)


# Baseline generators


def test_gaussian_baseline_keeps_the_data_mean_and_covariance(rng):
    data = np.array([1.0, -2.0]) + rng.standard_normal((2000, 2)) @ np.array([[1.0, 0.0], [0.8, 0.5]])
    samples = gaussian_baseline_samples(data, 50_000, seed=0)
    assert samples.shape == (50_000, 2)
    np.testing.assert_allclose(samples.mean(axis=0), data.mean(axis=0), atol=0.03)
    np.testing.assert_allclose(np.cov(samples, rowvar=False), np.cov(data, rowvar=False), atol=0.03)


def test_gaussian_baseline_is_seeded(rng):
    data = rng.standard_normal((100, 2))
    first = gaussian_baseline_samples(data, 10, seed=5)
    np.testing.assert_array_equal(first, gaussian_baseline_samples(data, 10, seed=5))
    assert not np.array_equal(first, gaussian_baseline_samples(data, 10, seed=6))


def test_independent_pixels_draw_each_column_from_that_columns_values(rng):
    images = rng.integers(0, 17, size=(200, 64))
    samples = independent_pixel_samples(images, 500, seed=0)
    assert samples.shape == (500, 64)
    assert samples.dtype == images.dtype
    for column in range(64):
        assert set(samples[:, column]) <= set(images[:, column])


def test_independent_pixels_keep_marginals_and_lose_correlations(rng):
    # Two identical pixel columns: their marginals survive, their perfect correlation does not.
    column = rng.random(500)
    images = np.column_stack([column, column])
    samples = independent_pixel_samples(images, 20_000, seed=1)
    np.testing.assert_allclose(samples.mean(axis=0), column.mean(), atol=0.01)
    assert abs(np.corrcoef(samples, rowvar=False)[0, 1]) < 0.05


def test_independent_pixels_are_seeded(rng):
    images = rng.random((50, 10))
    first = independent_pixel_samples(images, 20, seed=2)
    np.testing.assert_array_equal(first, independent_pixel_samples(images, 20, seed=2))
    assert not np.array_equal(first, independent_pixel_samples(images, 20, seed=3))
