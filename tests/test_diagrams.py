"""The architecture figures are drawn from code: each is a Figure that names its parts."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from bertlab import diagrams  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(fig: plt.Figure) -> str:
    """Every label drawn on the figure, joined."""
    return "\n".join(t.get_text() for ax in fig.axes for t in ax.texts + [ax.title])


def test_the_pipeline_goes_from_text_to_a_classifier_head():
    fig = diagrams.bert_pipeline(layers=6, hidden=384)
    assert isinstance(fig, plt.Figure)
    drawn = texts(fig)
    for label in ("text:", "[CLS]", "##ization", "WordPiece", "token", "position", "segment",
                  "encoder layer 6", "encoder layer 1", "pool", "classifier head", "384"):
        assert label in drawn, label


def test_multi_head_attention_shows_the_formula_heads_concat_and_output_projection():
    fig = diagrams.multi_head_attention(heads=3, hidden=384, head_size=32)
    assert isinstance(fig, plt.Figure)
    drawn = texts(fig)
    for label in ("MultiHead", r"\mathrm{Concat}", "W^O", "head$_i", "head 1", "head h = 12", "Concat",
                  "output projection", "d_k = 32", "12 heads × 32"):
        assert label in drawn, label


def test_encoder_layer_has_attention_two_add_and_norms_a_feed_forward_and_residuals():
    fig = diagrams.encoder_layer(hidden=384, intermediate=1536)
    assert isinstance(fig, plt.Figure)
    drawn = texts(fig)
    assert drawn.count("add & norm") == 2 and drawn.count("residual") == 2
    for label in ("multi-head self-attention", "feed-forward", "GELU", "384 → 1536", "post-LN"):
        assert label in drawn, label
