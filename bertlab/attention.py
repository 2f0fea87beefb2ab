"""Attention from scratch (notebook 01), named as in Hugging Face's BERT; bool masks, True = may attend."""

from __future__ import annotations

import math
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
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
    """Return ``(softmax(q kᵀ/√d) v, weights)``; bool ``mask`` (True = may attend) broadcasts to scores."""
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1)
    if scale:
        scores = scores / math.sqrt(d_k)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = softmax(scores, dim=-1)
    return weights @ v, weights


def padding_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """Turn a tokenizer's 0/1 ``attention_mask`` ``[batch, n]`` into a bool key mask ``[batch, 1, 1, n]``."""
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


# --------------------------------------------------------------------------- figures
def attention_heatmap(weights: torch.Tensor | np.ndarray, tokens: Sequence[str],
                      ax: plt.Axes | None = None, title: str = "", labels: bool = True,
                      cmap: str = "viridis", vmax: float | None = None) -> plt.Axes:
    """Draw one ``[n, n]`` attention matrix: rows are queries, columns are keys (colour scale 0..vmax)."""
    w = weights.detach().cpu().numpy() if isinstance(weights, torch.Tensor) else np.asarray(weights)
    if ax is None:
        size = max(3.0, 0.35 * len(tokens))
        _, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(w, cmap=cmap, vmin=0, vmax=max(float(w.max()), 1e-9) if vmax is None else vmax)
    if labels:
        ax.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=8)
        ax.set_yticks(range(len(tokens)), tokens, fontsize=8)
        ax.set_xlabel("key (attended to)")
        ax.set_ylabel("query (attending)")
        plt.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="attention weight")
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def attention_grid(attentions: Sequence[torch.Tensor], example: int = 0,
                   cell: float = 1.1) -> plt.Figure:
    """Draw every layer × head attention matrix of one example on ONE shared 0..1 colour scale."""
    layers, heads = len(attentions), attentions[0].shape[1]
    fig, axes = plt.subplots(layers, heads, figsize=(cell * heads + 1.2, cell * layers + 0.8), squeeze=False,
                             layout="constrained")
    for layer in range(layers):
        for head in range(heads):
            ax = axes[layer][head]
            attention_heatmap(attentions[layer][example, head], [], ax=ax, labels=False, vmax=1.0)
            if layer == 0:
                ax.set_title(f"head {head}", fontsize=7)
            if head == 0:
                ax.set_ylabel(f"layer {layer}", fontsize=7)
    fig.colorbar(axes[0][0].images[0], ax=axes, shrink=0.6, label="attention weight (same scale in every panel)")
    fig.supxlabel("in each panel: keys (attended to) left to right, queries (attending) top to bottom", fontsize=9)
    return fig


ALLOWED, BLOCKED = "#2c7fb8", "#f0f0f0"


def mask_panels(masks: dict[str, torch.Tensor | np.ndarray], tokens: Sequence[str]) -> plt.Figure:
    """Draw ``[n, n]`` masks side by side with ONE colour meaning: bool masks in two colours
    (may attend / blocked, with a legend), numeric matrices (e.g. recurrent steps) with their own colourbar."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    fig, axes = plt.subplots(1, len(masks), figsize=(3.9 * len(masks), 4.4), layout="constrained")
    two = ListedColormap([BLOCKED, ALLOWED])
    any_bool = False
    for ax, (title, m) in zip(np.atleast_1d(axes), masks.items()):
        m = m.detach().cpu().numpy() if isinstance(m, torch.Tensor) else np.asarray(m)
        if m.dtype == bool:
            any_bool = True
            ax.imshow(m.astype(float), cmap=two, vmin=0, vmax=1)
            ax.set_xlabel("key (attended to)")
            ax.set_ylabel("query (attending)")
        else:
            im = ax.imshow(m.astype(float), cmap="Oranges", vmin=0)
            ax.set_xlabel("token the information comes from")
            ax.set_ylabel("token that receives it")
            fig.colorbar(im, ax=ax, shrink=0.8, label="recurrent steps to arrive")
        ax.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=8)
        ax.set_yticks(range(len(tokens)), tokens, fontsize=8)
        ax.set_xticks(np.arange(len(tokens) + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(len(tokens) + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="white", linewidth=0.8)
        ax.tick_params(which="minor", length=0)
        ax.set_title(title, fontsize=10)
    if any_bool:
        fig.legend(handles=[Patch(facecolor=ALLOWED, label="may attend"),
                            Patch(facecolor=BLOCKED, edgecolor="#999999", label="blocked (masked to −∞)")],
                   loc="outside lower center", ncol=2, fontsize=9, frameon=False)
    return fig
