"""Notebook 06 · Multilingual classification: its exercise checkers pass right answers and name the usual mistakes."""

import numpy as np
import torch

from bertlab.exercises import check_cosine_matrix, check_retrieval_accuracy, check_unk_rate
from checking import flagged, passes, F


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
