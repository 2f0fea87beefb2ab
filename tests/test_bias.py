"""bertlab.bias: gendered-word swaps, template probes and counterfactual shifts."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats
from transformers.modeling_outputs import SequenceClassifierOutput

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
        return SequenceClassifierOutput(logits=torch.stack([torch.zeros_like(positive), positive], -1))


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
    assert out["low"] <= out["female − male"] <= out["high"] and out["low"] > 0


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


def test_groups_that_are_compared_have_the_same_form_and_count(tok):
    for name, (one, two, paired) in bias.COMPARISONS.items():
        a = [f for g in one for f in bias.GROUPS[g]]
        b = [f for g in two for f in bias.GROUPS[g]]
        assert len(a) == len(b), name
        shape = lambda f: (f.split()[:-1], len(tok.tokenize(f.split()[-1])))   # noqa: E731
        if paired:   # matched one to one: "my mother" / "my father", each noun one WordPiece
            assert [shape(f) for f in a] == [shape(f) for f in b] == [(["my"], 1)] * len(a), name
        else:        # bare first names on both sides
            assert all(len(f.split()) == 1 for f in a + b), name


def probe_frame(scores: dict[str, list[list[float]]]) -> pd.DataFrame:
    """A probe table from ``{group: [[P for each filler] for each template]}``."""
    rows = [{"group": g, "filler": f"{g}{j}", "template": f"t{i}", "p_positive": p}
            for g, table in scores.items() for i, row in enumerate(table) for j, p in enumerate(row)]
    return pd.DataFrame(rows)


def test_score_matrix_is_templates_by_fillers_in_probe_order():
    probe = probe_frame({"a": [[0.1, 0.2], [0.3, 0.4]], "b": [[0.5], [0.6]]})
    assert bias.score_matrix(probe, ["b", "a"]).tolist() == [[0.5, 0.1, 0.2], [0.6, 0.3, 0.4]]
    with pytest.raises(ValueError, match="not in the probe"):
        bias.score_matrix(probe, ["c"])


def test_bootstrap_interval_of_a_mean_is_close_to_the_t_interval():
    x = np.random.default_rng(1).normal(0.3, 1.0, 400)
    mean, low, high = bias.bootstrap_interval(np.mean, x, n_resamples=4999)
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    assert mean == pytest.approx(x.mean())
    assert low == pytest.approx(mean - half, abs=0.15 * half) and high == pytest.approx(mean + half, abs=0.15 * half)
    assert bias.bootstrap_interval(np.mean, x, seed=3) == bias.bootstrap_interval(np.mean, x, seed=3)  # seeded


def test_group_gaps_call_a_gap_only_where_the_interval_excludes_zero():
    rng = np.random.default_rng(0)
    level = rng.uniform(0.5, 0.9, (6, 1))               # templates differ a lot
    word = rng.normal(0, 0.02, (1, 8))                  # and so do the matched words
    base = level + word + rng.normal(0, 0.002, (6, 8))
    probe = probe_frame({"base": base.tolist(), "up": (base + 0.03 + rng.normal(0, 0.002, (6, 8))).tolist(),
                         "same": (base + rng.normal(0, 0.002, (6, 8))).tolist()})
    comparisons = {"up − base": (("up",), ("base",), True), "same − base": (("same",), ("base",), True),
                   "up − base, unpaired": (("up",), ("base",), False)}
    gaps = bias.group_gaps(probe, comparisons)
    assert gaps.loc["up − base", "gap"] == pytest.approx(0.03, abs=0.002)
    assert gaps.loc["up − base", "verdict"] == "positive gap" and gaps.loc["up − base", "low"] > 0.02
    assert gaps.loc["same − base", "verdict"] == "no gap shown"
    assert gaps.loc["same − base", "low"] < 0 < gaps.loc["same − base", "high"]
    # unpaired, the words' own spread stays in the interval: same gap, wider interval
    unpaired = gaps.loc["up − base, unpaired"]
    assert unpaired["gap"] == pytest.approx(gaps.loc["up − base", "gap"])
    assert unpaired["high"] - unpaired["low"] > 3 * (gaps.loc["up − base", "high"] - gaps.loc["up − base", "low"])
    with pytest.raises(ValueError, match="as many fillers"):
        bias.group_gaps(probe_frame({"a": [[0.1, 0.2]] * 3, "b": [[0.3]] * 3}), {"x": (("a",), ("b",), True)})


def test_group_means_intervals_include_the_templates_spread():
    flat = probe_frame({"g": [[0.70, 0.72, 0.74]] * 4})
    steep = probe_frame({"g": [[p + d for p in (0.70, 0.72, 0.74)] for d in (-0.2, -0.1, 0.1, 0.2)]})
    a, b = bias.group_means(flat).loc["g"], bias.group_means(steep).loc["g"]
    assert a["mean"] == pytest.approx(0.72) and b["mean"] == pytest.approx(0.72) and a["fillers"] == 3
    assert a["low"] <= a["mean"] <= a["high"]
    assert b["high"] - b["low"] > 5 * (a["high"] - a["low"])
