"""Checkers for notebook 07 · Interpretability."""

from __future__ import annotations

import re

import torch

from .. import interpret
from ..inference import predict
from .core import check, check_choice, same, show, wrong_shape

__all__ = [
    "check_cls_attention",
    "check_aopc",
    "check_swap_gender",
    "check_ig_baseline_aopc",
    "check_ig_baseline_verdict",
    "check_multiple_intervals",
]


def check_cls_attention(fn) -> bool:
    """Check the ``[CLS]`` row of the last layer, averaged over heads, from ``[layers, heads, seq, seq]``."""
    g = torch.Generator().manual_seed(0)
    att = torch.softmax(torch.randn(3, 4, 5, 5, generator=g), -1)
    return check(fn, "cls_attention(att [3, 4, 5, 5])", [
        ((att,), att[-1, :, 0, :].mean(0), "average over the heads (dim 0 after picking the layer)"),
    ], "cls_attention: last layer, [CLS] row, mean over heads", mistakes=[
        (wrong_shape, "", "index the last layer, then row 0 (the [CLS] query)"),
        (lambda got, *_: same(got, att[-1, :, :, 0].mean(0)), "took column 0 (how much each token attends *to* [CLS])",
         "the [CLS] row is att[layer, head, 0, :]: what [CLS] attends to"),
        (lambda got, *_: same(got, att[0, :, 0, :].mean(0)), "used the first layer", "the last layer is att[-1]"),
    ])


def check_aopc(fn) -> bool:
    """Check the area over the perturbation curve: mean of p[0] − p[k] for k ≥ 1."""
    hint = "average the drops p[0] - p[k] over k = 1..K (not including k = 0; a rise counts as a negative drop)"
    cases = [([0.9, 0.6, 0.3], 0.45), ([0.8, 0.8], 0.0), ([0.7, 0.9, 0.5], 0.0), ([1.0, 0.5, 0.25, 0.0], 0.75)]
    return check(fn, "aopc", [((list(curve),), want, hint) for curve, want in cases],
                 "aopc: mean drop from the undeleted probability", tol=1e-9, mistakes=[
        (lambda got, *_: torch.as_tensor(got).numel() != 1, "returned several numbers, expected one",
         "average the drops into a single float"),
    ])


def check_swap_gender(fn) -> bool:
    """Check a gendered-word swap that keeps capitalisation and leaves other words alone."""
    cases = [("he loved his mother", "she loved her father"), ("She is an actress", "He is an actor"),
             ("the man and the woman", "the woman and the man"), ("a themed show", "a themed show"),
             ("Brothers", "Sisters")]
    return check(fn, "swap_gender", [
        ((text,), want, "match whole words only (\\b...\\b), swap both ways, and keep a capital first letter")
        for text, want in cases
    ], "swap_gender swaps whole words both ways and keeps capitals", mistakes=[
        (lambda got, *_: re.search("tshe|mothsher", got), "",
         "str.replace also changes 'he' inside 'the' and 'themed': use a regular expression with \\b"),
    ])


_FRACTIONS = (0, .1, .2, .3, .4, .5)


def _ig_deletion_aopc(model, tokenizer, texts, baseline_token: int, replacement: int, steps: int = 32,
                     max_length: int = 64) -> float:
    """The reference experiment: mean AOPC of integrated gradients (``baseline_token``) when deleted tokens become
    ``replacement``; the target is the model's prediction on each whole text."""
    targets = predict(model, tokenizer, list(texts), max_length=max_length).argmax(-1).tolist()
    device = next(model.parameters()).device
    scores = []
    for text, target in zip(texts, targets):
        enc = tokenizer(text, truncation=True, max_length=max_length, return_tensors="pt").to(device)
        ig, _ = interpret.integrated_gradients(model, enc, target, steps=steps, baseline_token=baseline_token)
        ks = [int(round(f * (enc["input_ids"].shape[1] - 2))) for f in _FRACTIONS]
        scores.append(interpret.aopc(interpret.deletion_curve(model, enc, ig.cpu(), target, ks, replacement)))
    return float(sum(scores) / len(scores))


def check_ig_baseline_aopc(fn, model=None, tokenizer=None, texts=()) -> bool:
    """Check the baseline experiment ``fn(texts, baseline_token, replacement)`` (mean AOPC of integrated gradients)
    for a ``[MASK]`` baseline and ``[MASK]`` deletion, against a rerun."""
    hint = ("for each text: target = the model's prediction; scores = interpret.integrated_gradients(model, enc, "
            "target, steps=32, baseline_token=baseline_token); ks = round(f × (tokens − 2)) for f in 0, 0.1 … 0.5; "
            "interpret.deletion_curve(..., replacement=replacement); then the mean of interpret.aopc over the texts")
    cache = {}

    def rerun(baseline, replacement):
        if (baseline, replacement) not in cache:
            cache[baseline, replacement] = _ig_deletion_aopc(model, tokenizer, texts, baseline, replacement)
        return cache[baseline, replacement]

    def right(got):
        try:
            value = float(got)
        except (TypeError, ValueError):
            return f"gave {show(got)}, expected one mean AOPC (a float)", "average the texts' AOPCs into one number"
        if model is None or tokenizer is None or not len(texts):
            return ("cannot be checked without the model and the texts",
                    "call check_ig_baseline_aopc(fn, model, tokenizer, texts)")
        mask, pad = tokenizer.mask_token_id, tokenizer.pad_token_id
        if abs(value - rerun(mask, mask)) <= 0.01:    # IG's path sums in another order on another batch size
            return ""
        if abs(value - rerun(pad, mask)) <= 0.01:
            return "equals IG with the [PAD] baseline", "pass baseline_token on to interpret.integrated_gradients"
        if abs(value - rerun(mask, pad)) <= 0.01:
            return "equals deletion to [PAD]", "pass replacement on to interpret.deletion_curve"
        return "disagrees with a rerun of the experiment", hint

    return check(fn, "ig_aopc(texts, [MASK], [MASK])", [((list(texts), getattr(tokenizer, "mask_token_id", 103),
                                                         getattr(tokenizer, "mask_token_id", 103)), right, hint)],
                 "ig_aopc agrees with a rerun of the experiment (±0.01)")


def check_ig_baseline_verdict(fn) -> bool:
    """Check the reading of the baseline experiment (multiple choice)."""
    return check_choice(fn, "ig_baseline_verdict", "b", {
        "a": "compare the size of the change with IG's lead over random deletion in section 4's table: "
             "a change that small on 20 reviews is no evidence of a home advantage",
        "b": "the AOPC moves little next to IG's lead over random deletion: which of the two tokens IG integrates "
             "from hardly matters, so its lead is not a home advantage of the [PAD] baseline",
        "c": "IG with a [MASK] baseline still removes far more of the prediction than random deletion does",
    })


def check_multiple_intervals(fn) -> bool:
    """Check the multiple-comparisons question of the bias probe (multiple choice)."""
    return check_choice(fn, "multiple_intervals", "b", {
        "a": "5% is the chance for one interval; with five, each gets its own 5% chance to miss",
        "b": "1 − 0.95⁵ ≈ 0.23: about one time in four, one of five null gaps looks like a finding, so a single "
             "interval excluding 0 among five is a lead to test on new templates, not a result",
        "c": "that would take about 14 intervals (1 − 0.95¹⁴ ≈ 0.51); with five it is 1 − 0.95⁵",
        "d": "95% is each interval's chance to contain the true gap, not the chance that one of them misses",
    })
