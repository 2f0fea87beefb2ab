"""Checkers for notebook 08 · Efficiency and scale."""

from __future__ import annotations

import time

import torch

from .. import efficiency
from .core import check, same, show


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
