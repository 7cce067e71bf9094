"""Generative models of the notes: autoencoders, a VAE, a GAN and a diffusion model (DDPM).

Every model here holds several independent members, one per seed, as stacked weights
(:class:`EnsembleMLP`), so a configuration's seeds train together in one call of the shared
loop, as the MLP and CNN ensembles do. Member ``i`` draws ``torch.nn.Linear``'s default
initial weights from its own generator seeded with ``seeds[i]``, so it starts the same alone
or among others.

The shared loop minimises ``loss_fn(model(batch), targets)``. A batch is ``(n, features)``,
read by every member, or ``(n, members, features)``, member ``i`` reading its own column of
rows (each trained on its own draw of the data: the loop batches the first axis). An autoencoder returns its
reconstructions (scored by :func:`reconstruction_loss`); the VAE, the GAN and the diffusion
model compute their own training objective from the batch and return it per member (scored
by :func:`own_objective`). The GAN's objective holds both players: the discriminator's loss
on detached fakes and the generator's loss through a detached copy of the discriminator, so
each player's gradient comes from its own loss only and one Adam step updates both.
"""

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Literal

import torch
import torch.nn.functional as F  # noqa: N812 (torch's own convention)
from torch import nn

ActivationName = Literal["linear", "relu", "leaky_relu", "silu"]
SamplerName = Literal["ancestral", "ddim"]
ACTIVATIONS: dict[str, nn.Module] = {
    "linear": nn.Identity(),
    "relu": nn.ReLU(),
    "leaky_relu": nn.LeakyReLU(0.2),
    "silu": nn.SiLU(),
}
MIN_LOG_SCALE = math.log(0.05)
"""The VAE decoder's smallest standard deviation: pixels that are always 0 would drive it to 0."""


def member_generators(seeds: Sequence[int]) -> list[torch.Generator]:
    """One random generator per member, seeded with its seed (initial weights only)."""
    return [torch.Generator().manual_seed(int(seed)) for seed in seeds]


class EnsembleMLP(nn.Module):
    """Independent MLPs ``sizes[0] → … → sizes[-1]``, one per generator, evaluated as one.

    Input ``(n, sizes[0])`` (shared by every member) or ``(members, n, sizes[0])``; output
    ``(members, n, sizes[-1])``. ``activation`` follows every layer but the last.
    """

    def __init__(
        self, sizes: Sequence[int], generators: Sequence[torch.Generator], activation: ActivationName
    ) -> None:
        super().__init__()
        self.activation = ACTIVATIONS[activation]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in itertools.pairwise(sizes):
            bound = 1.0 / math.sqrt(fan_in)  # torch.nn.Linear's default initialisation
            weight = torch.stack([_uniform((fan_in, fan_out), bound, g) for g in generators])
            bias = torch.stack([_uniform((1, fan_out), bound, g) for g in generators])
            self.weights.append(nn.Parameter(weight))
            self.biases.append(nn.Parameter(bias))

    @property
    def members(self) -> int:
        """Number of independent networks."""
        return self.weights[0].shape[0]

    def forward(self, inputs: torch.Tensor, detached: bool = False) -> torch.Tensor:
        """Every member's output; ``detached`` evaluates without sending gradients to the weights."""
        hidden = inputs
        last = len(self.weights) - 1
        for layer, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            used_weight, used_bias = (weight.detach(), bias.detach()) if detached else (weight, bias)
            hidden = torch.baddbmm(used_bias, _per_member(hidden, self.members), used_weight)
            if layer < last:
                hidden = self.activation(hidden)
        return hidden

    def penultimate(self, inputs: torch.Tensor) -> torch.Tensor:
        """The activations that feed the last layer: the network's learned features."""
        hidden = inputs
        for weight, bias in zip(list(self.weights)[:-1], list(self.biases)[:-1], strict=True):
            hidden = self.activation(torch.baddbmm(bias, _per_member(hidden, self.members), weight))
        return hidden


def _uniform(shape: tuple[int, int], bound: float, generator: torch.Generator) -> torch.Tensor:
    """Values drawn uniformly from ``[-bound, bound)``."""
    return (torch.rand(shape, generator=generator) * 2 - 1) * bound


def _per_member(inputs: torch.Tensor, members: int) -> torch.Tensor:
    """``(members, n, features)``: shared inputs repeated (as a view) for every member."""
    return inputs.expand(members, *inputs.shape) if inputs.dim() == 2 else inputs


def member_batch(batch: torch.Tensor) -> torch.Tensor:
    """A loop batch as :class:`EnsembleMLP` reads it: ``(n, f)`` as is, ``(n, members, f)`` transposed."""
    return batch.transpose(0, 1) if batch.dim() == 3 else batch


def reconstruction_loss(reconstructions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean squared error per member: ``(members, n, d)`` against ``(n, d)`` → ``(members,)``."""
    return (reconstructions - targets).pow(2).mean(dim=(1, 2))


def own_objective(objective: torch.Tensor, _targets: torch.Tensor) -> torch.Tensor:
    """The objective the model computed itself (the VAE, the GAN, the diffusion model)."""
    return objective


class Autoencoder(nn.Module):
    """Encoder ``n_features → *hidden → code_size`` and decoder back; linear when ``activation`` is.

    With no hidden layer and ``activation="linear"`` it spans the same subspace PCA finds,
    so the two can be compared; with ReLU hidden layers it can bend the code.
    """

    def __init__(
        self,
        n_features: int,
        code_size: int,
        hidden: Sequence[int],
        activation: ActivationName,
        seeds: Sequence[int],
    ) -> None:
        super().__init__()
        generators = member_generators(seeds)
        self.encoder = EnsembleMLP([n_features, *hidden, code_size], generators, activation)
        self.decoder = EnsembleMLP([code_size, *reversed(hidden), n_features], generators, activation)

    def encode(self, inputs: torch.Tensor) -> torch.Tensor:
        """The codes ``(members, n, code_size)``."""
        return self.encoder(inputs)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Reconstructions ``(members, n, n_features)``."""
        return self.decoder(self.encode(inputs))


class VariationalAutoencoder(nn.Module):
    """A VAE with a standard-normal prior and a Gaussian decoder.

    The decoder's standard deviation is learned per feature when ``decoder_scale`` is
    ``None``, else fixed at ``decoder_scale``: a learned scale can explain all of a 2-D set
    as noise (the code is then ignored, "posterior collapse"), a fixed small one cannot.
    ``forward`` returns the negative ELBO per member (nats per example, averaged over the
    batch), from one reparameterised draw of the code.
    """

    def __init__(
        self,
        n_features: int,
        latent_dim: int,
        hidden: Sequence[int],
        seeds: Sequence[int],
        decoder_scale: float | None = None,
    ) -> None:
        super().__init__()
        generators = member_generators(seeds)
        self.latent_dim = latent_dim
        self.encoder = EnsembleMLP([n_features, *hidden, 2 * latent_dim], generators, "relu")
        self.decoder = EnsembleMLP([latent_dim, *reversed(hidden), n_features], generators, "relu")
        initial = torch.full((len(generators), 1, n_features), math.log(decoder_scale or 1.0))
        self.log_scale = nn.Parameter(initial, requires_grad=decoder_scale is None)

    def encode(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The posterior's mean and log-variance, each ``(members, n, latent_dim)``."""
        mean, log_variance = self.encoder(inputs).chunk(2, dim=-1)
        return mean, log_variance

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """The decoder's mean for ``codes`` ``(members, n, latent_dim)``."""
        return self.decoder(codes)

    def scale(self) -> torch.Tensor:
        """The decoder's standard deviation per member and feature ``(members, 1, n_features)``."""
        if not self.log_scale.requires_grad:
            return self.log_scale.exp()
        return self.log_scale.clamp(min=MIN_LOG_SCALE).exp()

    def negative_elbo(self, inputs: torch.Tensor) -> torch.Tensor:
        """Reconstruction negative log-likelihood plus KL to the prior, per member and example."""
        mean, log_variance = self.encode(inputs)
        codes = mean + (0.5 * log_variance).exp() * torch.randn_like(mean)
        scale = self.scale()
        residual = (inputs - self.decode(codes)) / scale
        nll = (0.5 * residual.pow(2) + scale.log() + 0.5 * math.log(2 * math.pi)).sum(dim=-1)
        kl = 0.5 * (mean.pow(2) + log_variance.exp() - 1 - log_variance).sum(dim=-1)
        return nll + kl

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """The negative ELBO per member, averaged over the batch (shared, or one column per member)."""
        return self.negative_elbo(member_batch(inputs)).mean(dim=1)

    @torch.no_grad()
    def sample(self, n_samples: int, generator: torch.Generator, with_noise: bool) -> torch.Tensor:
        """``(members, n_samples, n_features)`` from the prior: decoder means, plus its noise if asked."""
        members = self.log_scale.shape[0]
        codes = torch.randn(members, n_samples, self.latent_dim, generator=generator)
        means = self.decode(codes)
        if not with_noise:
            return means
        return means + self.scale() * torch.randn(means.shape, generator=generator)


class GenerativeAdversarialNetwork(nn.Module):
    """A generator ``latent_dim → *hidden → n_features`` against a discriminator ``n_features → 1``.

    ``forward(real)`` returns ``(members, 2)``: the discriminator's and the (non-saturating)
    generator's losses on that batch.
    """

    def __init__(self, n_features: int, latent_dim: int, hidden: Sequence[int], seeds: Sequence[int]) -> None:
        super().__init__()
        generators = member_generators(seeds)
        self.latent_dim = latent_dim
        self.generator = EnsembleMLP([latent_dim, *hidden, n_features], generators, "relu")
        self.discriminator = EnsembleMLP([n_features, *hidden, 1], generators, "leaky_relu")

    def generate(self, noise: torch.Tensor) -> torch.Tensor:
        """Samples for ``noise`` ``(members, n, latent_dim)``."""
        return self.generator(noise)

    def forward(self, real: torch.Tensor) -> torch.Tensor:
        """Discriminator and generator losses per member for one batch of ``real`` data."""
        members = self.generator.members
        fake = self.generate(torch.randn(members, len(real), self.latent_dim, device=real.device))
        real_logits = self.discriminator(member_batch(real))
        fake_logits = self.discriminator(fake.detach())
        discriminator_loss = F.softplus(-real_logits).mean(dim=(1, 2)) + F.softplus(fake_logits).mean(
            dim=(1, 2)
        )
        generator_loss = F.softplus(-self.discriminator(fake, detached=True)).mean(dim=(1, 2))
        return torch.stack([discriminator_loss, generator_loss], dim=1)

    @torch.no_grad()
    def sample(self, n_samples: int, generator: torch.Generator) -> torch.Tensor:
        """``(members, n_samples, n_features)`` generated from fresh noise."""
        members = self.generator.members
        return self.generate(torch.randn(members, n_samples, self.latent_dim, generator=generator))


class DiffusionModel(nn.Module):
    """A denoising diffusion model (DDPM): an MLP predicts the noise added at step ``t``.

    The forward process adds Gaussian noise over ``n_steps`` with a linear variance
    schedule from ``beta_start`` to ``beta_end``; ``forward(x0)`` returns each member's
    noise-prediction error at a random step per example; :meth:`sample` runs the reverse
    process from pure noise.
    """

    def __init__(
        self,
        n_features: int,
        hidden: Sequence[int],
        n_steps: int,
        seeds: Sequence[int],
        time_features: int = 16,
        beta_start: float = 1e-4,
        beta_end: float = 0.02,
    ) -> None:
        super().__init__()
        generators = member_generators(seeds)
        self.n_steps = n_steps
        self.time_features = time_features
        self.denoiser = EnsembleMLP([n_features + time_features, *hidden, n_features], generators, "silu")
        betas = torch.linspace(beta_start, beta_end, n_steps)
        self.register_buffer("betas", betas)
        self.register_buffer("alpha_bars", torch.cumprod(1 - betas, dim=0))

    def time_embedding(self, steps: torch.Tensor) -> torch.Tensor:
        """Sines and cosines of the step at geometrically spaced frequencies."""
        half = self.time_features // 2
        frequencies = torch.exp(-math.log(1000.0) * torch.arange(half, device=steps.device) / half)
        angles = steps.unsqueeze(-1).float() * frequencies
        return torch.cat([angles.sin(), angles.cos()], dim=-1)

    def predict_noise(self, noisy: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
        """The denoiser's noise estimate for ``noisy`` ``(members, n, d)`` at ``steps`` ``(members, n)``."""
        return self.denoiser(torch.cat([noisy, self.time_embedding(steps)], dim=-1))

    def forward(self, clean: torch.Tensor) -> torch.Tensor:
        """Mean squared noise-prediction error per member at random steps (``clean``: a loop batch)."""
        members = self.denoiser.members
        n, n_features = len(clean), clean.shape[-1]
        steps = torch.randint(0, self.n_steps, (members, n), device=clean.device)
        noise = torch.randn(members, n, n_features, device=clean.device)
        alpha_bar = self.alpha_bars[steps].unsqueeze(-1)
        noisy = alpha_bar.sqrt() * member_batch(clean) + (1 - alpha_bar).sqrt() * noise
        return (self.predict_noise(noisy, steps) - noise).pow(2).mean(dim=(1, 2))

    @torch.no_grad()
    def sample(
        self,
        n_samples: int,
        n_features: int,
        generator: torch.Generator,
        keep_steps: Sequence[int] = (),
        sample_steps: int | None = None,
        sampler: SamplerName = "ancestral",
    ) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
        """Samples ``(members, n_samples, n_features)`` and the states ``x_t`` at ``keep_steps``.

        Step ``n_steps`` is pure noise and step 0 the final samples. ``ancestral`` with
        ``sample_steps`` ``None``: every step, with the posterior variance ``beta_t``
        (:meth:`reverse`); with a count, that many evenly spaced steps, each one the ancestral
        step across the whole stride (:meth:`reverse_strided`). ``ddim``: the deterministic DDIM
        sampler on ``sample_steps`` steps (all when ``None``), ``generator`` drawing the starting
        noise only (:meth:`reverse_ddim`).
        """
        members = self.denoiser.members
        state = torch.randn(members, n_samples, n_features, generator=generator)
        if sampler == "ddim":
            schedule = ddim_schedule(self.n_steps, sample_steps or self.n_steps, keep_steps)
            return self.reverse_ddim(state, schedule, keep_steps)
        if sample_steps is None:
            return self.reverse(state, generator, keep_steps)
        schedule = ddim_schedule(self.n_steps, sample_steps, keep_steps)
        return self.reverse_strided(state, generator, schedule, keep_steps)

    @torch.no_grad()
    def denoise(self, noise: torch.Tensor, seed: int = 0) -> torch.Tensor:
        """Samples ``(members, n, d)`` reversed from ``noise`` ``(n, d)`` (step ``n_steps``), seeded.

        The same noise gives the same samples: what a served diffusion model answers.
        """
        start = noise.expand(self.denoiser.members, *noise.shape).clone()
        samples, _ = self.reverse(start, torch.Generator().manual_seed(seed))
        return samples

    @torch.no_grad()
    def reverse(
        self, state: torch.Tensor, generator: torch.Generator, keep_steps: Sequence[int] = ()
    ) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
        """The reverse process from ``state`` ``(members, n, d)`` at step ``n_steps``; see :meth:`sample`."""
        members, n_samples, _ = state.shape
        trajectory = {self.n_steps: state.clone()} if self.n_steps in keep_steps else {}
        for step in reversed(range(self.n_steps)):
            steps = torch.full((members, n_samples), step, dtype=torch.long)
            beta, alpha_bar = self.betas[step], self.alpha_bars[step]
            noise_estimate = self.predict_noise(state, steps)
            state = (state - beta / (1 - alpha_bar).sqrt() * noise_estimate) / (1 - beta).sqrt()
            if step > 0:
                state = state + beta.sqrt() * torch.randn(state.shape, generator=generator)
            if step in keep_steps:
                trajectory[step] = state.clone()
        return state, trajectory

    @torch.no_grad()
    def reverse_strided(
        self,
        state: torch.Tensor,
        generator: torch.Generator,
        schedule: Sequence[int],
        keep_steps: Sequence[int] = (),
    ) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
        """The ancestral reverse process on the steps of ``schedule`` only (from ``n_steps`` down to 0).

        A move from step ``s`` to ``s'`` is the ancestral step whose ``beta`` is the whole
        stride's, ``1 - alpha_bar[s - 1] / alpha_bar[s' - 1]`` (``alpha_bar`` is 1 at step 0):
        with every step in ``schedule`` it is :meth:`reverse`'s step, up to rounding.
        """

        def move(
            state: torch.Tensor, noise: torch.Tensor, alpha_bar: torch.Tensor, alpha_bar_next: torch.Tensor
        ):
            beta = 1 - alpha_bar / alpha_bar_next
            state = (state - beta / (1 - alpha_bar).sqrt() * noise) / (1 - beta).sqrt()
            if alpha_bar_next < 1:  # not the last move: the stride's noise goes back in
                state = state + beta.sqrt() * torch.randn(state.shape, generator=generator)
            return state

        return self._reverse_on(state, schedule, keep_steps, move)

    @torch.no_grad()
    def reverse_ddim(
        self, state: torch.Tensor, schedule: Sequence[int], keep_steps: Sequence[int] = ()
    ) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
        """The deterministic DDIM reverse process (Song et al., 2021, ``eta = 0``) from ``state``.

        ``state`` is at step ``n_steps``; ``schedule`` is the decreasing steps visited, down to 0
        (:func:`ddim_schedule`). Each move predicts the noise once, reads off the clean point it
        implies, and puts that point back at the next step's noise level with the same noise.
        """

        def move(
            state: torch.Tensor, noise: torch.Tensor, alpha_bar: torch.Tensor, alpha_bar_next: torch.Tensor
        ):
            clean = (state - (1 - alpha_bar).sqrt() * noise) / alpha_bar.sqrt()
            return alpha_bar_next.sqrt() * clean + (1 - alpha_bar_next).sqrt() * noise

        return self._reverse_on(state, schedule, keep_steps, move)

    def _reverse_on(
        self,
        state: torch.Tensor,
        schedule: Sequence[int],
        keep_steps: Sequence[int],
        move: Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
    ) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
        """Walk ``schedule`` from ``state``: each ``move(state, noise estimate, alpha_bar, alpha_bar_next)``.

        The state at step ``s`` carries the noise of ``alpha_bars[s - 1]`` (none at step 0, where
        ``alpha_bar_next`` is 1), as the ancestral sampler's does; the states at ``keep_steps`` are kept.
        """
        _check_schedule(schedule, self.n_steps)
        members, n_samples, _ = state.shape
        trajectory = {self.n_steps: state.clone()} if self.n_steps in keep_steps else {}
        for step, following in itertools.pairwise(schedule):
            steps = torch.full((members, n_samples), step - 1, dtype=torch.long)
            alpha_bar = self.alpha_bars[step - 1]
            alpha_bar_next = self.alpha_bars[following - 1] if following > 0 else torch.ones(())
            state = move(state, self.predict_noise(state, steps), alpha_bar, alpha_bar_next)
            if following in keep_steps:
                trajectory[following] = state.clone()
        return state, trajectory


def _check_schedule(schedule: Sequence[int], n_steps: int) -> None:
    """Raise unless ``schedule`` falls strictly from ``n_steps`` to 0."""
    falling = list(schedule) == sorted(set(schedule), reverse=True)
    if not falling or schedule[0] != n_steps or schedule[-1] != 0:
        raise ValueError(f"schedule must fall strictly from {n_steps} to 0, got {list(schedule)}")


def ddim_schedule(n_steps: int, sample_steps: int, keep_steps: Sequence[int] = ()) -> list[int]:
    """The steps a sampler on fewer steps than training visits, from ``n_steps`` down to 0.

    ``sample_steps`` moves evenly spaced, plus any of ``keep_steps`` that falls between (so the
    trajectory can show it). With ``sample_steps == n_steps`` it visits every step, as the
    ancestral sampler does.
    """
    if not 1 <= sample_steps <= n_steps:
        raise ValueError(f"sample_steps must be in [1, {n_steps}], got {sample_steps}")
    even = {round(n_steps * k / sample_steps) for k in range(sample_steps + 1)}
    kept = {step for step in keep_steps if 0 <= step <= n_steps}
    return sorted(even | kept, reverse=True)


class FeatureClassifier(nn.Module):
    """A digit classifier whose last hidden layer is the feature space of the Fréchet distance."""

    def __init__(self, n_features: int, hidden: Sequence[int], n_classes: int, seed: int) -> None:
        super().__init__()
        self.network = EnsembleMLP([n_features, *hidden, n_classes], member_generators([seed]), "relu")

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Class logits ``(n, n_classes)``."""
        return self.network(inputs)[0]

    def features(self, inputs: torch.Tensor) -> torch.Tensor:
        """The last hidden layer's activations ``(n, hidden[-1])``."""
        return self.network.penultimate(inputs)[0]
