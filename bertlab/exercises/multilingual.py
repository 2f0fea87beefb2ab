"""Checkers for notebook 06 · Multilingual classification."""

from __future__ import annotations

import torch

from .core import F, check, same, wrong_shape


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
