"""Notebook 03 · Pretraining objectives: its exercise checkers pass right answers and name the usual mistakes."""

import re

import torch

from bertlab.exercises import check_bert_masking, check_nsp_example, check_sentence_order
from checking import flagged, passes


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
