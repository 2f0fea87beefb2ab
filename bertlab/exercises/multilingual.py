"""Checkers for notebook 06 · Multilingual classification."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from .core import F, check, check_choice, same, wrong_shape

__all__ = [
    "check_unk_rate",
    "check_cosine_matrix",
    "check_retrieval_accuracy",
    "check_standardised_transfer",
    "check_standardised_transfer_verdict",
]


def check_unk_rate(fn, tokenizer) -> bool:
    """Check the share of ``[UNK]`` tokens (special tokens not counted) against a reference."""
    texts = ["the film was great", "这部电影很好看", "emoji 🙂 and more 🙃"]

    def rate(**kwargs):
        flat = [i for ids in tokenizer(texts, **kwargs)["input_ids"] for i in ids]
        return sum(i == tokenizer.unk_token_id for i in flat) / len(flat)

    want = rate(add_special_tokens=False)
    return check(fn, "unk_rate(texts, tokenizer)", [
        ((texts, tokenizer), want, "count over all tokens of all texts, without [CLS]/[SEP]: "
                                   "tokenizer(texts, add_special_tokens=False)"),
    ], f"unk_rate = {want:.3f} on the test sentences", mistakes=[
        (lambda got, *_: same(got, rate()), "", "you counted [CLS] and [SEP] too: pass add_special_tokens=False"),
    ])


def check_cosine_matrix(fn) -> bool:
    """Check a cosine-similarity matrix between the rows of two matrices (not unit length)."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(4, 6, generator=g) * 3, torch.randn(5, 6, generator=g)
    return check(fn, "cosine_matrix(a [4, 6], b [5, 6])", [
        ((a, b), F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T,
         "normalise each row to unit length first (the inputs are not normalised)"),
    ], "cosine_matrix matches (atol 1e-5)", tol=1e-5, mistakes=[
        (wrong_shape, "", "the result is [len(a), len(b)]: a_normalised @ b_normalised.T"),
    ])


def check_retrieval_accuracy(fn) -> bool:
    """Check translation retrieval: row i of ``src`` translates row i of ``tgt``."""
    tgt = torch.eye(4)
    src = torch.tensor([[0.9, 0.1, 0, 0], [0, 0.2, 0.9, 0], [0, 0, 0.8, 0.1], [0.1, 0, 0, 5.0]])
    return check(fn, "retrieval_accuracy(src, tgt)", [
        ((src, tgt), 0.75,    # row 1 is closest to target 2, not 1
         "for each source row take the argmax over target rows of the cosine, "
         "and count how often it is the row with the same index"),
    ], "retrieval_accuracy: share of sentences whose nearest neighbour is their translation")


def _logreg(x, y):
    return LogisticRegression(max_iter=3000).fit(x, y)


def _synthetic_transfer():
    """Source and target features where standardising on the source hurts the target (a 'language' shift
    along a direction that barely varies in the source), as (x, y) pairs."""
    g = np.random.default_rng(0)

    def language(n, shift):
        y = np.arange(n) % 2
        x = g.normal(size=(n, 6))
        x[:, 0] += 1.5 * (2 * y - 1)                                   # the sentiment direction
        x[:, 1] = shift + 0.01 * g.normal(size=n) + 0.005 * (2 * y - 1)   # the language direction
        return x, y

    return language(200, 0.0), language(200, 0.05)


def check_standardised_transfer(fn, source=None, target=None) -> bool:
    """Check ``fn(source, target)``: the target accuracy of a logistic regression trained on ``source = (x, y)``
    behind a ``StandardScaler`` fitted on the source features only (defaults: a synthetic language shift)."""
    if source is None or target is None:
        source, target = _synthetic_transfer()
    (sx, sy), (tx, ty) = (tuple(np.asarray(a) for a in pair) for pair in (source, target))

    def accuracy(train_x, test_x):
        return float(np.mean(_logreg(train_x, sy).predict(test_x) == ty))

    scaler = StandardScaler().fit(sx)
    want = accuracy(scaler.transform(sx), scaler.transform(tx))
    own_scaler = StandardScaler().fit(tx)                               # the target scaled by its own statistics
    pooled = StandardScaler().fit(np.concatenate([sx, tx]))             # statistics of both languages
    hint = ("fit StandardScaler on the source (English) features only, transform both with it, then train "
            "LogisticRegression(max_iter=3000) on the source and score the target")
    tol = 2 / len(ty) + 1e-9      # two reviews' slack: another solver setting may move a borderline review
    return check(fn, "standardised_transfer(source, target)", [((source, target), want, hint)],
                 "standardised_transfer agrees with a rerun (scaler fitted on the source only)", tol=tol, mistakes=[
        (lambda got, *_: abs(got - accuracy(sx, tx)) < 1e-9, "gave the accuracy without standardising",
         "put a StandardScaler, fitted on the source features, in front of the logistic regression"),
        (lambda got, *_: abs(got - accuracy(scaler.transform(sx), own_scaler.transform(tx))) < 1e-9
         or abs(got - accuracy(pooled.transform(sx), pooled.transform(tx))) < 1e-9,
         "used statistics of the target language",
         "zero-shot means no target data at training time: fit the scaler on the source features only"),
    ])


def check_standardised_transfer_verdict(fn) -> bool:
    """Check the reading of the standardisation experiment (multiple choice)."""
    return check_choice(fn, "standardised_transfer_verdict", "b", {
        "a": "compare your accuracy with the zero-shot table's Chinese row: standardising did not help",
        "b": "standardising on English statistics costs Chinese about 20 points, far more than the ±5 points "
             "250 reviews leave open: a scaler fitted on one language can hurt another (a plausible reason: "
             "directions that barely vary within English, such as language identity, get blown up). "
             "That is why xl.fit_logreg does not standardise",
        "c": "the change is several times the width of the Wilson interval (about ±5 points with 250 reviews): "
             "that is not noise",
    })
