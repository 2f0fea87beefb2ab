"""Notebook 08 · Efficiency and scale: its exercise checkers pass right answers and name the usual mistakes."""

import statistics
import time

import pytest
import torch

from bertlab.exercises import check_int8_quantize, check_median_time, check_soft_target_loss
from checking import flagged, passes, F


def timed_runs(work, warmup, repeats, skip_warmup=True):
    for _ in range(warmup if skip_warmup else 0):
        work()
    times = []
    for _ in range(repeats if skip_warmup else warmup + repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def test_median_time_drops_warmup_runs_and_prints_no_measured_time(capsys):
    passes(capsys, check_median_time, lambda work, w, r: statistics.median(timed_runs(work, w, r)))
    mean = lambda work, w, r: statistics.mean(timed_runs(work, w, r))  # noqa: E731
    first = flagged(capsys, check_median_time, mean)
    assert "not the mean" in first
    assert flagged(capsys, check_median_time, mean) == first       # nbval compares outputs: no timings
    with_warmup = lambda work, w, r: statistics.median(timed_runs(work, w, r, skip_warmup=False))  # noqa: E731
    assert "the warm-up runs or the outlier got in" in flagged(capsys, check_median_time, with_warmup)
    assert "returned None" in flagged(capsys, check_median_time, lambda work, w, r: None)


def test_int8_quantize_is_symmetric_per_tensor_and_rounds(capsys):
    def quantize(w):
        scale = w.abs().max() / 127
        return torch.round(w / scale).to(torch.int8), float(scale)

    assert "largest error" in passes(capsys, check_int8_quantize, quantize)
    truncates = lambda w: ((w / (w.abs().max() / 127)).to(torch.int8), float(w.abs().max() / 127))  # noqa: E731
    assert "torch.round" in flagged(capsys, check_int8_quantize, truncates)
    per_row = lambda w: (torch.zeros_like(w, dtype=torch.int8), w.abs().amax(1) / 127)  # noqa: E731
    assert "one scale per tensor" in flagged(capsys, check_int8_quantize, per_row)
    float_q = lambda w: (torch.round(w / (w.abs().max() / 127)), float(w.abs().max() / 127))  # noqa: E731
    assert ".to(torch.int8)" in flagged(capsys, check_int8_quantize, float_q)


def soft_target_loss(student, teacher, t, reduction="batchmean", t_squared=True):
    kl = F.kl_div((student / t).log_softmax(-1), (teacher / t).log_softmax(-1), log_target=True, reduction=reduction)
    return kl * t * t if t_squared else kl


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
def test_soft_target_loss_is_batchmean_kl_times_t_squared(capsys):
    passes(capsys, check_soft_target_loss, soft_target_loss)
    no_t_squared = lambda s, t, T: soft_target_loss(s, t, T, t_squared=False)  # noqa: E731
    assert "T² factor" in flagged(capsys, check_soft_target_loss, no_t_squared)
    assert "reduction='mean' also divides" in flagged(capsys, check_soft_target_loss,
                                                      lambda s, t, T: soft_target_loss(s, t, T, reduction="mean"))
    per_example = lambda s, t, T: soft_target_loss(s, t, T, reduction="none").sum(-1)  # noqa: E731
    assert "batchmean" in flagged(capsys, check_soft_target_loss, per_example)
