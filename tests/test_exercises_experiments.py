"""Notebook 04b · Fine-tuning experiments: its exercise checkers pass right answers and name the usual mistakes."""

import re

import numpy as np
import pytest
from scipy import stats

import bertlab
from bertlab.exercises import (check_confidence_interval, check_freeze_encoder, check_pooling, check_pooling_reading,
                               check_seed_spread_reading)
from checking import flagged, passes, unfinished


def test_confidence_interval_uses_the_t_distribution_and_the_sample_sd(capsys):
    passes(capsys, check_confidence_interval,
           lambda v, level: stats.t.interval(level, len(v) - 1, loc=np.mean(v), scale=stats.sem(v)))
    normal = lambda v, level: (np.mean(v) - 1.96 * stats.sem(v), np.mean(v) + 1.96 * stats.sem(v))  # noqa: E731
    assert "t distribution" in flagged(capsys, check_confidence_interval, normal)

    def population(v, level):
        half = stats.t.ppf(0.5 + level / 2, len(v) - 1) * np.std(v) / len(v) ** 0.5
        return np.mean(v) - half, np.mean(v) + half

    assert "n - 1, not n" in flagged(capsys, check_confidence_interval, population)
    unfinished(capsys, check_confidence_interval)


def test_seed_spread_reading_asks_for_more_seeds_of_the_new_recipe(capsys):
    assert "several seeds" in passes(capsys, check_seed_spread_reading, lambda: "b")
    assert "seed alone" in flagged(capsys, check_seed_spread_reading, lambda: "a")
    unfinished(capsys, check_seed_spread_reading)


def pool(hidden, mask, how):
    if how == "cls":
        return hidden[:, 0]
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1)


@pytest.fixture(scope="module")
def minilm():
    return bertlab.load_encoder("minilm-l6"), bertlab.load_tokenizer("minilm-l6")


def test_pooling_takes_position_0_or_the_masked_mean_then_measures_both(capsys, minilm):
    assert check_pooling(pool, *minilm, 40) is True
    out, err = capsys.readouterr()
    assert out.startswith("✔ pool is right; frozen MiniLM + logistic regression on 40 training snippets, validated on 40: ")
    assert re.search(r"(mean pooling beats \[CLS\]|\[CLS\] matches or beats mean pooling)$", out.strip())
    assert re.fullmatch(r"validation accuracy: \[CLS\] [01]\.\d{3}, mean [01]\.\d{3}\n", err), "CPU-dependent figures go to stderr"
    last = lambda h, m, how: h[:, -1] if how == "cls" else pool(h, m, how)  # noqa: E731
    assert "[CLS] is position 0" in flagged(capsys, check_pooling, last, *minilm, 40)
    padded_mean = lambda h, m, how: pool(h, m, how) if how == "cls" else h.mean(1)  # noqa: E731
    assert "averaged the padding too" in flagged(capsys, check_pooling, padded_mean, *minilm, 40)
    summed = lambda h, m, how: pool(h, m, how) if how == "cls" else (h * m.unsqueeze(-1)).sum(1)  # noqa: E731
    assert "number of real tokens" in flagged(capsys, check_pooling, summed, *minilm, 40)
    every_token = lambda h, m, how: h  # noqa: E731
    assert "shape [batch, hidden]" in flagged(capsys, check_pooling, every_token, *minilm, 40)
    unfinished(capsys, check_pooling, *minilm, 40)


def test_pooling_reading_says_a_frozen_feature_is_good_at_what_it_was_trained_for(capsys):
    assert "what its training asked of it" in passes(capsys, check_pooling_reading, lambda: "c")
    assert "fine-tuned, beats every baseline" in flagged(capsys, check_pooling_reading, lambda: "b")
    unfinished(capsys, check_pooling_reading)


def test_freeze_encoder_freezes_the_pooler_too(capsys):
    def freeze(model):
        for p in model.bert.parameters():
            p.requires_grad = False

    def freeze_encoder_only(model):
        for p in model.bert.encoder.parameters():
            p.requires_grad = False

    passes(capsys, check_freeze_encoder, freeze)
    assert "pooler" in flagged(capsys, check_freeze_encoder, freeze_encoder_only)
    unfinished(capsys, check_freeze_encoder)
