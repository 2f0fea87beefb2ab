"""Checkers for notebook 02 · The BERT encoder."""

from __future__ import annotations

import time

import torch
from transformers import BertConfig, BertModel

from .. import attention, encoder, wordpiece
from .core import check, check_choice, same, wrong_shape

__all__ = ["check_wordpiece", "check_bert_parameter_count", "check_encoder_layer", "check_causal_choice"]


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


def _tiny_layer():
    """A small encoder layer with random weights (LayerNorms too), an input batch and a padding mask."""
    torch.manual_seed(0)
    layer = encoder.EncoderLayer(encoder.EncoderConfig(hidden_size=16, num_heads=2, intermediate_size=32))
    with torch.no_grad():
        for norm in (layer.attention_norm, layer.output_norm):
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.uniform_(-0.5, 0.5)
    x = torch.randn(2, 4, 16, generator=torch.Generator().manual_seed(1))
    return layer.eval(), x, attention.padding_mask(torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]]))


def check_encoder_layer(fn) -> bool:
    """Check ``fn(layer, x, mask) -> new x``: one post-LayerNorm BERT encoder layer, from its parts."""
    layer, x, mask = _tiny_layer()
    with torch.no_grad():
        want = layer(x, mask)[0]
        attend = lambda inp, m=mask: layer.attention(inp, m)[0]  # noqa: E731
        ffn = lambda inp, act=torch.nn.functional.gelu: layer.output(act(layer.intermediate(inp)))  # noqa: E731
        h = layer.attention_norm(x + attend(layer.attention_norm(x)))
        pre_ln = h + ffn(layer.output_norm(h))
        h = x + attend(layer.attention_norm(x))
        pre_ln2 = h + ffn(layer.output_norm(h))
        h = layer.attention_norm(attend(x))
        no_residual = layer.output_norm(ffn(h))
        h = layer.attention_norm(x + attend(x))
        relu = layer.output_norm(h + ffn(h, torch.relu))
        h = layer.attention_norm(x + attend(x, None))
        no_mask = layer.output_norm(h + ffn(h))

    def output(*args):  # returning (new x, weights) like EncoderLayer.forward is fine too
        with torch.no_grad():
            out = fn(*args)
        return out[0] if isinstance(out, tuple) else out

    def like(variant):
        return lambda got, *_: same(got, variant, 1e-5)

    return check(output, "encoder_layer(layer, x [2, 4, 16], padding mask)", [
        ((layer, x, mask), want, "x = norm1(x + attention(x)); x = norm2(x + FFN(x)), FFN = W2 GELU(W1 x)"),
    ], "your encoder layer equals EncoderLayer.forward (post-LN, GELU, residuals, mask)", tol=1e-5, mistakes=[
        (wrong_shape, "", "each sub-block keeps the shape [batch, n, hidden]"),
        (like(pre_ln), "is pre-LN", "BERT is post-LN: add the residual first, then LayerNorm: norm(x + sublayer(x))"),
        (like(pre_ln2), "is pre-LN", "BERT is post-LN: add the residual first, then LayerNorm: norm(x + sublayer(x))"),
        (like(no_residual), "has no residual connections",
         "add each sub-block's input back before its LayerNorm: norm(x + sublayer(x))"),
        (like(relu), "uses ReLU", "BERT's feed-forward uses GELU: torch.nn.functional.gelu"),
        (like(no_mask), "ignores the padding mask", "pass the mask to the attention: layer.attention(x, mask)"),
    ])


def check_causal_choice(fn) -> bool:
    """Check the causal-mask experiment's multiple-choice answer."""
    return check_choice(fn, "causal_choice", "c", {
        "a": "the causal mask blocks only the future: a changed word is in the past of every later token",
        "b": "every token after the changed word attends to it, so their vectors change too",
        "c": "under a causal mask token i sees tokens 0..i: the changed word and everything after it change, "
             "[CLS] before it cannot see it and stays the same",
        "d": "[CLS] comes before the changed word and, under a causal mask, never sees it",
    })
