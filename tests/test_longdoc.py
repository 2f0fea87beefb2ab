"""bertlab.longdoc: head/tail truncation, windows, pooling, cost (notebook 05)."""

import numpy as np
import pytest
import torch

import bertlab
from bertlab import longdoc


@pytest.fixture(scope="module")
def tok():
    return bertlab.load_tokenizer("minilm-l6")


LONG = " ".join(f"word{i}" for i in range(300))   # several hundred tokens
SHORT = "a short text"


def test_token_lengths_count_specials_and_do_not_truncate(tok):
    lengths = longdoc.token_lengths(tok, [SHORT, LONG])
    assert lengths[0] == len(tok(SHORT)["input_ids"])
    assert lengths[1] > 512


def test_head_tail_keeps_both_ends_and_leaves_short_texts_alone(tok):
    full = tok(LONG, add_special_tokens=False)["input_ids"]
    short, long = longdoc.head_tail_ids(tok, [SHORT, LONG], max_length=64, head=16)
    assert short == tok(SHORT)["input_ids"]
    assert len(long) == 64
    assert long[0] == tok.cls_token_id and long[-1] == tok.sep_token_id
    assert long[1:17] == full[:16] and long[17:-1] == full[-46:]
    head_only = longdoc.head_tail_ids(tok, [LONG], max_length=64, head=62)[0]
    assert head_only == tok(LONG, truncation=True, max_length=64)["input_ids"]
    tail_only = longdoc.head_tail_ids(tok, [LONG], max_length=64, head=0)[0]
    assert tail_only[1:-1] == full[-62:]


def test_bad_arguments_are_clear_errors(tok):
    with pytest.raises(ValueError, match="head=70"):
        longdoc.head_tail_ids(tok, [LONG], max_length=64, head=70)
    with pytest.raises(ValueError, match="never advance"):
        longdoc.window_ids(tok, [LONG], max_length=64, overlap=62)
    with pytest.raises(ValueError, match="no documents"):
        longdoc.token_lengths(tok, [])
    with pytest.raises(ValueError, match="unknown pooling"):
        longdoc.pool(torch.zeros(2, 2), [0, 0], 1, "median")
    with pytest.raises(ValueError, match="no window"):
        longdoc.pool(torch.zeros(2, 2), [0, 0], 2)
    with pytest.raises(ValueError, match="must lie in 0..1"):
        longdoc.pool(torch.zeros(3, 2), [0, 1, 2], 2)


@pytest.mark.parametrize("max_length,overlap", [(64, 16), (128, 0), (32, 20)])
def test_windows_overlap_cover_the_text_and_match_n_windows(tok, max_length, overlap):
    texts = [SHORT, LONG, " ".join(LONG.split()[:40])]
    windows, doc = longdoc.window_ids(tok, texts, max_length, overlap)
    content = longdoc.token_lengths(tok, texts) - 2
    assert np.bincount(doc).tolist() == [longdoc.n_windows(int(c), max_length, overlap) for c in content]
    assert all(x[0] == tok.cls_token_id and x[-1] == tok.sep_token_id for x in windows)
    full = tok(LONG, add_special_tokens=False)["input_ids"]
    w = [windows[i][1:-1] for i in np.flatnonzero(doc == 1)]
    assert all(len(x) == max_length - 2 for x in w[:-1]) and 0 < len(w[-1]) <= max_length - 2  # full windows
    for a, b in zip(w, w[1:]):
        assert b[:overlap] == a[len(a) - overlap:]  # each window starts with the last `overlap` of the one before
    # exactly `overlap` tokens are shared between neighbours (none when overlap is 0)...
    assert sum(len(x) for x in w) == len(full) + overlap * (len(w) - 1)
    # ...and stitching the windows back (dropping each overlap) gives the whole text
    stitched = w[0] + [t for x in w[1:] for t in x[overlap:]]
    assert stitched == full


def test_pool_mean_and_max():
    logits = torch.tensor([[2.0, 0.0], [0.0, 4.0], [1.0, 1.0]])
    doc = [0, 0, 1]
    assert torch.allclose(longdoc.pool(logits, doc, 2, "mean_logits"), torch.tensor([[1.0, 2.0], [1.0, 1.0]]))
    probs = logits.softmax(-1)
    assert torch.allclose(longdoc.pool(logits, doc, 2, "mean_probs")[0], probs[:2].mean(0))
    assert torch.allclose(longdoc.pool(logits, doc, 2, "max_probs")[0], probs[:2].max(0).values)


def test_head_tail_ids_feed_predict_directly_and_cost_counts_tokens(tok):
    ids = longdoc.head_tail_ids(tok, [SHORT, LONG], max_length=32, head=8)
    torch.manual_seed(0)
    model = bertlab.load_classifier("minilm-l6", labels=["negative", "positive"]).eval()
    logits = bertlab.predict(model, tok, ids)
    with torch.inference_mode():
        reference = torch.cat([model(input_ids=torch.tensor([x])).logits for x in ids])
    assert torch.allclose(logits, reference, atol=1e-5)
    assert torch.allclose(logits[0], bertlab.predict(model, tok, [SHORT])[0], atol=1e-5)  # short: kept whole
    n = len(ids[0])
    assert longdoc.compute_cost(ids, 2) == {"windows_per_doc": 1.0, "tokens_per_doc": (n + 32) / 2,
                                            "attention_per_doc": (n * n + 32 * 32) / 2}
    windows, _ = longdoc.window_ids(tok, [SHORT, LONG], max_length=32, overlap=0)
    assert longdoc.compute_cost(windows, 2)["windows_per_doc"] == len(windows) / 2


def test_encoder_flops_dense_linear_attention_quadratic():
    f1, f2 = longdoc.encoder_flops(256), longdoc.encoder_flops(512)
    assert f2["dense"] == pytest.approx(2 * f1["dense"])
    assert f2["attention"] == pytest.approx(4 * f1["attention"])
    # the dense layers do one multiply-add (2 FLOPs) per weight of the encoder's Linear layers per token
    encoder = bertlab.load_encoder("minilm-l6")
    weights = sum(m.weight.numel() for m in encoder.encoder.modules() if isinstance(m, torch.nn.Linear))
    assert float(f1["dense"]) / 256 == pytest.approx(2 * weights, rel=1e-9)
    # scores QKᵀ and the weighted sum of V: 2 × n² × hidden multiply-adds per layer
    c = encoder.config
    assert float(f1["attention"]) == pytest.approx(2 * 2 * 256 ** 2 * c.hidden_size * c.num_hidden_layers)


def test_choose_takes_the_best_accuracy_and_breaks_ties_by_cost_then_order():
    assert longdoc.choose({"head": 0.70, "tail": 0.80, "windows": 0.75}, {"head": 1, "tail": 1, "windows": 4}) == "tail"
    # equal accuracy: the cheaper strategy wins, whichever is listed first
    assert longdoc.choose({"windows": 0.80, "tail": 0.80}, {"windows": 4, "tail": 1}) == "tail"
    # equal accuracy and cost: the first listed wins
    assert longdoc.choose({"mean": 0.80, "max": 0.80}, {"mean": 4, "max": 4}) == "mean"
    with pytest.raises(ValueError, match="no strategies"):
        longdoc.choose({}, {})
    with pytest.raises(ValueError, match="no cost for"):
        longdoc.choose({"head": 0.7}, {})
