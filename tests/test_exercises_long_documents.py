"""Notebook 05 · Long documents: its exercise checkers pass right answers and name the usual mistakes."""

import math

import numpy as np
import torch

import bertlab
from bertlab import longdoc
from bertlab.exercises import (check_head_length_accuracy, check_head_length_verdict, check_head_tail,
                               check_n_windows, check_vote_pool)
from checking import flagged, passes, unfinished, F


def test_n_windows_counts_the_first_window_and_the_overlaps(capsys):
    def n_windows(n, max_length, overlap):
        budget = max_length - 2
        return 1 if n <= budget else 1 + math.ceil((n - budget) / (budget - overlap))

    passes(capsys, check_n_windows, n_windows)
    no_first_window = lambda n, m, o: -(-n // (m - 2 - o))  # noqa: E731
    assert "max_length - 2" in flagged(capsys, check_n_windows, no_first_window)


def test_head_tail_keeps_short_texts_and_handles_an_empty_tail(capsys):
    def head_tail(ids, budget, head):
        return ids if len(ids) <= budget else ids[:head] + ids[len(ids) - (budget - head):]

    passes(capsys, check_head_tail, head_tail)
    minus_zero = lambda ids, budget, head: ids[:head] + ids[-(budget - head):]  # ids[-0:] is all of ids  # noqa: E731
    assert "ids[-0:]" in flagged(capsys, check_head_tail, minus_zero)


def test_vote_pool_counts_votes_and_breaks_ties_by_mean_probability(capsys):
    def vote_pool(logits, docs, n):
        votes = torch.zeros(n, 2).index_add_(0, docs, F.one_hot(logits.argmax(-1), 2).float())
        windows = torch.bincount(docs, minlength=n)[:, None]
        mean_probs = torch.zeros(n, 2).index_add_(0, docs, logits.softmax(-1)) / windows
        return (votes + 1e-3 * mean_probs).argmax(-1)   # probabilities only matter on a tie

    passes(capsys, check_vote_pool, vote_pool)
    mean_logits = lambda logits, docs, n: torch.zeros(n, 2).index_add_(0, docs, logits).argmax(-1)  # noqa: E731
    assert "on a tie" in flagged(capsys, check_vote_pool, mean_logits)


TEXTS = ["a gentle, funny and moving film with a weak ending that ruins what came before it",
         "dull from start to finish, though the last scene is lovely and the music is great",
         "the cast is wonderful and the script is sharp; I would watch it again tomorrow"]


def test_head_length_accuracy_must_agree_with_a_rerun(capsys, tok, classifier):
    budget = 16

    def head_tail_accuracy(head, labels=None):
        ids = longdoc.head_tail_ids(tok, TEXTS, budget, head=head)
        predicted = bertlab.predict(classifier, tok, ids).argmax(-1).numpy()
        return float(np.mean(predicted == (own if labels is None else labels)))

    own = bertlab.predict(classifier, tok, longdoc.head_tail_ids(tok, TEXTS, budget, head=budget // 2)).argmax(-1).numpy()
    context = (classifier, tok, TEXTS, own, budget)      # labels = the predictions: the right accuracy is 1
    passes(capsys, check_head_length_accuracy, head_tail_accuracy, *context)
    assert "disagrees with a rerun" in flagged(capsys, check_head_length_accuracy, lambda head: 0.0, *context)
    assert "not an accuracy" in flagged(capsys, check_head_length_accuracy, lambda head: 2.0, *context)
    assert "expected one accuracy" in flagged(capsys, check_head_length_accuracy, lambda head: [1.0, 0.5], *context)
    unfinished(capsys, check_head_length_accuracy, *context)


def test_head_length_verdict_is_noise_not_a_finding(capsys):
    assert "is right" in passes(capsys, check_head_length_verdict, lambda: "b")
    assert "tune to the noise" in flagged(capsys, check_head_length_verdict, lambda: "a")
    assert "is not it" in flagged(capsys, check_head_length_verdict, lambda: "c")
    unfinished(capsys, check_head_length_verdict)


def test_the_older_checkers_meet_the_stub_kindly(capsys):
    for checker in (check_n_windows, check_head_tail, check_vote_pool):
        unfinished(capsys, checker)
