"""Notebook 07 · Interpretability: its exercise checkers pass right answers and name the usual mistakes."""

import copy
import re

import numpy as np
import pytest

import bertlab
from bertlab import interpret
from bertlab.exercises import (check_aopc, check_cls_attention, check_ig_baseline_aopc, check_ig_baseline_verdict,
                               check_multiple_intervals, check_swap_gender)
from checking import flagged, passes, unfinished


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


@pytest.fixture(scope="module")
def sharp_classifier(classifier):
    """The seeded MiniLM classifier with its head scaled up, so that deleting tokens moves its probabilities."""
    sharp = copy.deepcopy(classifier)
    sharp.classifier.weight.data *= 200
    return sharp


TEXTS = ["a gentle, funny and moving film", "dull from start to finish, and far too long"]


def ig_aopc(model, tok, texts, baseline, replacement):
    targets = bertlab.predict(model, tok, texts, max_length=64).argmax(-1).tolist()
    scores = []
    for text, target in zip(texts, targets):
        enc = tok(text, truncation=True, max_length=64, return_tensors="pt")
        ig, _ = interpret.integrated_gradients(model, enc, target, steps=32, baseline_token=baseline)
        ks = [round(f * (enc["input_ids"].shape[1] - 2)) for f in (0, .1, .2, .3, .4, .5)]
        scores.append(interpret.aopc(interpret.deletion_curve(model, enc, ig, target, ks, replacement)))
    return float(np.mean(scores))


def test_ig_baseline_aopc_must_agree_with_a_rerun(capsys, tok, sharp_classifier):
    context = (sharp_classifier, tok, TEXTS)
    right = lambda texts, b, r: ig_aopc(sharp_classifier, tok, texts, b, r)  # noqa: E731
    passes(capsys, check_ig_baseline_aopc, right, *context)
    pad_baseline = lambda texts, b, r: ig_aopc(sharp_classifier, tok, texts, tok.pad_token_id, r)  # noqa: E731
    assert "[PAD] baseline" in flagged(capsys, check_ig_baseline_aopc, pad_baseline, *context)
    assert "disagrees with a rerun" in flagged(capsys, check_ig_baseline_aopc, lambda texts, b, r: 0.9, *context)
    assert "expected one mean AOPC" in flagged(capsys, check_ig_baseline_aopc, lambda texts, b, r: [0.1, 0.2], *context)
    unfinished(capsys, check_ig_baseline_aopc, *context)


@pytest.mark.parametrize("checker, right, wrong, says", [
    (check_ig_baseline_verdict, "b", "a", "is not it"),
    (check_multiple_intervals, "b", "a", "its own 5% chance"),
])
def test_multiple_choice_questions(capsys, checker, right, wrong, says):
    assert "is right" in passes(capsys, checker, lambda: right)
    assert says in flagged(capsys, checker, lambda: wrong)
    unfinished(capsys, checker)


def test_the_older_checkers_meet_the_stub_kindly(capsys):
    for checker in (check_cls_attention, check_aopc, check_swap_gender):
        unfinished(capsys, checker)
