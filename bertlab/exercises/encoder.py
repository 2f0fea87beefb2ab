"""Checkers for notebook 02 · The BERT encoder."""

from __future__ import annotations

import time

import torch
from transformers import BertConfig, BertModel

from .. import wordpiece
from .core import check, same, wrong_shape


def check_wordpiece(fn, vocab: dict[str, int]) -> bool:
    """Check a greedy longest-match-first WordPiece ``fn(word, vocab) -> pieces``."""
    words = ("playing", "unbelievably", "tokenization", "bertlab", "x", "ℵℶℷ")
    return check(fn, "wordpiece", [
        ((w, vocab), wordpiece.wordpiece(w, vocab), "continuation pieces start with '##'") for w in words
    ], "WordPiece matches BERT's greedy longest-match-first on all cases", mistakes=[
        (lambda got, want, _: want == ["[UNK]"], "",
         "if some part cannot be matched, the whole word becomes ['[UNK]']"),
        (lambda got, want, _: len(got) > len(want), "",
         "take the *longest* matching prefix first (shrink the end, not grow it)"),
    ])


def bert_size(vocab: int, hidden: int, layers: int, inter: int, positions: int, types: int) -> int:
    """The number of parameters of a ``transformers.BertModel`` (pooler included)."""
    cfg = BertConfig(vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers,
                     num_attention_heads=max(1, hidden // 64), intermediate_size=inter,
                     max_position_embeddings=positions, type_vocab_size=types)
    with torch.device("meta"):  # shapes only: no memory, no time
        return sum(p.numel() for p in BertModel(cfg).parameters())


def check_bert_parameter_count(fn) -> bool:
    """Check a formula ``fn(vocab, hidden, layers, intermediate, positions, types) -> int``
    against the number of parameters of ``transformers.BertModel`` (with pooler)."""
    configs = [(30522, 768, 12, 3072, 512, 2), (30522, 384, 6, 1536, 512, 2), (1000, 64, 2, 256, 128, 2)]
    off = "gave {got:,}, BertModel has {want:,}"
    return check(fn, "bert_parameters", [(c, bert_size(*c), "") for c in configs],
                 "parameter formula matches BertModel for BERT-base, MiniLM and a tiny config", mistakes=[
        (lambda got, want, a: want - got == a[1] * a[1] + a[1], off,
         "don't forget the pooler (a hidden×hidden dense layer with bias)"),
        (lambda got, want, a: want - got == 2 * a[1], off, "the embedding LayerNorm has a weight and a bias"),
        (lambda got, want, a: True, off,
         "count weights *and* biases; 4 attention matrices, 2 feed-forward, 2 LayerNorms per layer"),
    ])


def check_mean_pool(fn) -> bool:
    """Check ``fn(last_hidden_state, attention_mask) -> [batch, hidden]`` that ignores padding."""
    hidden = torch.arange(2 * 3 * 2, dtype=torch.float).view(2, 3, 2)
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    return check(fn, "mean_pool(hidden [2, 3, 2], mask [[1, 1, 1], [1, 1, 0]])", [
        ((hidden, mask), torch.stack([hidden[0].mean(0), hidden[1, :2].mean(0)]),
         "sum(hidden * mask) / sum(mask) per sentence"),
    ], "mean pooling ignores padding correctly", mistakes=[
        (wrong_shape, "", "average over dim=1"),
        (lambda got, *_: same(got, hidden.mean(1)), "averaged the padding positions in",
         "multiply by the mask, sum over tokens, divide by the number of real tokens"),
    ])
