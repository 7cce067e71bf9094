"""Surnames by language from faker, and names as padded, masked one-hot steps."""

import pytest
import torch

from dlpipeline.data.surnames import (
    MissingCorpusError,
    decode_features,
    load_surnames,
    locale_surnames,
    name_features,
    padded_ids,
    shuffle_characters,
)
from dlpipeline.data.text import PAD_ID, UNKNOWN_GLYPH, UNKNOWN_ID, CharTokenizer

TOKENIZER = CharTokenizer.from_texts(["novák", "virtanen", "o'brien"])


def test_names_come_back_from_their_padded_steps_with_unknown_characters_marked():
    names = ["novák", "nováková", "ó'brien", "kovačić", "o"]  # ó, ć, č were never seen in training
    features = name_features(names, TOKENIZER, max_len=10)
    assert features.shape == (5, 10, TOKENIZER.vocab_size)
    unknown = UNKNOWN_GLYPH
    assert decode_features(features, TOKENIZER) == [
        "novák",
        "nováková",
        f"{unknown}'brien",
        f"kova{unknown}i{unknown}",
        "o",
    ]


def test_a_name_longer_than_max_len_is_cut_there_and_a_shorter_one_padded_with_pad():
    ids = padded_ids(["virtanen", "no"], TOKENIZER, max_len=4)
    assert TOKENIZER.decode(ids[0].tolist()) == "virt"
    assert ids[1, 2:].tolist() == [PAD_ID, PAD_ID]
    assert decode_features(name_features(["virtanen"], TOKENIZER, 4), TOKENIZER) == ["virt"]


def test_the_mask_channel_marks_exactly_the_characters_and_padded_steps_are_otherwise_zero():
    features = name_features(["nov", "virtanen", "ó"], TOKENIZER, max_len=6)
    mask, inputs = features[..., -1], features[..., :-1]
    assert mask.tolist() == [[1, 1, 1, 0, 0, 0], [1] * 6, [1, 0, 0, 0, 0, 0]]
    assert (inputs.sum(dim=-1) == mask).all()  # one hot where a character is, zero where padding is
    assert inputs[2, 0].argmax() + PAD_ID + 1 == UNKNOWN_ID


def test_an_empty_name_is_refused():
    with pytest.raises(ValueError, match="at least one character"):
        name_features(["ab", ""], TOKENIZER, max_len=4)


def test_a_locale_missing_from_the_installed_faker_is_answered_in_one_line_naming_it():
    with pytest.raises(MissingCorpusError) as raised:
        locale_surnames("xx_NOWHERE")
    message = str(raised.value)
    assert "\n" not in message
    assert "'xx_NOWHERE'" in message


def test_the_same_locale_missing_stops_the_corpus_that_asks_for_it():
    with pytest.raises(MissingCorpusError, match="xx_NOWHERE"):
        load_surnames({"english": "en_US", "nowhere": "xx_NOWHERE"})


def test_a_name_two_locales_list_is_dropped_and_each_kept_name_has_one_language():
    american, british = ({name.lower() for name in locale_surnames(locale)} for locale in ("en_US", "en_GB"))
    shared = american & british
    assert shared  # the two lists overlap, so the rule is exercised
    table = load_surnames({"us": "en_US", "gb": "en_GB"})
    assert not set(table["name"]) & shared
    assert table["name"].is_unique
    assert set(table[table["language"] == "us"]["name"]) == american - shared
    assert (table["name"] == table["name"].str.lower()).all()


def test_shuffling_keeps_each_names_letters_in_a_seeded_order():
    names = ["virtanen", "kovačić", "o"]
    shuffled = shuffle_characters(names, seed=[0, 1])
    assert [sorted(name) for name in shuffled] == [sorted(name) for name in names]
    assert shuffled == shuffle_characters(names, seed=[0, 1])
    assert shuffled != names
    assert shuffle_characters(names, seed=[0, 2]) != shuffled


def test_decoding_reads_the_mask_not_the_zero_steps():
    features = name_features(["nov"], TOKENIZER, max_len=5)
    features[0, 3:, :-1] = torch.eye(features.shape[-1] - 1)[0]  # junk one-hots after the mask ends
    assert decode_features(features, TOKENIZER) == ["nov"]
