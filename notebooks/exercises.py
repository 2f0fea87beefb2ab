"""Checkers for the notebooks' exercises: ``from exercises import check_softmax``.

Each ``check_*`` runs your function on a few cases, prints ``✔ ...`` or the first failing case
(``✘ ...``) with a hint for the usual mistake, and returns True/False: a wrong answer, or one
that raises, never stops the notebook.

Every checker is a table for :func:`check`. A case is ``(args, expect, hint)``: ``expect`` is the
right answer, or a test ``expect(got)`` that returns ``""`` when ``got`` is right and otherwise
says what is wrong (a string, or ``(what, hint)``). ``mistakes`` lists the usual wrong answers,
``(test(got, want, args), what, hint)``, so that they get their own hint.
"""

from __future__ import annotations

import random
import re
import time

import numpy as np
import torch
from scipy import stats
from sklearn.metrics import f1_score
from transformers import BertConfig, BertForSequenceClassification, BertModel, get_linear_schedule_with_warmup

from bertlab import efficiency, longdoc, wordpiece

F = torch.nn.functional


def report(ok: bool, what: str, hint: str = "") -> bool:
    """Print a one-line verdict (and a hint when wrong); return ``ok``."""
    print(f"✔ {what}" if ok else f"✘ {what}" + (f"\n  hint: {hint}" if hint else ""))
    return ok


def show(x, width: int = 120) -> str:
    """A short description of a value: small tensors by value, big ones by shape."""
    if isinstance(x, torch.Tensor):
        if x.numel() > 16:
            return f"<tensor of shape {list(x.shape)}>"
        x = x.detach()
        return str(x.double().round(decimals=4).tolist() if x.is_floating_point() else x.int().tolist())
    if isinstance(x, float):
        return f"{x:.6g}"
    if isinstance(x, (list, tuple)):
        text = ", ".join(show(v, width) for v in x)
        text = f"[{text}]" if isinstance(x, list) else f"({text})"
    else:
        text = repr(x)
    if len(text) <= width:
        return text
    return f"<{type(x).__name__} of {len(x)}>" if hasattr(x, "__len__") else f"<{type(x).__name__}>"


def same(got, want, tol: float = 1e-6) -> bool:
    """Whether ``got`` equals ``want``: numbers and tensors within ``tol``, containers element-wise."""
    try:
        if isinstance(want, torch.Tensor):
            got = torch.as_tensor(got)
            if want.dtype == torch.bool and got.dtype != torch.bool:
                return False
            return got.shape == want.shape and torch.allclose(got.double(), want.double(), atol=tol)
        if isinstance(want, (list, tuple)):
            return len(got) == len(want) and all(same(g, w, tol) for g, w in zip(got, want))
        if isinstance(want, (int, float)):
            return abs(float(got) - want) <= tol
        return got == want
    except Exception:  # got is not even the right kind of thing
        return False


def diagnose(got, want, args, hint: str, mistakes) -> tuple[str, str]:
    """What is wrong with ``got``: the first matching known mistake, else a plain comparison."""
    plain = f"gave {show(got, 160)}, expected {show(want, 160)}"
    if isinstance(got, torch.Tensor) and isinstance(want, torch.Tensor) and got.shape != want.shape:
        plain = f"has shape {list(got.shape)}, expected {list(want.shape)}"
    elif show(got) == show(want):
        plain = "gave values that are off"
    for test, what, why in mistakes:
        try:
            if test(got, want, args):
                return what.format(got=got, want=want) if what else plain, why
        except Exception:  # this mistake's test does not apply to got
            pass
    return plain, hint


def wrong_shape(got, want, args) -> bool:
    """The usual first mistake with tensors (for ``mistakes``)."""
    return got.shape != want.shape


def check(fn, name: str, cases, passed, mistakes=(), tol: float = 1e-6) -> bool:
    """Run ``fn(*args)`` for each ``(args, expect, hint)`` case; report the first failure, else
    ``passed`` (a message, or a function making one from what the tests found).

    The failing call is named ``name(args...)``, or just ``name`` when it already ends with ")".
    """
    for args, expect, hint in cases:
        call = name if name.endswith(")") else f"{name}({', '.join(show(a, 40) for a in args)})"
        try:
            got = fn(*args)
        except Exception as err:  # a learner's bug: report it instead of crashing the notebook
            return report(False, f"{call} raised {type(err).__name__}: {err}", hint)
        if not callable(expect):
            wrong = "" if same(got, expect, tol) else diagnose(got, expect, args, hint, mistakes)
        else:
            try:
                wrong = expect(got)
            except Exception as err:
                wrong = f"returned {show(got)}, which cannot be right ({type(err).__name__}: {err})"
        if wrong:
            what, hint = wrong if isinstance(wrong, tuple) else (wrong, hint)
            return report(False, f"{call} {what}", hint)
    return report(True, passed() if callable(passed) else passed)


# --------------------------------------------------------------------------- notebook 01
def check_softmax(fn) -> bool:
    """Check a softmax over the last dimension, including numerically large inputs."""
    x, big = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]), torch.tensor([[1000.0, 1001.0, 1002.0]])
    stable = "subtract the row maximum before exp(): softmax(x) = softmax(x - max(x))"
    return check(fn, "softmax", [
        ((x,), x.softmax(-1), "exponentiate, then divide by the sum over the last dimension (dim=-1)"),
        ((big,), big.softmax(-1), stable),
    ], "softmax is correct and numerically stable", mistakes=[
        (lambda got, *_: not torch.isfinite(got).all(), "overflows (got inf/nan)", stable),
    ])


def check_causal_mask(fn) -> bool:
    """Check a function ``n -> [n, n]`` bool mask where query i may see keys 0..i."""
    return check(fn, "causal_mask", [
        ((n,), torch.ones(n, n, dtype=torch.bool).tril(), "torch.ones(n, n).tril().bool()") for n in (1, 4, 7)
    ], "causal mask is correct", mistakes=[
        (lambda got, *_: got.dtype != torch.bool, "has dtype {got.dtype}", "return a bool tensor"),
        (lambda got, want, _: torch.equal(got, want.T), "is transposed",
         "rows are queries, columns are keys: query i may see keys j <= i (tril)"),
    ])


def check_attention(fn) -> bool:
    """Check ``fn(q, k, v, mask) -> output`` against PyTorch's scaled_dot_product_attention."""
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 5, 8, generator=g) for _ in range(3))
    mask = torch.rand(2, 1, 5, 5, generator=g) > 0.3
    mask[..., 0] = True  # every query may see at least one key
    sdpa = F.scaled_dot_product_attention

    def output(*args):  # returning (output, weights) is fine too
        out = fn(*args)
        return out[0] if isinstance(out, tuple) else out

    return check(output, "attention(q, k, v, mask)", [
        ((q, k, v, mask), sdpa(q, k, v, attn_mask=mask),
         "softmax over the *key* dimension (dim=-1), masked positions set to -inf"),
    ], "attention matches torch's scaled_dot_product_attention (atol 1e-5)", tol=1e-5, mistakes=[
        (wrong_shape, "", "softmax(q @ k.transpose(-2, -1) / sqrt(d)) @ v keeps q's shape"),
        (lambda got, *_: same(got, sdpa(q, k, v, attn_mask=mask, scale=1.0), 1e-5), "is unscaled",
         "divide the scores by sqrt(d_k) = sqrt(q.shape[-1])"),
        (lambda got, *_: same(got, sdpa(q, k, v), 1e-5), "ignores the mask",
         "scores.masked_fill(~mask, float('-inf')) before softmax"),
    ])


# --------------------------------------------------------------------------- notebook 02
def check_wordpiece(fn, vocab: dict[str, int]) -> bool:
    """Check a greedy longest-match-first WordPiece ``fn(word, vocab) -> pieces``."""
    words = ("playing", "unbelievably", "tokenization", "bertlab", "x", "ℵℶℷ")
    return check(fn, "wordpiece", [
        ((w, vocab), wordpiece.wordpiece(w, vocab), "continuation pieces start with '##'") for w in words
    ], "WordPiece matches BERT's greedy longest-match-first on all cases", mistakes=[
        (lambda got, want, _: want == ["[UNK]"], "",
         "if some part cannot be matched, the whole word becomes ['[UNK]']"),
        (lambda got, want, _: len(got) > len(want), "",
         "take the *longest* matching prefix first (shrink the end, not grow it)"),
    ])


def bert_size(vocab: int, hidden: int, layers: int, inter: int, positions: int, types: int) -> int:
    """The number of parameters of a ``transformers.BertModel`` (pooler included)."""
    cfg = BertConfig(vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers,
                     num_attention_heads=max(1, hidden // 64), intermediate_size=inter,
                     max_position_embeddings=positions, type_vocab_size=types)
    with torch.device("meta"):  # shapes only: no memory, no time
        return sum(p.numel() for p in BertModel(cfg).parameters())


def check_bert_parameter_count(fn) -> bool:
    """Check a formula ``fn(vocab, hidden, layers, intermediate, positions, types) -> int``
    against the number of parameters of ``transformers.BertModel`` (with pooler)."""
    configs = [(30522, 768, 12, 3072, 512, 2), (30522, 384, 6, 1536, 512, 2), (1000, 64, 2, 256, 128, 2)]
    off = "gave {got:,}, BertModel has {want:,}"
    return check(fn, "bert_parameters", [(c, bert_size(*c), "") for c in configs],
                 "parameter formula matches BertModel for BERT-base, MiniLM and a tiny config", mistakes=[
        (lambda got, want, a: want - got == a[1] * a[1] + a[1], off,
         "don't forget the pooler (a hidden×hidden dense layer with bias)"),
        (lambda got, want, a: want - got == 2 * a[1], off, "the embedding LayerNorm has a weight and a bias"),
        (lambda got, want, a: True, off,
         "count weights *and* biases; 4 attention matrices, 2 feed-forward, 2 LayerNorms per layer"),
    ])


def check_mean_pool(fn) -> bool:
    """Check ``fn(last_hidden_state, attention_mask) -> [batch, hidden]`` that ignores padding."""
    hidden = torch.arange(2 * 3 * 2, dtype=torch.float).view(2, 3, 2)
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    return check(fn, "mean_pool(hidden [2, 3, 2], mask [[1, 1, 1], [1, 1, 0]])", [
        ((hidden, mask), torch.stack([hidden[0].mean(0), hidden[1, :2].mean(0)]),
         "sum(hidden * mask) / sum(mask) per sentence"),
    ], "mean pooling ignores padding correctly", mistakes=[
        (wrong_shape, "", "average over dim=1"),
        (lambda got, *_: same(got, hidden.mean(1)), "averaged the padding positions in",
         "multiply by the mask, sum over tokens, divide by the number of real tokens"),
    ])


# --------------------------------------------------------------------------- notebook 03
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


def check_nsp_example(fn) -> bool:
    """Check ``fn(a, b, cls_id, sep_id) -> (input_ids, token_type_ids)`` for a BERT sentence pair."""
    return check(fn, "nsp_example", [
        (([11, 12, 13], [21, 22], 2, 3), ([2, 11, 12, 13, 3, 21, 22, 3], [0, 0, 0, 0, 0, 1, 1, 1]),
         "[CLS] A [SEP] B [SEP]; token_type_ids (segment ids) are 0 up to and including the first [SEP], "
         "1 for B and its [SEP]"),
    ], "[CLS] A [SEP] B [SEP] with the right segment ids")


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


# --------------------------------------------------------------------------- notebook 04
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


# --------------------------------------------------------------------------- notebook 04b
def check_mean_sd(fn) -> bool:
    """Check ``fn(values) -> (mean, sample standard deviation)`` against NumPy (ddof=1)."""
    hint = "return a tuple (mean, standard deviation with n - 1 in the denominator)"
    cases = ([0.81, 0.79, 0.80], [0.5, 0.7], [0.75, 0.75, 0.75, 0.76])
    return check(fn, "mean_sd", [
        ((v,), (np.mean(v), np.std(v, ddof=1)), hint) for v in cases
    ], "mean and sample standard deviation are right", tol=1e-9, mistakes=[
        (lambda got, want, a: same(got[1], np.std(a[0]), 1e-9), "",
         "the sample standard deviation divides by n - 1, not n: with 3 seeds the difference is large"),
    ])


def check_confidence_interval(fn) -> bool:
    """Check a Student-t confidence interval for the mean of a few runs against SciPy."""
    hint = ("use the t distribution with n - 1 degrees of freedom (scipy.stats.t.ppf), "
            "not the normal 1.96: with 3 runs the interval is much wider")
    cases = [([0.81, 0.79, 0.80], 0.95), ([0.70, 0.74, 0.69, 0.73, 0.71], 0.9)]
    return check(fn, "confidence_interval", [
        ((v, level), stats.t.interval(level, len(v) - 1, loc=np.mean(v), scale=stats.sem(v)), hint)
        for v, level in cases
    ], "t-based confidence intervals match SciPy")


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


# --------------------------------------------------------------------------- notebook 05
def check_n_windows(fn) -> bool:
    """Check a window count against :func:`bertlab.longdoc.n_windows` (itself tested against the tokenizer)."""
    hint = ("a window holds max_length - 2 content tokens, and each new one starts "
            "(max_length - 2 - overlap) tokens after the previous")
    cases = [(10, 512, 128), (510, 512, 128), (511, 512, 128), (892, 512, 128),
             (893, 512, 128), (1000, 256, 64), (0, 128, 0), (300, 128, 0)]
    return check(fn, "n_windows", [(c, longdoc.n_windows(*c), hint) for c in cases],
                 "n_windows matches the tokenizer's windowing")


def check_head_tail(fn) -> bool:
    """Check head + tail truncation of a list of token ids."""
    ids = list(range(100, 120))
    hint = "careful with head=budget (no tail: ids[-0:] is the whole list!) and texts that fit"
    cases = [(30, 5, ids), (20, 5, ids), (10, 4, ids[:4] + ids[-6:]), (10, 0, ids[-10:]), (10, 10, ids[:10])]
    return check(fn, "head_tail", [((list(ids), budget, head), want, hint) for budget, head, want in cases],
                 "head_tail keeps the first `head` and the last `budget - head` ids")


def check_vote_pool(fn) -> bool:
    """Check majority-vote pooling of window logits, ties broken by mean probability."""
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [0.0, 3.0],   # doc 0: 1 vs 2 votes -> 1
                           [1.0, 0.0], [0.0, 0.5],               # doc 1: tie; mean prob favours 0
                           [0.0, 0.2], [3.0, 0.0],               # doc 2: tie; mean prob favours 0
                           [0.0, 1.0],                           # doc 3: one window -> 1
                           [0.1, 0.0], [0.1, 0.0], [0.0, 5.0]])  # doc 4: 2 weak votes beat 1 strong -> 0
    docs = torch.tensor([0, 0, 0, 1, 1, 2, 2, 3, 4, 4, 4])
    return check(fn, "vote_pool(logits, docs, 5)", [
        ((logits, docs, 5), [1, 0, 0, 1, 0],
         "count each window's argmax per document; on a tie, compare the mean softmax probabilities"),
    ], "vote_pool: majority of windows, ties broken by mean probability")


# --------------------------------------------------------------------------- notebook 06
def check_unk_rate(fn, tokenizer) -> bool:
    """Check the share of ``[UNK]`` tokens (special tokens not counted) against a reference."""
    texts = ["the film was great", "这部电影很好看", "emoji 🙂 and more 🙃"]

    def rate(**kwargs):
        flat = [i for ids in tokenizer(texts, **kwargs)["input_ids"] for i in ids]
        return sum(i == tokenizer.unk_token_id for i in flat) / len(flat)

    want = rate(add_special_tokens=False)
    return check(fn, "unk_rate(texts, tokenizer)", [
        ((texts, tokenizer), want, "count over all tokens of all texts, without [CLS]/[SEP]: "
                                   "tokenizer(texts, add_special_tokens=False)"),
    ], f"unk_rate = {want:.3f} on the test sentences", mistakes=[
        (lambda got, *_: same(got, rate()), "", "you counted [CLS] and [SEP] too: pass add_special_tokens=False"),
    ])


def check_cosine_matrix(fn) -> bool:
    """Check a cosine-similarity matrix between the rows of two matrices (not unit length)."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(4, 6, generator=g) * 3, torch.randn(5, 6, generator=g)
    return check(fn, "cosine_matrix(a [4, 6], b [5, 6])", [
        ((a, b), F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T,
         "normalise each row to unit length first (the inputs are not normalised)"),
    ], "cosine_matrix matches (atol 1e-5)", tol=1e-5, mistakes=[
        (wrong_shape, "", "the result is [len(a), len(b)]: a_normalised @ b_normalised.T"),
    ])


def check_retrieval_accuracy(fn) -> bool:
    """Check translation retrieval: row i of ``src`` translates row i of ``tgt``."""
    tgt = torch.eye(4)
    src = torch.tensor([[0.9, 0.1, 0, 0], [0, 0.2, 0.9, 0], [0, 0, 0.8, 0.1], [0.1, 0, 0, 5.0]])
    return check(fn, "retrieval_accuracy(src, tgt)", [
        ((src, tgt), 0.75,    # row 1 is closest to target 2, not 1
         "for each source row take the argmax over target rows of the cosine, "
         "and count how often it is the row with the same index"),
    ], "retrieval_accuracy: share of sentences whose nearest neighbour is their translation")


# --------------------------------------------------------------------------- notebook 07
def check_cls_attention(fn) -> bool:
    """Check the ``[CLS]`` row of the last layer, averaged over heads, from ``[layers, heads, seq, seq]``."""
    g = torch.Generator().manual_seed(0)
    att = torch.softmax(torch.randn(3, 4, 5, 5, generator=g), -1)
    return check(fn, "cls_attention(att [3, 4, 5, 5])", [
        ((att,), att[-1, :, 0, :].mean(0), "average over the heads (dim 0 after picking the layer)"),
    ], "cls_attention: last layer, [CLS] row, mean over heads", mistakes=[
        (wrong_shape, "", "index the last layer, then row 0 (the [CLS] query)"),
        (lambda got, *_: same(got, att[-1, :, :, 0].mean(0)), "took column 0 (how much each token attends *to* [CLS])",
         "the [CLS] row is att[layer, head, 0, :]: what [CLS] attends to"),
        (lambda got, *_: same(got, att[0, :, 0, :].mean(0)), "used the first layer", "the last layer is att[-1]"),
    ])


def check_aopc(fn) -> bool:
    """Check the area over the perturbation curve: mean of p[0] − p[k] for k ≥ 1."""
    hint = "average the drops p[0] - p[k] over k = 1..K (not including k = 0; a rise counts as a negative drop)"
    cases = [([0.9, 0.6, 0.3], 0.45), ([0.8, 0.8], 0.0), ([0.7, 0.9, 0.5], 0.0), ([1.0, 0.5, 0.25, 0.0], 0.75)]
    return check(fn, "aopc", [((list(curve),), want, hint) for curve, want in cases],
                 "aopc: mean drop from the undeleted probability", tol=1e-9, mistakes=[
        (lambda got, *_: torch.as_tensor(got).numel() != 1, "returned several numbers, expected one",
         "average the drops into a single float"),
    ])


def check_swap_gender(fn) -> bool:
    """Check a gendered-word swap that keeps capitalisation and leaves other words alone."""
    cases = [("he loved his mother", "she loved her father"), ("She is an actress", "He is an actor"),
             ("the man and the woman", "the woman and the man"), ("a themed show", "a themed show"),
             ("Brothers", "Sisters")]
    return check(fn, "swap_gender", [
        ((text,), want, "match whole words only (\\b...\\b), swap both ways, and keep a capital first letter")
        for text, want in cases
    ], "swap_gender swaps whole words both ways and keeps capitals", mistakes=[
        (lambda got, *_: re.search("tshe|mothsher", got), "",
         "str.replace also changes 'he' inside 'the' and 'themed': use a regular expression with \\b"),
    ])


# --------------------------------------------------------------------------- notebook 08
def check_median_time(fn) -> bool:
    """Check a timer ``fn(work, warmup, repeats)`` that discards warm-up runs and returns the median."""
    calls = []
    durations = [0.08, 0.08, 0.08, 0.010, 0.012, 0.060, 0.011]     # 3 slow warm-ups, 1 outlier

    def work():
        time.sleep(durations[min(len(calls), len(durations) - 1)])
        calls.append(1)

    def right(got):   # no measured time in the messages: it differs from run to run
        if got is None:
            return "returned None"
        if len(calls) != 7:
            return f"ran work() {len(calls)} times, expected 3 warm-up + 4 timed = 7", ""
        if float(got) > 0.02:
            return ("is slower than the median timed run (about 0.011 s): the warm-up runs or the outlier got in",
                    "drop the warm-up runs and take the median (statistics.median), not the mean")
        return "" if float(got) >= 0.009 else "is faster than any timed run (about 0.011 s)"

    return check(fn, "median_time(work, 3, 4)", [
        ((work, 3, 4), right, "return the median of the timed runs, in seconds"),
    ], "median_time discards the warm-up runs and ignores the outlier")


def check_int8_quantize(fn) -> bool:
    """Check symmetric per-tensor int8 quantization: ``w -> (q, scale)`` with ``w ≈ q * scale``."""
    g = torch.Generator().manual_seed(0)
    w = torch.randn(64, 32, generator=g) * 0.05
    want_scale, seen = float(w.abs().max()) / 127, {}

    def right(got):
        if not isinstance(got, tuple) or len(got) != 2:
            return f"gave {show(got)}, expected (q, scale)"
        q, scale = got
        if isinstance(scale, torch.Tensor) and scale.numel() != 1:
            return (f"returned {scale.numel()} scales; this exercise asks for one scale per tensor",
                    "per-channel scales are a good idea (torch uses them for conv weights), but use max|w| / 127 here")
        if not isinstance(q, torch.Tensor) or q.dtype != torch.int8:
            return f"gave q of dtype {getattr(q, 'dtype', type(q))}", "convert with .to(torch.int8) after rounding"
        scale = float(scale)
        if abs(scale - want_scale) > 1e-6 * want_scale:
            return (f"gave scale = {scale:.3g}, expected max|w| / 127 = {want_scale:.3g}",
                    "symmetric int8 maps the largest |weight| to 127")
        seen["error"] = (q.float() * scale - w).abs().max().item()
        return "" if seen["error"] <= scale / 2 + 1e-7 else (
            f"reconstructs w with a largest error {seen['error']:.3g} > scale/2 = {scale / 2:.3g}",
            "round to the nearest integer (torch.round), do not truncate")

    # the error in the verdict is reproducible: w comes from a seeded generator
    return check(fn, "int8_quantize(w)", [((w,), right, "")],
                 lambda: f"int8_quantize: 4× smaller, largest error {seen['error']:.2g} ≤ scale/2")


def check_soft_target_loss(fn) -> bool:
    """Check the soft-target term of distillation: T² · KL(softmax(teacher/T) ‖ softmax(student/T))."""
    g = torch.Generator().manual_seed(0)
    student, teacher = torch.randn(6, 3, generator=g), torch.randn(6, 3, generator=g) * 3
    hint = "divide both logits by T before the softmax, KL(teacher || student) averaged over the batch, times T²"
    return check(fn, "soft_target_loss", [
        ((student, teacher, t), efficiency.distillation_loss(student, teacher, None, temperature=t), hint)
        for t in (1.0, 2.0, 4.0)
    ], "soft_target_loss matches bertlab.efficiency.distillation_loss (atol 1e-5)", tol=1e-5, mistakes=[
        (lambda got, *_: torch.as_tensor(got).numel() != 1, "returned several values, expected one number",
         "use reduction='batchmean': the KL summed over classes, averaged over examples"),
        (lambda got, want, a: same(got * a[2] ** 2, want, 1e-5), "",
         "you forgot the T² factor (it keeps gradients comparable across temperatures)"),
        (lambda got, want, a: same(got * a[0].shape[-1], want, 1e-5), "",
         "reduction='mean' also divides by the number of classes: use reduction='batchmean'"),
    ])
