"""Notebook 01 · Attention: its exercise checkers pass right answers and name the usual mistakes."""

import math

import torch

from bertlab.exercises import check_attention, check_causal_mask, check_merge_heads, check_scaling_choice, check_softmax
from checking import flagged, passes, unfinished


def test_softmax_must_survive_large_inputs(capsys):
    def stable(x):
        e = (x - x.max(-1, keepdim=True).values).exp()
        return e / e.sum(-1, keepdim=True)

    passes(capsys, check_softmax, stable)
    naive = lambda x: x.exp() / x.exp().sum(-1, keepdim=True)  # noqa: E731
    assert "subtract the row maximum" in flagged(capsys, check_softmax, naive)
    assert "dim=-1" in flagged(capsys, check_softmax, lambda x: x.exp() / x.exp().sum(0, keepdim=True))


def test_causal_mask_is_lower_triangular_bool(capsys):
    passes(capsys, check_causal_mask, lambda n: torch.ones(n, n).tril().bool())
    assert "transposed" in flagged(capsys, check_causal_mask, lambda n: torch.ones(n, n).triu().bool())
    assert "bool" in flagged(capsys, check_causal_mask, lambda n: torch.ones(n, n).tril())


def test_attention_is_scaled_masked_and_may_return_weights(capsys):
    def attention(q, k, v, mask):
        scores = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).masked_fill(~mask, float("-inf"))
        return scores.softmax(-1) @ v, scores.softmax(-1)

    passes(capsys, check_attention, attention)
    unscaled = lambda q, k, v, m: (q @ k.transpose(-2, -1)).masked_fill(~m, float("-inf")).softmax(-1) @ v  # noqa: E731
    assert "sqrt(d_k)" in flagged(capsys, check_attention, unscaled)
    no_mask = lambda q, k, v, mask: (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(-1) @ v  # noqa: E731
    assert "masked_fill" in flagged(capsys, check_attention, no_mask)


def test_merge_heads_transposes_before_reshaping(capsys):
    passes(capsys, check_merge_heads, lambda x: x.transpose(1, 2).reshape(x.shape[0], x.shape[2], -1))
    assert "transpose(1, 2) first" in flagged(capsys, check_merge_heads,
                                              lambda x: x.reshape(x.shape[0], x.shape[2], -1))
    assert "[2, 4, 15]" in flagged(capsys, check_merge_heads, lambda x: x.transpose(1, 2))
    assert "permute" in flagged(capsys, check_merge_heads,
                                lambda x: x.permute(0, 2, 3, 1).reshape(x.shape[0], x.shape[2], -1))
    unfinished(capsys, check_merge_heads)


def test_scaling_choice_explains_temperature(capsys):
    assert "never reorders" in passes(capsys, check_scaling_choice, lambda: "b")
    assert "goes *down*" in flagged(capsys, check_scaling_choice, lambda: "a")
    assert "keeps their order" in flagged(capsys, check_scaling_choice, lambda: "c")
    unfinished(capsys, check_scaling_choice)


def test_the_earlier_checkers_meet_the_stub(capsys):
    for checker in (check_softmax, check_causal_mask, check_attention):
        unfinished(capsys, checker)
