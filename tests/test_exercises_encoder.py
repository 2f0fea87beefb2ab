"""Notebook 02 · The BERT encoder: its exercise checkers pass right answers and name the usual mistakes."""

import torch

from bertlab.exercises import check_bert_parameter_count, check_causal_choice, check_encoder_layer, check_wordpiece
from checking import flagged, passes, unfinished, VOCAB

F = torch.nn.functional


def greedy_wordpiece(word, vocab, shortest=False, unk_per_char=False):
    """WordPiece, right by default; the flags make two usual mistakes."""
    pieces, start = [], 0
    while start < len(word):
        ends = range(start + 1, len(word) + 1) if shortest else range(len(word), start, -1)
        end = next((e for e in ends if (word[start:e] if start == 0 else "##" + word[start:e]) in vocab), None)
        if end is None:
            if not unk_per_char:
                return ["[UNK]"]
            pieces, end = pieces + ["[UNK]"], start + 1
        else:
            pieces.append(word[start:end] if start == 0 else "##" + word[start:end])
        start = end
    return pieces


def test_wordpiece_is_greedy_longest_match_first(capsys):
    passes(capsys, check_wordpiece, greedy_wordpiece, VOCAB)
    shortest = lambda w, v: greedy_wordpiece(w, v, shortest=True)  # noqa: E731
    assert "*longest*" in flagged(capsys, check_wordpiece, shortest, VOCAB)
    unk_per_char = lambda w, v: greedy_wordpiece(w, v, unk_per_char=True)  # noqa: E731
    assert "the whole word becomes ['[UNK]']" in flagged(capsys, check_wordpiece, unk_per_char, VOCAB)


def bert_parameters(vocab, hidden, layers, inter, positions, types, pooler=True, embedding_norm=True):
    embeddings = (vocab + positions + types) * hidden + (2 * hidden if embedding_norm else 0)
    layer = (4 * (hidden * hidden + hidden) + 2 * hidden                        # attention + LayerNorm
             + (hidden * inter + inter) + (inter * hidden + hidden) + 2 * hidden)  # feed-forward + LayerNorm
    return embeddings + layers * layer + (hidden * hidden + hidden if pooler else 0)


def test_parameter_count_includes_the_pooler_and_every_layer_norm(capsys):
    passes(capsys, check_bert_parameter_count, bert_parameters)
    assert "pooler" in flagged(capsys, check_bert_parameter_count, lambda *a: bert_parameters(*a, pooler=False))
    assert "embedding LayerNorm" in flagged(capsys, check_bert_parameter_count,
                                            lambda *a: bert_parameters(*a, embedding_norm=False))
    assert "weights *and* biases" in flagged(capsys, check_bert_parameter_count, lambda *a: bert_parameters(*a) - 1)


def encoder_layer(layer, x, mask, pre_ln=False, residual=True, act=F.gelu, use_mask=True):
    """One encoder layer from its parts, right by default; the flags make the usual mistakes."""
    def block(x, sublayer, norm):
        if pre_ln:
            return x + sublayer(norm(x))
        return norm(x + sublayer(x) if residual else sublayer(x))

    x = block(x, lambda h: layer.attention(h, mask if use_mask else None)[0], layer.attention_norm)
    return block(x, lambda h: layer.output(act(layer.intermediate(h))), layer.output_norm)


def test_encoder_layer_is_post_ln_with_residuals_gelu_and_the_mask(capsys):
    passes(capsys, check_encoder_layer, encoder_layer)
    passes(capsys, check_encoder_layer, lambda *a: (encoder_layer(*a), None))  # (x, weights) like forward
    assert "post-LN" in flagged(capsys, check_encoder_layer, lambda *a: encoder_layer(*a, pre_ln=True))
    assert "add each sub-block's input back" in flagged(capsys, check_encoder_layer,
                                                        lambda *a: encoder_layer(*a, residual=False))
    assert "GELU" in flagged(capsys, check_encoder_layer, lambda *a: encoder_layer(*a, act=torch.relu))
    assert "pass the mask" in flagged(capsys, check_encoder_layer, lambda *a: encoder_layer(*a, use_mask=False))
    unfinished(capsys, check_encoder_layer)


def test_causal_choice_says_which_tokens_see_the_changed_word(capsys):
    assert "[CLS] before it cannot see it" in passes(capsys, check_causal_choice, lambda: "c")
    assert "past of every later token" in flagged(capsys, check_causal_choice, lambda: "a")
    assert "never sees it" in flagged(capsys, check_causal_choice, lambda: "d")
    unfinished(capsys, check_causal_choice)


def test_the_earlier_checkers_meet_the_stub(capsys):
    unfinished(capsys, check_wordpiece, VOCAB)
    unfinished(capsys, check_bert_parameter_count)
