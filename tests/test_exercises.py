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


def test_seed_statistics_checkers(capsys):
    import numpy as np
    from scipy import stats

    assert exercises.check_mean_sd(lambda v: (float(np.mean(v)), float(np.std(v, ddof=1))))
    assert not exercises.check_mean_sd(lambda v: (float(np.mean(v)), float(np.std(v))))
    assert "n - 1" in capsys.readouterr().out
    good = lambda v, level: stats.t.interval(level, len(v) - 1, loc=np.mean(v), scale=stats.sem(v))  # noqa: E731
    assert exercises.check_confidence_interval(good)
    normal = lambda v, level: (np.mean(v) - 1.96 * stats.sem(v), np.mean(v) + 1.96 * stats.sem(v))  # noqa: E731
    assert not exercises.check_confidence_interval(normal)
    assert "t distribution" in capsys.readouterr().out


def test_freeze_encoder_checker(capsys):
    def freeze(model):
        for p in model.bert.parameters():
            p.requires_grad = False

    def freeze_encoder_only(model):
        for p in model.bert.encoder.parameters():
            p.requires_grad = False

    assert exercises.check_freeze_encoder(freeze)
    assert not exercises.check_freeze_encoder(freeze_encoder_only)
    assert "pooler" in capsys.readouterr().out


def test_pretraining_checkers_accept_bertlab_and_flag_usual_mistakes(capsys):
    import random

    from bertlab import pretraining

    def ours(ids, special, mask_id, vocab, g):
        return pretraining.mask_tokens(ids, special, mask_id, vocab, generator=g)

    def all_masked(ids, special, mask_id, vocab, g):  # forgets the 10% random / 10% unchanged
        inputs, labels = pretraining.mask_tokens(ids, special, mask_id, vocab, generator=g)
        inputs[labels != -100] = mask_id
        return inputs, labels

    assert exercises.check_bert_masking(ours)
    assert not exercises.check_bert_masking(all_masked)
    assert not exercises.check_nsp_example(lambda a, b, c, s: ([c, *a, s, *b, s], [0] * (len(a) + 1) + [1] * (len(b) + 2)))
    assert exercises.check_nsp_example(lambda a, b, c, s: ([c, *a, s, *b, s], [0] * (len(a) + 2) + [1] * (len(b) + 1)))
    assert exercises.check_sentence_order(
        lambda segs, rng: [(a, b, 0) if rng.random() < 0.5 else (b, a, 1) for a, b in zip(segs, segs[1:])])
    assert not exercises.check_sentence_order(lambda segs, rng: [(a, b, 0) for a, b in zip(segs, segs[1:])])
    assert not exercises.check_sentence_order(
        lambda segs, rng: [(a, random.choice(segs), 1) for a in segs[:-1]])
    out = capsys.readouterr().out
    assert "second uniform draw" in out and "segment ids" in out


def test_notebook05_checkers_accept_right_answers_and_flag_usual_mistakes():
    from bertlab import longdoc

    assert exercises.check_n_windows(longdoc.n_windows)
    assert not exercises.check_n_windows(lambda n, m, o: -(-n // (m - 2 - o)))      # forgets the first window
    right = lambda ids, budget, head: ids if len(ids) <= budget else ids[:head] + ids[len(ids) - budget + head:]  # noqa: E731
    assert exercises.check_head_tail(right)
    assert not exercises.check_head_tail(lambda ids, budget, head: ids[:head] + ids[-(budget - head):])  # ids[-0:]

    def vote(logits, docs, n):
        docs = torch.as_tensor(docs)
        counts = torch.zeros(n, 2).index_add_(0, docs, torch.nn.functional.one_hot(logits.argmax(-1), 2).float())
        return (counts + 1e-3 * longdoc.pool(logits, docs, n, "mean_probs")).argmax(-1)
    assert exercises.check_vote_pool(vote)
    assert not exercises.check_vote_pool(lambda logits, docs, n: longdoc.pool(logits, docs, n).argmax(-1))


def test_notebook07_checkers_accept_right_answers_and_flag_usual_mistakes(capsys):
    from bertlab import bias, interpret

    assert exercises.check_cls_attention(lambda att: att[-1, :, 0, :].mean(0))
    assert not exercises.check_cls_attention(lambda att: att[-1, :, :, 0].mean(0))
    assert "column 0" in capsys.readouterr().out
    assert not exercises.check_cls_attention(lambda att: att[0, :, 0, :].mean(0))
    assert exercises.check_aopc(interpret.aopc)
    assert not exercises.check_aopc(lambda p: sum(p[0] - x for x in p) / len(p))     # counts k = 0
    assert not exercises.check_aopc(lambda p: 1.0)
    assert not exercises.check_aopc(lambda p: [p[0] - x for x in p[1:]])              # forgot to average
    assert exercises.check_swap_gender(bias.swap_gendered)
    assert not exercises.check_swap_gender(lambda t: t.replace("he", "she"))
    assert "regular expression" in capsys.readouterr().out


def test_notebook08_checkers_accept_right_answers_and_flag_usual_mistakes(capsys):
    import statistics
    import time

    from bertlab import efficiency

    def median_time(work, warmup, repeats):
        for _ in range(warmup):
            work()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    def mean_all(work, warmup, repeats):
        start = time.perf_counter()
        for _ in range(warmup + repeats):
            work()
        return (time.perf_counter() - start) / (warmup + repeats)

    def median_with_warmup(work, warmup, repeats):
        times = []
        for _ in range(warmup + repeats):
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    assert exercises.check_median_time(median_time)
    assert not exercises.check_median_time(mean_all)
    assert "median" in capsys.readouterr().out
    assert not exercises.check_median_time(median_with_warmup)
    assert not exercises.check_median_time(lambda work, w, r: None)
    assert "returned None" in capsys.readouterr().out

    def quantize(w):
        scale = w.abs().max() / 127
        return torch.round(w / scale).to(torch.int8), float(scale)

    assert exercises.check_int8_quantize(quantize)
    assert not exercises.check_int8_quantize(lambda w: ((w / (w.abs().max() / 127)).to(torch.int8),
                                                        float(w.abs().max() / 127)))   # truncates
    assert "round" in capsys.readouterr().out
    assert exercises.check_soft_target_loss(lambda s, t, T: efficiency.distillation_loss(s, t, None, T))
    per_example = lambda s, t, T: torch.nn.functional.kl_div((s / T).log_softmax(-1), (t / T).log_softmax(-1),  # noqa: E731
                                                             log_target=True, reduction="none").sum(-1) * T * T
    assert not exercises.check_soft_target_loss(per_example)
    assert not exercises.check_soft_target_loss(lambda s, t, T: 1 / 0)
    assert not exercises.check_int8_quantize(lambda w: (torch.zeros_like(w, dtype=torch.int8), w.abs().amax(1) / 127))
    assert not exercises.check_soft_target_loss(lambda s, t, T: efficiency.distillation_loss(s, t, None, T) / T / T)
    assert "T²" in capsys.readouterr().out
