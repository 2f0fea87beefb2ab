"""The exercise checkers (notebooks/exercises.py) accept right answers and explain typical wrong ones.

Each test states, for one checker, a right answer that passes and the usual mistakes that are
flagged with their own hint. A checker prints "✔ ..." or "✘ ...\\n  hint: ..." and returns
True/False; it never raises, whatever the learner's function does.
"""

import math
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notebooks"))

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from scipy import stats  # noqa: E402
from transformers import BertTokenizer  # noqa: E402

import exercises  # noqa: E402
from exercises import (  # noqa: E402
    check_aopc, check_attention, check_bert_masking, check_bert_parameter_count, check_causal_mask,
    check_cls_attention, check_confidence_interval, check_cosine_matrix, check_freeze_encoder,
    check_head_tail, check_int8_quantize, check_macro_f1, check_mean_pool, check_mean_sd,
    check_median_time, check_n_windows, check_nsp_example, check_padding_waste,
    check_retrieval_accuracy, check_sentence_order, check_soft_target_loss, check_softmax,
    check_swap_gender, check_unk_rate, check_vote_pool, check_warmup_schedule, check_wordpiece,
)

F = torch.nn.functional

# A tiny WordPiece vocabulary: every checked word can be spelled, except "ℵℶℷ".
VOCAB = {w: i for i, w in enumerate(
    "[PAD] [UNK] [CLS] [SEP] [MASK] play p ##l ##a ##y ##i ##n ##g ##ing un ##believ ##ably "
    "token ##ization bert ##lab x".split())}


@pytest.fixture(scope="module")
def tokenizer():
    """A BERT tokenizer over a 12-word vocabulary: Chinese characters and emoji are [UNK]."""
    words = "[PAD] [UNK] [CLS] [SEP] [MASK] the film was great emoji and more".split()
    return BertTokenizer(vocab={w: i for i, w in enumerate(words)})


def flagged(capsys, checker, answer, *extra) -> str:
    """Assert that ``checker`` rejects ``answer`` in the verdict format; return what it printed."""
    assert checker(answer, *extra) is False
    out = capsys.readouterr().out
    assert out.startswith("✘ ")
    return out


def passes(capsys, checker, answer, *extra) -> str:
    """Assert that ``checker`` accepts ``answer`` with a one-line "✔" verdict; return what it printed."""
    assert checker(answer, *extra) is True
    out = capsys.readouterr().out
    assert out.startswith("✔ ") and "hint" not in out
    return out


ALL_CHECKERS = sorted(name for name in dir(exercises) if name.startswith("check_"))


def test_all_27_checkers_are_imported_and_tested_here():
    assert len(ALL_CHECKERS) == 27
    assert all(name in globals() for name in ALL_CHECKERS)


@pytest.mark.parametrize("name", ALL_CHECKERS)
@pytest.mark.parametrize("broken, says", [(lambda *a: None, "✘"), (lambda *a: 1 / 0, "raised ZeroDivisionError")],
                         ids=["returns None", "raises"])
def test_a_broken_answer_is_reported_never_raised(capsys, tokenizer, name, broken, says):
    extra = {"check_wordpiece": (VOCAB,), "check_unk_rate": (tokenizer,)}.get(name, ())
    assert says in flagged(capsys, getattr(exercises, name), broken, *extra)


# --------------------------------------------------------------------------- notebook 01
def test_softmax_must_survive_large_inputs(capsys):
    def stable(x):
        e = (x - x.max(-1, keepdim=True).values).exp()
        return e / e.sum(-1, keepdim=True)

    passes(capsys, check_softmax, stable)
    naive = lambda x: x.exp() / x.exp().sum(-1, keepdim=True)  # noqa: E731
    assert "subtract the row maximum" in flagged(capsys, check_softmax, naive)
    assert "dim=-1" in flagged(capsys, check_softmax, lambda x: x.exp() / x.exp().sum(0, keepdim=True))


def test_causal_mask_is_lower_triangular_bool(capsys):
    passes(capsys, check_causal_mask, lambda n: torch.ones(n, n).tril().bool())
    assert "transposed" in flagged(capsys, check_causal_mask, lambda n: torch.ones(n, n).triu().bool())
    assert "bool" in flagged(capsys, check_causal_mask, lambda n: torch.ones(n, n).tril())


def test_attention_is_scaled_masked_and_may_return_weights(capsys):
    def attention(q, k, v, mask):
        scores = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).masked_fill(~mask, float("-inf"))
        return scores.softmax(-1) @ v, scores.softmax(-1)

    passes(capsys, check_attention, attention)
    unscaled = lambda q, k, v, m: (q @ k.transpose(-2, -1)).masked_fill(~m, float("-inf")).softmax(-1) @ v  # noqa: E731
    assert "sqrt(d_k)" in flagged(capsys, check_attention, unscaled)
    no_mask = lambda q, k, v, mask: (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(-1) @ v  # noqa: E731
    assert "masked_fill" in flagged(capsys, check_attention, no_mask)


# --------------------------------------------------------------------------- notebook 02
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


def test_mean_pool_ignores_padding(capsys):
    passes(capsys, check_mean_pool, lambda h, m: (h * m[..., None]).sum(1) / m.sum(1, keepdim=True))
    assert "padding" in flagged(capsys, check_mean_pool, lambda h, m: h.mean(1))
    assert "dim=1" in flagged(capsys, check_mean_pool, lambda h, m: h.mean(2))


# --------------------------------------------------------------------------- notebook 03
def bert_mask(ids, special, mask_id, vocab_size, g, all_masked=False, specials_too=False):
    """BERT's masking, right by default; the flags make two usual mistakes."""
    inputs, labels = ids.clone(), ids.clone()
    chosen = torch.rand(ids.shape, generator=g) < 0.15
    if not specials_too:
        chosen &= special == 0
    labels[~chosen] = -100
    draw = torch.rand(ids.shape, generator=g)
    inputs[chosen & ((draw < 0.8) | all_masked)] = mask_id
    random_ids = chosen & (draw >= 0.8) & (draw < 0.9) & (not all_masked)
    inputs[random_ids] = torch.randint(vocab_size, ids.shape, generator=g)[random_ids]
    return inputs, labels


def test_bert_masking_chooses_15_percent_of_real_tokens_then_80_10_10(capsys):
    out = passes(capsys, check_bert_masking, bert_mask)
    assert re.search(r"\(1[45]\.\d% chosen, 80% \[MASK\], 10% unchanged\)", out)
    assert "second uniform draw" in flagged(capsys, check_bert_masking, lambda *a: bert_mask(*a, all_masked=True))
    assert "special_mask" in flagged(capsys, check_bert_masking, lambda *a: bert_mask(*a, specials_too=True))


def test_nsp_example_gives_the_first_sep_to_segment_a(capsys):
    passes(capsys, check_nsp_example, lambda a, b, c, s: ([c, *a, s, *b, s], [0] * (len(a) + 2) + [1] * (len(b) + 1)))
    late = lambda a, b, c, s: ([c, *a, s, *b, s], [0] * (len(a) + 1) + [1] * (len(b) + 2))  # noqa: E731
    assert "including the first [SEP]" in flagged(capsys, check_nsp_example, late)


def test_sentence_order_swaps_consecutive_segments_half_the_time(capsys):
    def pairs(segments, rng):
        return [(a, b, 0) if rng.random() < 0.5 else (b, a, 1) for a, b in zip(segments, segments[1:])]

    assert "swapped); negatives come from the same document" in passes(capsys, check_sentence_order, pairs)
    never_swapped = lambda segments, rng: [(a, b, 0) for a, b in zip(segments, segments[1:])]  # noqa: E731
    assert "not about half" in flagged(capsys, check_sentence_order, never_swapped)
    random_negative = lambda segments, rng: [(a, rng.choice(segments), 1) for a in segments[:-1]]  # noqa: E731
    assert "consecutive segments" in flagged(capsys, check_sentence_order, random_negative)


# --------------------------------------------------------------------------- notebook 04
def test_padding_waste_pads_each_batch_to_its_own_longest(capsys):
    def padding_waste(lengths, batch_size):
        batches = [lengths[i:i + batch_size] for i in range(0, len(lengths), batch_size)]
        return 1 - sum(lengths) / sum(len(b) * max(b) for b in batches)

    passes(capsys, check_padding_waste, padding_waste)
    global_longest = lambda lengths, batch_size: 1 - sum(lengths) / (len(lengths) * max(lengths))  # noqa: E731
    assert "per batch" in flagged(capsys, check_padding_waste, global_longest)


def test_macro_f1_averages_per_class_f1_and_survives_empty_classes(capsys):
    def macro_f1(y, p):
        f1s = []
        for c in sorted(set(y) | set(p)):
            tp = sum(a == c == b for a, b in zip(y, p))
            fp_fn = sum((a == c) != (b == c) for a, b in zip(y, p))
            f1s.append(2 * tp / (2 * tp + fp_fn))
        return sum(f1s) / len(f1s)

    passes(capsys, check_macro_f1, macro_f1)
    accuracy = lambda y, p: sum(a == b for a, b in zip(y, p)) / len(y)  # noqa: E731
    assert "plain mean over classes" in flagged(capsys, check_macro_f1, accuracy)

    def precision_recall(y, p):  # divides by zero for a class that is never predicted
        f1s = []
        for c in set(y):
            tp = sum(a == c == b for a, b in zip(y, p))
            prec, rec = tp / sum(b == c for b in p), tp / sum(a == c for a in y)
            f1s.append(2 * prec * rec / (prec + rec))
        return sum(f1s) / len(f1s)

    assert "ZeroDivisionError" in flagged(capsys, check_macro_f1, precision_recall)


def test_warmup_schedule_rises_linearly_then_decays_to_zero(capsys):
    def lr_at(step, warmup, total, peak):
        return peak * step / warmup if step < warmup else peak * (total - step) / (total - warmup)

    passes(capsys, check_warmup_schedule, lr_at)
    no_warmup = lambda step, warmup, total, peak: peak * (total - step) / total  # noqa: E731
    assert "warm-up: peak·step/warmup" in flagged(capsys, check_warmup_schedule, no_warmup)
    off_by_one = lambda step, warmup, total, peak: lr_at(step + 1, warmup, total, peak)  # noqa: E731
    assert "lr_at(0, 10, 100, 0.001) gave 0.0001, expected 0" in flagged(capsys, check_warmup_schedule, off_by_one)


# --------------------------------------------------------------------------- notebook 04b
def test_mean_sd_uses_the_sample_standard_deviation(capsys):
    passes(capsys, check_mean_sd, lambda v: (float(np.mean(v)), float(np.std(v, ddof=1))))
    assert "n - 1, not n" in flagged(capsys, check_mean_sd, lambda v: (float(np.mean(v)), float(np.std(v))))


def test_confidence_interval_uses_the_t_distribution(capsys):
    passes(capsys, check_confidence_interval,
           lambda v, level: stats.t.interval(level, len(v) - 1, loc=np.mean(v), scale=stats.sem(v)))
    normal = lambda v, level: (np.mean(v) - 1.96 * stats.sem(v), np.mean(v) + 1.96 * stats.sem(v))  # noqa: E731
    assert "t distribution" in flagged(capsys, check_confidence_interval, normal)


def test_freeze_encoder_freezes_the_pooler_too(capsys):
    def freeze(model):
        for p in model.bert.parameters():
            p.requires_grad = False

    def freeze_encoder_only(model):
        for p in model.bert.encoder.parameters():
            p.requires_grad = False

    passes(capsys, check_freeze_encoder, freeze)
    assert "pooler" in flagged(capsys, check_freeze_encoder, freeze_encoder_only)


# --------------------------------------------------------------------------- notebook 05
def test_n_windows_counts_the_first_window_and_the_overlaps(capsys):
    def n_windows(n, max_length, overlap):
        budget = max_length - 2
        return 1 if n <= budget else 1 + math.ceil((n - budget) / (budget - overlap))

    passes(capsys, check_n_windows, n_windows)
    no_first_window = lambda n, m, o: -(-n // (m - 2 - o))  # noqa: E731
    assert "max_length - 2" in flagged(capsys, check_n_windows, no_first_window)


def test_head_tail_keeps_short_texts_and_handles_an_empty_tail(capsys):
    def head_tail(ids, budget, head):
        return ids if len(ids) <= budget else ids[:head] + ids[len(ids) - (budget - head):]

    passes(capsys, check_head_tail, head_tail)
    minus_zero = lambda ids, budget, head: ids[:head] + ids[-(budget - head):]  # ids[-0:] is all of ids  # noqa: E731
    assert "ids[-0:]" in flagged(capsys, check_head_tail, minus_zero)


def test_vote_pool_counts_votes_and_breaks_ties_by_mean_probability(capsys):
    def vote_pool(logits, docs, n):
        votes = torch.zeros(n, 2).index_add_(0, docs, F.one_hot(logits.argmax(-1), 2).float())
        windows = torch.bincount(docs, minlength=n)[:, None]
        mean_probs = torch.zeros(n, 2).index_add_(0, docs, logits.softmax(-1)) / windows
        return (votes + 1e-3 * mean_probs).argmax(-1)   # probabilities only matter on a tie

    passes(capsys, check_vote_pool, vote_pool)
    mean_logits = lambda logits, docs, n: torch.zeros(n, 2).index_add_(0, docs, logits).argmax(-1)  # noqa: E731
    assert "on a tie" in flagged(capsys, check_vote_pool, mean_logits)


# --------------------------------------------------------------------------- notebook 06
def test_unk_rate_counts_unknown_pieces_without_special_tokens(capsys, tokenizer):
    def unk_rate(texts, tok, add_special_tokens=False):
        ids = [i for x in tok(texts, add_special_tokens=add_special_tokens)["input_ids"] for i in x]
        return sum(i == tok.unk_token_id for i in ids) / len(ids)

    assert "unk_rate = 0.562 on the test sentences" in passes(capsys, check_unk_rate, unk_rate, tokenizer)
    with_specials = lambda texts, tok: unk_rate(texts, tok, add_special_tokens=True)  # noqa: E731
    assert "you counted [CLS] and [SEP] too" in flagged(capsys, check_unk_rate, with_specials, tokenizer)
    per_text = lambda texts, tok: float(np.mean([unk_rate([t], tok) for t in texts]))  # noqa: E731
    assert "count over all tokens of all texts" in flagged(capsys, check_unk_rate, per_text, tokenizer)


def test_cosine_matrix_normalises_rows_and_is_len_a_by_len_b(capsys):
    passes(capsys, check_cosine_matrix, lambda a, b: F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T)
    assert "normalise each row" in flagged(capsys, check_cosine_matrix, lambda a, b: a @ b.T)
    assert "[len(a), len(b)]" in flagged(capsys, check_cosine_matrix,
                                         lambda a, b: F.normalize(b, dim=-1) @ F.normalize(a, dim=-1).T)


def test_retrieval_accuracy_looks_for_each_source_among_the_targets(capsys):
    def retrieval_accuracy(src, tgt, dim=-1):
        cos = F.normalize(src, dim=-1) @ F.normalize(tgt, dim=-1).T
        return (cos.argmax(dim) == torch.arange(len(src))).float().mean().item()

    passes(capsys, check_retrieval_accuracy, retrieval_accuracy)
    targets_to_sources = lambda src, tgt: retrieval_accuracy(src, tgt, dim=0)  # noqa: E731
    assert "argmax over target rows" in flagged(capsys, check_retrieval_accuracy, targets_to_sources)


# --------------------------------------------------------------------------- notebook 07
def test_cls_attention_is_the_last_layers_cls_row(capsys):
    passes(capsys, check_cls_attention, lambda att: att[-1, :, 0, :].mean(0))
    assert "column 0" in flagged(capsys, check_cls_attention, lambda att: att[-1, :, :, 0].mean(0))
    assert "att[-1]" in flagged(capsys, check_cls_attention, lambda att: att[0, :, 0, :].mean(0))
    assert "average over the heads" in flagged(capsys, check_cls_attention, lambda att: att[-1, 0, 0, :])


def test_aopc_is_one_number_the_mean_drop_after_deletions(capsys):
    passes(capsys, check_aopc, lambda p: sum(p[0] - x for x in p[1:]) / (len(p) - 1))
    assert "k = 1..K" in flagged(capsys, check_aopc, lambda p: sum(p[0] - x for x in p) / len(p))  # counts k = 0
    assert "single float" in flagged(capsys, check_aopc, lambda p: [p[0] - x for x in p[1:]])    # not averaged


def test_swap_gender_swaps_whole_words_both_ways_keeping_capitals(capsys):
    pairs = {"he": "she", "his": "her", "mother": "father", "actor": "actress", "man": "woman",
             "brothers": "sisters"}
    swap = {**pairs, **{b: a for a, b in pairs.items()}}

    def swap_gender(text):
        def repl(m):
            word, new = m.group(), swap[m.group().lower()]
            return new.capitalize() if word[0].isupper() else new
        return re.sub(r"\b(" + "|".join(swap) + r")\b", repl, text, flags=re.IGNORECASE)

    passes(capsys, check_swap_gender, swap_gender)
    assert "regular expression" in flagged(capsys, check_swap_gender, lambda t: t.replace("he", "she"))
    assert "keep a capital" in flagged(capsys, check_swap_gender, lambda t: swap_gender(t.lower()))


# --------------------------------------------------------------------------- notebook 08
def timed_runs(work, warmup, repeats, skip_warmup=True):
    for _ in range(warmup if skip_warmup else 0):
        work()
    times = []
    for _ in range(repeats if skip_warmup else warmup + repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def test_median_time_drops_warmup_runs_and_prints_no_measured_time(capsys):
    passes(capsys, check_median_time, lambda work, w, r: statistics.median(timed_runs(work, w, r)))
    mean = lambda work, w, r: statistics.mean(timed_runs(work, w, r))  # noqa: E731
    first = flagged(capsys, check_median_time, mean)
    assert "not the mean" in first
    assert flagged(capsys, check_median_time, mean) == first       # nbval compares outputs: no timings
    with_warmup = lambda work, w, r: statistics.median(timed_runs(work, w, r, skip_warmup=False))  # noqa: E731
    assert "the warm-up runs or the outlier got in" in flagged(capsys, check_median_time, with_warmup)
    assert "returned None" in flagged(capsys, check_median_time, lambda work, w, r: None)


def test_int8_quantize_is_symmetric_per_tensor_and_rounds(capsys):
    def quantize(w):
        scale = w.abs().max() / 127
        return torch.round(w / scale).to(torch.int8), float(scale)

    assert "largest error" in passes(capsys, check_int8_quantize, quantize)
    truncates = lambda w: ((w / (w.abs().max() / 127)).to(torch.int8), float(w.abs().max() / 127))  # noqa: E731
    assert "torch.round" in flagged(capsys, check_int8_quantize, truncates)
    per_row = lambda w: (torch.zeros_like(w, dtype=torch.int8), w.abs().amax(1) / 127)  # noqa: E731
    assert "one scale per tensor" in flagged(capsys, check_int8_quantize, per_row)
    float_q = lambda w: (torch.round(w / (w.abs().max() / 127)), float(w.abs().max() / 127))  # noqa: E731
    assert ".to(torch.int8)" in flagged(capsys, check_int8_quantize, float_q)


def soft_target_loss(student, teacher, t, reduction="batchmean", t_squared=True):
    kl = F.kl_div((student / t).log_softmax(-1), (teacher / t).log_softmax(-1), log_target=True, reduction=reduction)
    return kl * t * t if t_squared else kl


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
def test_soft_target_loss_is_batchmean_kl_times_t_squared(capsys):
    passes(capsys, check_soft_target_loss, soft_target_loss)
    no_t_squared = lambda s, t, T: soft_target_loss(s, t, T, t_squared=False)  # noqa: E731
    assert "T² factor" in flagged(capsys, check_soft_target_loss, no_t_squared)
    assert "reduction='mean' also divides" in flagged(capsys, check_soft_target_loss,
                                                      lambda s, t, T: soft_target_loss(s, t, T, reduction="mean"))
    per_example = lambda s, t, T: soft_target_loss(s, t, T, reduction="none").sum(-1)  # noqa: E731
    assert "batchmean" in flagged(capsys, check_soft_target_loss, per_example)
