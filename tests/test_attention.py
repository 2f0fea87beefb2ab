"""From-scratch attention equals PyTorch's and reproduces pretrained MiniLM layers."""

import math

import pytest
import torch

import bertlab
from bertlab import attention


def test_softmax_matches_torch_and_survives_large_scores():
    x = torch.tensor([[1.0, 2.0, 3.0], [1000.0, 1001.0, 1002.0]])
    assert torch.allclose(attention.softmax(x), torch.softmax(x, -1), atol=1e-7)


@pytest.mark.parametrize("masked", [False, True])
def test_scaled_dot_product_attention_matches_torch(masked):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 4, 9, 16, generator=g) for _ in range(3))
    mask = torch.rand(2, 1, 9, 9, generator=g) > 0.4 if masked else None
    if mask is not None:
        mask[..., 0] = True
    ours, weights = attention.scaled_dot_product_attention(q, k, v, mask)
    theirs = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert torch.allclose(ours, theirs, atol=1e-5)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 4, 9))


def test_unscaled_attention_is_the_plain_dot_product():
    q = k = v = torch.eye(4)[None]
    _, w = attention.scaled_dot_product_attention(q * 3, k, v, scale=False)
    assert torch.allclose(w, torch.softmax(3 * torch.eye(4), -1)[None])
    _, w = attention.scaled_dot_product_attention(q * 3, k, v)
    assert torch.allclose(w, torch.softmax(3 * torch.eye(4) / math.sqrt(4), -1)[None])


def test_masked_keys_get_exactly_zero_weight():
    q = k = v = torch.randn(1, 1, 5, 4)
    mask = torch.tensor([True, True, True, False, False])
    _, w = attention.scaled_dot_product_attention(q, k, v, mask)
    assert (w[..., 3:] == 0).all()


def test_causal_and_bidirectional_masks():
    assert torch.equal(attention.causal_mask(3), torch.tensor([[1, 0, 0], [1, 1, 0], [1, 1, 1]]).bool())
    assert attention.bidirectional_mask(3).all()


def test_padding_mask_shape_broadcasts_over_heads_and_queries():
    m = attention.padding_mask(torch.tensor([[1, 1, 0], [1, 1, 1]]))
    assert m.shape == (2, 1, 1, 3) and m.dtype == torch.bool and not m[0, 0, 0, 2]


def test_split_and_merge_heads_are_inverse():
    mha = attention.MultiHeadSelfAttention(12, 3)
    x = torch.randn(2, 5, 12)
    assert mha.split_heads(x).shape == (2, 3, 5, 4)
    assert torch.equal(mha.merge_heads(mha.split_heads(x)), x)


def test_hidden_size_must_divide_into_heads():
    with pytest.raises(ValueError, match="not divisible"):
        attention.MultiHeadSelfAttention(10, 3)


def test_multi_head_block_reproduces_every_pretrained_minilm_layer():
    tok = bertlab.load_tokenizer("minilm-l6")
    model = bertlab.load_encoder("minilm-l6", attn_implementation="eager")
    batch = tok(["a short one", "a somewhat longer sentence with padding around"], padding=True,
                return_tensors="pt")
    captured = []
    hooks = [layer.attention.output.dense.register_forward_hook(lambda m, i, o: captured.append(o))
             for layer in model.encoder.layer]
    with torch.inference_mode():
        out = model(**batch, output_hidden_states=True, output_attentions=True)
    for h in hooks:
        h.remove()
    mask = attention.padding_mask(batch["attention_mask"])
    for i, layer in enumerate(model.encoder.layer):
        mha = attention.MultiHeadSelfAttention.from_bert_layer(layer)
        with torch.inference_mode():
            ours, weights = mha(out.hidden_states[i], mask)
        assert torch.allclose(ours, captured[i], atol=1e-5), f"layer {i}"
        assert torch.allclose(weights, out.attentions[i], atol=1e-5), f"layer {i} weights"


# --------------------------------------------------------------------------- figures
@pytest.fixture
def plt():
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_attention_heatmap_draws_queries_as_rows_and_keys_as_columns(plt):
    tokens = ["[CLS]", "the", "film", "[SEP]"]
    w = torch.softmax(torch.randn(4, 4, generator=torch.Generator().manual_seed(0)), -1)
    ax = attention.attention_heatmap(w, tokens, title="layer 0")
    assert (ax.images[0].get_array() == w.numpy()).all()
    assert [t.get_text() for t in ax.get_xticklabels()] == tokens == [t.get_text() for t in ax.get_yticklabels()]
    assert ax.get_title() == "layer 0" and ax.images[0].get_clim() == (0, pytest.approx(float(w.max())))
    bare = attention.attention_heatmap(w.numpy(), [], labels=False)
    assert not bare.get_xticks().size and not bare.get_yticks().size


def test_attention_grid_has_one_heatmap_per_layer_and_head_on_one_shared_scale(plt):
    attentions = [torch.softmax(torch.randn(2, 3, 5, 5), -1) for _ in range(2)]  # layers of [batch, heads, n, n]
    fig = attention.attention_grid(attentions, example=1)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 2 * 3
    for i, ax in enumerate(panels):
        layer, head = divmod(i, 3)
        assert (ax.images[0].get_array() == attentions[layer][1, head].numpy()).all()
        assert ax.images[0].get_clim() == (0, 1.0)  # diffuse heads look diffuse, one-hot heads bright
    assert [ax.get_title() for ax in panels[:3]] == ["head 0", "head 1", "head 2"]
    colourbars = [ax for ax in fig.axes if ax not in panels]
    assert len(colourbars) == 1 and "attention weight" in colourbars[0].get_ylabel()


def test_mask_panels_use_one_colour_meaning_with_a_legend(plt):
    masks = {"BERT": attention.bidirectional_mask(3), "GPT": attention.causal_mask(3)}
    fig = attention.mask_panels(masks, ["a", "b", "c"])
    assert [ax.get_title() for ax in fig.axes] == ["BERT", "GPT"]
    assert (fig.axes[1].images[0].get_array() == masks["GPT"].numpy().astype(float)).all()
    for ax in fig.axes:
        assert ax.images[0].get_cmap() is fig.axes[0].images[0].get_cmap() and ax.images[0].get_clim() == (0, 1)
        assert ax.get_xlabel() == "key (attended to)" and ax.get_ylabel() == "query (attending)"
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["may attend", "blocked (masked to −∞)"]


def test_mask_panels_give_a_numeric_matrix_its_own_labelled_colourbar(plt):
    steps = torch.tensor([[0, 1, 2], [1, 0, 1], [2, 1, 0]])
    fig = attention.mask_panels({"GPT": attention.causal_mask(3), "BiLSTM": steps}, ["a", "b", "c"])
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["GPT", "BiLSTM"]
    (colourbar,) = [ax for ax in fig.axes if not ax.images]
    assert "steps" in colourbar.get_ylabel()
