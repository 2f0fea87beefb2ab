"""Checkers for notebook 01 · Attention."""

from __future__ import annotations

import torch

from .core import F, check, check_choice, same, wrong_shape

__all__ = [
    "check_softmax",
    "check_causal_mask",
    "check_attention",
    "check_merge_heads",
    "check_scaling_choice",
]


def check_softmax(fn) -> bool:
    """Check a softmax over the last dimension, including numerically large inputs."""
    x, big = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]), torch.tensor([[1000.0, 1001.0, 1002.0]])
    stable = "subtract the row maximum before exp(): softmax(x) = softmax(x - max(x))"
    return check(fn, "softmax", [
        ((x,), x.softmax(-1), "exponentiate, then divide by the sum over the last dimension (dim=-1)"),
        ((big,), big.softmax(-1), stable),
    ], "softmax is correct and numerically stable", mistakes=[
        (lambda got, *_: not torch.isfinite(got).all(), "overflows (got inf/nan)", stable),
    ])


def check_causal_mask(fn) -> bool:
    """Check a function ``n -> [n, n]`` bool mask where query i may see keys 0..i."""
    return check(fn, "causal_mask", [
        ((n,), torch.ones(n, n, dtype=torch.bool).tril(), "torch.ones(n, n).tril().bool()") for n in (1, 4, 7)
    ], "causal mask is correct", mistakes=[
        (lambda got, *_: got.dtype != torch.bool, "has dtype {got.dtype}", "return a bool tensor"),
        (lambda got, want, _: torch.equal(got, want.T), "is transposed",
         "rows are queries, columns are keys: query i may see keys j <= i (tril)"),
    ])


def check_attention(fn) -> bool:
    """Check ``fn(q, k, v, mask) -> output`` against PyTorch's scaled_dot_product_attention."""
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 5, 8, generator=g) for _ in range(3))
    mask = torch.rand(2, 1, 5, 5, generator=g) > 0.3
    mask[..., 0] = True  # every query may see at least one key
    sdpa = F.scaled_dot_product_attention

    def output(*args):  # returning (output, weights) is fine too
        out = fn(*args)
        return out[0] if isinstance(out, tuple) else out

    return check(output, "attention(q, k, v, mask)", [
        ((q, k, v, mask), sdpa(q, k, v, attn_mask=mask),
         "softmax over the *key* dimension (dim=-1), masked positions set to -inf"),
    ], "attention matches torch's scaled_dot_product_attention (atol 1e-5)", tol=1e-5, mistakes=[
        (wrong_shape, "", "softmax(q @ k.transpose(-2, -1) / sqrt(d)) @ v keeps q's shape"),
        (lambda got, *_: same(got, sdpa(q, k, v, attn_mask=mask, scale=1.0), 1e-5), "is unscaled",
         "divide the scores by sqrt(d_k) = sqrt(q.shape[-1])"),
        (lambda got, *_: same(got, sdpa(q, k, v), 1e-5), "ignores the mask",
         "scores.masked_fill(~mask, float('-inf')) before softmax"),
    ])


def check_merge_heads(fn) -> bool:
    """Check ``fn(x) -> [batch, n, heads * d]`` that merges ``[batch, heads, n, d]`` per-head outputs."""
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float).view(2, 3, 4, 5)  # batch 2, 3 heads, 4 tokens, d 5
    want = x.transpose(1, 2).reshape(2, 4, 15)
    return check(fn, "merge_heads(x of shape [2, 3, 4, 5])", [
        ((x,), want, "token t's row must hold head 0's d numbers for token t, then head 1's, ..."),
    ], "merge_heads puts each token's heads side by side", mistakes=[
        (wrong_shape, "", "the result is [batch, n, heads * d]: here [2, 4, 15]"),
        (lambda got, *_: same(got, x.reshape(2, 4, 15)), "reshaped without transposing",
         "reshape alone mixes different tokens into one row: x.transpose(1, 2) first (then .reshape)"),
        (lambda got, *_: same(got, x.permute(0, 2, 3, 1).reshape(2, 4, 15)), "interleaved the heads",
         "keep each head's d numbers together: transpose(1, 2), not permute(0, 2, 3, 1)"),
    ])


def check_scaling_choice(fn) -> bool:
    """Check the divisor experiment's multiple-choice answer."""
    return check_choice(fn, "scaling_choice", "b", {
        "a": "a larger divisor shrinks the gaps between scores, so the largest weight goes *down*",
        "b": "dividing by more flattens the weights (a higher softmax temperature), and dividing by a "
             "positive number never reorders the scores, so the top key stays the same",
        "c": "dividing every score by the same positive number keeps their order: the top key cannot change",
    })
