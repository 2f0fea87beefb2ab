"""Checkers for notebook 08 · Efficiency and scale."""

from __future__ import annotations

import time

import torch

from .. import efficiency
from ..inference import predict
from .core import check, check_choice, same, show

__all__ = [
    "check_median_time",
    "check_int8_quantize",
    "check_soft_target_loss",
    "check_soft_label_confidence",
    "check_transfer_set_verdict",
]


def check_median_time(fn) -> bool:
    """Check a timer ``fn(work, warmup, repeats)`` that discards warm-up runs and returns the median."""
    calls = []
    durations = [0.08, 0.08, 0.08, 0.010, 0.012, 0.060, 0.011]     # 3 slow warm-ups, 1 outlier

    def work():
        time.sleep(durations[min(len(calls), len(durations) - 1)])
        calls.append(1)

    def right(got):   # no measured time in the messages: it differs from run to run
        if got is None:
            return "returned None"
        if len(calls) != 7:
            return f"ran work() {len(calls)} times, expected 3 warm-up + 4 timed = 7", ""
        if float(got) > 0.02:
            return ("is slower than the median timed run (about 0.011 s): the warm-up runs or the outlier got in",
                    "drop the warm-up runs and take the median (statistics.median), not the mean")
        return "" if float(got) >= 0.009 else "is faster than any timed run (about 0.011 s)"

    return check(fn, "median_time(work, 3, 4)", [
        ((work, 3, 4), right, "return the median of the timed runs, in seconds"),
    ], "median_time discards the warm-up runs and ignores the outlier")


def check_int8_quantize(fn) -> bool:
    """Check symmetric per-tensor int8 quantization: ``w -> (q, scale)`` with ``w ≈ q * scale``."""
    g = torch.Generator().manual_seed(0)
    w = torch.randn(64, 32, generator=g) * 0.05
    want_scale, seen = float(w.abs().max()) / 127, {}

    def right(got):
        if not isinstance(got, tuple) or len(got) != 2:
            return f"gave {show(got)}, expected (q, scale)"
        q, scale = got
        if isinstance(scale, torch.Tensor) and scale.numel() != 1:
            return (f"returned {scale.numel()} scales; this exercise asks for one scale per tensor",
                    "per-channel scales are a good idea (torch uses them for conv weights), but use max|w| / 127 here")
        if not isinstance(q, torch.Tensor) or q.dtype != torch.int8:
            return f"gave q of dtype {getattr(q, 'dtype', type(q))}", "convert with .to(torch.int8) after rounding"
        scale = float(scale)
        if abs(scale - want_scale) > 1e-6 * want_scale:
            return (f"gave scale = {scale:.3g}, expected max|w| / 127 = {want_scale:.3g}",
                    "symmetric int8 maps the largest |weight| to 127")
        seen["error"] = (q.float() * scale - w).abs().max().item()
        return "" if seen["error"] <= scale / 2 + 1e-7 else (
            f"reconstructs w with a largest error {seen['error']:.3g} > scale/2 = {scale / 2:.3g}",
            "round to the nearest integer (torch.round), do not truncate")

    # the error in the verdict is reproducible: w comes from a seeded generator
    return check(fn, "int8_quantize(w)", [((w,), right, "")],
                 lambda: f"int8_quantize: 4× smaller, largest error {seen['error']:.2g} ≤ scale/2")


def check_soft_target_loss(fn) -> bool:
    """Check the soft-target term of distillation: T² · KL(softmax(teacher/T) ‖ softmax(student/T))."""
    g = torch.Generator().manual_seed(0)
    student, teacher = torch.randn(6, 3, generator=g), torch.randn(6, 3, generator=g) * 3
    hint = "divide both logits by T before the softmax, KL(teacher || student) averaged over the batch, times T²"
    return check(fn, "soft_target_loss", [
        ((student, teacher, t), efficiency.distillation_loss(student, teacher, None, temperature=t), hint)
        for t in (1.0, 2.0, 4.0)
    ], "soft_target_loss matches bertlab.efficiency.distillation_loss (atol 1e-5)", tol=1e-5, mistakes=[
        (lambda got, *_: torch.as_tensor(got).numel() != 1, "returned several values, expected one number",
         "use reduction='batchmean': the KL summed over classes, averaged over examples"),
        (lambda got, want, a: same(got * a[2] ** 2, want, 1e-5), "",
         "you forgot the T² factor (it keeps gradients comparable across temperatures)"),
        (lambda got, want, a: same(got * a[0].shape[-1], want, 1e-5), "",
         "reduction='mean' also divides by the number of classes: use reduction='batchmean'"),
    ])


def check_soft_label_confidence(fn, teacher=None, tokenizer=None, seen=None, unseen=None, T: float = 2.0) -> bool:
    """Check ``fn(data, T)``: the mean probability that the teacher's soft label (softmax of logits / T) gives each
    review's true label, on reviews the teacher trained on (``seen``) and on reviews it never saw (``unseen``)."""
    hint = ("logits = bertlab.predict(teacher, tokenizer, data); p = (logits / T).softmax(-1); "
            "average p[i, label_i] over the reviews")
    cache = {}

    def logits_of(name, data):
        if name not in cache:
            cache[name] = predict(teacher, tokenizer, data, batch_size=128).float()
        return cache[name], torch.as_tensor(data["label"])

    def right_on(name, data):
        def right(got):
            try:
                value = float(got)
            except (TypeError, ValueError):
                return f"gave {show(got)}, expected one probability (a float)", "average over the reviews"
            if teacher is None or data is None:
                return ("cannot be checked without the teacher and the reviews",
                        "call check_soft_label_confidence(fn, teacher, tokenizer, seen, unseen)")
            logits, labels = logits_of(name, data)
            rows = torch.arange(len(labels))
            if abs(value - float((logits / T).softmax(-1)[rows, labels].mean())) <= 1e-4:
                return ""
            if abs(value - float(logits.softmax(-1)[rows, labels].mean())) <= 1e-4:
                return "equals the probability at T = 1", "divide the logits by T before the softmax"
            if abs(value - float((logits / T).softmax(-1).max(-1).values.mean())) <= 1e-4:
                return ("equals the probability of the teacher's own prediction",
                        "take the probability of the *true* label, p[i, label_i], not the largest one")
            return "disagrees with a rerun of the measurement", hint
        return right

    return check(fn, "soft_label_confidence", [((seen, T), right_on("seen", seen), hint),
                                               ((unseen, T), right_on("unseen", unseen), hint)],
                 "soft_label_confidence agrees with a rerun on both sets of reviews")


def check_transfer_set_verdict(fn) -> bool:
    """Check the reading of the soft-label measurement (multiple choice)."""
    return check_choice(fn, "transfer_set_verdict", "a", {
        "a": "the two means differ by a few points at most, within what 500 reviews each can resolve: this teacher "
             "fitted its training reviews only lightly, so its soft labels there are not yet close to the hard "
             "labels. The case for unseen text grows with how well a teacher has fitted its training set",
        "b": "look at the two numbers: the teacher gives the true label about the same probability on both sets, "
             "far from the hard labels' 1",
        "c": "the measurement does not show it surer on unseen reviews; at most the reverse, by a little",
    })
