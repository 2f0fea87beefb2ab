"""bertlab.bias: gendered-word swaps, template probes and counterfactual shifts."""

import math
from types import SimpleNamespace

import pandas as pd
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


WEIGHTS = {"she": 2.0, "her": 2.0, "he": -1.0, "his": -1.0, "him": -1.0, "great": 3.0}


def word_score(text: str) -> float:
    """The positive logit of BiasedToy below, computed from the words (negative logit: 0)."""
    return sum(WEIGHTS.get(w, 0.0) for w in text.lower().split())


class BiasedToy(torch.nn.Module):
    """A 'classifier' whose positive logit is a sum of per-token weights (WEIGHTS): biased by design."""

    def __init__(self, tok):
        super().__init__()
        weights = torch.zeros(tok.vocab_size)
        for word, w in WEIGHTS.items():
            weights[tok.convert_tokens_to_ids(word)] = w
        self.weights = torch.nn.Parameter(weights, requires_grad=False)

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        positive = (self.weights[input_ids] * attention_mask).sum(1)
        return SimpleNamespace(logits=torch.stack([torch.zeros_like(positive), positive], -1))


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_counterfactual_shift_measures_how_far_and_which_way_a_biased_model_moves(tok):
    texts = ["he was great", "a film", "her best role", "he and his brother", "his wife"]
    out = bias.counterfactual_shift(BiasedToy(tok), tok, texts)
    changed = [t for t in texts if bias.swap_gendered(t) != t]
    assert out["n"] == len(changed) == 4
    p0 = [sigmoid(word_score(t)) for t in changed]
    p1 = [sigmoid(word_score(bias.swap_gendered(t))) for t in changed]
    d = [b - a for a, b in zip(p0, p1)]
    assert out["mean |shift|"] == pytest.approx(sum(map(abs, d)) / 4, abs=1e-6)
    assert out["max |shift|"] == pytest.approx(max(map(abs, d)), abs=1e-6)
    # "he was great" stays positive (2 -> 5); the other three cross 0.5
    assert out["flip rate"] == pytest.approx(3 / 4)
    # female-worded minus male-worded: +d for male-worded originals, -d for "her best role";
    # "his wife" has one word of each side and does not count
    assert out["n directional"] == 3
    assert out["female − male"] == pytest.approx((d[0] - d[1] + d[2]) / 3, abs=1e-6)
    assert out["female − male"] > 0.3  # the toy prefers female words, and the sign says so


def test_counterfactual_shift_of_a_real_model_only_counts_changed_texts(classifier, tok):
    out = bias.counterfactual_shift(classifier, tok, ["he was great", "a film", "her best role"])
    p = bias.positive_probability(classifier, tok, ["he was great", "she was great", "her best role", "him best role"])
    assert out["n"] == 2 and out["n directional"] == 2
    assert out["max |shift|"] == pytest.approx(max(abs(p[1] - p[0]), abs(p[3] - p[2])), abs=1e-5)
    assert out["female − male"] == pytest.approx(((p[1] - p[0]) + (p[2] - p[3])) / 2, abs=1e-5)
    same = bias.counterfactual_shift(classifier, tok, ["he was great"], swap=lambda t: t + " ")
    assert same["mean |shift|"] < 1e-6 and same["flip rate"] == 0.0  # same tokens, same prediction
    with pytest.raises(ValueError, match="changed none"):
        bias.counterfactual_shift(classifier, tok, ["a film"])


def test_template_probe_scores_every_template_with_every_filler(classifier, tok):
    groups = {"names": ("Emily", "Jamal"), "words": ("a man", "a woman", "a boy")}
    probe = bias.template_probe(classifier, tok, templates=("I met {}.", "{} liked it."), groups=groups)
    assert len(probe) == (2 + 3) * 2
    assert probe.loc[0, "text"] == "I met Emily." and probe.loc[1, "text"] == "Emily liked it."
    with torch.inference_mode():
        direct = [classifier(**tok(t, return_tensors="pt")).logits.softmax(-1)[0, 1].item() for t in probe["text"]]
    assert probe["p_positive"].tolist() == pytest.approx(direct, abs=1e-5)
    with pytest.raises(ValueError, match="slot"):
        bias.template_probe(classifier, tok, templates=("no slot here",), groups=groups)


def test_group_spread_finds_the_widest_gap_per_group():
    probe = pd.DataFrame({
        "group": ["names"] * 4 + ["words"] * 4,
        "filler": ["Emily", "Emily", "Jamal", "Jamal", "a man", "a man", "a woman", "a woman"],
        "template": ["t1", "t2"] * 4,
        "p_positive": [0.9, 0.7, 0.5, 0.6, 0.40, 0.42, 0.41, 0.43],
    })
    spread = bias.group_spread(probe)
    assert list(spread.index) == ["names", "words"]
    assert spread.loc["names", "mean gap"] == pytest.approx(0.8 - 0.55)
    assert (spread.loc["names", "highest"], spread.loc["names", "lowest"]) == ("Emily", "Jamal")
    assert spread.loc["names", "max gap in one template"] == pytest.approx(0.4)  # t1: 0.9 vs 0.5
    assert spread.loc["words", "mean gap"] == pytest.approx(0.01)
    assert spread.loc["words", "highest"] == "a woman"
