"""Checkers for notebook 04b · Fine-tuning experiments."""

from __future__ import annotations

import numpy as np
from scipy import stats
from transformers import BertConfig, BertForSequenceClassification

from .core import check, same


def check_mean_sd(fn) -> bool:
    """Check ``fn(values) -> (mean, sample standard deviation)`` against NumPy (ddof=1)."""
    hint = "return a tuple (mean, standard deviation with n - 1 in the denominator)"
    cases = ([0.81, 0.79, 0.80], [0.5, 0.7], [0.75, 0.75, 0.75, 0.76])
    return check(fn, "mean_sd", [
        ((v,), (np.mean(v), np.std(v, ddof=1)), hint) for v in cases
    ], "mean and sample standard deviation are right", tol=1e-9, mistakes=[
        (lambda got, want, a: same(got[1], np.std(a[0]), 1e-9), "",
         "the sample standard deviation divides by n - 1, not n: with 3 seeds the difference is large"),
    ])


def check_confidence_interval(fn) -> bool:
    """Check a Student-t confidence interval for the mean of a few runs against SciPy."""
    hint = ("use the t distribution with n - 1 degrees of freedom (scipy.stats.t.ppf), "
            "not the normal 1.96: with 3 runs the interval is much wider")
    cases = [([0.81, 0.79, 0.80], 0.95), ([0.70, 0.74, 0.69, 0.73, 0.71], 0.9)]
    return check(fn, "confidence_interval", [
        ((v, level), stats.t.interval(level, len(v) - 1, loc=np.mean(v), scale=stats.sem(v)), hint)
        for v, level in cases
    ], "t-based confidence intervals match SciPy")


def check_freeze_encoder(fn) -> bool:
    """Check that ``fn(model)`` leaves only the classification head trainable."""
    model = BertForSequenceClassification(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
                                                     num_attention_heads=2, intermediate_size=32))

    def right(_):
        trainable = sorted(n for n, p in model.named_parameters() if p.requires_grad)
        return "" if trainable == ["classifier.bias", "classifier.weight"] else f"left {trainable[:4]}... trainable"

    return check(fn, "freeze_encoder(model)", [
        ((model,), right, "set requires_grad = False on every parameter of model.bert (pooler included)"),
    ], "only the classifier (2 tensors) is left trainable")
