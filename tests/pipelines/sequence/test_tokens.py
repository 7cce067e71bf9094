"""Characters or character bigrams as tokens: the bigram tokeniser, NLL per character, the study on smoke."""

import math
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient
from tests.helpers import PROJECT_ROOT
from tests.tracking import logged_models, tracking_at

from dlpipeline.config import load_parameters
from dlpipeline.data.text import (
    END_ID,
    PAD_ID,
    UNKNOWN_GLYPH,
    UNKNOWN_ID,
    CharTokenizer,
    language_model_tensors,
)
from dlpipeline.data.text_bigrams import (
    FILLER,
    BigramTokenizer,
    bigram_tensors,
    nats_per_character,
    pieces,
    token_nll,
    unknown_cost,
)
from dlpipeline.datasets import ModelDataset
from dlpipeline.models.char_lm import CharLanguageModel, masked_cross_entropy, sample_texts
from dlpipeline.models.checkpoint import count_parameters
from dlpipeline.pipelines.report.claims import VERDICTS, evaluate_claim
from dlpipeline.pipelines.report.params import PipelineClaims, RuleParams
from dlpipeline.pipelines.sequence.params import ModelParams
from dlpipeline.pipelines.sequence.tokens import TOKENS_STUDY, matched_hidden_size

NAMES = ["anna", "ann", "bob", "emma", "ava", "eve"]


# --- the bigram tokeniser ----------------------------------------------------------------


def test_a_name_and_its_end_are_cut_into_pairs_the_odd_one_completed_by_the_filler():
    assert pieces("ann") == ["an", "n."]  # three characters and the end: two pairs
    assert pieces("anna") == ["an", "na", "." + FILLER]  # four and the end: the last pair filled
    assert pieces("") == ["." + FILLER]
    for reserved in (".", FILLER):
        with pytest.raises(ValueError, match="reserved"):
            pieces(f"a{reserved}b")


@pytest.mark.parametrize("name", NAMES)
def test_every_training_name_comes_back_from_its_tokens_whatever_its_length(name: str):
    tokenizer = BigramTokenizer.from_texts(NAMES)
    ids = tokenizer.encode(name)
    assert UNKNOWN_ID not in ids
    assert len(ids) == math.ceil((len(name) + 1) / 2)
    assert ids[-1] in tokenizer.end_ids  # the last token holds the end
    assert tokenizer.decode(ids) == name


def test_an_unknown_pair_or_character_is_one_unknown_token_and_decodes_as_two_glyphs():
    tokenizer = BigramTokenizer.from_texts(NAMES)
    an, _, end = tokenizer.encode("anna")
    assert tokenizer.encode("anzo") == [an, UNKNOWN_ID, end]  # "zo" never seen; "._" ends anna too
    assert tokenizer.decode(tokenizer.encode("anzo")) == "an" + UNKNOWN_GLYPH * 2  # the length kept
    assert tokenizer.decode(tokenizer.encode("éva")) == UNKNOWN_GLYPH * 2 + "a"  # é never seen: "év" unknown
    assert tokenizer.decode([*tokenizer.encode("bob"), PAD_ID, PAD_ID]) == "bob"


def test_a_pair_seen_fewer_than_min_count_times_is_unknown():
    once, twice = BigramTokenizer.from_texts(NAMES, 1), BigramTokenizer.from_texts(NAMES, 2)
    assert "bo" in once.bigrams and "bo" not in twice.bigrams  # only in bob
    assert "an" in twice.bigrams  # anna, ann
    assert twice.encode("bob")[0] == UNKNOWN_ID


def test_the_unknown_token_stands_for_every_pair_of_symbols_without_a_token_of_its_own():
    tokenizer = BigramTokenizer(("ab", "b."), ("a", "b"))
    # symbols: a, b, the end, the filler and any other character: 5 × 5 pairs, 2 with a token
    assert tokenizer.unknown_pairs == 23
    assert unknown_cost(tokenizer) == pytest.approx(math.log(23))


def test_bigram_tensors_predict_each_pair_from_the_start_token_and_the_pairs_before_it():
    tokenizer = BigramTokenizer.from_texts(NAMES)
    inputs, targets = bigram_tensors(["anna", "ann"], tokenizer, 4)
    an, na, end = tokenizer.encode("anna")
    assert inputs.tolist() == [[END_ID, an, na, PAD_ID], [END_ID, an, PAD_ID, PAD_ID]]
    assert targets.tolist() == [[an, na, end, PAD_ID], [*tokenizer.encode("ann"), PAD_ID, PAD_ID]]
    with pytest.raises(ValueError, match="max_len"):
        bigram_tensors(["anna"], tokenizer, 2)


# --- negative log-likelihood per character -------------------------------------------------


def test_per_character_nll_sums_each_names_tokens_over_its_characters_and_end():
    tokenizer = BigramTokenizer.from_texts(["ab", "abc"])  # pairs: ab, ._, c.
    _, targets = bigram_tensors(["ab", "abc", "zz"], tokenizer, 2)
    size = tokenizer.vocab_size
    logits = torch.zeros(3, 2, size)  # every token equally likely: each costs log(size)
    nll = token_nll(logits, targets, unknown_cost(tokenizer))
    # ab = [ab, ._], abc = [ab, c.], zz = [unknown (zz), ._]: two tokens each, the unknown one spread
    assert nll.tolist() == pytest.approx(
        [2 * math.log(size), 2 * math.log(size), 2 * math.log(size) + unknown_cost(tokenizer)]
    )
    # 3 + 4 + 3 characters with their ends
    expected = (6 * math.log(size) + math.log(tokenizer.unknown_pairs)) / 10
    assert nats_per_character(nll, ["ab", "abc", "zz"]) == pytest.approx(expected)
    with pytest.raises(ValueError, match="one NLL per text"):
        nats_per_character(nll[:2], ["ab", "abc", "zz"])


def test_on_character_tokens_the_per_character_nll_is_the_character_models_test_nll():
    torch.manual_seed(0)
    tokenizer = CharTokenizer.from_texts(NAMES)
    model = CharLanguageModel(tokenizer.vocab_size, 4, "lstm", 8, 8)
    inputs, targets = language_model_tensors(NAMES, tokenizer, 8)
    with torch.no_grad():
        logits = model(inputs)
    assert nats_per_character(token_nll(logits, targets), NAMES) == pytest.approx(
        float(masked_cross_entropy(logits, targets)), rel=1e-6
    )


# --- sizes and samples ------------------------------------------------------------------


def test_the_hidden_size_is_the_one_whose_parameter_count_is_nearest_the_budget():
    model = ModelParams(cells=["lstm"], embedding_dim=4, n_seeds=1)
    budget = count_parameters(CharLanguageModel(50, 4, "lstm", 7, 8))
    assert matched_hidden_size(budget, 50, model, "lstm", 8, most=32) == 7
    assert matched_hidden_size(budget + 3, 50, model, "lstm", 8, most=32) == 7
    assert matched_hidden_size(budget, 50, model, "lstm", 8, most=5) == 5  # no larger than asked


class _Always(torch.nn.Module):
    """A language model that always writes token ``token`` (logits ``(n, T, size)``)."""

    def __init__(self, size: int, token: int) -> None:
        super().__init__()
        self.size, self.token = size, token
        self.unused = torch.nn.Parameter(torch.zeros(1))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        logits = torch.full((*tokens.shape, self.size), -1e9)
        logits[..., self.token] = 0.0
        return logits


def test_a_bigram_sample_stops_at_the_first_pair_that_holds_the_end():
    tokenizer = BigramTokenizer.from_texts(NAMES)
    ending = tokenizer.encode("ann")[-1]  # "n."
    written = sample_texts(
        _Always(tokenizer.vocab_size, ending), tokenizer, 3, 6, 1.0, torch.Generator(), tokenizer.end_ids
    )
    assert written == ["n"] * 3
    looping = tokenizer.encode("anna")[0]  # "an", never an end: stops at max_len - 1 tokens
    written = sample_texts(
        _Always(tokenizer.vocab_size, looping), tokenizer, 1, 4, 1.0, torch.Generator(), tokenizer.end_ids
    )
    assert written == ["ananan"]


# --- the study end to end on smoke ------------------------------------------------------


@pytest.fixture(scope="module")
def project(smoke_run) -> Path:
    """The project copy where the sequence pipeline ran on the smoke environment."""
    return smoke_run("sequence")


def tokens_table(project: Path) -> pd.DataFrame:
    """The study's table, as the report reads it."""
    return pd.read_csv(project / "data/08_reporting/sequence/text/tokens.csv")


def test_each_seed_of_the_cell_on_bigrams_sits_beside_the_tasks_own_model_on_characters(project: Path):
    params = load_parameters("smoke", project)["sequence"]["text"]
    table = tokens_table(project)
    units = pd.read_csv(project / "data/08_reporting/sequence/units.csv")
    characters = ModelDataset(str(project / "data/06_models/sequence/text.pt")).load()
    cell = params["tokens"]["cell"]
    assert sorted(table.seed) == list(range(params["model"]["n_seeds"]))
    assert (table.cell == cell).all() and (table.study == TOKENS_STUDY).all()
    for _, row in table.iterrows():
        own = units[(units.task == "text") & (units.cell == cell) & (units.seed == row["seed"])]
        assert row["characters"] == pytest.approx(float(own["value"].iloc[0]))  # read, not retrained
        control = characters[f"text-{cell}-T{params['data']['max_len']}-s{row['seed']}"]
        assert row["parameters_characters"] == count_parameters(control.module)
        assert row["bigrams"] > 0 and row["bigrams_per_token"] > row["bigrams"]  # a token is two characters
    samples = pd.read_csv(
        project / "data/08_reporting/sequence/text/token_samples.csv", keep_default_na=False
    )
    assert samples.groupby("seed").size().eq(params["sampling"]["n_samples"]).all()
    assert (project / "data/08_reporting/sequence/text/tokens.png").stat().st_size > 0


def test_every_bigram_model_is_a_child_run_with_its_network_and_the_character_models_say_so(
    project: Path, runs: dict, mlflow_client: MlflowClient
):
    children = runs["children"]
    bigram = [child for child in children if child.data.params.get("study") == TOKENS_STUDY]
    assert len(bigram) == len(tokens_table(project))
    assert {child.data.params["tokens"] for child in bigram} == {"bigrams"}
    assert {child.data.params["task"] for child in bigram} == {"text-bigrams"}
    assert all("test_nll_per_char" in child.data.metrics for child in bigram)
    text = [child for child in children if child.data.params["task"] == "text"]
    assert text and {child.data.params["tokens"] for child in text} == {"characters"}
    logged = logged_models(mlflow_client, bigram)
    assert set(logged) == {child.info.run_name for child in bigram}
    network = _served(logged[bigram[0].info.run_name], mlflow_client)
    row = tokens_table(project).query(f"seed == {bigram[0].data.params['seed']}").iloc[0]
    assert network.kind == "sequence"  # the bigram network itself: its vocabulary and its size
    assert network.trained.module.vocab_size == row["vocab_bigrams"]
    assert count_parameters(network.trained.module) == row["parameters_bigrams"]


def _served(logged, client: MlflowClient):
    """The network an MLflow model serves, loaded as MLflow loads it."""
    with tracking_at(client.tracking_uri):
        return mlflow.pyfunc.load_model(f"models:/{logged.model_id}").unwrap_python_model()


def test_the_claim_reads_the_study_and_gets_a_verdict_on_smoke(project: Path):
    claims = PipelineClaims.model_validate(load_parameters("base", PROJECT_ROOT)["sequence"]["claims"]).root
    (claim,) = [claim for claim in claims if claim.id == "tokenisation"]
    table = tokens_table(project)
    rule = RuleParams(**load_parameters("smoke", project)["report"]["rule"])
    result = evaluate_claim(claim, {"text_tokens": table}, rule)
    assert result.verdict in VERDICTS and result.effect is not None
    assert result.effect.n == len(table)
    # side "less": positive when the bigram model is below the character model
    assert result.effect.effect == pytest.approx((table.characters - table.bigrams).mean())
