"""Checkers for notebook 05 · Long documents."""

from __future__ import annotations

import torch

from .. import longdoc
from .core import check


def check_n_windows(fn) -> bool:
    """Check a window count against :func:`bertlab.longdoc.n_windows` (itself tested against the tokenizer)."""
    hint = ("a window holds max_length - 2 content tokens, and each new one starts "
            "(max_length - 2 - overlap) tokens after the previous")
    cases = [(10, 512, 128), (510, 512, 128), (511, 512, 128), (892, 512, 128),
             (893, 512, 128), (1000, 256, 64), (0, 128, 0), (300, 128, 0)]
    return check(fn, "n_windows", [(c, longdoc.n_windows(*c), hint) for c in cases],
                 "n_windows matches the tokenizer's windowing")


def check_head_tail(fn) -> bool:
    """Check head + tail truncation of a list of token ids."""
    ids = list(range(100, 120))
    hint = "careful with head=budget (no tail: ids[-0:] is the whole list!) and texts that fit"
    cases = [(30, 5, ids), (20, 5, ids), (10, 4, ids[:4] + ids[-6:]), (10, 0, ids[-10:]), (10, 10, ids[:10])]
    return check(fn, "head_tail", [((list(ids), budget, head), want, hint) for budget, head, want in cases],
                 "head_tail keeps the first `head` and the last `budget - head` ids")


def check_vote_pool(fn) -> bool:
    """Check majority-vote pooling of window logits, ties broken by mean probability."""
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [0.0, 3.0],   # doc 0: 1 vs 2 votes -> 1
                           [1.0, 0.0], [0.0, 0.5],               # doc 1: tie; mean prob favours 0
                           [0.0, 0.2], [3.0, 0.0],               # doc 2: tie; mean prob favours 0
                           [0.0, 1.0],                           # doc 3: one window -> 1
                           [0.1, 0.0], [0.1, 0.0], [0.0, 5.0]])  # doc 4: 2 weak votes beat 1 strong -> 0
    docs = torch.tensor([0, 0, 0, 1, 1, 2, 2, 3, 4, 4, 4])
    return check(fn, "vote_pool(logits, docs, 5)", [
        ((logits, docs, 5), [1, 0, 0, 1, 0],
         "count each window's argmax per document; on a tie, compare the mean softmax probabilities"),
    ], "vote_pool: majority of windows, ties broken by mean probability")
