"""Notebook 02 · The BERT encoder: its exercise checkers pass right answers and name the usual mistakes."""

from bertlab.exercises import check_bert_parameter_count, check_mean_pool, check_wordpiece
from checking import flagged, passes, VOCAB


def greedy_wordpiece(word, vocab, shortest=False, unk_per_char=False):
    """WordPiece, right by default; the flags make two usual mistakes."""
    pieces, start = [], 0
    while start < len(word):
        ends = range(start + 1, len(word) + 1) if shortest else range(len(word), start, -1)
        end = next((e for e in ends if (word[start:e] if start == 0 else "##" + word[start:e]) in vocab), None)
        if end is None:
            if not unk_per_char:
                return ["[UNK]"]
            pieces, end = pieces + ["[UNK]"], start + 1
        else:
            pieces.append(word[start:end] if start == 0 else "##" + word[start:end])
        start = end
    return pieces


def test_wordpiece_is_greedy_longest_match_first(capsys):
    passes(capsys, check_wordpiece, greedy_wordpiece, VOCAB)
    shortest = lambda w, v: greedy_wordpiece(w, v, shortest=True)  # noqa: E731
    assert "*longest*" in flagged(capsys, check_wordpiece, shortest, VOCAB)
    unk_per_char = lambda w, v: greedy_wordpiece(w, v, unk_per_char=True)  # noqa: E731
    assert "the whole word becomes ['[UNK]']" in flagged(capsys, check_wordpiece, unk_per_char, VOCAB)


def bert_parameters(vocab, hidden, layers, inter, positions, types, pooler=True, embedding_norm=True):
    embeddings = (vocab + positions + types) * hidden + (2 * hidden if embedding_norm else 0)
    layer = (4 * (hidden * hidden + hidden) + 2 * hidden                        # attention + LayerNorm
             + (hidden * inter + inter) + (inter * hidden + hidden) + 2 * hidden)  # feed-forward + LayerNorm
    return embeddings + layers * layer + (hidden * hidden + hidden if pooler else 0)


def test_parameter_count_includes_the_pooler_and_every_layer_norm(capsys):
    passes(capsys, check_bert_parameter_count, bert_parameters)
    assert "pooler" in flagged(capsys, check_bert_parameter_count, lambda *a: bert_parameters(*a, pooler=False))
    assert "embedding LayerNorm" in flagged(capsys, check_bert_parameter_count,
                                            lambda *a: bert_parameters(*a, embedding_norm=False))
    assert "weights *and* biases" in flagged(capsys, check_bert_parameter_count, lambda *a: bert_parameters(*a) - 1)


def test_mean_pool_ignores_padding(capsys):
    passes(capsys, check_mean_pool, lambda h, m: (h * m[..., None]).sum(1) / m.sum(1, keepdim=True))
    assert "padding" in flagged(capsys, check_mean_pool, lambda h, m: h.mean(1))
    assert "dim=1" in flagged(capsys, check_mean_pool, lambda h, m: h.mean(2))
