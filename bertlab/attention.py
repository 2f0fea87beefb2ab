"""Attention from scratch, written to read like the equations of notebook 01.

    Attention(Q, K, V) = softmax(Q Kᵀ / √d_k) V

Masks are boolean and broadcast against the score matrix ``[..., n_queries, n_keys]``:
``True`` means "this query may look at this key". Names follow Hugging Face's
``modeling_bert.py`` (``query``, ``key``, ``value``, ``output``) so pretrained weights load
one-to-one.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def softmax(scores: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Return the softmax along ``dim``, computed stably (subtract the max first)."""
    shifted = scores - scores.amax(dim=dim, keepdim=True)
    exp = shifted.exp()
    return exp / exp.sum(dim=dim, keepdim=True)


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 mask: torch.Tensor | None = None, scale: bool = True
                                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(softmax(q kᵀ/√d) v, attention weights)`` for ``q, k, v`` of shape ``[..., n, d]``.

    ``mask`` (bool, broadcastable to ``[..., n_q, n_k]``) marks allowed positions;
    ``scale=False`` drops the 1/√d factor (to show why it is there).
    """
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1)
    if scale:
        scores = scores / math.sqrt(d_k)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = softmax(scores, dim=-1)
    return weights @ v, weights


def padding_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """Turn a tokenizer's ``attention_mask`` ``[batch, n]`` (1 = token, 0 = pad) into a bool
    mask ``[batch, 1, 1, n]`` that lets every query look at every real token."""
    return attention_mask.bool()[:, None, None, :]


def causal_mask(n: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Return the ``[n, n]`` lower-triangular mask of a left-to-right (GPT-style) model."""
    return torch.ones(n, n, dtype=torch.bool, device=device).tril()


def bidirectional_mask(n: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Return the ``[n, n]`` all-True mask of BERT: every token sees every token."""
    return torch.ones(n, n, dtype=torch.bool, device=device)


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention: project, split into heads, attend, merge, project back."""

    def __init__(self, hidden_size: int, num_heads: int) -> None:
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"hidden_size {hidden_size} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.query = nn.Linear(hidden_size, hidden_size)
        self.key = nn.Linear(hidden_size, hidden_size)
        self.value = nn.Linear(hidden_size, hidden_size)
        self.output = nn.Linear(hidden_size, hidden_size)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """``[batch, n, hidden]`` -> ``[batch, heads, n, head_dim]``."""
        b, n, _ = x.shape
        return x.view(b, n, self.num_heads, self.head_dim).transpose(1, 2)

    def merge_heads(self, x: torch.Tensor) -> torch.Tensor:
        """``[batch, heads, n, head_dim]`` -> ``[batch, n, hidden]``."""
        b, _, n, _ = x.shape
        return x.transpose(1, 2).reshape(b, n, self.num_heads * self.head_dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(output [batch, n, hidden], weights [batch, heads, n, n])``."""
        q, k, v = (self.split_heads(f(x)) for f in (self.query, self.key, self.value))
        context, weights = scaled_dot_product_attention(q, k, v, mask)
        return self.output(self.merge_heads(context)), weights

    @classmethod
    def from_bert_layer(cls, layer: nn.Module) -> "MultiHeadSelfAttention":
        """Build one with the weights of a Hugging Face ``BertLayer`` (its ``attention`` block)."""
        attn = layer.attention
        hidden = attn.self.query.in_features
        mha = cls(hidden, attn.self.num_attention_heads)
        with torch.no_grad():
            for ours, theirs in ((mha.query, attn.self.query), (mha.key, attn.self.key),
                                 (mha.value, attn.self.value), (mha.output, attn.output.dense)):
                ours.weight.copy_(theirs.weight)
                ours.bias.copy_(theirs.bias)
        return mha


def attention_flops(n: int, hidden: int) -> int:
    """Return the multiply-adds ×2 of the two n×n products (scores and weighted sum) per layer."""
    return 2 * 2 * n * n * hidden

