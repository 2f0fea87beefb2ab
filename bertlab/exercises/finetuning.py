"""Checkers for notebook 04 · Fine-tuning."""

from __future__ import annotations

import torch
from sklearn.metrics import f1_score
from transformers import get_linear_schedule_with_warmup

from .. import data, finetune, models
from .core import UNMET, attempt, check, check_choice, report, same, show

__all__ = [
    "check_padding_waste",
    "check_macro_f1",
    "check_warmup_schedule",
    "check_padding_experiment",
    "check_padding_reading",
]


def check_padding_waste(fn) -> bool:
    """Check ``fn(lengths, batch_size) -> share of pad tokens`` for sequential batches padded
    to their longest member."""
    hint = "per batch: padded = batch size × longest length; waste = 1 − real / padded, summed over all batches"
    return check(fn, "padding_waste", [
        (([3, 5, 2, 2], 2), 1 - 12 / 14, hint), (([4, 4, 4], 2), 0.0, hint), (([1, 9], 1), 0.0, hint),
    ], "padding waste is computed correctly", tol=1e-9)


def check_macro_f1(fn) -> bool:
    """Check a macro-F1 implementation against scikit-learn."""
    hint = "F1 per class = 2·P·R/(P+R) (0 when P+R = 0), then the plain mean over classes"
    cases = [([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0]), ([0, 1, 0, 1], [0, 0, 0, 0]), ([1, 1, 0], [1, 1, 0])]
    return check(fn, "macro_f1", [((y, p), f1_score(y, p, average="macro", zero_division=0), hint) for y, p in cases],
                 "macro-F1 matches scikit-learn", tol=1e-9)


def check_warmup_schedule(fn) -> bool:
    """Check ``fn(step, warmup_steps, total_steps, peak_lr) -> lr`` against transformers'
    ``get_linear_schedule_with_warmup``."""
    warmup, total, peak = 10, 100, 1e-3
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=peak)
    factor = get_linear_schedule_with_warmup(opt, warmup, total).lr_lambdas[0]   # step -> share of peak_lr
    hint = "warm-up: peak·step/warmup; then peak·(total−step)/(total−warmup)"
    return check(fn, "lr_at", [((step, warmup, total, peak), peak * factor(step), hint) for step in range(total)],
                 "linear warm-up and decay match transformers' schedule", tol=1e-12)


_BATCH_SIZES = (8, 128)  # the batch sizes the experiment compares with notebook 04's 32


def _padding_setup(tokenizer, tokenized):
    """MiniLM's tokenizer and notebook 04's tokenized training split (64 tokens at most), unless given."""
    tokenizer = tokenizer if tokenizer is not None else models.load_tokenizer("minilm-l6")
    if tokenized is None:
        tokenized = finetune.tokenize_dataset(tokenizer, data.load_dataset("rotten_tomatoes")["train"], 64)
    return tokenizer, tokenized


def check_padding_experiment(fn, tokenizer=None, tokenized=None) -> bool:
    """Experiment: check ``fn(batch_size) -> (random batches' padding share, length-grouped share)``
    on the tokenized training split against a rerun at batch sizes 8 and 128, and report them."""
    name = "padding_shares"
    got = {}
    for size in _BATCH_SIZES:
        got[size] = attempt(fn, (size,), name, f"{name}({size})",
                            "finetune.padding_share(finetune.make_loader(tokenizer, encoded['train'], batch_size, ...))")
        if got[size] is UNMET:
            return False
        if (not isinstance(got[size], (tuple, list)) or len(got[size]) != 2
                or not all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in got[size])):
            return report(False, f"{name}({size}) gave {show(got[size])}, not two shares between 0 and 1",
                          "return a tuple (share with random batches, share with length-grouped batches)")
    tokenizer, tokenized = _padding_setup(tokenizer, tokenized)
    want = {size: tuple(finetune.padding_share(finetune.make_loader(tokenizer, tokenized, size, length_grouped=g))
                        for g in (False, True)) for size in _BATCH_SIZES}
    small, large = _BATCH_SIZES
    if same(got[small], got[large], 1e-12):
        return report(False, f"{name} gave the same shares at batch {small} and {large}",
                      "pass batch_size on to finetune.make_loader")
    for size in _BATCH_SIZES:
        if same(got[size], want[size][::-1], 1e-9):
            return report(False, f"{name}({size}) gave the two shares the wrong way round",
                          "first length_grouped=False (random batches), then length_grouped=True")
        if not same(got[size], want[size], 1e-9):
            return report(False, f"{name}({size}) gave {show(tuple(got[size]))}, a rerun of the experiment "
                          f"measured {show(want[size])}",
                          "measure encoded['train'] (all of it) with finetune.make_loader's default seed")
    shares = {s: " and ".join(f"{v:.1%}" for v in want[s]) for s in _BATCH_SIZES}
    return report(True, f"{name} agrees with a rerun: padding share with random and with length-grouped "
                        f"batches, batch {small}: {shares[small]}; batch {large}: {shares[large]}")


def check_padding_reading(fn) -> bool:
    """Multiple choice: why random batches waste more as they grow, and length-grouped ones barely do."""
    return check_choice(fn, "padding_reading", "c", {
        "a": "the collator pads to the batch's longest member; no multiple is set here (pad_to_multiple_of=None)",
        "b": "the share is a proportion: more snippets alone do not change it, as the length-grouped batches show",
        "c": "every row is padded to its batch's longest snippet, and the more random snippets a batch holds, "
             "the longer its longest one tends to be; a length-grouped batch holds snippets of nearly equal "
             "length at any size",
        "d": "batching truncates nothing: tokenize_dataset already cut every snippet at 64 tokens",
    })
