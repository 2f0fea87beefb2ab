"""Notebook 08 · Efficiency and scale: its exercise checkers pass right answers and name the usual mistakes."""

import copy
import statistics
import time

import pytest
import torch
from datasets import Dataset

import bertlab
from bertlab import finetune
from bertlab.exercises import (check_int8_quantize, check_median_time, check_soft_label_confidence,
                               check_soft_target_loss, check_transfer_set_verdict)
from checking import flagged, passes, unfinished, F


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


@pytest.fixture(scope="module")
def reviews_and_teacher(tok, classifier):
    """Two tiny tokenized review sets, labelled against a sharpened random teacher's own predictions (reversed)."""
    teacher = copy.deepcopy(classifier)
    teacher.classifier.weight.data *= 50
    texts = ["a gentle, funny film", "dull and far too long", "the cast is wonderful", "I want my money back"]
    data = Dataset.from_dict({"text": texts, "label": [0] * len(texts)})
    predicted = bertlab.predict(teacher, tok, finetune.tokenize_dataset(tok, data, 32)).argmax(-1)
    data = finetune.tokenize_dataset(tok, Dataset.from_dict({"text": texts, "label": (1 - predicted).tolist()}), 32)
    return teacher, data.select(range(2)), data.select(range(2, 4))


def soft_label_confidence(teacher, tok, data, T, use_T=True, true_label=True):
    probs = (bertlab.predict(teacher, tok, data) / (T if use_T else 1)).softmax(-1)
    labels = torch.tensor(data["label"])
    return float((probs[torch.arange(len(labels)), labels] if true_label else probs.max(-1).values).mean())


def test_soft_label_confidence_is_the_true_labels_softened_probability(capsys, tok, reviews_and_teacher):
    teacher, seen, unseen = reviews_and_teacher
    context = (teacher, tok, seen, unseen)
    passes(capsys, check_soft_label_confidence, lambda d, T: soft_label_confidence(teacher, tok, d, T), *context)
    assert "divide the logits by T" in flagged(capsys, check_soft_label_confidence,
                                               lambda d, T: soft_label_confidence(teacher, tok, d, T, use_T=False),
                                               *context)
    assert "the *true* label" in flagged(capsys, check_soft_label_confidence,
                                         lambda d, T: soft_label_confidence(teacher, tok, d, T, true_label=False),
                                         *context)
    assert "expected one probability" in flagged(capsys, check_soft_label_confidence, lambda d, T: "high", *context)
    unfinished(capsys, check_soft_label_confidence, *context)


def test_transfer_set_verdict_reads_the_measurement(capsys):
    assert "fitted its training reviews only lightly" in passes(capsys, check_transfer_set_verdict, lambda: "a")
    assert "is not it" in flagged(capsys, check_transfer_set_verdict, lambda: "b")
    unfinished(capsys, check_transfer_set_verdict)


def test_the_older_checkers_meet_the_stub_kindly(capsys):
    for checker in (check_median_time, check_int8_quantize, check_soft_target_loss):
        unfinished(capsys, checker)
