"""Notebook 04b · Fine-tuning experiments: its exercise checkers pass right answers and name the usual mistakes."""

import numpy as np
from scipy import stats

from bertlab.exercises import check_confidence_interval, check_freeze_encoder, check_mean_sd
from checking import flagged, passes


def test_mean_sd_uses_the_sample_standard_deviation(capsys):
    passes(capsys, check_mean_sd, lambda v: (float(np.mean(v)), float(np.std(v, ddof=1))))
    assert "n - 1, not n" in flagged(capsys, check_mean_sd, lambda v: (float(np.mean(v)), float(np.std(v))))


def test_confidence_interval_uses_the_t_distribution(capsys):
    passes(capsys, check_confidence_interval,
           lambda v, level: stats.t.interval(level, len(v) - 1, loc=np.mean(v), scale=stats.sem(v)))
    normal = lambda v, level: (np.mean(v) - 1.96 * stats.sem(v), np.mean(v) + 1.96 * stats.sem(v))  # noqa: E731
    assert "t distribution" in flagged(capsys, check_confidence_interval, normal)


def test_freeze_encoder_freezes_the_pooler_too(capsys):
    def freeze(model):
        for p in model.bert.parameters():
            p.requires_grad = False

    def freeze_encoder_only(model):
        for p in model.bert.encoder.parameters():
            p.requires_grad = False

    passes(capsys, check_freeze_encoder, freeze)
    assert "pooler" in flagged(capsys, check_freeze_encoder, freeze_encoder_only)
