"""The tagging task: entity F1, padding and masking, held-out entities, the lookup and unigram baselines."""

import functools

import numpy as np
import pandas as pd
import pytest
import torch

from dlpipeline.data.entities import COLUMNS, faker_pools, sentences_of, split_pools
from dlpipeline.data.surnames import MissingCorpusError
from dlpipeline.data.tagging import TAGS, WordVocabulary, entity_counts, entity_f1, padded, spans, tag_id
from dlpipeline.executor import ExecutorParams
from dlpipeline.models.char_lm import masked_cross_entropy
from dlpipeline.models.tagger import TokenTagger
from dlpipeline.pipelines.sequence import data, tagging, training
from dlpipeline.pipelines.sequence.params import ModelParams, TaggingDataParams, TaggingShownParams
from dlpipeline.training import TrainConfig

CELLS = ["rnn", "lstm", "gru", "transformer"]
DATA = TaggingDataParams(place_locales=["de_DE"], n_train=40, n_test=12, n_draws=2)
TRUE = ["B-person", "I-person", "O", "O", "B-place", "O", "B-date", "I-date", "I-date"]


def test_entity_f1_is_one_for_a_perfect_tagging_and_counts_span_and_type_together():
    assert spans(TRUE) == {(0, 1, "person"), (4, 4, "place"), (6, 8, "date")}
    assert entity_f1([TRUE], [TRUE]) == 1.0
    wrong_type = [*TRUE[:4], "B-organisation", *TRUE[5:]]
    assert entity_f1([TRUE], [wrong_type]) == pytest.approx(2 * 2 / (3 + 3))
    wrong_span = ["B-person", "O", *TRUE[2:]]  # the person's last word missed: the entity is not found
    assert entity_f1([TRUE], [wrong_span]) == pytest.approx(2 * 2 / (3 + 3))
    nothing = ["O"] * len(TRUE)
    counts = entity_counts([TRUE], [nothing])
    assert (counts.true, counts.predicted, counts.correct, counts.f1) == (3, 0, 0, 0.0)
    assert counts.precision == 0.0 and counts.recall == 0.0
    assert entity_f1([["O", "O"]], [["O", "O"]]) == 1.0  # nothing to find, nothing claimed
    assert entity_f1([["O", "O"]], [["B-date", "O"]]) == 0.0
    assert entity_f1([], []) == 1.0


def test_spans_read_an_inside_tag_that_continues_nothing_as_a_new_entity():
    assert spans(["I-place", "I-place", "B-place", "I-date"]) == {
        (0, 1, "place"),
        (2, 2, "place"),
        (3, 3, "date"),
    }
    assert spans(["B-person", "I-person", "<pad>", "<pad>"]) == {(0, 1, "person")}
    assert entity_counts([TRUE], [TRUE], "date").true == 1


def test_the_loss_gives_padded_steps_outputs_zero_gradient():
    tags = padded([[tag_id(tag) for tag in TRUE], [tag_id("O")] * 4], 12, 0)
    logits = torch.randn(2, 12, len(TAGS), requires_grad=True)
    masked_cross_entropy(logits, tags).backward()
    padding = tags == 0
    assert (logits.grad[padding] == 0).all()
    assert (logits.grad[~padding].abs().sum(dim=-1) > 0).all()


@pytest.mark.parametrize("cell", CELLS)
def test_padding_a_sentence_more_changes_no_tag_of_its_words_in_any_cell(cell):
    torch.manual_seed(0)
    model = TokenTagger(20, len(TAGS), 16, cell=cell, embedding_dim=6, hidden_size=8, n_heads=2, n_layers=1)
    short = padded([[3, 4, 5], [6, 7, 8, 9, 10]], 5, 0)
    longer = padded([[3, 4, 5], [6, 7, 8, 9, 10]], 16, 0)
    torch.testing.assert_close(
        model(longer)[:, :5][short != 0], model(short)[short != 0], rtol=1e-5, atol=1e-6
    )
    embedded = model.embedding.weight
    model(longer).sum().backward()  # the padding row of the embedding learns nothing either
    assert (embedded.grad[0] == 0).all() and (embedded.grad[3:11].abs().sum(dim=-1) > 0).all()


def test_held_out_entities_and_their_name_and_year_words_never_occur_in_training():
    pools = faker_pools(["de_DE"])
    train_pools, test_pools = split_pools(pools, 0.3, np.random.default_rng(0))
    train_words = set(train_pools.given) | set(train_pools.family)
    assert not train_words & (set(test_pools.given) | set(test_pools.family))
    assert not set(train_pools.places) & set(test_pools.places)
    assert not set(train_pools.years) & set(test_pools.years)
    train, test = data.generate_tagged_sentences(DATA)
    assert list(train.columns) == COLUMNS and set(train["draw"]) == set(test["draw"]) == {0, 1}
    for draw in (0, 1):
        train_entities = _entities(train[train["draw"] == draw])
        test_entities = _entities(test[test["draw"] == draw])
        assert test_entities and not {text for text, _ in train_entities} & {
            text for text, _ in test_entities
        }
        training_words = set(train[train["draw"] == draw]["token"])
        for text, kind in test_entities:
            if kind == "person":  # every word of a held-out person is a held-out name word
                assert not set(text.split()) & training_words, text
            if kind == "date":  # its year is a held-out one
                assert text.split()[-1] not in training_words, text


def _entities(table: pd.DataFrame) -> set[tuple[str, str]]:
    """Every entity of a table's sentences as its text and type."""
    return {
        (" ".join(tokens[start : end + 1]), kind)
        for tokens, tags in sentences_of(table)
        for start, end, kind in spans(tags)
    }


def test_a_place_locale_missing_from_faker_is_told_in_one_line_naming_it():
    with pytest.raises(MissingCorpusError, match="xx_NOWHERE") as raised:
        faker_pools(["xx_NOWHERE"])
    assert "\n" not in str(raised.value)


def tiny_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two training sentences and one test sentence, one row per token."""

    def table(sentences: list[list[tuple[str, str]]]) -> pd.DataFrame:
        rows = [
            (0, number, position, token, tag)
            for number, sentence in enumerate(sentences)
            for position, (token, tag) in enumerate(sentence)
        ]
        return pd.DataFrame(rows, columns=COLUMNS)

    train = table(
        [
            [("Ann", "B-person"), ("Lee", "I-person"), ("visited", "O"), ("Bonn", "B-place"), (".", "O")],
            [("Lee", "B-organisation"), ("LLC", "I-organisation"), ("visited", "O"), ("Bonn", "B-place")],
        ]
    )
    test = table(
        [
            [
                ("Ann", "B-person"),
                ("Lee", "I-person"),
                ("met", "O"),
                ("Zoe", "B-person"),
                ("in", "O"),
                ("Bonn", "B-place"),
            ]
        ]
    )
    return train, test


def test_the_lookup_tags_the_longest_known_training_entity_and_nothing_it_never_saw():
    train, test = tiny_tables()
    lexicon = tagging.fit_lookup(train)
    assert lexicon == {("Ann", "Lee"): "person", ("Bonn",): "place", ("Lee", "LLC"): "organisation"}
    predicted = tagging.lookup_tags(train, test)
    assert list(predicted["predicted"]) == ["B-person", "I-person", "O", "O", "O", "B-place"]
    assert set(predicted["cell"]) == {tagging.LOOKUP} and set(predicted["run"]) == {"tagging-lookup-d0"}
    scores = tagging.run_scores(predicted)
    assert scores["entity_f1"] == pytest.approx(2 * 2 / (3 + 2))  # Zoe, never seen, is missed
    assert scores["precision"] == 1.0 and scores["f1_place"] == 1.0


def test_the_unigram_control_tags_each_word_alone_by_its_most_frequent_training_tag():
    train, test = tiny_tables()
    control = tagging.fit_unigram(train, min_count=2)
    assert control["visited"] == "O" and control["Bonn"] == "B-place"
    assert control["<unk>"] in {"B-person", "I-person", "B-organisation", "I-organisation", "O"}
    predicted = tagging.unigram_tags(train, test, DATA.model_copy(update={"min_count": 2}))
    words = dict(zip(predicted["token"], predicted["predicted"], strict=True))
    assert words["Bonn"] == "B-place" and words["Zoe"] == words["met"] == control["<unk>"]


@functools.cache  # trained once for every test that reads it
def trained_tiny() -> tuple[training.TrainedModels, pd.DataFrame, pd.DataFrame]:
    """Two cells trained for two epochs on two tiny draws, a seed each."""
    train, test = data.generate_tagged_sentences(DATA)
    model = ModelParams(cells=["rnn", "transformer"], hidden_size=8, embedding_dim=8, n_seeds=2, n_layers=1)
    config = TrainConfig(epochs=2, learning_rate=0.01, batch_size=16, threads=1)
    tasks = tagging.tagging_tasks(train, test, DATA)
    models = training.train_models(tasks, model, config, ExecutorParams(kind="local"))
    return models, train, test


def test_each_draw_is_one_padded_tagging_task_whose_vocabulary_holds_only_frequent_training_words():
    _, train, test = trained_tiny()
    tasks = tagging.tagging_tasks(train, test, DATA)
    assert [task.draw for task in tasks] == [0, 1]
    for task in tasks:
        assert task.kind == "tagging" and task.metric == "entity_f1" and task.output_size == len(TAGS)
        words = train[train["draw"] == task.draw]["token"].value_counts()
        assert set(task.characters) == set(words[words >= DATA.min_count].index)
        assert ((task.train_features == 0) == (task.train_targets == 0)).all()  # padding in both, alike
        vocabulary = WordVocabulary(task.characters)
        first = sentences_of(test[test["draw"] == task.draw])[0][0]
        assert task.test_features[0, : len(first)].tolist() == vocabulary.encode(first)


def test_every_model_and_baseline_is_scored_and_paired_with_the_lookup_of_its_own_draw():
    models, train, test = trained_tiny()
    predictions = tagging.model_tags(models, test, DATA)
    lookup = tagging.lookup_tags(train, test)
    unigram = tagging.unigram_tags(train, test, DATA)
    scores = tagging.tagging_scores(predictions, lookup, unigram)
    for label, trained in models.items():
        assert scores.set_index("run").loc[label, "entity_f1"] == pytest.approx(
            trained.about.test_metrics["entity_f1"]
        )
    units = tagging.tagging_units(scores, DATA)
    assert set(units["cell"]) == {"rnn", "transformer", tagging.UNIGRAM}
    assert len(units) == len(tagging.METRICS) * (len(models) + 2)
    lookup_scores = scores[scores["cell"] == tagging.LOOKUP].set_index("draw")
    for _, row in units.iterrows():
        assert row["baseline"] == lookup_scores.loc[row["draw"], row["metric"]]
    rnn = units[(units["cell"] == "rnn") & (units["metric"] == "entity_f1")]
    assert sorted(rnn["draw"]) == [0, 1]  # one unit per draw, as the claim pairs them
    results = tagging.tagging_results(scores)
    assert set(results["cell"]) == {"rnn", "transformer", *tagging.BASELINES}
    outputs = tagging.tagged_outputs(predictions, lookup, unigram, TaggingShownParams(n_outputs=5))
    assert outputs.groupby("cell")["sentence"].apply(tuple).nunique() == 1  # the same sentences for all
    assert outputs.groupby("cell").size().eq(5).all()
    assert (outputs["correct"] <= outputs["entities"]).all()
    runs = tagging.tagging_child_runs(models, predictions, lookup, unigram, scores)
    assert {(run.params["task"], run.params["cell"]) for run in runs} == {
        ("tagging", cell) for cell in ["rnn", "transformer", *tagging.BASELINES]
    }
    for run in runs:
        assert set(tagging.METRICS) <= set(run.metrics) and "tagged.txt" in run.texts


def test_render_brackets_each_entity_with_its_type():
    tokens = ["Ann", "Lee", "visited", "Bonn", "."]
    tags = ["B-person", "I-person", "O", "B-place", "O"]
    assert tagging.render(tokens, tags) == "[Ann Lee](person) visited [Bonn](place) ."
