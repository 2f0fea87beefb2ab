"""Checkers for notebook 03 · Pretraining objectives."""

from __future__ import annotations

import random

import torch

from .core import check, same


def check_bert_masking(fn) -> bool:
    """Check ``fn(input_ids, special_mask, mask_id, vocab_size, generator) -> (inputs, labels)``
    statistically: 15% of real tokens chosen, 80/10/10 split, specials never chosen, -100 labels."""
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(10, 1000, (300, 100), generator=g)
    special = torch.zeros_like(ids)
    special[:, 0] = special[:, -1] = special[:, 80:] = 1  # [CLS], [SEP] and padding
    seen = {}

    def right(got):
        inputs, labels = got
        chosen = labels != -100
        if chosen[special.bool()].any():
            return "chose a special or padding position", "exclude positions where special_mask is 1 before masking"
        if not torch.equal(labels[chosen], ids[chosen]):
            return "gave labels that are not the original token ids at the chosen positions", ""
        seen.update(share=chosen.sum().item() / int((special == 0).sum()),
                    masked=(inputs[chosen] == 4).float().mean().item(),
                    unchanged=(inputs[chosen] == ids[chosen]).float().mean().item())
        if abs(seen["share"] - 0.15) > 0.01:
            return (f"chose {seen['share']:.1%} of real tokens, expected 15%",
                    "draw one uniform number per token and compare it with 0.15")
        if abs(seen["masked"] - 0.8) > 0.02 or abs(seen["unchanged"] - 0.1) > 0.02:
            return (f"turned {seen['masked']:.0%} of the chosen tokens into [MASK] and left {seen['unchanged']:.0%} "
                    "unchanged; expected 80% and ~10% (plus the rare random draw of the same id)",
                    "use a second uniform draw: < 0.8 → [MASK], 0.8-0.9 → random id, else keep")
        return "" if torch.equal(inputs[~chosen], ids[~chosen]) else "changed tokens that were not chosen"

    # the shares in the verdict are reproducible: they come from the seeded generator
    args = (ids.clone(), special, 4, 1000, torch.Generator().manual_seed(1))
    return check(fn, "bert_mask(input_ids, special_mask, 4, 1000, generator)", [(args, right, "")],
                 lambda: f"masking statistics are right ({seen['share']:.1%} chosen, {seen['masked']:.0%} [MASK], "
                         f"{seen['unchanged']:.0%} unchanged)")


def check_nsp_example(fn) -> bool:
    """Check ``fn(a, b, cls_id, sep_id) -> (input_ids, token_type_ids)`` for a BERT sentence pair."""
    return check(fn, "nsp_example", [
        (([11, 12, 13], [21, 22], 2, 3), ([2, 11, 12, 13, 3, 21, 22, 3], [0, 0, 0, 0, 0, 1, 1, 1]),
         "[CLS] A [SEP] B [SEP]; token_type_ids (segment ids) are 0 up to and including the first [SEP], "
         "1 for B and its [SEP]"),
    ], "[CLS] A [SEP] B [SEP] with the right segment ids")


def check_sentence_order(fn) -> bool:
    """Check ``fn(segments, rng) -> [(a, b, label)]`` for ALBERT's sentence-order prediction:
    consecutive segments kept in order (label 0) or swapped (label 1), about half each."""
    segments, seen = [[i, i] for i in range(400)], {}

    def right(got):
        if len(got) != len(segments) - 1:
            return f"made {len(got)} pairs, expected {len(segments) - 1} (one per consecutive pair)", ""
        for a, b, label in got:
            if (b[0] - a[0]) != (1 if label == 0 else -1):
                return (f"made the pair {a}, {b} with label {label}: not two consecutive segments",
                        "label 0: (segment i, segment i+1); label 1: (segment i+1, segment i)")
        seen["swapped"] = sum(label for _, _, label in got) / len(got)
        return "" if 0.4 <= seen["swapped"] <= 0.6 else f"swapped {seen['swapped']:.0%} of the pairs, not about half"

    return check(fn, "sentence_order_pairs(segments, rng)", [
        ((segments, random.Random(0)), right, "swap each pair when rng.random() < 0.5"),
    ], lambda: f"sentence-order pairs are right ({seen['swapped']:.0%} swapped); negatives come "
               "from the same document, so topic cannot give them away")
