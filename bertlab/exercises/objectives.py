"""Checkers for notebook 09 · BERT vs GPT (and ELECTRA) at equal size, and what came after BERT."""

from __future__ import annotations

import sys

import torch
from torch.nn import functional as F

from .. import data, finetune, models, pooling, pretraining
from .core import UNMET, attempt, check, check_choice, report, show

__all__ = ["check_last_token", "check_next_token_loss", "check_first_token", "check_first_token_reading"]


def _padded_batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Token vectors [3, 6, 4] and a right-padded mask with rows of 6, 2 and 4 real tokens."""
    hidden = torch.randn(3, 6, 4, generator=torch.Generator().manual_seed(seed))
    mask = torch.tensor([[1] * 6, [1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0]])
    return hidden, mask


def check_last_token(fn) -> bool:
    """Check ``fn(hidden, attention_mask) -> [batch, d]``: the vector of each row's last real token."""
    hidden, mask = _padded_batch()
    return check(fn, "last_token_vectors", [
        ((hidden, mask), pooling.pool(hidden, mask, "last"), "the last real token of a row sits at attention_mask.sum(1) - 1"),
    ], "last-token read-out is right, padding included", mistakes=[
        (lambda got, want, args: torch.allclose(got, args[0][:, -1]), "took hidden[:, -1], the padding of short rows",
         "index each row at its own last real position: attention_mask.sum(1) - 1"),
        (lambda got, want, args: torch.allclose(got, args[0][torch.arange(3), args[1].sum(1).clamp(max=5)]),
         "took the first padding position of each row (one past the last real token)", "subtract 1 from the count"),
        (lambda got, want, args: torch.allclose(got, pooling.pool(args[0], args[1], "mean")),
         "averaged the tokens (that is mean pooling)", "pick one vector per row: its last real token"),
    ])


def _lm_case(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Logits [2, 5, 7] of a causal LM, token ids, and a mask whose second row has 2 padding tokens."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(2, 5, 7, generator=g)
    ids = torch.randint(1, 7, (2, 5), generator=g)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    ids[1, 3:] = 0
    return logits, ids, mask


def _loss(logits: torch.Tensor, ids: torch.Tensor, valid: torch.Tensor) -> float:
    """Mean cross-entropy of ``logits`` against ``ids`` at ``valid`` positions."""
    return F.cross_entropy(logits[valid], ids[valid]).item()


def check_next_token_loss(fn) -> bool:
    """Check ``fn(logits, input_ids, attention_mask) -> loss``: position i predicts token i + 1, padding ignored."""
    logits, ids, mask = _lm_case()
    valid = mask[:, 1:].bool()
    want = _loss(logits[:, :-1], ids[:, 1:], valid)
    return check(fn, "next_token_loss", [
        ((logits, ids, mask), want, "compare logits[:, :-1] with input_ids[:, 1:], where attention_mask[:, 1:] is 1"),
    ], "next-token loss is right (shifted by one, padding ignored)", tol=1e-5, mistakes=[
        (lambda got, want, args: abs(float(got) - _loss(logits, ids, mask.bool())) < 1e-5,
         "compared each position with its own token: no shift, so the model would learn to copy its input",
         "position i predicts token i + 1: logits[:, :-1] against input_ids[:, 1:]"),
        (lambda got, want, args: abs(float(got) - _loss(logits[:, 1:], ids[:, :-1], mask[:, :-1].bool())) < 1e-5,
         "shifted the wrong way: position i + 1 predicting token i looks at the answer",
         "logits[:, :-1] (every position but the last) against input_ids[:, 1:] (every token but the first)"),
        (lambda got, want, args: abs(float(got) - F.cross_entropy(logits[:, :-1].reshape(-1, 7),
                                                                  ids[:, 1:].reshape(-1)).item()) < 1e-5,
         "counted the padding positions as targets", "keep only the targets where attention_mask[:, 1:] is 1"),
    ])


def _first_token_run(tokenizer, train_set, test_set, settings: dict) -> dict:
    """One fine-tuning run of the causal LM read out from its first token, seed 0: accuracy and predictions."""
    def make():
        body = pretraining.encoder_of(models.load_pretrained("clm"))
        return pooling.PooledClassifier(body, num_labels=2, pooling="cls")

    return finetune.run(make, tokenizer, train_set, test_set, seed=0, keep_predictions=True, **settings)


def _first_token_setup(tokenizer, train_set, test_set, settings):
    """Notebook 09's tokenizer, 2,000 training and all test reviews and fine-tuning settings, unless given."""
    tokenizer = tokenizer if tokenizer is not None else models.load_tokenizer("tiny-bert-bbc")
    if train_set is None or test_set is None:
        encoded = finetune.tokenize_dataset(tokenizer, data.load_dataset("rotten_tomatoes"), max_length=64)
        train_set = train_set if train_set is not None else encoded["train"].select(range(2000))
        test_set = test_set if test_set is not None else encoded["test"]
    settings = settings if settings is not None else {"epochs": 3, "lr": 5e-4, "batch_size": 32}
    return tokenizer, train_set, test_set, settings


def check_first_token(fn, tokenizer=None, train_set=None, test_set=None, settings: dict | None = None) -> bool:
    """Experiment: check ``fn() -> test accuracy`` of the causal LM fine-tuned on its first token against a rerun
    (the notebook passes its tokenizer, training and test sets and FINETUNE settings)."""
    name = "first_token_accuracy"
    got = attempt(fn, (), name, f"{name}()", "return finetune.run(...)['accuracy'] for classifier('clm', 'cls')")
    if got is UNMET:
        return False
    if not isinstance(got, (int, float)) or not 0 <= float(got) <= 1:
        return report(False, f"{name}() gave {show(got)}, not an accuracy between 0 and 1",
                      "return the 'accuracy' entry of finetune.run's result")
    tokenizer, train_set, test_set, settings = _first_token_setup(tokenizer, train_set, test_set, settings)
    run = _first_token_run(tokenizer, train_set, test_set, settings)
    if abs(float(got) - run["accuracy"]) > 0.01:
        return report(False, f"{name}() gave {float(got):.3f}, a rerun of the experiment measured {run['accuracy']:.3f}",
                      "use classifier('clm', 'cls'), seed=0 and **FINETUNE, and score on test_set")
    majority = finetune.majority_baseline(train_set["label"], test_set["label"])["accuracy"]
    # the accuracy goes to stderr: its last digit may differ between CPUs, the verdict may not
    print(f"first-token read-out of the causal LM: test accuracy {run['accuracy']:.3f}; "
          f"majority class {majority:.3f}", file=sys.stderr)
    classes = len(set(run["predictions"]))
    return report(True, f"{name} agrees with a rerun: the first-token read-out predicts "
                        f"{'one class for every review' if classes == 1 else f'{classes} classes'}")


def check_first_token_reading(fn) -> bool:
    """Multiple choice: why the causal LM's first token cannot classify."""
    return check_choice(fn, "first_token_reading", "b", {
        "a": "no number of epochs helps: the first token's vector does not depend on the review at all",
        "b": "under the causal mask position 0 attends only to itself, and it is [CLS] in every review, so its "
             "vector is identical for all of them: the head sees one input and can only learn the majority class",
        "c": "the same causal model classifies well from its last token (section 6): what matters is which token "
             "has seen the sentence",
        "d": "the learning rate is the same as for the last-token read-out, which learns",
    })
