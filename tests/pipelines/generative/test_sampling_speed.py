"""How the generative experiment samples and trains faster: DDIM, heaviest first, freed memory kept."""

import subprocess
import sys
import textwrap

import pytest
import torch

from dlpipeline.executor import IsolatedExecutorParams
from dlpipeline.models.generative import (
    DiffusionModel,
    GenerativeAdversarialNetwork,
    ddim_schedule,
    own_objective,
)
from dlpipeline.pipelines.generative import training
from dlpipeline.pipelines.generative.params import DiffusionParams
from dlpipeline.training import TrainConfig


class ExactGaussianDiffusion(DiffusionModel):
    """A diffusion model whose noise prediction is the exact one for data drawn from ``N(mean, std^2 I)``.

    At step ``t`` the noisy point is Gaussian with mean ``sqrt(a) mean`` and variance
    ``a std^2 + 1 - a`` (``a = alpha_bars[t]``), so the expected noise given the point is
    ``sqrt(1 - a) (x - sqrt(a) mean) / (a std^2 + 1 - a)``: a sampler that is right
    must give back ``N(mean, std^2 I)``.
    """

    def __init__(self, mean: torch.Tensor, std: float, n_steps: int) -> None:
        super().__init__(n_features=len(mean), hidden=[4], n_steps=n_steps, seeds=[0])
        self.mean, self.std = mean, std

    def predict_noise(self, noisy: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
        alpha_bar = self.alpha_bars[steps].unsqueeze(-1)
        variance = alpha_bar * self.std**2 + 1 - alpha_bar
        return (1 - alpha_bar).sqrt() * (noisy - alpha_bar.sqrt() * self.mean) / variance


MEAN, STD = torch.tensor([1.5, -0.5]), 0.3
STEPS = 1000  # enough for the forward process to end at pure noise, where every sampler starts


@pytest.mark.parametrize(
    ("sampler", "sample_steps"),
    [("ancestral", None), ("ancestral", 100), ("ddim", None), ("ddim", 100)],
    ids=["ancestral", "ancestral-100", "ddim-every-step", "ddim-100"],
)
def test_every_sampler_gives_back_the_data_distribution_of_an_exact_noise_predictor(sampler, sample_steps):
    model = ExactGaussianDiffusion(MEAN, STD, n_steps=STEPS)
    generator = torch.Generator().manual_seed(0)
    drawn = model.sample(2000, 2, generator, sample_steps=sample_steps, sampler=sampler)[0][0]
    assert torch.allclose(drawn.mean(dim=0), MEAN, atol=0.03)
    assert torch.allclose(drawn.std(dim=0), torch.full((2,), STD), rtol=0.1)


def test_ddim_with_as_many_steps_as_training_gives_the_ancestral_samplers_mean_and_spread():
    model = ExactGaussianDiffusion(MEAN, STD, n_steps=STEPS)
    ancestral, _ = model.sample(2000, 2, torch.Generator().manual_seed(1))
    ddim, _ = model.sample(2000, 2, torch.Generator().manual_seed(1), sampler="ddim")
    assert not torch.equal(ancestral, ddim)  # two samplers, not one under two names
    assert torch.allclose(ddim[0].mean(dim=0), ancestral[0].mean(dim=0), atol=0.03)
    assert torch.allclose(ddim[0].std(dim=0), ancestral[0].std(dim=0), rtol=0.1)


def test_the_ancestral_sampler_striding_over_every_step_is_the_ancestral_sampler():
    model = DiffusionModel(n_features=2, hidden=[8], n_steps=100, seeds=[0, 1])
    every, _ = model.sample(50, 2, torch.Generator().manual_seed(0))
    strided, _ = model.sample(50, 2, torch.Generator().manual_seed(0), sample_steps=100)
    fewer, _ = model.sample(50, 2, torch.Generator().manual_seed(0), sample_steps=10)
    assert torch.allclose(strided, every, atol=1e-4)  # the stride's beta is beta_t up to rounding
    assert not torch.allclose(fewer, every, atol=1e-2)


def test_ddim_is_a_deterministic_map_of_the_starting_noise_and_keeps_the_asked_states():
    model = DiffusionModel(n_features=2, hidden=[8], n_steps=100, seeds=[0, 1])
    kept = [100, 37, 0]
    samples, trajectory = model.sample(7, 2, torch.Generator().manual_seed(3), kept, 10, "ddim")
    again, _ = model.sample(7, 2, torch.Generator().manual_seed(3), kept, 10, "ddim")
    start = torch.randn(2, 7, 2, generator=torch.Generator().manual_seed(3))
    assert samples.shape == (2, 7, 2)
    assert torch.equal(samples, again)
    assert sorted(trajectory) == [0, 37, 100]
    assert torch.equal(trajectory[100], start)
    assert torch.equal(trajectory[0], samples)


def test_the_ddim_schedule_falls_evenly_from_the_last_step_to_zero_through_the_kept_steps():
    assert ddim_schedule(1000, 4) == [1000, 750, 500, 250, 0]
    assert ddim_schedule(1000, 4, keep_steps=[600, 500]) == [1000, 750, 600, 500, 250, 0]
    assert ddim_schedule(10, 10) == list(range(10, -1, -1))
    with pytest.raises(ValueError, match="sample_steps"):
        ddim_schedule(10, 11)


def test_a_sampler_on_fewer_steps_refuses_a_schedule_that_does_not_fall_from_the_last_step_to_zero():
    model = DiffusionModel(n_features=2, hidden=[8], n_steps=10, seeds=[0])
    state = torch.randn(1, 3, 2)
    for schedule in ([10, 5], [9, 5, 0], [10, 5, 5, 0], [10, 2, 5, 0]):
        with pytest.raises(ValueError, match="schedule"):
            model.reverse_ddim(state, schedule)
        with pytest.raises(ValueError, match="schedule"):
            model.reverse_strided(state, torch.Generator(), schedule)


def test_a_diffusion_model_cannot_sample_on_more_steps_than_it_trained_on():
    assert DiffusionParams(n_steps=100, sample_steps=100).sample_steps == 100
    with pytest.raises(ValueError, match="sample_steps"):
        DiffusionParams(n_steps=100, sample_steps=101)


def _gan_job(hidden: list[int], epochs: int, label: str) -> training.EnsembleJob:
    """A small GAN ensemble of two seeds, one task of :func:`training.train_ensembles`."""
    return training.EnsembleJob(
        GenerativeAdversarialNetwork,
        {"n_features": 2, "latent_dim": 2, "hidden": hidden},
        own_objective,
        TrainConfig(epochs=epochs, batch_size=16, threads=1),
        (0, 1),
        label,
        label,
    )


GAN_JOBS = [("small", [4], 2), ("wide", [32, 32], 2), ("long", [4], 9)]


def test_ensembles_start_heaviest_first_and_come_back_in_the_order_given(monkeypatch):
    tensors = {"inputs": torch.randn(40, 2)}
    jobs = {
        "small": _gan_job([4], 2, "small"),
        "wide": _gan_job([32, 32], 2, "wide"),
        "long": _gan_job([4], 9, "long"),
    }
    started = []
    run_tasks = training.run_tasks

    def recording(function, shared, tasks, executor):
        started.extend(tasks)
        return run_tasks(function, shared, tasks, executor)

    monkeypatch.setattr(training, "run_tasks", recording)
    trained = training.train_ensembles(tensors, jobs, IsolatedExecutorParams())
    costs = {label: training.training_cost(tensors, job) for label, job in jobs.items()}
    assert started == sorted(costs, key=costs.get, reverse=True)
    assert started != list(jobs)  # the order given is not already heaviest first
    assert list(trained) == list(jobs)
    for label, model in trained.items():  # the order changes when a job trains, never what it learns
        alone = training.train_ensemble(tensors, jobs[label])
        assert all(
            torch.equal(a, b)
            for a, b in zip(model.module.parameters(), alone.module.parameters(), strict=True)
        )


KEPT_MEMORY_TRAINS_THE_SAME = textwrap.dedent(
    """
    import torch, dlpipeline
    from dlpipeline.allocator import keep_freed_memory
    from dlpipeline.models.generative import DiffusionModel

    def trained():
        torch.manual_seed(0)
        model = DiffusionModel(n_features=64, hidden=[512, 512], n_steps=100, seeds=[0, 1, 2])
        optimiser = torch.optim.Adam(model.parameters())
        for _ in range(5):
            optimiser.zero_grad()
            model(torch.randn(64, 64)).sum().backward()
            optimiser.step()
        return [parameter.detach().clone() for parameter in model.parameters()]

    before = trained()
    assert keep_freed_memory()
    after = trained()
    print(all(torch.equal(a, b) for a, b in zip(before, after, strict=True)))
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_keeping_freed_memory_takes_effect_and_leaves_training_bit_identical():
    # A fresh process: the thresholds, once raised, hold for the rest of the process.
    result = subprocess.run(
        [sys.executable, "-c", KEPT_MEMORY_TRAINS_THE_SAME], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "True"
