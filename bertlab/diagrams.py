"""Architecture figures drawn with matplotlib: boxes and arrows, no data (CI redraws them)."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

# One colour per kind of block, the same in every figure.
COLOURS = {
    "text": "#f2f2f2", "token": "#fde2b8", "embed": "#fff3c4", "attention": "#cfe3f7",
    "norm": "#e6e6e6", "ffn": "#d8f0d2", "head": "#f7d4d4", "concat": "#e4d9f2",
}


def _box(ax: plt.Axes, x: float, y: float, w: float, h: float, text: str, kind: str,
         fontsize: float = 10, weight: str = "normal") -> tuple[float, float, float, float]:
    """Draw a rounded box centred on ``(x, y)`` with its label; return its extent (x0, y0, x1, y1)."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=COLOURS[kind], edgecolor="#444444", linewidth=1.2))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, weight=weight, wrap=True)
    return x - w / 2, y - h / 2, x + w / 2, y + h / 2


def _arrow(ax: plt.Axes, start: tuple[float, float], end: tuple[float, float], style: str = "-|>",
           colour: str = "#333333", connection: str = "arc3", **kwargs) -> None:
    """Draw an arrow from ``start`` to ``end``."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=14, color=colour,
                                 linewidth=1.3, connectionstyle=connection, shrinkA=0, shrinkB=0, **kwargs))


def _canvas(width: float, height: float, xlim: tuple[float, float], ylim: tuple[float, float]
            ) -> tuple[plt.Figure, plt.Axes]:
    """A blank figure with data coordinates ``xlim`` × ``ylim`` and no axes drawn."""
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_axis_off()
    return fig, ax


def bert_pipeline(layers: int = 6, hidden: int = 384) -> plt.Figure:
    """Draw BERT for classification: text, WordPiece, embeddings, N encoder layers, [CLS] pooling, head."""
    fig, ax = _canvas(11.5, 6.0, (0, 12), (1.2, 10.4))
    tokens = ["[CLS]", "bert", "##lab", "makes", "token", "##ization", "easy", "[SEP]"]  # MiniLM's real split
    xs = [1.0 + i * 1.27 for i in range(len(tokens))]
    left, right = xs[0] - 0.5, xs[-1] + 0.5
    mid = (left + right) / 2
    _box(ax, mid, 9.8, right - left, 0.55, 'text: "bertlab makes tokenization easy"', "text", fontsize=11)
    for x, tok in zip(xs, tokens):
        _box(ax, x, 8.5, 1.0, 0.55, tok, "token", fontsize=9)
        _arrow(ax, (x, 8.2), (x, 7.75))
    _arrow(ax, (mid, 9.5), (mid, 8.8))
    ax.text(right + 0.15, 8.5, "WordPiece\ntokens", va="center", fontsize=9, style="italic")
    _box(ax, mid, 7.25, right - left, 0.9,
         "embeddings:  token  +  position  +  segment,  then LayerNorm\n"
         f"one {hidden}-dimensional vector per token", "embed", fontsize=10)
    ax.text(right + 0.15, 7.25, "input\nvectors", va="center", fontsize=9, style="italic")
    _arrow(ax, (mid, 6.8), (mid, 6.3))
    _box(ax, mid, 5.0, right - left, 2.3, "", "attention")
    for k, y in enumerate((5.75, 5.0, 4.25)):
        label = f"encoder layer {layers}" if k == 0 else ("⋮" if k == 1 else "encoder layer 1")
        _box(ax, mid, y, right - left - 0.6, 0.5, label if k != 1 else "", "norm", fontsize=10)
        if k == 1:
            ax.text(mid, y, f"… {layers} layers in all: every token attends to every token …",
                    ha="center", va="center", fontsize=9)
    ax.text(right + 0.15, 5.0, "contextual\nvectors", va="center", fontsize=9, style="italic")
    _arrow(ax, (mid, 3.85), (mid, 3.45))
    for x, tok in zip(xs, tokens):
        ax.text(x, 3.2, f"h{tok}" if tok == "[CLS]" else "h", ha="center", va="center", fontsize=8.5,
                weight="bold" if tok == "[CLS]" else "normal")
    _box(ax, xs[0] + 1.2, 1.85, 2.7, 0.8, "pool: take h[CLS]\n(or the mean of all h)", "concat", fontsize=9.5)
    _arrow(ax, (xs[0], 3.0), (xs[0] + 0.6, 2.25))
    _box(ax, xs[0] + 5.0, 1.85, 3.0, 0.8, "classifier head\nlinear layer → logits", "head", fontsize=9.5)
    _arrow(ax, (xs[0] + 2.55, 1.85), (xs[0] + 3.5, 1.85))
    _box(ax, xs[0] + 8.3, 1.85, 2.2, 0.8, "softmax →\nP(positive)", "text", fontsize=9.5)
    _arrow(ax, (xs[0] + 6.5, 1.85), (xs[0] + 7.2, 1.85))
    ax.set_title("BERT for text classification, bottom to top of the story (notebooks 02 → 04)", fontsize=12)
    return fig


def multi_head_attention(heads: int = 3, hidden: int = 384, head_size: int = 32) -> plt.Figure:
    """Draw multi-head attention: h heads of Attention(Q W_i^Q, K W_i^K, V W_i^V), concatenated, then W^O."""
    fig, ax = _canvas(11.5, 6.6, (0, 11.5), (0, 10))
    ax.text(5.5, 9.55, r"MultiHead$(Q,K,V) = \mathrm{Concat}(\mathrm{head}_1,\dots,\mathrm{head}_h)\,W^O$",
            ha="center", fontsize=14)
    ax.text(5.5, 8.95, r"head$_i = \mathrm{Attention}(Q W_i^Q,\ K W_i^K,\ V W_i^V)$,   "
            r"Attention$(Q,K,V) = \mathrm{softmax}(QK^\top/\sqrt{d_k})\,V$", ha="center", fontsize=12)
    _box(ax, 5.5, 0.7, 5.6, 0.6, f"x: one {hidden}-vector per token (Q = K = V = x)", "embed", fontsize=10)
    names = [f"head {i + 1}" for i in range(heads - 1)] + [f"head h = {hidden // head_size}"]
    centres = [1.9 + i * 3.6 for i in range(heads)]
    for i, (cx, name) in enumerate(zip(centres, names)):
        sub = "i" if i == heads - 1 else str(i + 1)
        sub = "h" if i == heads - 1 else sub
        for dx, m in zip((-0.85, 0.0, 0.85), ("Q", "K", "V")):
            _box(ax, cx + dx, 2.45, 0.78, 0.6, rf"$x W_{sub}^{m}$", "token", fontsize=10)
            _arrow(ax, (5.5, 1.0), (cx + dx, 2.15), colour="#888888")
        _box(ax, cx, 4.3, 2.7, 1.2, "scaled dot-product\nattention\n" + r"softmax$(QK^\top/\sqrt{d_k})V$",
             "attention", fontsize=9.5)
        for dx in (-0.85, 0.0, 0.85):
            _arrow(ax, (cx + dx, 2.75), (cx + dx * 0.6, 3.7))
        ax.text(cx, 5.2, rf"{name}: $d_k = {head_size}$", ha="center", fontsize=9.5, weight="bold")
        _arrow(ax, (cx, 5.45), (5.5 + (cx - 5.5) * 0.5, 6.25))
    ax.text((centres[-2] + centres[-1]) / 2, 4.3, "…", ha="center", va="center", fontsize=18)
    _box(ax, 5.5, 6.55, 6.4, 0.6, f"Concat: heads side by side → {hidden} = {hidden // head_size} heads × {head_size} numbers per token",
         "concat", fontsize=10)
    _arrow(ax, (5.5, 6.85), (5.5, 7.35))
    _box(ax, 5.5, 7.7, 4.4, 0.6, rf"output projection $W^O$ ({hidden} × {hidden})", "head", fontsize=10)
    ax.text(8.5, 0.7, rf"each head $i$ has its own" "\n" rf"$W_i^Q, W_i^K, W_i^V$ ({hidden} × {head_size})",
            ha="left", va="center", fontsize=9, style="italic")
    return fig


def encoder_layer(hidden: int = 384, intermediate: int = 1536) -> plt.Figure:
    """Draw one post-LayerNorm BERT encoder layer: attention, add & norm, feed-forward, add & norm."""
    fig, ax = _canvas(7.4, 7.6, (0, 9.5), (0, 11))
    cx = 5.3
    _box(ax, cx, 0.6, 5.6, 0.6, f"x: [tokens × {hidden}] from the layer below", "embed", fontsize=9.5)
    _arrow(ax, (cx, 0.9), (cx, 1.9))
    _box(ax, cx, 2.5, 5.6, 1.0, "multi-head self-attention\n(every token attends to every non-pad token)",
         "attention", fontsize=9.5)
    _arrow(ax, (cx, 3.0), (cx, 3.85))
    _box(ax, cx, 4.25, 5.6, 0.7, "add & norm:  LayerNorm(x + attention(x))", "norm", fontsize=9.5)
    _arrow(ax, (cx, 4.6), (cx, 5.55))
    _box(ax, cx, 6.25, 5.6, 1.2, f"feed-forward, per token:\nLinear {hidden} → {intermediate}, GELU,\n"
         f"Linear {intermediate} → {hidden}", "ffn", fontsize=9.5)
    _arrow(ax, (cx, 6.85), (cx, 7.7))
    _box(ax, cx, 8.1, 5.6, 0.7, "add & norm:  LayerNorm(x + FFN(x))", "norm", fontsize=9.5)
    _arrow(ax, (cx, 8.45), (cx, 9.25))
    _box(ax, cx, 9.6, 5.6, 0.6, f"to the next layer: [tokens × {hidden}]", "embed", fontsize=9.5)
    # residual (skip) connections: around each sub-block, into its add & norm
    for y0, y1 in ((1.4, 4.25), (5.05, 8.1)):
        ax.plot([cx, 1.6, 1.6], [y0, y0, y1], color="#c0392b", lw=1.6)
        _arrow(ax, (1.6, y1), (cx - 2.8, y1), colour="#c0392b")
        ax.text(1.3, (y0 + y1) / 2, "residual", rotation=90, ha="center", va="center",
                color="#c0392b", fontsize=9)
    ax.text(cx, 10.45, "one BERT encoder layer (post-LN)", ha="center", fontsize=12, weight="bold")
    return fig
