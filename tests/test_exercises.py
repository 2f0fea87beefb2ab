"""Exercise checkers accept right answers and explain typical wrong ones."""

import math

import torch

from bertlab import exercises, wordpiece
from bertlab.models import model_path


def test_softmax_checker_flags_overflow(capsys):
    assert exercises.check_softmax(lambda x: torch.softmax(x, -1))
    assert not exercises.check_softmax(lambda x: x.exp() / x.exp().sum(-1, keepdim=True))
    assert "subtract the row maximum" in capsys.readouterr().out


def test_causal_mask_checker_flags_transposed_mask(capsys):
    assert exercises.check_causal_mask(lambda n: torch.ones(n, n).tril().bool())
    assert not exercises.check_causal_mask(lambda n: torch.ones(n, n).triu().bool())
    assert "transposed" in capsys.readouterr().out


def test_attention_checker_flags_missing_scale_and_learner_exceptions(capsys):
    def good(q, k, v, mask):
        s = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).masked_fill(~mask, float("-inf"))
        return s.softmax(-1) @ v

    def unscaled(q, k, v, mask):
        return (q @ k.transpose(-2, -1)).masked_fill(~mask, float("-inf")).softmax(-1) @ v

    assert exercises.check_attention(good)
    assert not exercises.check_attention(unscaled)
    assert not exercises.check_attention(lambda *a: 1 / 0)
    out = capsys.readouterr().out
    assert "sqrt(d_k)" in out and "ZeroDivisionError" in out


def test_wordpiece_checker(capsys):
    v = wordpiece.load_vocab(f"{model_path('minilm-l6')}/vocab.txt")
    assert exercises.check_wordpiece(wordpiece.wordpiece, v)
    assert not exercises.check_wordpiece(lambda w, v: [w], v)


def test_parameter_count_checker_points_at_the_pooler(capsys):
    def without_pooler(vocab, hidden, layers, inter, pos, types):
        emb = (vocab + pos + types) * hidden + 2 * hidden
        layer = 4 * (hidden * hidden + hidden) + 2 * hidden + 2 * hidden * inter + inter + hidden + 2 * hidden
        return emb + layers * layer

    assert not exercises.check_bert_parameter_count(without_pooler)
    assert "pooler" in capsys.readouterr().out
    assert exercises.check_bert_parameter_count(
        lambda *a: without_pooler(*a) + a[1] * a[1] + a[1])


def test_mean_pool_checker_flags_padding_averaged_in(capsys):
    import bertlab

    assert exercises.check_mean_pool(bertlab.mean_pool)
    assert not exercises.check_mean_pool(lambda h, m: h.mean(1))
    assert "padding" in capsys.readouterr().out
