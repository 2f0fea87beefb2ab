"""Notebook 07 · Interpretability: its exercise checkers pass right answers and name the usual mistakes."""

import re

from bertlab.exercises import check_aopc, check_cls_attention, check_swap_gender
from checking import flagged, passes


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
