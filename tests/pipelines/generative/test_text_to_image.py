"""Text to image: the prompt as text, a control the prompt cannot reach, the prompted share on constructed
samples with known answers, bad parameters refused, and the study end to end on smoke."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from pydantic import ValidationError
from tests.tracking import tracking_client
from torch import nn

from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.text_to_image import TextConditionedVAE, letter_counts
from dlpipeline.pipelines.generative import text_to_image
from dlpipeline.pipelines.generative.params import DIGIT_WORDS, TextToImageParams


def test_a_prompt_is_the_counts_of_its_letters():
    counts = letter_counts(["seven", ""])
    assert counts[0, ord("e") - ord("a")] == 2
    assert {chr(ord("a") + int(i)) for i in counts[0].nonzero()} == {"s", "e", "v", "n"}
    assert counts[1].sum() == 0


def test_a_prompt_outside_the_alphabet_is_refused():
    with pytest.raises(ValueError, match=r"letters a-z only, got \['7'\]"):
        letter_counts(["7"])


def model(conditional: bool) -> TextConditionedVAE:
    return TextConditionedVAE(
        n_features=4, latent_dim=2, hidden=[5], embed_dim=3, seeds=[0, 1], conditional=conditional
    )


def objective(network: TextConditionedVAE, words: list[str]) -> torch.Tensor:
    pixels = torch.rand(2, 4, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)  # the same reparameterisation noise for every prompt
    return network(torch.cat([pixels, letter_counts(words)], dim=1))


def test_the_prompt_reaches_the_conditioned_network_and_not_the_control():
    conditioned, control = model(True), model(False)
    assert not torch.allclose(objective(conditioned, ["one", "two"]), objective(conditioned, ["six", "nine"]))
    torch.testing.assert_close(objective(control, ["one", "two"]), objective(control, ["six", "nine"]))
    assert objective(conditioned, ["one", "two"]).shape == (2,)


def test_samples_come_per_member_word_and_draw():
    generator = torch.Generator().manual_seed(0)
    assert model(True).sample(["one", "two", "six"], 5, generator).shape == (2, 3, 5, 4)


def test_the_prompted_share_counts_the_samples_named_as_their_word():
    labels = np.array([[0, 0, 1, 0], [1, 1, 1, 1], [0, 1, 2, 3]])
    np.testing.assert_allclose(text_to_image.prompted_shares(labels, 3), [0.75, 1.0, 0.25])


class FirstTenPixels(nn.Module):
    """A classifier that names an image by its brightest of the first ten pixels."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return images[:, :10]


def one_hot_images(digits: np.ndarray) -> np.ndarray:
    """``(..., 64)`` images lit at the pixel of each digit."""
    return np.eye(64)[digits]


def test_a_generator_that_always_draws_the_prompt_scores_one_and_one_that_ignores_it_a_tenth():
    words, seeds, n = tuple(DIGIT_WORDS), (0, 1), 6
    prompted = np.broadcast_to(np.arange(10)[None, :, None], (2, 10, n))
    always_zero = np.zeros((2, 10, n), dtype=int)
    samples = text_to_image.PromptedSamples(
        words,
        seeds,
        {"text_conditioned": one_hot_images(prompted), "unconditional": one_hot_images(always_zero)},
    )
    classifier = {"feature_classifier": TrainedModule(FirstTenPixels(), {})}
    shares = text_to_image.share_table(samples, classifier)
    assert len(shares) == 2 * 2 * 10
    units = text_to_image.unit_table(shares).set_index("model")
    assert units.loc["text_conditioned"].prompted_share.tolist() == [1.0, 1.0]
    assert units.loc["unconditional"].prompted_share.tolist() == [0.1, 0.1]
    assert units.loc["unconditional"].worst_word_share.tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (DIGIT_WORDS[:9], "at least 10 items"),
        (["Zero", *DIGIT_WORDS[1:]], "lower-case letters"),
        (["zero", "zero", *DIGIT_WORDS[2:]], "distinct"),
        (["owt", *DIGIT_WORDS[1:]], "not only their order"),
    ],
    ids=["nine-words", "capital", "repeated", "anagram"],
)
def test_prompts_that_cannot_name_ten_digits_apart_are_refused_when_the_parameters_load(words, message):
    with pytest.raises(ValidationError, match=message):
        TextToImageParams(words=words)


@pytest.fixture(scope="module")
def project(smoke_run) -> Path:
    return smoke_run("generative")


def test_the_smoke_study_scores_both_models_for_every_seed_and_word(project: Path):
    reports = project / "data/08_reporting/generative/text_to_image"
    units = pd.read_csv(reports / "units.csv")
    assert sorted(map(tuple, units[["model", "seed"]].to_numpy())) == [
        ("text_conditioned", 0),
        ("text_conditioned", 1),
        ("unconditional", 0),
        ("unconditional", 1),
    ]
    shares = pd.read_csv(reports / "shares.csv")
    assert shares.groupby(["model", "seed"]).prompt.apply(list).map(tuple).unique().tolist() == [
        tuple(DIGIT_WORDS)
    ]
    assert (reports / "samples.png").stat().st_size > 1000


def test_each_model_is_a_child_run_of_the_text_to_image_study_without_a_logged_model(project: Path):
    client = tracking_client(project)
    runs = client.search_runs(
        [experiment.experiment_id for experiment in client.search_experiments()],
        filter_string="params.study = 'text_to_image'",
    )
    assert sorted((run.data.params["model"], run.data.params["conditional"]) for run in runs) == [
        ("text_conditioned", "True"),
        ("unconditional", "False"),
    ]
    assert all({"prompted_share", "train_seconds"} <= set(run.data.metrics) for run in runs)
