"""Text for the character language model: the names corpus, the tokenizer, tensors, the bigram baseline."""

import math
import re
from collections import Counter
from itertools import pairwise

import numpy as np
import pytest
import torch

from dlpipeline.data.text import (
    END,
    END_ID,
    PAD_ID,
    UNKNOWN_GLYPH,
    UNKNOWN_ID,
    CharTokenizer,
    bigram_counts,
    bigram_nll,
    language_model_tensors,
    load_first_names,
)

NAMES = ["emma", "olivia", "ava", "isabella", "sophia", "zoe", "al"]


def test_the_corpus_is_thousands_of_lowercase_names_sorted_and_unique():
    names = load_first_names()
    assert len(names) > 5000
    assert all(re.fullmatch(r"[a-z]+", name) for name in names)
    assert names == sorted(set(names))
    assert load_first_names() == names


def test_the_vocabulary_is_the_specials_then_the_sorted_training_characters():
    tokenizer = CharTokenizer.from_texts(["ba", "cab"])
    assert tokenizer.characters == ("a", "b", "c")
    assert tokenizer.vocab_size == 6
    assert (tokenizer.pad_id, tokenizer.unknown_id, tokenizer.end_id) == (0, 1, 2)
    assert tokenizer.vocabulary[END_ID] == END
    assert tokenizer.encode("abc") == [3, 4, 5]


def test_training_names_round_trip():
    tokenizer = CharTokenizer.from_texts(NAMES)
    for name in NAMES:
        assert tokenizer.decode(tokenizer.encode(name)) == name


def test_an_unseen_character_becomes_unknown_and_decodes_visibly():
    tokenizer = CharTokenizer.from_texts(["abc"])
    assert tokenizer.encode("axb") == [3, UNKNOWN_ID, 4]
    assert tokenizer.decode(tokenizer.encode("axb")) == f"a{UNKNOWN_GLYPH}b"
    assert UNKNOWN_GLYPH not in "abcdefghijklmnopqrstuvwxyz"


def test_decode_stops_at_end_and_skips_padding():
    tokenizer = CharTokenizer.from_texts(["abc"])
    assert tokenizer.decode([3, PAD_ID, 4, END_ID, 5, 5]) == "ab"
    assert tokenizer.decode([END_ID, 3]) == ""
    assert tokenizer.decode(torch.tensor([5, 4, 3])) == "cba"
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tokenizer.decode([6])


def test_reserved_or_malformed_characters_are_refused():
    with pytest.raises(ValueError, match="reserved"):
        CharTokenizer.from_texts(["a.b"])
    with pytest.raises(ValueError, match="reserved"):
        CharTokenizer((UNKNOWN_GLYPH,))
    with pytest.raises(ValueError, match="single character"):
        CharTokenizer(("ab",))
    with pytest.raises(ValueError, match="unique"):
        CharTokenizer(("a", "a"))


def test_tensors_shift_the_text_by_one_between_end_started_inputs_and_end_finished_targets():
    tokenizer = CharTokenizer.from_texts(NAMES)
    max_len = 10
    inputs, targets = language_model_tensors(NAMES, tokenizer, max_len)
    assert inputs.shape == targets.shape == (len(NAMES), max_len)
    assert inputs.dtype == targets.dtype == torch.long
    assert (inputs[:, 0] == END_ID).all()
    for row, name in enumerate(NAMES):
        n = len(name)
        assert inputs[row, 1 : n + 1].tolist() == tokenizer.encode(name)
        assert targets[row, :n].tolist() == tokenizer.encode(name)
        assert targets[row, n] == END_ID
        assert (targets[row, n + 1 :] == PAD_ID).all()
        assert (inputs[row, n + 1 :] == PAD_ID).all()
    real = targets != PAD_ID
    # wherever the next input is real, the current target is that input
    next_real = inputs[:, 1:] != PAD_ID
    assert torch.equal(targets[:, :-1][next_real], inputs[:, 1:][next_real])
    # real targets are exactly len(text) + 1 per text
    assert real.sum(dim=1).tolist() == [len(name) + 1 for name in NAMES]


def test_a_text_that_fills_max_len_exactly_fits_and_a_longer_one_is_refused():
    tokenizer = CharTokenizer.from_texts(["abc"])
    inputs, targets = language_model_tensors(["abc"], tokenizer, max_len=4)
    assert inputs.tolist() == [[END_ID, 3, 4, 5]]
    assert targets.tolist() == [[3, 4, 5, END_ID]]
    with pytest.raises(ValueError, match="at least 5"):
        language_model_tensors(["abcd", "ab"], tokenizer, max_len=4)


def test_the_empty_text_is_just_end():
    tokenizer = CharTokenizer.from_texts(["a"])
    inputs, targets = language_model_tensors([""], tokenizer, max_len=3)
    assert inputs.tolist() == [[END_ID, PAD_ID, PAD_ID]]
    assert targets.tolist() == [[END_ID, PAD_ID, PAD_ID]]


def test_bigram_counts_read_each_text_between_two_ends():
    tokenizer = CharTokenizer.from_texts(["ab", "abb", "b"])
    counts = bigram_counts(["ab", "abb", "b"], tokenizer)
    assert counts.shape == (tokenizer.vocab_size, tokenizer.vocab_size)
    a, b = tokenizer.encode("ab")
    assert counts[END_ID, a] == 2
    assert counts[END_ID, b] == 1
    assert counts[a, b] == 2
    assert counts[b, b] == 1
    assert counts[b, END_ID] == 3
    assert counts.sum() == 2 + 3 + 4


def test_unsmoothed_bigram_nll_on_its_own_corpus_is_the_counted_conditional_entropy():
    corpus = ["ab", "abb", "b"]
    pairs = Counter()
    for text in corpus:
        padded = "^" + text + "$"
        pairs.update(pairwise(padded))
    contexts = Counter()
    for (first, _), count in pairs.items():
        contexts[first] += count
    total = sum(pairs.values())
    expected = sum(count / total * -math.log(count / contexts[first]) for (first, _), count in pairs.items())

    tokenizer = CharTokenizer.from_texts(corpus)
    counts = bigram_counts(corpus, tokenizer)
    assert bigram_nll(counts, corpus, tokenizer, smoothing=0.0) == pytest.approx(expected, rel=1e-12)


def test_a_one_name_corpus_by_hand():
    # ".aa." : P(a|.) = 1, P(a|a) = P(.|a) = 1/2  →  (0 + log 2 + log 2) / 3
    tokenizer = CharTokenizer.from_texts(["aa"])
    counts = bigram_counts(["aa"], tokenizer)
    assert bigram_nll(counts, ["aa"], tokenizer, smoothing=0.0) == pytest.approx(2 / 3 * math.log(2))
    # smoothing 1 over a vocabulary of 4: P(a|.) = 2/5, P(a|a) = P(.|a) = 2/6
    smoothed = bigram_nll(counts, ["aa"], tokenizer, smoothing=1.0)
    assert smoothed == pytest.approx((math.log(5 / 2) + 2 * math.log(3)) / 3)


def test_smoothing_keeps_an_unseen_pair_finite():
    tokenizer = CharTokenizer.from_texts(["ab"])
    counts = bigram_counts(["ab"], tokenizer)
    assert bigram_nll(counts, ["ba"], tokenizer, smoothing=0.0) == math.inf
    smoothed = bigram_nll(counts, ["ba"], tokenizer, smoothing=0.5)
    assert math.isfinite(smoothed)
    assert smoothed > bigram_nll(counts, ["ab"], tokenizer, smoothing=0.5)


def test_unknown_characters_score_as_their_own_context_without_nan():
    tokenizer = CharTokenizer.from_texts(["ab"])
    counts = bigram_counts(["ab"], tokenizer)
    assert counts[UNKNOWN_ID].sum() == 0 and counts[PAD_ID].sum() == 0
    assert bigram_nll(counts, ["az"], tokenizer, smoothing=0.0) == math.inf
    assert math.isfinite(bigram_nll(counts, ["az"], tokenizer, smoothing=1.0))
    assert not np.isnan(bigram_nll(counts, ["ab"], tokenizer, smoothing=0.0))


def test_bigram_nll_refuses_bad_arguments():
    tokenizer = CharTokenizer.from_texts(["ab"])
    counts = bigram_counts(["ab"], tokenizer)
    with pytest.raises(ValueError, match="non-negative"):
        bigram_nll(counts, ["ab"], tokenizer, smoothing=-1.0)
    with pytest.raises(ValueError, match="no texts"):
        bigram_nll(counts, [], tokenizer, smoothing=1.0)
    with pytest.raises(ValueError, match="counts must be"):
        bigram_nll(counts[:-1], ["ab"], tokenizer, smoothing=1.0)


def test_the_bigram_baseline_on_real_names_lies_between_perfect_and_uniform():
    names = load_first_names()
    train, test = names[::2], names[1::2]
    tokenizer = CharTokenizer.from_texts(train)
    counts = bigram_counts(train, tokenizer)
    nll = bigram_nll(counts, test, tokenizer, smoothing=1.0)
    assert 1.5 < nll < math.log(tokenizer.vocab_size)
