"""Notebook 06 · Multilingual classification: its exercise checkers pass right answers and name the usual mistakes."""

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from bertlab.exercises import (check_cosine_matrix, check_retrieval_accuracy, check_standardised_transfer,
                               check_standardised_transfer_verdict, check_unk_rate)
from checking import flagged, passes, unfinished, F


def test_unk_rate_counts_unknown_pieces_without_special_tokens(capsys, tiny_bert_tokenizer):
    def unk_rate(texts, tok, add_special_tokens=False):
        ids = [i for x in tok(texts, add_special_tokens=add_special_tokens)["input_ids"] for i in x]
        return sum(i == tok.unk_token_id for i in ids) / len(ids)

    assert "unk_rate = 0.562 on the test sentences" in passes(capsys, check_unk_rate, unk_rate, tiny_bert_tokenizer)
    with_specials = lambda texts, tok: unk_rate(texts, tok, add_special_tokens=True)  # noqa: E731
    assert "you counted [CLS] and [SEP] too" in flagged(capsys, check_unk_rate, with_specials, tiny_bert_tokenizer)
    per_text = lambda texts, tok: float(np.mean([unk_rate([t], tok) for t in texts]))  # noqa: E731
    assert "count over all tokens of all texts" in flagged(capsys, check_unk_rate, per_text, tiny_bert_tokenizer)


def test_cosine_matrix_normalises_rows_and_is_len_a_by_len_b(capsys):
    passes(capsys, check_cosine_matrix, lambda a, b: F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T)
    assert "normalise each row" in flagged(capsys, check_cosine_matrix, lambda a, b: a @ b.T)
    assert "[len(a), len(b)]" in flagged(capsys, check_cosine_matrix,
                                         lambda a, b: F.normalize(b, dim=-1) @ F.normalize(a, dim=-1).T)


def test_retrieval_accuracy_looks_for_each_source_among_the_targets(capsys):
    def retrieval_accuracy(src, tgt, dim=-1):
        cos = F.normalize(src, dim=-1) @ F.normalize(tgt, dim=-1).T
        return (cos.argmax(dim) == torch.arange(len(src))).float().mean().item()

    passes(capsys, check_retrieval_accuracy, retrieval_accuracy)
    targets_to_sources = lambda src, tgt: retrieval_accuracy(src, tgt, dim=0)  # noqa: E731
    assert "argmax over target rows" in flagged(capsys, check_retrieval_accuracy, targets_to_sources)


def standardised_transfer(source, target, fit_on="source"):
    (sx, sy), (tx, ty) = source, target
    scaler = StandardScaler().fit(sx)
    clf = LogisticRegression(max_iter=3000).fit(scaler.transform(sx), sy)
    target_scaler = scaler if fit_on == "source" else StandardScaler().fit(tx)
    return float(np.mean(clf.predict(target_scaler.transform(tx)) == ty))


def test_standardised_transfer_fits_the_scaler_on_the_source_only(capsys):
    passes(capsys, check_standardised_transfer, standardised_transfer)
    plain = lambda s, t: float(np.mean(LogisticRegression(max_iter=3000).fit(*s).predict(t[0]) == t[1]))  # noqa: E731
    assert "without standardising" in flagged(capsys, check_standardised_transfer, plain)
    own = lambda s, t: standardised_transfer(s, t, fit_on="target")  # noqa: E731
    assert "fit the scaler on the source features only" in flagged(capsys, check_standardised_transfer, own)
    unfinished(capsys, check_standardised_transfer)


def test_standardised_transfer_checks_real_features_passed_in(capsys):
    g = np.random.default_rng(1)
    x, y = g.normal(size=(60, 4)), np.arange(60) % 2
    x[:, 0] += 2 * y
    passes(capsys, check_standardised_transfer, standardised_transfer, (x[:40], y[:40]), (x[40:], y[40:]))


def test_standardised_transfer_verdict_reads_the_drop_as_real(capsys):
    assert "is right" in passes(capsys, check_standardised_transfer_verdict, lambda: "b")
    assert "is not it" in flagged(capsys, check_standardised_transfer_verdict, lambda: "c")
    unfinished(capsys, check_standardised_transfer_verdict)


def test_the_older_checkers_meet_the_stub_kindly(capsys, tiny_bert_tokenizer):
    unfinished(capsys, check_unk_rate, tiny_bert_tokenizer)
    for checker in (check_cosine_matrix, check_retrieval_accuracy):
        unfinished(capsys, checker)
