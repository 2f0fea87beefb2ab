"""Figures the notebooks reuse: attention heatmaps, attention grids, mask panels."""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch


def attention_heatmap(weights: torch.Tensor | np.ndarray, tokens: Sequence[str],
                      ax: plt.Axes | None = None, title: str = "", labels: bool = True,
                      cmap: str = "viridis") -> plt.Axes:
    """Draw one ``[n, n]`` attention matrix: rows are queries, columns are keys."""
    w = weights.detach().cpu().numpy() if isinstance(weights, torch.Tensor) else np.asarray(weights)
    if ax is None:
        size = max(3.0, 0.35 * len(tokens))
        _, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(w, cmap=cmap, vmin=0, vmax=max(float(w.max()), 1e-9))
    if labels:
        ax.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=8)
        ax.set_yticks(range(len(tokens)), tokens, fontsize=8)
        ax.set_xlabel("key (attended to)")
        ax.set_ylabel("query (attending)")
        plt.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def attention_grid(attentions: Sequence[torch.Tensor], example: int = 0,
                   cell: float = 1.1) -> plt.Figure:
    """Draw every layer × head attention matrix of one example as a small grid of heatmaps."""
    layers, heads = len(attentions), attentions[0].shape[1]
    fig, axes = plt.subplots(layers, heads, figsize=(cell * heads, cell * layers), squeeze=False)
    for layer in range(layers):
        for head in range(heads):
            ax = axes[layer][head]
            attention_heatmap(attentions[layer][example, head], [], ax=ax, labels=False)
            if layer == 0:
                ax.set_title(f"head {head}", fontsize=7)
            if head == 0:
                ax.set_ylabel(f"layer {layer}", fontsize=7)
    fig.tight_layout()
    return fig


def mask_panels(masks: dict[str, torch.Tensor | np.ndarray], tokens: Sequence[str]) -> plt.Figure:
    """Draw several ``[n, n]`` masks (or dependency matrices) side by side."""
    fig, axes = plt.subplots(1, len(masks), figsize=(3.6 * len(masks), 3.6))
    for ax, (title, m) in zip(np.atleast_1d(axes), masks.items()):
        m = m.detach().cpu().numpy() if isinstance(m, torch.Tensor) else np.asarray(m)
        ax.imshow(m.astype(float), cmap="Greys", vmin=0, vmax=max(1.0, float(m.max())))
        ax.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=8)
        ax.set_yticks(range(len(tokens)), tokens, fontsize=8)
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
