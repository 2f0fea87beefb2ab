"""Notebook 04 · Fine-tuning: its exercise checkers pass right answers and name the usual mistakes."""

from bertlab.exercises import check_macro_f1, check_padding_waste, check_warmup_schedule
from checking import flagged, passes


def test_padding_waste_pads_each_batch_to_its_own_longest(capsys):
    def padding_waste(lengths, batch_size):
        batches = [lengths[i:i + batch_size] for i in range(0, len(lengths), batch_size)]
        return 1 - sum(lengths) / sum(len(b) * max(b) for b in batches)

    passes(capsys, check_padding_waste, padding_waste)
    global_longest = lambda lengths, batch_size: 1 - sum(lengths) / (len(lengths) * max(lengths))  # noqa: E731
    assert "per batch" in flagged(capsys, check_padding_waste, global_longest)


def test_macro_f1_averages_per_class_f1_and_survives_empty_classes(capsys):
    def macro_f1(y, p):
        f1s = []
        for c in sorted(set(y) | set(p)):
            tp = sum(a == c == b for a, b in zip(y, p))
            fp_fn = sum((a == c) != (b == c) for a, b in zip(y, p))
            f1s.append(2 * tp / (2 * tp + fp_fn))
        return sum(f1s) / len(f1s)

    passes(capsys, check_macro_f1, macro_f1)
    accuracy = lambda y, p: sum(a == b for a, b in zip(y, p)) / len(y)  # noqa: E731
    assert "plain mean over classes" in flagged(capsys, check_macro_f1, accuracy)

    def precision_recall(y, p):  # divides by zero for a class that is never predicted
        f1s = []
        for c in set(y):
            tp = sum(a == c == b for a, b in zip(y, p))
            prec, rec = tp / sum(b == c for b in p), tp / sum(a == c for a in y)
            f1s.append(2 * prec * rec / (prec + rec))
        return sum(f1s) / len(f1s)

    assert "ZeroDivisionError" in flagged(capsys, check_macro_f1, precision_recall)


def test_warmup_schedule_rises_linearly_then_decays_to_zero(capsys):
    def lr_at(step, warmup, total, peak):
        return peak * step / warmup if step < warmup else peak * (total - step) / (total - warmup)

    passes(capsys, check_warmup_schedule, lr_at)
    no_warmup = lambda step, warmup, total, peak: peak * (total - step) / total  # noqa: E731
    assert "warm-up: peak·step/warmup" in flagged(capsys, check_warmup_schedule, no_warmup)
    off_by_one = lambda step, warmup, total, peak: lr_at(step + 1, warmup, total, peak)  # noqa: E731
    assert "lr_at(0, 10, 100, 0.001) gave 0.0001, expected 0" in flagged(capsys, check_warmup_schedule, off_by_one)
