"""The translation task: number words, tokens, padding, greedy decoding and scores, on constructed cases."""

import ast
import hashlib
from pathlib import Path

import pandas as pd
import pytest
import torch

from dlpipeline.data.number_words import english, spanish
from dlpipeline.data.text import END_ID, PAD_ID, UNKNOWN_GLYPH, CharTokenizer
from dlpipeline.datasets import TableDataset
from dlpipeline.models.seq2seq import RecurrentSeq2Seq, Seq2Seq, TransformerSeq2Seq, greedy_decode
from dlpipeline.pipelines.sequence import translate, translate_data
from dlpipeline.pipelines.sequence.params import Seq2SeqSpec, TranslateDataParams, TranslateModelParams

DATA = TranslateDataParams(languages=["english", "spanish"], n_numbers=200, max_digits=4, train_max_len=24)


@pytest.mark.parametrize(
    ("number", "in_english", "in_spanish"),
    [
        (0, "zero", "cero"),
        (16, "sixteen", "dieciséis"),
        (21, "twenty-one", "veintiuno"),
        (100, "one hundred", "cien"),
        (115, "one hundred fifteen", "ciento quince"),
        (1001, "one thousand one", "mil uno"),
        (21100, "twenty-one thousand one hundred", "veintiún mil cien"),
        (31415, "thirty-one thousand four hundred fifteen", "treinta y un mil cuatrocientos quince"),
        (999_999, "nine hundred ninety-nine thousand nine hundred ninety-nine",
         "novecientos noventa y nueve mil novecientos noventa y nueve"),
    ],
)  # fmt: skip
def test_numbers_are_written_in_each_language_by_its_own_rules(number, in_english, in_spanish):
    assert english(number) == in_english and spanish(number) == in_spanish


def test_a_number_the_tables_cannot_write_is_refused():
    with pytest.raises(ValueError, match="outside"):
        english(1_000_000)


def test_tokens_round_trip_and_an_unseen_character_stays_visible_as_unknown():
    tokenizer = CharTokenizer.from_texts(["veintidos", "12"])
    ids = translate.source_ids(["veintidós", "21"], tokenizer, 12)
    assert ids.shape == (2, 12) and (ids[1, 2:] == PAD_ID).all()
    assert tokenizer.decode(ids[0].tolist()) == f"veintid{UNKNOWN_GLYPH}s"
    assert tokenizer.decode(ids[1].tolist()) == "21"
    with pytest.raises(ValueError, match="does not fit"):
        translate.source_ids(["veintidós"], tokenizer, 4)


def test_exact_match_and_character_error_rate_on_constructed_cases():
    targets = ["123", "45", "6"]
    assert translate.exact_match(["123", "54", ""], targets) == pytest.approx(1 / 3)
    # 0 edits, 2 substitutions ("54" for "45"), 1 insertion (of "6"): 3 edits over 6 characters
    assert translate.character_error_rate(["123", "54", ""], targets) == pytest.approx(3 / 6)
    assert translate.character_error_rate(targets, targets) == 0
    assert translate.edit_distance("kitten", "sitting") == 3
    assert translate.character_error_rate(["one two three"], ["123"]) > 1  # copying words costs more than all


class Scripted(Seq2Seq):
    """A decoder that writes ``script`` token by token whatever the source (to test decoding alone)."""

    def __init__(self, script: list[int], vocab_size: int = 6) -> None:
        super().__init__()
        self.source_len = 1
        self.script = script
        self.vocab_size = vocab_size
        self.calls = 0

    def logits(self, source: torch.Tensor, target_input: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        logits = torch.zeros(len(source), target_input.shape[1], self.vocab_size)
        for step in range(target_input.shape[1]):
            logits[:, step, self.script[min(step, len(self.script) - 1)]] = 1.0
        return logits


def test_greedy_decoding_stops_at_the_end_token():
    model = Scripted([4, 5, END_ID, 4, 4])
    written = greedy_decode(model, torch.ones(3, 2, dtype=torch.long), max_len=10)
    assert written.tolist() == [[4, 5, END_ID]] * 3
    assert model.calls == 3  # nothing is computed after every row has ended


def test_greedy_decoding_respects_the_maximum_length_and_pads_after_a_row_ends():
    written = greedy_decode(Scripted([4, 5, 4, 5, 4, 5]), torch.ones(2, 2, dtype=torch.long), max_len=4)
    assert written.tolist() == [[4, 5, 4, 5]] * 2

    class EndsFirstRow(Scripted):
        def logits(self, source, target_input):
            logits = super().logits(source, target_input)
            logits[0, :, END_ID] = 2.0  # row 0 ends at once; row 1 goes on
            return logits

    written = greedy_decode(EndsFirstRow([4]), torch.ones(2, 2, dtype=torch.long), max_len=3)
    assert written.tolist() == [[END_ID, PAD_ID, PAD_ID], [4, 4, 4]]


def models_under_test() -> list[Seq2Seq]:
    torch.manual_seed(0)
    return [
        RecurrentSeq2Seq(9, 4, 8, source_len=6, cell="gru", attention=False),
        RecurrentSeq2Seq(9, 4, 8, source_len=6, cell="gru", attention=True),
        RecurrentSeq2Seq(9, 4, 8, source_len=6, cell="lstm", attention=True),
        TransformerSeq2Seq(9, 8, source_len=6, max_len=16, n_heads=2, n_layers=1),
    ]


@pytest.mark.parametrize(
    "model", models_under_test(), ids=["gru", "gru+attention", "lstm+attention", "transformer"]
)
def test_padding_is_masked_more_padding_changes_no_output_and_takes_no_attention(model: Seq2Seq):
    source = torch.tensor([[3, 4, 5, 0, 0, 0], [6, 7, 8, 3, 4, 0]])
    target_input = torch.tensor([[END_ID, 3, 4], [END_ID, 5, 0]])
    longer = torch.cat([source, torch.zeros(2, 5, dtype=torch.long)], dim=1)
    torch.testing.assert_close(model.logits(source, target_input), model.logits(longer, target_input))
    weights = model.attention(longer, target_input)
    if weights is not None:
        assert (weights[0, :, 3:] == 0).all() and (weights[1, :, 5:] == 0).all()
        torch.testing.assert_close(weights.sum(dim=-1), torch.ones(2, 3))
    # the decoder is causal: a later target token changes no earlier step's logits
    changed = target_input.clone()
    changed[0, 2] = 7
    torch.testing.assert_close(
        model.logits(source, changed)[0, :2], model.logits(source, target_input)[0, :2]
    )


def test_pairs_are_deterministic_and_longer_sources_are_test_only():
    pairs = translate_data.generate_translation_pairs(DATA)
    pd.testing.assert_frame_equal(pairs, translate_data.generate_translation_pairs(DATA))
    assert pairs.groupby("language")["number"].nunique().eq(DATA.n_numbers).all()
    train, test = translate_data.split_translation_pairs(pairs, DATA)
    assert train["length"].max() <= DATA.train_max_len
    assert (test["longer"] == (test["length"] > DATA.train_max_len)).all() and test["longer"].any()
    trained = set(zip(train["language"], train["number"], strict=True))
    assert not trained & set(zip(test["language"], test["number"], strict=True))


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ({"models": [{"cell": "transformer", "attention": False}]}, "attention false"),
        ({"models": [{"cell": "gru", "attention": True}, {"cell": "gru", "attention": True}]}, "twice"),
        ({"models": [{"cell": "cnn", "attention": True}]}, "cell"),
    ],
)
def test_bad_model_parameters_are_refused_naming_the_problem(override, words):
    with pytest.raises(ValueError, match=words):
        TranslateModelParams.model_validate(override)


def test_each_configuration_trains_its_own_seeds_on_their_own_draws():
    model = TranslateModelParams(
        models=[Seq2SeqSpec(cell="gru", attention=False, n_seeds=1), Seq2SeqSpec(cell="gru", attention=True)],
        n_seeds=2,
    )
    assert [model.seeds_of(spec) for spec in model.models] == [[0], [0, 1]]
    assert [spec.name for spec in model.models] == ["gru", "gru+attention"]


def test_regenerated_pairs_are_byte_identical_as_dvc_hashes_them(tmp_path: Path):
    digests = []
    for attempt in (1, 2):
        path = tmp_path / f"test{attempt}.parquet"
        pairs = translate_data.generate_translation_pairs(DATA)
        TableDataset(filepath=str(path)).save(translate_data.split_translation_pairs(pairs, DATA)[1])
        digests.append(hashlib.md5(path.read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def test_the_data_nodes_import_only_data_code_and_their_parameters():
    tree = ast.parse(Path(translate_data.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    own = {name for name in imported if name and name.startswith("dlpipeline.")}
    assert own == {"dlpipeline.data.number_words", "dlpipeline.pipelines.sequence.params"}
