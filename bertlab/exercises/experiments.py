"""Checkers for notebook 04b · Fine-tuning experiments."""

from __future__ import annotations

import contextlib
import io
import sys

import numpy as np
import torch
from scipy import stats
from transformers import BertConfig, BertForSequenceClassification

from .. import data, finetune, models
from ..config import get_device
from .core import check, check_choice, report, same, wrong_shape

__all__ = [
    "check_confidence_interval",
    "check_seed_spread_reading",
    "check_pooling",
    "check_pooling_reading",
    "check_freeze_encoder",
]


def check_confidence_interval(fn) -> bool:
    """Check a Student-t confidence interval for the mean of a few runs against SciPy."""
    hint = ("use the t distribution with n - 1 degrees of freedom (scipy.stats.t.ppf), "
            "not the normal 1.96: with 3 runs the interval is much wider")
    cases = [([0.81, 0.79, 0.80], 0.95), ([0.70, 0.74, 0.69, 0.73, 0.71], 0.9)]

    def population_sd(got, want, args):
        values, level = args
        half = stats.t.ppf(0.5 + level / 2, len(values) - 1) * np.std(values) / len(values) ** 0.5
        return same(got, (np.mean(values) - half, np.mean(values) + half), 1e-9)

    return check(fn, "confidence_interval", [
        ((v, level), stats.t.interval(level, len(v) - 1, loc=np.mean(v), scale=stats.sem(v)), hint)
        for v, level in cases
    ], "t-based confidence intervals match SciPy", mistakes=[
        (population_sd, "", "the sample standard deviation divides by n - 1, not n: with 3 seeds the difference is large"),
    ])


def check_seed_spread_reading(fn) -> bool:
    """Multiple choice: what one run of a new recipe says against the seed spread of section 2."""
    return check_choice(fn, "seed_spread_reading", "b", {
        "a": "section 2 showed the seed alone moving validation accuracy by points: a run above the others "
             "is also what a lucky seed does",
        "b": "one run cannot be told apart from the seed spread; run the new recipe with several seeds too and "
             "compare the means with an interval for their difference",
        "c": "a single seed is not biased upwards or downwards, it is noisy: it says nothing either way",
        "d": "the test split is for the one final report; choosing between recipes on it would spoil it: "
             "more seeds on validation are the remedy",
    })


def _embed_texts(encoder, tokenizer, texts, batch_size: int = 64):
    """Last hidden states and attention masks of ``texts``, batch by batch (at most 64 tokens each)."""
    out = []
    device = next(encoder.parameters()).device
    with torch.inference_mode():
        for s in range(0, len(texts), batch_size):
            batch = tokenizer(list(texts[s:s + batch_size]), padding=True, truncation=True, max_length=64,
                              return_tensors="pt")
            out.append((encoder(**batch.to(device)).last_hidden_state.cpu(), batch["attention_mask"].cpu()))
    return out


def check_pooling(fn, encoder=None, tokenizer=None, n: int = 500) -> bool:
    """Check ``fn(last_hidden_state, attention_mask, how) -> [batch, hidden]`` for ``how`` "cls" and
    "mean", then run the experiment with it: frozen MiniLM features of the first ``n`` Rotten Tomatoes
    training snippets + logistic regression, validation accuracy of each pooling."""
    g = torch.Generator().manual_seed(0)
    hidden = torch.randn(2, 4, 3, generator=g)
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]])
    weights = mask.unsqueeze(-1).float()
    mean = (hidden * weights).sum(1) / weights.sum(1)
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):  # the verdict comes after the experiment, unless this fails
        ok = check(fn, "pool", [
            ((hidden, mask, "cls"), hidden[:, 0], "[CLS] is the first position of every sequence"),
            ((hidden, mask, "mean"), mean, "average the real tokens only: weight by attention_mask, divide by its sum"),
        ], "", mistakes=[
            (wrong_shape, "", "return one vector per sequence, shape [batch, hidden]"),
            (lambda got, want, a: same(got, hidden[:, -1], 1e-6), "took the last position",
             "the last position is padding or [SEP]; [CLS] is position 0: last_hidden_state[:, 0]"),
            (lambda got, want, a: same(got, hidden.mean(1), 1e-6), "averaged the padding too",
             "weight the positions by attention_mask and divide by the number of real tokens"),
            (lambda got, want, a: same(got, (hidden * weights).sum(1), 1e-6), "summed the vectors",
             "divide the sum by the number of real tokens (attention_mask.sum(1))"),
        ])
    if not ok:
        print(shown.getvalue(), end="")
        return False
    encoder = encoder if encoder is not None else models.load_encoder("minilm-l6").to(get_device())
    tokenizer = tokenizer if tokenizer is not None else models.load_tokenizer("minilm-l6")
    reviews = data.load_dataset("rotten_tomatoes")
    train, val = reviews["train"].select(range(n)), reviews["validation"].select(range(n))
    accuracy = {}
    states = {name: _embed_texts(encoder, tokenizer, split["text"]) for name, split in (("train", train), ("val", val))}
    for how in ("cls", "mean"):
        features = {name: torch.nn.functional.normalize(torch.cat([fn(h, m, how) for h, m in chunks]), dim=-1)
                    for name, chunks in states.items()}
        accuracy[how] = finetune.frozen_embedding_baseline(features["train"], train["label"], features["val"],
                                                          val["label"])["accuracy"]
    # the accuracies go to stderr: their last digit may differ between CPUs, the verdict may not
    print(f"validation accuracy: [CLS] {accuracy['cls']:.3f}, mean {accuracy['mean']:.3f}", file=sys.stderr)
    better = "mean pooling beats [CLS]" if accuracy["mean"] > accuracy["cls"] else "[CLS] matches or beats mean pooling"
    return report(True, f"pool is right; frozen MiniLM + logistic regression on {n:,} training snippets, "
                        f"validated on {n:,}: {better}")


def check_pooling_reading(fn) -> bool:
    """Multiple choice: why mean pooling is the better frozen feature for MiniLM."""
    return check_choice(fn, "pooling_reading", "c", {
        "a": "both are vectors of MiniLM's hidden size, 384 numbers",
        "b": "notebook 04's classifier reads the (pooled) [CLS] vector and, fine-tuned, beats every baseline: "
             "training can make [CLS] a good summary",
        "c": "all-MiniLM-L6-v2 was trained on sentence pairs to make the MEAN of its token vectors a sentence "
             "embedding; its [CLS] vector was never asked to summarise: a frozen feature is good at what its "
             "training asked of it",
        "d": "logistic regression treats both kinds of vector alike; it finds less in [CLS]",
    })


def check_freeze_encoder(fn) -> bool:
    """Check that ``fn(model)`` leaves only the classification head trainable."""
    model = BertForSequenceClassification(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
                                                     num_attention_heads=2, intermediate_size=32))

    def right(_):
        trainable = sorted(n for n, p in model.named_parameters() if p.requires_grad)
        return "" if trainable == ["classifier.bias", "classifier.weight"] else f"left {trainable[:4]}... trainable"

    return check(fn, "freeze_encoder(model)", [
        ((model,), right, "set requires_grad = False on every parameter of model.bert (pooler included)"),
    ], "only the classifier (2 tensors) is left trainable")
