"""Checkers for notebook 05 · Long documents."""

from __future__ import annotations

import numpy as np
import torch

from .. import longdoc
from ..inference import predict
from .core import check, check_choice, show

__all__ = [
    "check_n_windows",
    "check_head_tail",
    "check_vote_pool",
    "check_head_length_accuracy",
    "check_head_length_verdict",
]


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


def _accuracy_problem(got):
    """Why ``got`` is not an accuracy (``""`` when it is one)."""
    try:
        value = float(got)
    except (TypeError, ValueError):
        return (f"gave {show(got)}, expected one accuracy (a float)",
                "return the share of reviews classified correctly, e.g. float(np.mean(predicted == labels))")
    if not 0 <= value <= 1:
        return f"gave {value:.3g}, which is not an accuracy", "an accuracy lies between 0 and 1: divide by the number of reviews"
    return ""


def check_head_length_accuracy(fn, model=None, tokenizer=None, texts=(), labels=(), budget: int = 256) -> bool:
    """Check the head-length experiment: ``fn(head)``, the accuracy of head + tail truncation to ``budget``
    tokens keeping ``head`` head tokens, on ``texts`` (the validation reviews), against a rerun with
    :func:`bertlab.longdoc.head_tail_ids` and :func:`bertlab.predict` for ``head = budget // 2``."""
    head = budget // 2
    hint = (f"truncate with longdoc.head_tail_ids(tokenizer, texts, {budget}, head=head), classify with "
            "bertlab.predict(model, tokenizer, ids) and compare the argmax with the validation labels")

    def rerun(h: int) -> float:
        ids = longdoc.head_tail_ids(tokenizer, list(texts), budget, head=h)
        predicted = predict(model, tokenizer, ids, batch_size=16).argmax(-1).numpy()
        return float(np.mean(predicted == np.asarray(labels)))

    def right(got):
        problem = _accuracy_problem(got)
        if problem:
            return problem
        if model is None or tokenizer is None or not len(texts):
            return ("cannot be checked without the model and the reviews",
                    "call check_head_length_accuracy(fn, model, tokenizer, texts, labels, budget)")
        # one review's slack: another batch size pads differently, which may flip a borderline review
        if abs(float(got) - rerun(head)) <= 1 / len(texts) + 1e-9:
            return ""
        if abs(float(got) - rerun(budget - 2 - head)) <= 1e-9:
            return ("equals head + tail with the head and tail lengths swapped",
                    "`head` counts the tokens kept from the start; the tail gets budget - 2 - head")
        return "disagrees with a rerun of the experiment", hint

    return check(fn, f"head_tail_accuracy({head})", [((head,), right, hint)],
                 f"head_tail_accuracy({head}) agrees with a rerun of the experiment")


def check_head_length_verdict(fn) -> bool:
    """Check the reading of the head-length experiment (multiple choice)."""
    return check_choice(fn, "head_length_verdict", "b", {
        "a": "a few reviews out of 150 is no evidence: choosing on it would tune to the noise of this validation set",
        "b": "the two head lengths differ by a handful of the 150 validation reviews, well within the noise of "
             "a set this size (a paired interval would include 0), so the validation set cannot tell them apart",
        "c": "the measurement does not show that: compare your accuracy with the head + tail row of the "
             "validation table, and count how many reviews that difference is",
    })
