"""Checkers for notebook 07 · Interpretability."""

from __future__ import annotations

import re

import torch

from .core import check, same, show, wrong_shape


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
