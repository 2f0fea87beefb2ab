"""Checkers for notebook 04 · Fine-tuning."""

from __future__ import annotations

import torch
from sklearn.metrics import f1_score
from transformers import get_linear_schedule_with_warmup

from .core import check


def check_padding_waste(fn) -> bool:
    """Check ``fn(lengths, batch_size) -> share of pad tokens`` for sequential batches padded
    to their longest member."""
    hint = "per batch: padded = batch size × longest length; waste = 1 − real / padded, summed over all batches"
    return check(fn, "padding_waste", [
        (([3, 5, 2, 2], 2), 1 - 12 / 14, hint), (([4, 4, 4], 2), 0.0, hint), (([1, 9], 1), 0.0, hint),
    ], "padding waste is computed correctly", tol=1e-9)


def check_macro_f1(fn) -> bool:
    """Check a macro-F1 implementation against scikit-learn."""
    hint = "F1 per class = 2·P·R/(P+R) (0 when P+R = 0), then the plain mean over classes"
    cases = [([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0]), ([0, 1, 0, 1], [0, 0, 0, 0]), ([1, 1, 0], [1, 1, 0])]
    return check(fn, "macro_f1", [((y, p), f1_score(y, p, average="macro", zero_division=0), hint) for y, p in cases],
                 "macro-F1 matches scikit-learn", tol=1e-9)


def check_warmup_schedule(fn) -> bool:
    """Check ``fn(step, warmup_steps, total_steps, peak_lr) -> lr`` against transformers'
    ``get_linear_schedule_with_warmup``."""
    warmup, total, peak = 10, 100, 1e-3
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=peak)
    factor = get_linear_schedule_with_warmup(opt, warmup, total).lr_lambdas[0]   # step -> share of peak_lr
    hint = "warm-up: peak·step/warmup; then peak·(total−step)/(total−warmup)"
    return check(fn, "lr_at", [((step, warmup, total, peak), peak * factor(step), hint) for step in range(total)],
                 "linear warm-up and decay match transformers' schedule", tol=1e-12)
