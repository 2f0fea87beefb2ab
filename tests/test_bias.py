"""bertlab.bias: gendered-word swaps, template probes and counterfactual shifts."""

import pytest
import torch

import bertlab
from bertlab import bias


def test_swap_gendered_keeps_case_and_word_boundaries():
    assert bias.swap_gendered("He said his wife liked her.") == "She said her husband liked him."
    assert bias.swap_gendered("THE ACTRESS") == "THE ACTOR"
    assert bias.swap_gendered("Theme, shell, mankind") == "Theme, shell, mankind"   # no partial words
    assert bias.swap_gendered(bias.swap_gendered("the boys and girls")) == "the boys and girls"
    assert bias.has_gendered_word("a son") and not bias.has_gendered_word("a film")


@pytest.fixture(scope="module")
def classifier():
    torch.manual_seed(0)
    return bertlab.load_classifier("minilm-l6").eval(), bertlab.load_tokenizer("minilm-l6")


def test_template_probe_and_spread(classifier):
    model, tok = classifier
    groups = {"names": ("Emily", "Jamal"), "words": ("a man", "a woman", "a boy")}
    probe = bias.template_probe(model, tok, templates=("I met {}.", "{} liked it."), groups=groups)
    assert len(probe) == (2 + 3) * 2 and probe["p_positive"].between(0, 1).all()
    assert probe.loc[0, "text"] == "I met Emily."
    spread = bias.group_spread(probe)
    assert list(spread.index) == ["names", "words"]
    means = probe[probe["group"] == "names"].groupby("filler")["p_positive"].mean()
    assert spread.loc["names", "mean gap"] == pytest.approx(means.max() - means.min())
    with pytest.raises(ValueError, match="slot"):
        bias.template_probe(model, tok, templates=("no slot here",), groups=groups)


def test_counterfactual_shift_only_counts_changed_texts(classifier):
    model, tok = classifier
    out = bias.counterfactual_shift(model, tok, ["he was great", "a film", "her best role"])
    assert out["n"] == 2 and 0 <= out["mean |shift|"] <= out["max |shift|"] <= 1
    assert 0 <= out["flip rate"] <= 1 and out["n directional"] == 2
    # the directional effect: female-worded minus male-worded, whichever way the swap went
    p = bias.positive_probability(model, tok, ["he was great", "she was great", "her best role", "him best role"])
    assert out["female − male"] == pytest.approx(((p[1] - p[0]) + (p[2] - p[3])) / 2, abs=1e-5)
    same = bias.counterfactual_shift(model, tok, ["he was great"], swap=lambda t: t + " ")
    assert same["mean |shift|"] < 1e-6
    with pytest.raises(ValueError, match="changed none"):
        bias.counterfactual_shift(model, tok, ["a film"])
