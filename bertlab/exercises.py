"""Checkers for the notebooks' exercises: run your function on test cases, explain what is off.

Each ``check_*`` prints a short verdict and returns True/False, so a wrong answer never stops
the notebook; it tells you the first failing case and a hint for the usual mistake.
"""

from __future__ import annotations

from typing import Any, Callable

import torch


def report(ok: bool, what: str, hint: str = "") -> bool:
    """Print a one-line verdict (and a hint when wrong); return ``ok``."""
    if ok:
        print(f"✔ {what}")
    else:
        print(f"✘ {what}" + (f"\n  hint: {hint}" if hint else ""))
    return ok


def _call(fn: Callable, *args: Any) -> tuple[Any, str]:
    try:
        return fn(*args), ""
    except Exception as err:  # a learner's bug: report it instead of crashing the notebook
        return None, f"{type(err).__name__}: {err}"


# --------------------------------------------------------------------------- notebook 01
def check_softmax(fn: Callable[[torch.Tensor], torch.Tensor]) -> bool:
    """Check a softmax over the last dimension, including numerically large inputs."""
    x = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    out, err = _call(fn, x)
    if err:
        return report(False, f"softmax raised {err}")
    if not torch.allclose(out, torch.softmax(x, -1), atol=1e-6):
        return report(False, f"softmax({x.tolist()}) gave {out.tolist()}",
                      "exponentiate, then divide by the sum over the last dimension (dim=-1)")
    big = torch.tensor([[1000.0, 1001.0, 1002.0]])
    out, err = _call(fn, big)
    if err or not torch.isfinite(out).all():
        return report(False, "softmax overflows on [1000, 1001, 1002] (got inf/nan)",
                      "subtract the row maximum before exp(): softmax(x) = softmax(x - max(x))")
    return report(torch.allclose(out, torch.softmax(big, -1), atol=1e-6),
                  "softmax is correct and numerically stable")


def check_causal_mask(fn: Callable[[int], torch.Tensor]) -> bool:
    """Check a function ``n -> [n, n]`` bool mask where query i may see keys 0..i."""
    for n in (1, 4, 7):
        out, err = _call(fn, n)
        if err:
            return report(False, f"causal_mask({n}) raised {err}")
        want = torch.ones(n, n, dtype=torch.bool).tril()
        if out.dtype != torch.bool:
            return report(False, f"causal_mask({n}) has dtype {out.dtype}", "return a bool tensor")
        if torch.equal(out, want):
            continue
        if torch.equal(out, want.T):
            return report(False, f"causal_mask({n}) is transposed",
                          "rows are queries, columns are keys: query i may see keys j <= i (tril)")
        return report(False, f"causal_mask({n}) =\n{out.int()}", "torch.ones(n, n).tril().bool()")
    return report(True, "causal mask is correct")


def check_attention(fn: Callable[..., torch.Tensor]) -> bool:
    """Check ``fn(q, k, v, mask) -> output`` against PyTorch's scaled_dot_product_attention."""
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 5, 8, generator=g) for _ in range(3))
    mask = torch.rand(2, 1, 5, 5, generator=g) > 0.3
    mask[..., 0] = True  # every query may see at least one key
    want = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    out, err = _call(fn, q, k, v, mask)
    if err:
        return report(False, f"attention raised {err}")
    if isinstance(out, tuple):
        out = out[0]
    if out.shape != want.shape:
        return report(False, f"output shape {tuple(out.shape)}, expected {tuple(want.shape)}",
                      "softmax(q @ k.transpose(-2, -1) / sqrt(d)) @ v keeps q's shape")
    if torch.allclose(out, want, atol=1e-5):
        return report(True, "attention matches torch's scaled_dot_product_attention (atol 1e-5)")
    unscaled = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                                                scale=1.0)
    if torch.allclose(out, unscaled, atol=1e-5):
        return report(False, "attention is unscaled", "divide the scores by sqrt(d_k) = sqrt(q.shape[-1])")
    nomask = torch.nn.functional.scaled_dot_product_attention(q, k, v)
    if torch.allclose(out, nomask, atol=1e-5):
        return report(False, "the mask is ignored", "scores.masked_fill(~mask, float('-inf')) before softmax")
    return report(False, "attention output differs from the reference",
                  "softmax over the *key* dimension (dim=-1), masked positions set to -inf")


# --------------------------------------------------------------------------- notebook 02
def check_wordpiece(fn: Callable[[str, dict], list[str]], vocab: dict[str, int]) -> bool:
    """Check a greedy longest-match-first WordPiece ``fn(word, vocab) -> pieces``."""
    from .wordpiece import wordpiece

    for word in ("playing", "unbelievably", "tokenization", "bertlab", "x", "ℵℶℷ"):
        want = wordpiece(word, vocab)
        got, err = _call(fn, word, vocab)
        if err:
            return report(False, f"wordpiece({word!r}) raised {err}")
        if got != want:
            hint = "continuation pieces start with '##'"
            if want == ["[UNK]"]:
                hint = "if some part cannot be matched, the whole word becomes ['[UNK]']"
            elif got and len(got) > len(want):
                hint = "take the *longest* matching prefix first (shrink the end, not grow it)"
            return report(False, f"wordpiece({word!r}) = {got}, expected {want}", hint)
    return report(True, "WordPiece matches BERT's greedy longest-match-first on all cases")


def check_bert_parameter_count(fn: Callable[..., int]) -> bool:
    """Check a formula ``fn(vocab, hidden, layers, intermediate, positions, types) -> int``
    against the number of parameters of ``transformers.BertModel`` (with pooler)."""
    from transformers import BertConfig, BertModel

    for args in ((30522, 768, 12, 3072, 512, 2), (30522, 384, 6, 1536, 512, 2), (1000, 64, 2, 256, 128, 2)):
        vocab, hidden, layers, inter, pos, types = args
        heads = max(1, hidden // 64)
        cfg = BertConfig(vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers,
                         num_attention_heads=heads, intermediate_size=inter,
                         max_position_embeddings=pos, type_vocab_size=types)
        with torch.device("meta"):
            want = sum(p.numel() for p in BertModel(cfg).parameters())
        got, err = _call(fn, *args)
        if err:
            return report(False, f"parameter count raised {err}")
        if got != want:
            diff = got - want
            hint = "count weights *and* biases; 4 attention matrices, 2 feed-forward, 2 LayerNorms per layer"
            if diff == -hidden * hidden - hidden:
                hint = "don't forget the pooler (a hidden×hidden dense layer with bias)"
            elif diff == -2 * hidden:
                hint = "the embedding LayerNorm has a weight and a bias"
            return report(False, f"for {args}: got {got:,}, BertModel has {want:,} (off by {diff:,})", hint)
    return report(True, "parameter formula matches BertModel for BERT-base, MiniLM and a tiny config")


def check_mean_pool(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """Check ``fn(last_hidden_state, attention_mask) -> [batch, hidden]`` that ignores padding."""
    hidden = torch.arange(2 * 3 * 2, dtype=torch.float).view(2, 3, 2)
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    want = torch.stack([hidden[0].mean(0), hidden[1, :2].mean(0)])
    got, err = _call(fn, hidden, mask)
    if err:
        return report(False, f"mean_pool raised {err}")
    if got.shape != want.shape:
        return report(False, f"shape {tuple(got.shape)}, expected {tuple(want.shape)}", "average over dim=1")
    if torch.allclose(got, hidden.mean(1)):
        return report(False, "padding positions were averaged in",
                      "multiply by the mask, sum over tokens, divide by the number of real tokens")
    return report(torch.allclose(got, want), "mean pooling ignores padding correctly",
                  "sum(hidden * mask) / sum(mask) per sentence")



# --------------------------------------------------------------------------- notebook 04
def check_padding_waste(fn: Callable[[list[int], int], float]) -> bool:
    """Check ``fn(lengths, batch_size) -> share of pad tokens`` for sequential batches padded
    to their longest member."""
    cases = [([3, 5, 2, 2], 2, 1 - 12 / 14), ([4, 4, 4], 2, 0.0), ([1, 9], 1, 0.0)]
    for lengths, bs, want in cases:
        got, err = _call(fn, lengths, bs)
        if err:
            return report(False, f"padding waste raised {err}")
        if got is None or abs(got - want) > 1e-9:
            return report(False, f"lengths {lengths}, batch {bs}: got {got}, expected {want:.4f}",
                          "per batch: padded = batch size × longest length; waste = 1 − real / padded, "
                          "summed over all batches")
    return report(True, "padding waste is computed correctly")


def check_macro_f1(fn: Callable[[list[int], list[int]], float]) -> bool:
    """Check a macro-F1 implementation against scikit-learn."""
    from sklearn.metrics import f1_score

    cases = [([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0]), ([0, 1, 0, 1], [0, 0, 0, 0]), ([1, 1, 0], [1, 1, 0])]
    for y, p in cases:
        want = f1_score(y, p, average="macro", zero_division=0)
        got, err = _call(fn, y, p)
        if err:
            return report(False, f"macro_f1 raised {err}")
        if got is None or abs(got - want) > 1e-9:
            hint = "F1 per class = 2·P·R/(P+R) (0 when P+R = 0), then the plain mean over classes"
            return report(False, f"macro_f1({y}, {p}) = {got}, expected {want:.4f}", hint)
    return report(True, "macro-F1 matches scikit-learn")


def check_warmup_schedule(fn: Callable[[int, int, int, float], float]) -> bool:
    """Check ``fn(step, warmup_steps, total_steps, peak_lr) -> lr`` against transformers'
    ``get_linear_schedule_with_warmup``."""
    from transformers import get_linear_schedule_with_warmup

    warmup, total, peak = 10, 100, 1e-3
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=peak)
    sched = get_linear_schedule_with_warmup(opt, warmup, total)
    for step in range(total):
        want = sched.get_last_lr()[0]
        got, err = _call(fn, step, warmup, total, peak)
        if err:
            return report(False, f"schedule raised {err}")
        if got is None or abs(got - want) > 1e-12:
            return report(False, f"step {step}: lr {got}, expected {want:.3g}",
                          "warm-up: peak·step/warmup; then peak·(total−step)/(total−warmup)")
        opt.step()
        sched.step()
    return report(True, "linear warm-up and decay match transformers' schedule")


# --------------------------------------------------------------------------- notebook 04b
def check_mean_sd(fn: Callable[[list[float]], tuple[float, float]]) -> bool:
    """Check ``fn(values) -> (mean, sample standard deviation)`` against NumPy (ddof=1)."""
    import numpy as np

    for values in ([0.81, 0.79, 0.80], [0.5, 0.7], [0.75, 0.75, 0.75, 0.76]):
        got, err = _call(fn, values)
        if err:
            return report(False, f"mean_sd raised {err}")
        want = (float(np.mean(values)), float(np.std(values, ddof=1)))
        if got is None or len(got) != 2 or any(abs(g - w) > 1e-9 for g, w in zip(got, want)):
            hint = ("the sample standard deviation divides by n - 1, not n: with 3 seeds the "
                    "difference is large" if got and abs(got[1] - np.std(values)) < 1e-9 else
                    "return a tuple (mean, standard deviation with n - 1 in the denominator)")
            return report(False, f"mean_sd({values}) = {got}, expected {tuple(round(w, 5) for w in want)}", hint)
    return report(True, "mean and sample standard deviation are right")


def check_confidence_interval(fn: Callable[[list[float], float], tuple[float, float]]) -> bool:
    """Check a Student-t confidence interval for the mean of a few runs against SciPy."""
    import numpy as np
    from scipy import stats

    for values, level in (([0.81, 0.79, 0.80], 0.95), ([0.70, 0.74, 0.69, 0.73, 0.71], 0.9)):
        got, err = _call(fn, values, level)
        if err:
            return report(False, f"confidence_interval raised {err}")
        want = stats.t.interval(level, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
        if got is None or len(got) != 2 or any(abs(g - w) > 1e-6 for g, w in zip(got, want)):
            hint = ("use the t distribution with n - 1 degrees of freedom (scipy.stats.t.ppf), "
                    "not the normal 1.96: with 3 runs the interval is much wider")
            return report(False, f"confidence_interval({values}, {level}) = {got}, expected "
                                 f"({want[0]:.4f}, {want[1]:.4f})", hint)
    return report(True, "t-based confidence intervals match SciPy")


def check_freeze_encoder(fn: Callable[[torch.nn.Module], Any]) -> bool:
    """Check that ``fn(model)`` leaves only the classification head trainable."""
    from transformers import BertConfig, BertForSequenceClassification

    model = BertForSequenceClassification(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
                                                     num_attention_heads=2, intermediate_size=32))
    _, err = _call(fn, model)
    if err:
        return report(False, f"freeze_encoder raised {err}")
    trainable = sorted(n for n, p in model.named_parameters() if p.requires_grad)
    if trainable != ["classifier.bias", "classifier.weight"]:
        hint = "set requires_grad = False on every parameter of model.bert (pooler included)"
        return report(False, f"trainable after freeze_encoder: {trainable[:4]}...", hint)
    return report(True, "only the classifier (2 tensors) is left trainable")


# --------------------------------------------------------------------------- notebook 03
def check_bert_masking(fn: Callable[..., tuple[torch.Tensor, torch.Tensor]]) -> bool:
    """Check ``fn(input_ids, special_mask, mask_id, vocab_size, generator) -> (inputs, labels)``
    statistically: 15% of real tokens chosen, 80/10/10 split, specials never chosen, -100 labels."""
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(10, 1000, (300, 100), generator=g)
    special = torch.zeros_like(ids)
    special[:, 0] = special[:, -1] = special[:, 80:] = 1  # [CLS], [SEP] and padding
    got, err = _call(fn, ids.clone(), special, 4, 1000, torch.Generator().manual_seed(1))
    if err:
        return report(False, f"your masking raised {err}")
    inputs, labels = got
    chosen = labels != -100
    real = int((special == 0).sum())
    if chosen[special.bool()].any():
        return report(False, "a special or padding position was chosen",
                      "exclude positions where special_mask is 1 before masking")
    if not torch.equal(labels[chosen], ids[chosen]):
        return report(False, "labels at chosen positions must be the original token ids")
    share = chosen.sum().item() / real
    masked = (inputs[chosen] == 4).float().mean().item()
    unchanged = (inputs[chosen] == ids[chosen]).float().mean().item()
    if abs(share - 0.15) > 0.01:
        return report(False, f"{share:.1%} of real tokens chosen, expected 15%",
                      "draw one uniform number per token and compare it with 0.15")
    if abs(masked - 0.8) > 0.02 or abs(unchanged - 0.1) > 0.02:
        return report(False, f"of the chosen tokens {masked:.0%} became [MASK] and {unchanged:.0%} stayed "
                             "unchanged; expected 80% and ~10% (plus the rare random draw of the same id)",
                      "use a second uniform draw: < 0.8 → [MASK], 0.8-0.9 → random id, else keep")
    if not torch.equal(inputs[~chosen], ids[~chosen]):
        return report(False, "tokens that were not chosen must stay as they were")
    return report(True, f"masking statistics are right ({share:.1%} chosen, {masked:.0%} [MASK], "
                        f"{unchanged:.0%} unchanged)")


def check_nsp_example(fn: Callable[[list[int], list[int], int, int], tuple[list[int], list[int]]]) -> bool:
    """Check ``fn(a, b, cls_id, sep_id) -> (input_ids, token_type_ids)`` for a BERT sentence pair."""
    a, b = [11, 12, 13], [21, 22]
    got, err = _call(fn, a, b, 2, 3)
    if err:
        return report(False, f"your pair builder raised {err}")
    want = ([2, 11, 12, 13, 3, 21, 22, 3], [0, 0, 0, 0, 0, 1, 1, 1])
    if got is None or [list(x) for x in got] != [list(x) for x in want]:
        hint = ("[CLS] A [SEP] B [SEP]; token_type_ids are 0 up to and including the first [SEP], "
                "1 for B and its [SEP]")
        return report(False, f"got {got}, expected {want}", hint)
    return report(True, "[CLS] A [SEP] B [SEP] with the right segment ids")


def check_sentence_order(fn: Callable[..., list[tuple[list[int], list[int], int]]]) -> bool:
    """Check ``fn(segments, rng) -> [(a, b, label)]`` for ALBERT's sentence-order prediction:
    consecutive segments kept in order (label 0) or swapped (label 1), about half each."""
    import random

    segments = [[i, i] for i in range(400)]
    got, err = _call(fn, segments, random.Random(0))
    if err:
        return report(False, f"your SOP builder raised {err}")
    if not got or len(got) != len(segments) - 1:
        return report(False, f"expected {len(segments) - 1} pairs (one per consecutive pair), got "
                             f"{0 if not got else len(got)}")
    for a, b, label in got:
        first, second = (a, b) if label == 0 else (b, a)
        if second[0] != first[0] + 1:
            return report(False, f"pair {a}, {b} with label {label} is not two consecutive segments",
                          "label 0: (segment i, segment i+1); label 1: (segment i+1, segment i)")
    swapped = sum(label for _, _, label in got) / len(got)
    if not 0.4 <= swapped <= 0.6:
        return report(False, f"{swapped:.0%} of pairs swapped, expected about half")
    return report(True, f"sentence-order pairs are right ({swapped:.0%} swapped); negatives come "
                        "from the same document, so topic cannot give them away")


# --------------------------------------------------------------------------- notebook 05
def check_n_windows(fn: Callable[[int, int, int], int]) -> bool:
    """Check a window count against :func:`bertlab.longdoc.n_windows` (itself tested against the tokenizer)."""
    from .longdoc import n_windows

    for n, max_length, overlap in [(10, 512, 128), (510, 512, 128), (511, 512, 128), (892, 512, 128),
                                   (893, 512, 128), (1000, 256, 64), (0, 128, 0), (300, 128, 0)]:
        out, err = _call(fn, n, max_length, overlap)
        if err or out != n_windows(n, max_length, overlap):
            return report(False, f"n_windows({n}, {max_length}, {overlap}) gave {err or out}, "
                                 f"expected {n_windows(n, max_length, overlap)}",
                          "a window holds max_length - 2 content tokens, and each new one starts "
                          "(max_length - 2 - overlap) tokens after the previous")
    return report(True, "n_windows matches the tokenizer's windowing")


def check_head_tail(fn: Callable[[list[int], int, int], list[int]]) -> bool:
    """Check head + tail truncation of a list of token ids."""
    ids = list(range(100, 120))
    cases = [((ids, 30, 5), ids), ((ids, 20, 5), ids), ((ids, 10, 4), ids[:4] + ids[-6:]),
             ((ids, 10, 0), ids[-10:]), ((ids, 10, 10), ids[:10])]
    for args, expected in cases:
        out, err = _call(fn, list(args[0]), args[1], args[2])
        if err or list(out) != expected:
            return report(False, f"head_tail(ids of length {len(args[0])}, budget={args[1]}, head={args[2]}) "
                                 f"gave {err or list(out)}, expected {expected}",
                          "careful with head=budget (no tail: ids[-0:] is the whole list!) and texts that fit")
    return report(True, "head_tail keeps the first `head` and the last `budget - head` ids")


def check_vote_pool(fn: Callable[[torch.Tensor, Any, int], torch.Tensor]) -> bool:
    """Check majority-vote pooling of window logits, ties broken by mean probability."""
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [0.0, 3.0],   # doc 0: 1 vs 2 votes -> 1
                           [1.0, 0.0], [0.0, 0.5],               # doc 1: tie; mean prob favours 0
                           [0.0, 0.2], [3.0, 0.0],               # doc 2: tie; mean prob favours 0
                           [0.0, 1.0],                           # doc 3: one window -> 1
                           [0.1, 0.0], [0.1, 0.0], [0.0, 5.0]])  # doc 4: 2 weak votes beat 1 strong -> 0
    docs = torch.tensor([0, 0, 0, 1, 1, 2, 2, 3, 4, 4, 4])
    expected = [1, 0, 0, 1, 0]
    out, err = _call(fn, logits, docs, 5)
    if err or torch.as_tensor(out).tolist() != expected:
        return report(False, f"vote_pool gave {err or torch.as_tensor(out).tolist()}, expected {expected}",
                      "count each window's argmax per document; on a tie, compare the mean softmax probabilities")
    return report(True, "vote_pool: majority of windows, ties broken by mean probability")


# --------------------------------------------------------------------------- notebook 06
def check_unk_rate(fn: Callable[[list[str], Any], float], tokenizer) -> bool:
    """Check the share of ``[UNK]`` tokens (special tokens not counted) against a reference."""
    texts = ["the film was great", "这部电影很好看", "emoji 🙂 and more 🙃"]
    ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    flat = [i for x in ids for i in x]
    expected = sum(i == tokenizer.unk_token_id for i in flat) / len(flat)
    out, err = _call(fn, texts, tokenizer)
    if err or out is None or abs(float(out) - expected) > 1e-6:
        with_specials = tokenizer(texts)["input_ids"]
        hint = ("count over all tokens of all texts, without [CLS]/[SEP]: tokenizer(texts, "
                "add_special_tokens=False)")
        if not err and out is not None and with_specials:
            flat2 = [i for x in with_specials for i in x]
            if abs(float(out) - sum(i == tokenizer.unk_token_id for i in flat2) / len(flat2)) < 1e-6:
                hint = "you counted [CLS] and [SEP] too: pass add_special_tokens=False"
        return report(False, f"unk_rate gave {err or out}, expected {expected:.4f}", hint)
    return report(True, f"unk_rate = {expected:.3f} on the test sentences")


def check_cosine_matrix(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """Check a cosine-similarity matrix between the rows of two matrices (not unit length)."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(4, 6, generator=g) * 3, torch.randn(5, 6, generator=g)
    expected = torch.nn.functional.normalize(a, dim=-1) @ torch.nn.functional.normalize(b, dim=-1).T
    out, err = _call(fn, a, b)
    if err or not isinstance(out, torch.Tensor) or out.shape != expected.shape:
        return report(False, f"cosine_matrix(a [4, 6], b [5, 6]) gave {err or getattr(out, 'shape', out)}",
                      "the result is [len(a), len(b)]: a_normalised @ b_normalised.T")
    if not torch.allclose(out, expected, atol=1e-5):
        return report(False, "cosine_matrix values are off",
                      "normalise each row to unit length first (the inputs are not normalised)")
    return report(True, "cosine_matrix matches (atol 1e-5)")


def check_retrieval_accuracy(fn: Callable[[torch.Tensor, torch.Tensor], float]) -> bool:
    """Check translation retrieval: row i of ``src`` translates row i of ``tgt``."""
    tgt = torch.eye(4)
    src = torch.tensor([[0.9, 0.1, 0, 0], [0, 0.2, 0.9, 0], [0, 0, 0.8, 0.1], [0.1, 0, 0, 5.0]])
    expected = 0.75                                # row 1 is closest to target 2, not 1
    out, err = _call(fn, src, tgt)
    if err or out is None or abs(float(out) - expected) > 1e-6:
        return report(False, f"retrieval_accuracy gave {err or out}, expected {expected}",
                      "for each source row take the argmax over target rows of the cosine, "
                      "and count how often it is the row with the same index")
    return report(True, "retrieval_accuracy: share of sentences whose nearest neighbour is their translation")


# --------------------------------------------------------------------------- notebook 07
def check_cls_attention(fn: Callable[[torch.Tensor], torch.Tensor]) -> bool:
    """Check the ``[CLS]`` row of the last layer, averaged over heads, from ``[layers, heads, seq, seq]``."""
    g = torch.Generator().manual_seed(0)
    att = torch.softmax(torch.randn(3, 4, 5, 5, generator=g), -1)
    expected = att[-1, :, 0, :].mean(0)
    out, err = _call(fn, att)
    if err or not isinstance(out, torch.Tensor) or out.shape != expected.shape:
        return report(False, f"cls_attention(att [3, 4, 5, 5]) gave {err or getattr(out, 'shape', out)}, "
                             "expected a tensor of shape [5]", "index the last layer, then row 0 (the [CLS] query)")
    if torch.allclose(out, att[-1, :, :, 0].mean(0), atol=1e-6):
        return report(False, "you took column 0 (how much each token attends *to* [CLS])",
                      "the [CLS] row is att[layer, head, 0, :]: what [CLS] attends to")
    if torch.allclose(out, att[0, :, 0, :].mean(0), atol=1e-6):
        return report(False, "you used the first layer", "the last layer is att[-1]")
    if not torch.allclose(out, expected, atol=1e-6):
        return report(False, "cls_attention values are off", "average over the heads (dim 0 after picking the layer)")
    return report(True, "cls_attention: last layer, [CLS] row, mean over heads")


def check_aopc(fn: Callable[[list[float]], float]) -> bool:
    """Check the area over the perturbation curve: mean of p[0] − p[k] for k ≥ 1."""
    cases = [([0.9, 0.6, 0.3], 0.45), ([0.8, 0.8], 0.0), ([0.7, 0.9, 0.5], 0.0), ([1.0, 0.5, 0.25, 0.0], 0.75)]
    for curve, expected in cases:
        out, err = _call(fn, list(curve))
        if not err and out is not None and torch.as_tensor(out).numel() != 1:
            return report(False, f"aopc({curve}) returned {torch.as_tensor(out).numel()} numbers, expected one",
                          "average the drops into a single float")
        if err or out is None or abs(float(out) - expected) > 1e-9:
            return report(False, f"aopc({curve}) gave {err or out}, expected {expected}",
                          "average the drops p[0] - p[k] over k = 1..K (not including k = 0; "
                          "a rise counts as a negative drop)")
    return report(True, "aopc: mean drop from the undeleted probability")


def check_swap_gender(fn: Callable[[str], str]) -> bool:
    """Check a gendered-word swap that keeps capitalisation and leaves other words alone."""
    cases = [("he loved his mother", "she loved her father"), ("She is an actress", "He is an actor"),
             ("the man and the woman", "the woman and the man"), ("a themed show", "a themed show"),
             ("Brothers", "Sisters")]
    for text, expected in cases:
        out, err = _call(fn, text)
        if err or out != expected:
            hint = "match whole words only (\\b...\\b), swap both ways, and keep a capital first letter"
            if out is not None and ("tshe" in out or "tshemed" in out or "mothsher" in out):
                hint = "str.replace also changes 'he' inside 'the' and 'themed': use a regular expression with \\b"
            return report(False, f"swap_gender({text!r}) gave {err or repr(out)}, expected {expected!r}", hint)
    return report(True, "swap_gender swaps whole words both ways and keeps capitals")


# --------------------------------------------------------------------------- notebook 08
def check_median_time(fn: Callable[[Callable[[], Any], int, int], float]) -> bool:
    """Check a timer ``fn(work, warmup, repeats)`` that discards warm-up runs and returns the median."""
    import time

    calls = []
    durations = [0.08, 0.08, 0.08, 0.010, 0.012, 0.060, 0.011]     # 3 slow warm-ups, 1 outlier

    def work():
        time.sleep(durations[min(len(calls), len(durations) - 1)])
        calls.append(1)

    out, err = _call(fn, work, 3, 4)
    if err or out is None:
        return report(False, f"median_time raised {err}" if err else "median_time returned None",
                      "return the median of the timed runs, in seconds")
    if len(calls) != 7:
        return report(False, f"work() ran {len(calls)} times, expected 3 warm-up + 4 timed = 7")
    if not 0.009 <= float(out) <= 0.02:
        hint = "drop the warm-up runs and take the median (statistics.median), not the mean"
        if float(out) > 0.02:
            hint += f": {float(out):.3f} s looks like the warm-up or the outlier got in"
        return report(False, f"median_time gave {float(out):.4f} s, expected about 0.011 s", hint)
    return report(True, "median_time discards the warm-up runs and ignores the outlier")


def check_int8_quantize(fn: Callable[[torch.Tensor], tuple[torch.Tensor, float]]) -> bool:
    """Check symmetric per-tensor int8 quantization: ``w -> (q, scale)`` with ``w ≈ q * scale``."""
    g = torch.Generator().manual_seed(0)
    w = torch.randn(64, 32, generator=g) * 0.05
    out, err = _call(fn, w)
    if err or not isinstance(out, tuple) or len(out) != 2:
        return report(False, f"int8_quantize(w) gave {err or type(out).__name__}, expected (q, scale)")
    q, scale = out
    if isinstance(scale, torch.Tensor) and scale.numel() != 1:
        return report(False, f"scale has {scale.numel()} values; this exercise asks for one scale per tensor",
                      "per-channel scales are a good idea (torch uses them for conv weights), but use max|w| / 127 here")
    scale = float(scale)
    if not isinstance(q, torch.Tensor) or q.dtype != torch.int8:
        return report(False, f"q has dtype {getattr(q, 'dtype', type(q))}", "convert with .to(torch.int8) after rounding")
    expected_scale = float(w.abs().max()) / 127
    if abs(scale - expected_scale) > 1e-6 * max(expected_scale, 1e-12):
        return report(False, f"scale = {scale:.3g}, expected max|w| / 127 = {expected_scale:.3g}",
                      "symmetric int8 maps the largest |weight| to 127")
    error = (q.float() * scale - w).abs().max().item()
    if error > scale / 2 + 1e-7:
        return report(False, f"largest reconstruction error {error:.3g} > scale/2 = {scale / 2:.3g}",
                      "round to the nearest integer (torch.round), do not truncate")
    return report(True, f"int8_quantize: 4× smaller, largest error {error:.2g} ≤ scale/2")


def check_soft_target_loss(fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> bool:
    """Check the soft-target term of distillation: T² · KL(softmax(teacher/T) ‖ softmax(student/T))."""
    from .efficiency import distillation_loss

    g = torch.Generator().manual_seed(0)
    student, teacher = torch.randn(6, 3, generator=g), torch.randn(6, 3, generator=g) * 3
    for t in (1.0, 2.0, 4.0):
        expected = distillation_loss(student, teacher, None, temperature=t)
        out, err = _call(fn, student, teacher, t)
        if err or out is None:
            return report(False, f"soft_target_loss(T={t}) raised {err}" if err else "soft_target_loss returned None")
        value = torch.as_tensor(out, dtype=torch.float32).detach()
        if value.numel() != 1:
            return report(False, f"soft_target_loss returned {value.numel()} values, expected one number",
                          "use reduction='batchmean': the KL summed over classes, averaged over examples")
        if not torch.allclose(value, expected, atol=1e-5):
            hint = "divide both logits by T before the softmax, KL(teacher || student) averaged over the batch, times T²"
            if torch.allclose(value * t * t, expected, atol=1e-5):
                hint = "you forgot the T² factor (it keeps gradients comparable across temperatures)"
            elif torch.allclose(value * student.shape[-1], expected, atol=1e-5):
                hint = "reduction='mean' also divides by the number of classes: use reduction='batchmean'"
            return report(False, f"soft_target_loss(T={t}) gave {float(value):.4f}, expected {float(expected):.4f}", hint)
    return report(True, "soft_target_loss matches bertlab.efficiency.distillation_loss (atol 1e-5)")
