"""bertlab.interpret: attention maps, rollout, gradient attributions, deletion curves."""

import numpy as np
import pytest
import torch

import bertlab
from bertlab import interpret


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    tok = bertlab.load_tokenizer("minilm-l6")
    model = bertlab.load_classifier("minilm-l6").eval()
    enc = tok("a wonderful , moving film", return_tensors="pt")
    return model, tok, enc


def test_attention_maps_are_probabilities_and_sdpa_is_restored(setup):
    model, _, enc = setup
    before = model.config._attn_implementation
    att = interpret.attention_maps(model, enc)
    n = enc["input_ids"].shape[1]
    assert att.shape == (6, 12, n, n)
    assert torch.allclose(att.sum(-1), torch.ones(6, 12, n), atol=1e-5)
    assert model.config._attn_implementation == before


def test_rollout_rows_sum_to_one_and_identity_without_attention():
    att = torch.softmax(torch.randn(3, 2, 5, 5), -1)
    roll = interpret.attention_rollout(att)
    assert torch.allclose(roll.sum(-1), torch.ones(5), atol=1e-5)
    uniform_self = torch.eye(5).expand(3, 2, 5, 5)
    assert torch.allclose(interpret.attention_rollout(uniform_self), torch.eye(5))
    with pytest.raises(ValueError, match="layers, heads"):
        interpret.attention_rollout(att[0])


def test_gradient_attributions_shapes_and_completeness(setup):
    model, _, enc = setup
    n = enc["input_ids"].shape[1]
    gxi = interpret.grad_x_input(model, enc, target=1)
    assert gxi.shape == (n,) and torch.isfinite(gxi).all()
    ig8, gap8 = interpret.integrated_gradients(model, enc, target=1, steps=8)
    ig64, gap64 = interpret.integrated_gradients(model, enc, target=1, steps=64)
    assert ig64.shape == (n,)
    assert abs(gap64) <= abs(gap8) + 1e-4 and abs(gap64) < 0.05 * max(1.0, float(ig64.abs().sum()))


def test_deletion_curve_starts_at_the_prediction_and_spares_special_tokens(setup):
    model, _, enc = setup
    n = enc["input_ids"].shape[1]
    with torch.inference_mode():
        p = model(**enc).logits.softmax(-1)[0, 1].item()
    scores = torch.arange(n, dtype=torch.float32)
    curve = interpret.deletion_curve(model, enc, scores, target=1, ks=[0, 1, n - 2])
    assert curve.shape == (3,) and curve[0] == pytest.approx(p, abs=1e-5)
    with pytest.raises(ValueError, match="batch size 1"):
        interpret.deletion_curve(model, {k: v.repeat(2, 1) for k, v in enc.items()}, scores, 1, [0])


def test_colour_html_escapes_and_checks_lengths():
    html = interpret.colour_html(["<b>", "ok"], [1.0, -0.5])
    assert "&lt;b&gt;" in html and html.count("<span") == 2
    with pytest.raises(ValueError, match="2 tokens but 1 scores"):
        interpret.colour_html(["a", "b"], [1.0])


def test_token_scores_all_methods_and_unknown_method(setup):
    model, _, enc = setup
    n = enc["input_ids"].shape[1]
    scores = interpret.token_scores(model, enc, target=1, ig_steps=4)
    assert list(scores) == list(interpret.METHODS)
    assert all(s.shape == (n,) for s in scores.values())
    # the rollout's [CLS] row is a distribution over the tokens
    assert abs(float(scores["attention rollout"].sum()) - 1) < 1e-5
    with pytest.raises(ValueError, match="unknown methods"):
        interpret.token_scores(model, enc, 1, methods=["saliency"])


def test_deletion_benchmark_rows_and_aopc(setup):
    model, tok, _ = setup
    df = interpret.deletion_benchmark(model, tok, ["a wonderful , moving film", "dull"], fractions=(0, .5, 1),
                                      methods=("gradient × input", "random"), ig_steps=4, progress=False)
    assert len(df) == 2 * 2 * 3 and set(df["method"]) == {"gradient × input", "random"}
    # k = 0 gives the same probability for every method of a text
    first = df[df["fraction"] == 0].groupby("text")["prob"].nunique()
    assert (first == 1).all()
    assert df.loc[(df["text"] == 1) & (df["fraction"] == 1), "k"].iloc[0] == 1   # "dull" is one token
    assert interpret.aopc([0.9, 0.6, 0.3]) == pytest.approx(0.45)
    with pytest.raises(ValueError):
        interpret.aopc([0.9])
    with pytest.raises(ValueError, match="at least one text"):
        interpret.deletion_benchmark(model, tok, [])
