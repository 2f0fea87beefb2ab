"""Checkers for notebook 01 · Attention."""

from __future__ import annotations

import torch

from .core import F, check, same, wrong_shape


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
