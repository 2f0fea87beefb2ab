"""Notebook 04 · Fine-tuning: its exercise checkers pass right answers and name the usual mistakes."""

import re

import pytest

import bertlab
from bertlab import finetune
from bertlab.exercises import (check_macro_f1, check_padding_experiment, check_padding_reading, check_padding_waste,
                               check_warmup_schedule)
from checking import flagged, passes, unfinished


def test_padding_waste_pads_each_batch_to_its_own_longest(capsys):
    def padding_waste(lengths, batch_size):
        batches = [lengths[i:i + batch_size] for i in range(0, len(lengths), batch_size)]
        return 1 - sum(lengths) / sum(len(b) * max(b) for b in batches)

    passes(capsys, check_padding_waste, padding_waste)
    global_longest = lambda lengths, batch_size: 1 - sum(lengths) / (len(lengths) * max(lengths))  # noqa: E731
    assert "per batch" in flagged(capsys, check_padding_waste, global_longest)
    unfinished(capsys, check_padding_waste)


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
    unfinished(capsys, check_macro_f1)


def test_warmup_schedule_rises_linearly_then_decays_to_zero(capsys):
    def lr_at(step, warmup, total, peak):
        return peak * step / warmup if step < warmup else peak * (total - step) / (total - warmup)

    passes(capsys, check_warmup_schedule, lr_at)
    no_warmup = lambda step, warmup, total, peak: peak * (total - step) / total  # noqa: E731
    assert "warm-up: peak·step/warmup" in flagged(capsys, check_warmup_schedule, no_warmup)
    off_by_one = lambda step, warmup, total, peak: lr_at(step + 1, warmup, total, peak)  # noqa: E731
    assert "lr_at(0, 10, 100, 0.001) gave 0.0001, expected 0" in flagged(capsys, check_warmup_schedule, off_by_one)
    unfinished(capsys, check_warmup_schedule)


@pytest.fixture(scope="module")
def snippets():
    """MiniLM's tokenizer and 600 tokenized Rotten Tomatoes training snippets (the experiment, made small)."""
    tokenizer = bertlab.load_tokenizer("minilm-l6")
    train = bertlab.load_dataset("rotten_tomatoes")["train"].select(range(600))
    return tokenizer, finetune.tokenize_dataset(tokenizer, train, 64)


def test_padding_experiment_agrees_with_a_rerun_at_batch_8_and_128(capsys, snippets):
    tokenizer, tokenized = snippets

    def shares(batch_size, grouped=(False, True)):
        return tuple(finetune.padding_share(finetune.make_loader(tokenizer, tokenized, batch_size, length_grouped=g))
                     for g in grouped)

    out = passes(capsys, check_padding_experiment, shares, *snippets)
    assert re.search(r"batch 8: \d+\.\d% and \d+\.\d%; batch 128: \d+\.\d% and \d+\.\d%", out)
    assert "pass batch_size on" in flagged(capsys, check_padding_experiment, lambda size: shares(32), *snippets)
    assert "wrong way round" in flagged(capsys, check_padding_experiment, lambda size: shares(size, (True, False)),
                                        *snippets)
    ordered = lambda size: (finetune.padding_share(finetune.make_loader(  # noqa: E731
        tokenizer, tokenized, size, shuffle=False, length_grouped=False)), shares(size)[1])
    assert "a rerun of the experiment measured" in flagged(capsys, check_padding_experiment, ordered, *snippets)
    assert "not two shares" in flagged(capsys, check_padding_experiment, lambda size: 0.5, *snippets)
    unfinished(capsys, check_padding_experiment, *snippets)


def test_padding_reading_blames_the_longest_member_of_a_random_batch(capsys):
    assert "longest snippet" in passes(capsys, check_padding_reading, lambda: "c")
    assert "pad_to_multiple_of" in flagged(capsys, check_padding_reading, lambda: "a")
    unfinished(capsys, check_padding_reading)
