"""The character language model: masked loss, shapes and causality for every cell, and sampling."""

import pytest
import torch
from torch import nn

from dlpipeline.data.text import END_ID, PAD_ID, UNKNOWN_ID, CharTokenizer, language_model_tensors
from dlpipeline.models.char_lm import CharLanguageModel, masked_cross_entropy, sample_texts
from dlpipeline.models.checkpoint import TrainedModule, from_payload, to_payload

CELLS = ["rnn", "lstm", "gru", "transformer"]
TOKENIZER = CharTokenizer.from_texts(["abcdefgh"])
V = TOKENIZER.vocab_size
MAX_LEN = 8


def small_model(cell: str) -> CharLanguageModel:
    torch.manual_seed(0)
    return CharLanguageModel(V, embedding_dim=6, cell=cell, hidden_size=8, max_len=MAX_LEN).eval()


class FixedLogits(nn.Module):
    """A stand-in model: the same next-token logits at every step, whatever the prefix."""

    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.logits = nn.Parameter(logits, requires_grad=False)
        self.calls: list[int] = []

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        self.calls.append(tokens.shape[1])
        return self.logits.expand(*tokens.shape, -1)


def fixed_logits(favoured: dict[int, float]) -> torch.Tensor:
    logits = torch.zeros(V)
    for token, value in favoured.items():
        logits[token] = value
    return logits


# --- masked cross-entropy ------------------------------------------------------------


def test_masked_cross_entropy_is_the_plain_cross_entropy_over_real_targets():
    torch.manual_seed(0)
    _, targets = language_model_tensors(["ab", "abcdef", ""], TOKENIZER, MAX_LEN)
    logits = torch.randn(*targets.shape, V)
    real = targets != PAD_ID
    expected = nn.functional.cross_entropy(logits[real], targets[real])
    torch.testing.assert_close(masked_cross_entropy(logits, targets), expected)


def test_masked_cross_entropy_ignores_the_logits_at_padded_targets():
    torch.manual_seed(1)
    _, targets = language_model_tensors(["ab", "abcdef", ""], TOKENIZER, MAX_LEN)
    logits = torch.randn(*targets.shape, V)
    changed = logits.clone()
    changed[targets == PAD_ID] = torch.randn(int((targets == PAD_ID).sum()), V) * 100
    torch.testing.assert_close(masked_cross_entropy(changed, targets), masked_cross_entropy(logits, targets))


# --- the model -----------------------------------------------------------------------


@pytest.mark.parametrize("cell", CELLS)
def test_the_model_gives_logits_over_the_vocabulary_at_every_step(cell):
    model = small_model(cell)
    tokens = torch.randint(0, V, (5, MAX_LEN))
    assert model(tokens).shape == (5, MAX_LEN, V)
    assert model(tokens[:, :3]).shape == (5, 3, V)
    with pytest.raises(ValueError, match="exceed max_len"):
        model(torch.zeros(1, MAX_LEN + 1, dtype=torch.long))


@pytest.mark.parametrize("cell", CELLS)
def test_the_logits_at_a_step_ignore_every_later_token(cell):
    model = small_model(cell)
    torch.manual_seed(2)
    tokens = torch.randint(0, V, (4, MAX_LEN))
    for step in range(MAX_LEN - 1):
        changed = tokens.clone()
        changed[:, step + 1 :] = torch.randint(0, V, (4, MAX_LEN - step - 1))
        torch.testing.assert_close(model(changed)[:, : step + 1], model(tokens)[:, : step + 1])
    # and they do depend on the token at the step itself
    changed = tokens.clone()
    changed[:, 0] = (tokens[:, 0] + 1) % V
    assert not torch.allclose(model(changed)[:, 0], model(tokens)[:, 0])


@pytest.mark.parametrize("cell", CELLS)
def test_right_padding_leaves_a_texts_logits_unchanged(cell):
    model = small_model(cell)
    inputs, _ = language_model_tensors(["abc"], TOKENIZER, MAX_LEN)
    torch.testing.assert_close(model(inputs)[:, :4], model(inputs[:, :4]))


def test_an_unknown_cell_is_refused():
    with pytest.raises(ValueError, match="unknown cell"):
        CharLanguageModel(V, 4, "mamba", 8, MAX_LEN)  # type: ignore[arg-type]


@pytest.mark.parametrize("cell", ["gru", "transformer"])
def test_the_model_rebuilds_from_its_constructor_arguments(cell):
    torch.manual_seed(3)
    trained = TrainedModule.build(
        CharLanguageModel, vocab_size=V, embedding_dim=6, cell=cell, hidden_size=8, max_len=MAX_LEN
    )
    rebuilt = from_payload(to_payload({"lm": trained}))["lm"].module
    tokens = torch.randint(0, V, (3, MAX_LEN))
    torch.testing.assert_close(rebuilt(tokens), trained.module.eval()(tokens))


# --- sampling ------------------------------------------------------------------------


def test_sampling_stops_at_end():
    model = FixedLogits(fixed_logits({END_ID: 50.0}))
    samples = sample_texts(model, TOKENIZER, 6, MAX_LEN, 1.0, torch.Generator().manual_seed(0))
    assert samples == [""] * 6
    assert model.calls == [1]  # every sample had ended after one step


def test_sampling_stops_after_max_len_minus_one_characters():
    model = FixedLogits(fixed_logits({END_ID: -50.0}))
    samples = sample_texts(model, TOKENIZER, 20, MAX_LEN, 1.0, torch.Generator().manual_seed(0))
    assert [len(sample) for sample in samples] == [MAX_LEN - 1] * 20
    assert max(model.calls) == MAX_LEN - 1


def test_sampling_never_draws_padding_or_unknown():
    favoured = fixed_logits({PAD_ID: 50.0, UNKNOWN_ID: 50.0, END_ID: -50.0, 3: 0.0})
    samples = sample_texts(
        FixedLogits(favoured), TOKENIZER, 20, MAX_LEN, 1.0, torch.Generator().manual_seed(0)
    )
    assert all(set(sample) <= set(TOKENIZER.characters) for sample in samples)
    assert all(len(sample) == MAX_LEN - 1 for sample in samples)


def test_a_mix_of_ended_and_running_samples_each_keep_their_own_text():
    # END and "a" equally likely: texts of every length, all made of "a" only
    model = FixedLogits(fixed_logits({END_ID: 20.0, 3: 20.0}))
    samples = sample_texts(model, TOKENIZER, 200, MAX_LEN, 1.0, torch.Generator().manual_seed(0))
    assert all(set(sample) <= {"a"} for sample in samples)
    lengths = {len(sample) for sample in samples}
    assert 0 in lengths and MAX_LEN - 1 in lengths and len(lengths) > 3


def test_a_low_temperature_picks_the_most_likely_character():
    model = FixedLogits(fixed_logits({END_ID: -50.0, 4: 1.0}))
    samples = sample_texts(model, TOKENIZER, 5, 4, 0.01, torch.Generator().manual_seed(0))
    assert samples == ["bbb"] * 5


@pytest.mark.parametrize("cell", CELLS)
def test_the_same_seed_gives_the_same_samples_from_a_real_model(cell):
    model = small_model(cell).train()
    first = sample_texts(model, TOKENIZER, 16, MAX_LEN, 1.0, torch.Generator().manual_seed(7))
    second = sample_texts(model, TOKENIZER, 16, MAX_LEN, 1.0, torch.Generator().manual_seed(7))
    other = sample_texts(model, TOKENIZER, 16, MAX_LEN, 1.0, torch.Generator().manual_seed(8))
    assert first == second
    assert first != other
    assert len(first) == 16
    assert all(set(sample) <= set(TOKENIZER.characters) and len(sample) < MAX_LEN for sample in first)
    assert model.training  # its mode is given back


def test_sampling_refuses_a_non_positive_temperature():
    with pytest.raises(ValueError, match="temperature"):
        sample_texts(small_model("rnn"), TOKENIZER, 1, MAX_LEN, 0.0, torch.Generator())
