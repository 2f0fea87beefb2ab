"""Notebook 09 · BERT vs GPT (and ELECTRA): its exercise checkers pass right answers and name the usual mistakes."""

import pytest
import torch

import bertlab
from bertlab import finetune
from bertlab.exercises import check_first_token, check_first_token_reading, check_last_token, check_next_token_loss
from checking import F, flagged, passes, unfinished


def test_last_token_read_out_picks_each_rows_last_real_token(capsys):
    def right(hidden, mask):
        return hidden[torch.arange(len(hidden)), mask.sum(1) - 1]

    assert "padding included" in passes(capsys, check_last_token, right)
    assert "hidden[:, -1]" in flagged(capsys, check_last_token, lambda h, m: h[:, -1])
    assert "one past the last" in flagged(capsys, check_last_token,
                                          lambda h, m: h[torch.arange(len(h)), m.sum(1).clamp(max=h.shape[1] - 1)])
    mean = lambda h, m: (h * m[..., None]).sum(1) / m.sum(1, keepdim=True)  # noqa: E731
    assert "mean pooling" in flagged(capsys, check_last_token, mean)
    unfinished(capsys, check_last_token)


def test_next_token_loss_shifts_by_one_and_ignores_padding(capsys):
    def right(logits, ids, mask):
        valid = mask[:, 1:].bool()
        return F.cross_entropy(logits[:, :-1][valid], ids[:, 1:][valid])

    assert "shifted by one, padding ignored" in passes(capsys, check_next_token_loss, right)
    no_shift = lambda logits, ids, mask: F.cross_entropy(logits[mask.bool()], ids[mask.bool()])  # noqa: E731
    assert "no shift" in flagged(capsys, check_next_token_loss, no_shift)
    backwards = lambda lg, ids, m: F.cross_entropy(lg[:, 1:][m[:, :-1].bool()], ids[:, :-1][m[:, :-1].bool()])  # noqa: E731
    assert "wrong way" in flagged(capsys, check_next_token_loss, backwards)
    padded = lambda lg, ids, m: F.cross_entropy(lg[:, :-1].reshape(-1, lg.shape[-1]), ids[:, 1:].reshape(-1))  # noqa: E731
    assert "padding positions" in flagged(capsys, check_next_token_loss, padded)
    unfinished(capsys, check_next_token_loss)


@pytest.fixture(scope="module")
def small_sentiment():
    """Notebook 09's tokenizer, 200 training and 200 test reviews, one short epoch (the experiment, made small)."""
    tokenizer = bertlab.load_tokenizer("tiny-bert-bbc")
    encoded = finetune.tokenize_dataset(tokenizer, bertlab.load_dataset("rotten_tomatoes"), max_length=64)
    return tokenizer, encoded["train"].select(range(200)), encoded["test"].select(range(200)), \
        {"epochs": 1, "lr": 5e-4, "batch_size": 32}


def test_first_token_experiment_agrees_with_a_rerun(capsys, small_sentiment):
    from bertlab import models, pooling, pretraining

    tokenizer, train_set, test_set, settings = small_sentiment

    def first_token_accuracy():
        make = lambda: pooling.PooledClassifier(pretraining.encoder_of(models.load_pretrained("clm")), 2, "cls")  # noqa: E731
        return finetune.run(make, tokenizer, train_set, test_set, seed=0, **settings)["accuracy"]

    out = passes(capsys, check_first_token, first_token_accuracy, *small_sentiment)
    assert "agrees with a rerun" in out and "predicts one class for every review" in out
    assert "not an accuracy" in flagged(capsys, check_first_token, lambda: 7.0, *small_sentiment)
    assert "a rerun of the experiment measured" in flagged(capsys, check_first_token, lambda: 0.99, *small_sentiment)
    unfinished(capsys, check_first_token, *small_sentiment)


def test_first_token_reading_explains_every_option(capsys):
    assert "identical for all of them" in passes(capsys, check_first_token_reading, lambda: "b")
    assert "last token" in flagged(capsys, check_first_token_reading, lambda: "c")
    unfinished(capsys, check_first_token_reading)
