"""bertlab.interpret: attention maps, rollout, gradient attributions, deletion curves."""

from types import SimpleNamespace

import pandas as pd
import pytest
import torch

import bertlab
from bertlab import interpret


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    tok = bertlab.load_tokenizer("minilm-l6")
    model = bertlab.load_classifier("minilm-l6", labels=["negative", "positive"]).eval()
    enc = tok("a wonderful , moving film", return_tensors="pt")
    return model, tok, enc


class BagOfEmbeddings(torch.nn.Module):
    """A classifier linear in its input embeddings: logits = W · Σ_t mask_t · E[x_t].

    For it, gradient × input and integrated gradients are known exactly: token t contributes
    E[x_t] · W[c] to logit c (integrated gradients: (E[x_t] − E[baseline_t]) · W[c])."""

    def __init__(self, vocab=30, dim=8, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.config = SimpleNamespace(pad_token_id=0)
        self.embeddings = torch.nn.Embedding(vocab, dim)
        self.head = torch.nn.Linear(dim, 2, bias=False)

    def get_input_embeddings(self):
        return self.embeddings

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, inputs_embeds=None):
        x = self.embeddings(input_ids) if inputs_embeds is None else inputs_embeds
        return SimpleNamespace(logits=self.head((x * attention_mask[..., None]).sum(1)))


TOY = {"input_ids": torch.tensor([[1, 7, 3, 12, 5, 2]]), "attention_mask": torch.ones(1, 6, dtype=torch.long)}


def test_attention_maps_are_probabilities_and_sdpa_is_restored(setup):
    model, _, enc = setup
    before = model.config._attn_implementation
    att = interpret.attention_maps(model, enc)
    n = enc["input_ids"].shape[1]
    assert att.shape == (6, 12, n, n)
    assert torch.allclose(att.sum(-1), torch.ones(6, 12, n), atol=1e-5)
    assert model.config._attn_implementation == before


def test_rollout_rows_sum_to_one_and_identity_without_attention():
    att = torch.softmax(torch.randn(3, 2, 5, 5, generator=torch.Generator().manual_seed(0)), -1)
    roll = interpret.attention_rollout(att)
    assert torch.allclose(roll.sum(-1), torch.ones(5), atol=1e-5)
    uniform_self = torch.eye(5).expand(3, 2, 5, 5)
    assert torch.allclose(interpret.attention_rollout(uniform_self), torch.eye(5))
    with pytest.raises(ValueError, match="layers, heads"):
        interpret.attention_rollout(att[0])


def test_rollout_of_one_layer_mixes_attention_with_the_residual():
    a = torch.softmax(torch.randn(1, 4, 3, 3, generator=torch.Generator().manual_seed(1)), -1)
    expected = 0.5 * torch.eye(3) + 0.5 * a[0].mean(0)   # rows already sum to 1
    assert torch.allclose(interpret.attention_rollout(a), expected, atol=1e-6)
    two = torch.cat([a, a])
    assert torch.allclose(interpret.attention_rollout(two), expected @ expected, atol=1e-6)


def test_gradient_attributions_are_exact_for_a_model_linear_in_its_embeddings():
    model = BagOfEmbeddings()
    ids = TOY["input_ids"][0]
    E, W = model.embeddings.weight.detach(), model.head.weight.detach()
    for target in (0, 1):
        assert torch.allclose(interpret.grad_x_input(model, TOY, target), E[ids] @ W[target], atol=1e-6)
        ig, gap = interpret.integrated_gradients(model, TOY, target, steps=4)
        baseline = ids.clone()
        baseline[1:-1] = model.config.pad_token_id  # [CLS] and [SEP] stay
        assert torch.allclose(ig, (E[ids] - E[baseline]) @ W[target], atol=1e-6)
        assert ig[0] == 0 and ig[-1] == 0 and abs(gap) < 1e-5  # complete, even with 4 steps


def test_gradient_x_input_is_the_first_order_change_of_the_logit(setup):
    model, _, enc = setup
    gxi = interpret.grad_x_input(model, enc, target=1)
    assert gxi.shape == (enc["input_ids"].shape[1],)
    words = model.get_input_embeddings()(enc["input_ids"]).detach()
    eps = 1e-2

    def logit(scale):
        with torch.inference_mode():
            return model(inputs_embeds=scale * words, attention_mask=enc["attention_mask"]).logits[0, 1].item()

    # Σ_t grad_t · x_t is the derivative along x: (f((1+ε)x) − f((1−ε)x)) / 2ε
    assert float(gxi.sum()) == pytest.approx((logit(1 + eps) - logit(1 - eps)) / (2 * eps), rel=0.02, abs=1e-3)


def test_integrated_gradients_converge_on_the_real_model(setup):
    model, _, enc = setup
    n = enc["input_ids"].shape[1]
    ig8, gap8 = interpret.integrated_gradients(model, enc, target=1, steps=8)
    ig64, gap64 = interpret.integrated_gradients(model, enc, target=1, steps=64)
    assert ig64.shape == (n,)
    assert abs(gap64) <= abs(gap8) + 1e-4 and abs(gap64) < 0.05 * max(1.0, float(ig64.abs().sum()))


def test_deletion_curve_deletes_the_top_scored_tokens_and_spares_special_tokens(setup):
    model, tok, enc = setup
    n = enc["input_ids"].shape[1]
    scores = torch.arange(n, dtype=torch.float32)  # the last tokens score highest, [SEP] highest of all
    curve = interpret.deletion_curve(model, enc, scores, target=1, ks=[0, 1, n - 2])

    def prob(ids):
        with torch.inference_mode():
            return model(input_ids=ids, attention_mask=enc["attention_mask"]).logits.softmax(-1)[0, 1].item()

    ids = enc["input_ids"]
    one = ids.clone()
    one[0, n - 2] = tok.pad_token_id            # the highest-scoring token that is not [SEP]
    everything = ids.clone()
    everything[0, 1:n - 1] = tok.pad_token_id   # all but [CLS] and [SEP]
    assert curve.tolist() == pytest.approx([prob(ids), prob(one), prob(everything)], abs=1e-5)
    with pytest.raises(ValueError, match="batch size 1"):
        interpret.deletion_curve(model, {k: v.repeat(2, 1) for k, v in enc.items()}, scores, 1, [0])


def test_colour_html_escapes_and_checks_lengths():
    html = interpret.colour_html(["<b>", "ok"], [1.0, -0.5])
    assert "&lt;b&gt;" in html and html.count("<span") == 2
    assert "rgb(255, 0, 0)" in html and "rgb(127, 127, 255)" in html  # full red, half blue
    with pytest.raises(ValueError, match="2 tokens but 1 scores"):
        interpret.colour_html(["a", "b"], [1.0])


def test_token_scores_all_methods_and_unknown_method(setup):
    model, _, enc = setup
    n = enc["input_ids"].shape[1]
    scores = interpret.token_scores(model, enc, target=1, ig_steps=4)
    assert list(scores) == list(interpret.METHODS)
    assert all(s.shape == (n,) for s in scores.values())
    att = interpret.attention_maps(model, enc)
    assert torch.allclose(scores["attention (last layer)"], att[-1].mean(0)[0])   # the [CLS] row
    assert torch.allclose(scores["attention rollout"], interpret.attention_rollout(att)[0])
    assert torch.allclose(scores["gradient × input"], interpret.grad_x_input(model, enc, 1))
    assert torch.equal(scores["random"], interpret.token_scores(model, enc, 1, methods=["random"])["random"])
    with pytest.raises(ValueError, match="unknown methods"):
        interpret.token_scores(model, enc, 1, methods=["saliency"])


def test_deletion_benchmark_rows_and_aopc(setup):
    model, tok, _ = setup
    texts = ["a wonderful , moving film", "dull"]
    df = interpret.deletion_benchmark(model, tok, texts, fractions=(0, .5, 1),
                                      methods=("gradient × input", "random"), ig_steps=4, progress=False)
    assert len(df) == 2 * 2 * 3 and set(df["method"]) == {"gradient × input", "random"}
    # nothing deleted: the probability of the model's own prediction, whatever the method
    with torch.inference_mode():
        own = [model(**tok(t, return_tensors="pt")).logits.softmax(-1).max().item() for t in texts]
    first = df[df["fraction"] == 0].groupby("text")["prob"]
    assert first.min().tolist() == pytest.approx(own, abs=1e-5) and first.max().tolist() == pytest.approx(own, abs=1e-5)
    whole = df[df["fraction"] == 1].groupby("text")["k"].first().tolist()
    assert whole == [5, 1]   # fraction 1 deletes every non-special token ("dull" is one token)
    assert interpret.aopc([0.9, 0.6, 0.3]) == pytest.approx(0.45)
    with pytest.raises(ValueError):
        interpret.aopc([0.9])
    with pytest.raises(ValueError, match="at least one text"):
        interpret.deletion_benchmark(model, tok, [])


def test_deletion_benchmark_reuses_each_ranking_for_every_replacement(setup):
    model, tok, enc = setup
    text = "a wonderful , moving film"
    df = interpret.deletion_benchmark(model, tok, [text], fractions=(0, .4), methods=("gradient × input",),
                                      replacements={"[PAD]": tok.pad_token_id, "[MASK]": tok.mask_token_id},
                                      progress=False)
    assert df["replacement"].tolist() == ["[PAD]", "[PAD]", "[MASK]", "[MASK]"]
    target = int(model(**enc).logits.argmax())
    scores = interpret.grad_x_input(model, enc, target)
    ks = df["k"].tolist()[:2]
    for name, token in (("[PAD]", tok.pad_token_id), ("[MASK]", tok.mask_token_id)):
        want = interpret.deletion_curve(model, enc, scores, target, ks, replacement=token)
        assert df[df["replacement"] == name]["prob"].tolist() == pytest.approx(want.tolist(), abs=1e-5)
    assert df.loc[1, "prob"] != pytest.approx(df.loc[3, "prob"], abs=1e-6)   # the replacement matters


def curves_frame(per_method: dict[str, list[list[float]]]) -> pd.DataFrame:
    """Deletion curves as deletion_benchmark returns them, from ``{method: [curve of each text]}``."""
    return pd.DataFrame([{"text": i, "method": m, "replacement": "[PAD]", "fraction": k / 10, "k": k, "prob": p}
                         for m, curves in per_method.items() for i, curve in enumerate(curves)
                         for k, p in enumerate(curve)])


def test_aopc_summary_pairs_each_method_with_random_on_the_same_texts():
    rng = torch.Generator().manual_seed(0)
    start = (0.6 + 0.4 * torch.rand(30, generator=rng)).tolist()          # texts start at different levels
    random_drop = (0.1 * torch.rand(30, generator=rng)).tolist()
    curves = curves_frame({
        "random": [[s, s - d, s - 2 * d] for s, d in zip(start, random_drop)],
        "good": [[s, s - d - 0.1, s - 2 * d - 0.1] for s, d in zip(start, random_drop)],   # always 0.1 better
    })
    table = interpret.aopc_summary(curves)
    assert list(table.index) == ["good", "random"]                        # sorted by AOPC
    assert table.loc["good", "− random"] == pytest.approx(0.1)
    assert table.loc["good", "± 95% CI (paired)"] == pytest.approx(0, abs=1e-9)   # the same gain on every text
    assert table.loc["good", "± 95% CI"] > 0.01                           # unpaired, texts still vary
    assert table.loc["good", "better than random on"] == 1.0
    assert table.loc["random"].iloc[2:].isna().all()
    with pytest.raises(ValueError, match="several replacements"):
        interpret.aopc_summary(pd.concat([curves, curves.assign(replacement="[MASK]")]))
    with pytest.raises(ValueError, match="baseline 'none'"):
        interpret.aopc_summary(curves, baseline="none")
