"""Checkers for notebook 03 · Pretraining objectives."""

from __future__ import annotations

import random
import sys

import torch
from transformers import BertForPreTraining

from .. import data, models, pretraining
from .core import UNMET, attempt, check, check_choice, report, show

__all__ = ["check_bert_masking", "check_sentence_order", "check_mask_rate", "check_mask_rate_reading"]


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


_RATES = (0.15, 0.4)  # the masking rates the experiment compares: BERT's, and a much heavier one


def _mask_rate_setup(model, tokenizer, pairs, seed):
    """The 8,000-step model of notebook 03 and its 1,000 held-out pairs, unless given."""


    recipe = models.recipe("tiny-bert-bbc")
    model = model if model is not None else models.load_model("tiny-bert-bbc", BertForPreTraining)
    tokenizer = tokenizer if tokenizer is not None else models.load_tokenizer("tiny-bert-bbc")
    if pairs is None:
        pairs = pretraining.make_nsp_pairs(tokenizer, data.load_corpus("bbc_news", "validation"),
                                           max_length=recipe["max_length"], seed=recipe["seed"] + 1)[:1000]
    return model, tokenizer, pairs, recipe["seed"] + 1 if seed is None else seed


def check_mask_rate(fn, model=None, tokenizer=None, pairs=None, seed=None) -> bool:
    """Experiment: check ``fn(rate) -> masked-token accuracy`` of the 8,000-step model on the held-out
    pairs, masked with ``MLMCollator(tokenizer, mlm_probability=rate, seed=...)``, against a rerun at
    15% and 40%, and report both measurements."""
    name = "masked_accuracy_at"
    got = {}
    for rate in _RATES:
        got[rate] = attempt(fn, (rate,), name, f"{name}({rate})",
                            "evaluate the model with pretraining.evaluate and return its 'masked_accuracy'")
        if got[rate] is UNMET:
            return False
        if not isinstance(got[rate], (int, float)) or not 0 <= float(got[rate]) <= 1:
            return report(False, f"{name}({rate}) gave {show(got[rate])}, not an accuracy between 0 and 1",
                          "return pretraining.evaluate(...)['masked_accuracy'], a float")
    model, tokenizer, pairs, seed = _mask_rate_setup(model, tokenizer, pairs, seed)
    want = {rate: pretraining.evaluate(model, pairs, pretraining.MLMCollator(tokenizer, rate, seed))
            for rate in _RATES}
    low, high = _RATES
    if got[low] == got[high]:
        return report(False, f"{name} gave the same accuracy at {low:.0%} and {high:.0%} masking",
                      "pass the rate on: MLMCollator(tokenizer, mlm_probability=rate, seed=...)")
    for rate in _RATES:
        if abs(float(got[rate]) - want[rate]["most_frequent_baseline"]) < 1e-9:
            return report(False, f"{name}({rate}) returned the most-frequent-token baseline",
                          "return the 'masked_accuracy' entry of pretraining.evaluate's result")
        if abs(float(got[rate]) - want[rate]["masked_accuracy"]) > 0.005:
            return report(False, f"{name}({rate}) gave {float(got[rate]):.3f}, a rerun of the experiment "
                          f"measured {want[rate]['masked_accuracy']:.3f}",
                          "use the 8,000-step model (`model`), the held-out pairs and the collator seed "
                          "the exercise names")
    # the accuracies go to stderr: their last digit may differ between CPUs, the verdict may not
    print(f"masked-token accuracy: {want[low]['masked_accuracy']:.3f} with {low:.0%} of the tokens masked, "
          f"{want[high]['masked_accuracy']:.3f} with {high:.0%}", file=sys.stderr)
    trend = "lower" if want[high]["masked_accuracy"] < want[low]["masked_accuracy"] else "not lower"
    return report(True, f"{name} agrees with a rerun: the masked-token accuracy is {trend} at {high:.0%} "
                        f"than at {low:.0%} ({int(want[low]['masked_tokens']):,} and "
                        f"{int(want[high]['masked_tokens']):,} masked tokens)")


def check_mask_rate_reading(fn) -> bool:
    """Multiple choice: what the masking-rate experiment shows."""
    return check_choice(fn, "mask_rate_reading", "b", {
        "a": "evaluating does not change the weights: the same model was measured twice",
        "b": "the model is the same; each masked token now has fewer visible neighbours to be guessed from, "
             "so the task got harder (how much context a guess needs is what the rate controls)",
        "c": "more masked tokens make the estimate less noisy, not more: the drop is many standard errors",
        "d": "the 80/10/10 split of the chosen tokens is the same at every rate",
    })
