"""Notebook 03 · Pretraining objectives: its exercise checkers pass right answers and name the usual mistakes."""

import re

import pytest
import torch

import bertlab
from bertlab import models, pretraining
from bertlab.exercises import check_bert_masking, check_mask_rate, check_mask_rate_reading, check_sentence_order
from checking import flagged, passes, unfinished


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
    unfinished(capsys, check_bert_masking)


def test_sentence_order_swaps_consecutive_segments_half_the_time(capsys):
    def pairs(segments, rng):
        return [(a, b, 0) if rng.random() < 0.5 else (b, a, 1) for a, b in zip(segments, segments[1:])]

    assert "swapped); negatives come from the same document" in passes(capsys, check_sentence_order, pairs)
    never_swapped = lambda segments, rng: [(a, b, 0) for a, b in zip(segments, segments[1:])]  # noqa: E731
    assert "not about half" in flagged(capsys, check_sentence_order, never_swapped)
    random_negative = lambda segments, rng: [(a, rng.choice(segments), 1) for a in segments[:-1]]  # noqa: E731
    assert "consecutive segments" in flagged(capsys, check_sentence_order, random_negative)
    unfinished(capsys, check_sentence_order)


@pytest.fixture(scope="module")
def pretrained():
    """Notebook 03's 8,000-step model, its tokenizer and 100 held-out pairs (the experiment, made small)."""
    from transformers import BertForPreTraining

    tokenizer = bertlab.load_tokenizer("tiny-bert-bbc")
    pairs = pretraining.make_nsp_pairs(tokenizer, bertlab.load_corpus("bbc_news", "validation")[:60], seed=1)[:100]
    return bertlab.load_model("tiny-bert-bbc", BertForPreTraining), tokenizer, pairs


def test_mask_rate_experiment_agrees_with_a_rerun_at_15_and_40_percent(capsys, pretrained):
    model, tokenizer, pairs = pretrained
    seed = models.recipe("tiny-bert-bbc")["seed"] + 1

    def measure(rate, which="masked_accuracy", m=model, s=seed):
        return pretraining.evaluate(m, pairs, pretraining.MLMCollator(tokenizer, rate, s))[which]

    assert check_mask_rate(measure, *pretrained) is True
    out, err = capsys.readouterr()
    assert re.search(r"the masked-token accuracy is (not )?lower at 40% than at 15%", out)
    assert re.fullmatch(r"masked-token accuracy: 0\.\d{3} with 15% of the tokens masked, 0\.\d{3} with 40%\n", err), \
        "CPU-dependent figures go to stderr"
    assert "pass the rate on" in flagged(capsys, check_mask_rate, lambda rate: measure(0.15), *pretrained)
    assert "most-frequent-token baseline" in flagged(
        capsys, check_mask_rate, lambda rate: measure(rate, "most_frequent_baseline"), *pretrained)
    assert "a rerun of the experiment measured" in flagged(
        capsys, check_mask_rate, lambda rate: measure(rate, s=seed + 5), *pretrained)
    assert "not an accuracy" in flagged(capsys, check_mask_rate, lambda rate: 12, *pretrained)
    unfinished(capsys, check_mask_rate, *pretrained)


def test_mask_rate_reading_says_the_task_got_harder_not_the_model(capsys):
    assert "task got harder" in passes(capsys, check_mask_rate_reading, lambda: "b")
    assert "does not change the weights" in flagged(capsys, check_mask_rate_reading, lambda: "a")
    unfinished(capsys, check_mask_rate_reading)
