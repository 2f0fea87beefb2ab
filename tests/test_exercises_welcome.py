"""Notebook 00 · Welcome: its exercise checkers pass right answers and name the usual mistakes."""

from collections import Counter

import pytest

import bertlab
from bertlab.exercises import check_count_pieces, check_majority_baseline, check_offline_choice, check_profile_choice
from checking import flagged, passes, unfinished


@pytest.fixture(scope="module")
def tokenizer():
    return bertlab.load_tokenizer("minilm-l6")


def test_count_pieces_counts_wordpiece_pieces_without_special_tokens(capsys, tokenizer):
    assert "'electroencephalography' 5" in passes(capsys, check_count_pieces,
                                                          lambda w: len(tokenizer.tokenize(w)))
    with_specials = lambda w: len(tokenizer(w)["input_ids"])  # noqa: E731
    assert "adds [CLS] and [SEP]" in flagged(capsys, check_count_pieces, with_specials)
    assert "not characters" in flagged(capsys, check_count_pieces, lambda w: len(w) if w != "the" else 1)
    assert "not words" in flagged(capsys, check_count_pieces, lambda w: len(w.split()))
    unfinished(capsys, check_count_pieces)


def majority(dataset):
    label = Counter(dataset["train"]["label"]).most_common(1)[0][0]
    return sum(y == label for y in dataset["test"]["label"]) / len(dataset["test"])


def test_majority_baseline_uses_the_most_frequent_training_label(capsys):
    assert "rotten_tomatoes 57.8%" in passes(capsys, check_majority_baseline, majority)
    mean_label = lambda d: sum(d["test"]["label"]) / len(d["test"])  # noqa: E731
    assert "most frequent label" in flagged(capsys, check_majority_baseline, mean_label)
    count = lambda d: majority(d) * len(d["test"])  # noqa: E731
    assert "divide the number of right answers" in flagged(capsys, check_majority_baseline, count)
    unfinished(capsys, check_majority_baseline)


@pytest.mark.parametrize("checker, right, wrong, says", [
    (check_profile_choice, "b", "a", "reads BERTLAB_PROFILE at every call"),
    (check_offline_choice, "b", "d", "ModelNotFoundError"),
])
def test_the_multiple_choice_answers_are_explained(capsys, checker, right, wrong, says):
    passes(capsys, checker, lambda: right)
    assert says in flagged(capsys, checker, lambda: wrong)
    unfinished(capsys, checker)
