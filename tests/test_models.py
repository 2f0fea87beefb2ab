"""Models by name: real pretrained weights load cleanly; the me5 rebuild is a working encoder."""

import unicodedata

import numpy as np
import pytest
import torch
from transformers import BertModel

import bertlab
from bertlab import me5
from bertlab.models import ModelNotFoundError


@pytest.fixture(scope="module")
def minilm():
    return bertlab.load_tokenizer("minilm-l6"), bertlab.load_encoder("minilm-l6")


@pytest.fixture(scope="module")
def multilingual():
    return bertlab.load_tokenizer("me5-small"), bertlab.load_encoder("me5-small")


def test_minilm_loads_with_no_missing_or_unexpected_keys():
    from transformers import AutoModel

    path = bertlab.models.model_path("minilm-l6")
    model, info = AutoModel.from_pretrained(path, output_loading_info=True)
    assert isinstance(model, BertModel)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    assert (model.config.num_hidden_layers, model.config.hidden_size) == (6, 384)


def test_minilm_tokenizer_is_bert_base_uncased_wordpiece(minilm):
    tok, _ = minilm
    assert tok.vocab_size == 30522
    assert [tok.pad_token_id, tok.unk_token_id, tok.cls_token_id, tok.sep_token_id,
            tok.mask_token_id] == [0, 100, 101, 102, 103]
    assert tok.tokenize("Hello, Embeddings!") == ["hello", ",", "em", "##bed", "##ding", "##s", "!"]


def test_classifier_has_named_labels_and_right_head_size():
    clf = bertlab.load_classifier("minilm-l6", ["business", "sport", "tech"])
    assert clf.config.id2label == {0: "business", 1: "sport", 2: "tech"}
    assert clf.classifier.out_features == 3


def test_classifier_rejects_bad_label_lists():
    with pytest.raises(ValueError, match="at least two"):
        bertlab.load_classifier("minilm-l6", ["only"])
    with pytest.raises(ValueError, match="unique"):
        bertlab.load_classifier("minilm-l6", ["a", "a"])


def test_unknown_model_offline_says_so_and_lists_offline_names():
    with pytest.raises(ModelNotFoundError, match="bertlab-test/no-such-model.*'minilm-l6', 'me5-small'"):
        bertlab.load_tokenizer("bertlab-test/no-such-model")


def test_dequantize_q4_0_block_layout():
    # One block: scale 0.5, nibble j (low) -> weight j, high nibble -> weight j+16.
    scale = np.array([0.5], dtype=np.float16).view(np.uint8)
    qs = np.array([(j % 16) | ((15 - j % 16) << 4) for j in range(16)], dtype=np.uint8)
    raw = np.concatenate([scale, qs])
    w = me5.dequantize_q4_0(raw, 1, 32)[0]
    assert np.allclose(w[:16], (np.arange(16) - 8) * 0.5)
    assert np.allclose(w[16:], (15 - np.arange(16) - 8) * 0.5)


def test_me5_rebuild_is_a_bert_model_with_the_e5_shape(multilingual):
    _, model = multilingual
    assert isinstance(model, BertModel)
    c = model.config
    assert (c.num_hidden_layers, c.hidden_size, c.num_attention_heads, c.vocab_size) == (12, 384, 12, 250037)


def test_me5_rebuild_loads_with_no_unexpected_keys():
    from transformers import AutoModel

    _, info = AutoModel.from_pretrained(bertlab.models.model_path("me5-small"),
                                        add_pooling_layer=False, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]


@pytest.mark.parametrize("text", [
    "The film was surprisingly good.",
    "这部电影非常好看，我很喜欢！",
    "Le service était très lent, je ne recommande pas.",
    "Das Buch hat mir überhaupt nicht gefallen.",
])
def test_me5_tokenizer_round_trips_text(multilingual, text):
    tok, _ = multilingual
    ids = tok(text)["input_ids"]
    assert ids[0] == tok.bos_token_id and ids[-1] == tok.eos_token_id
    assert tok.unk_token_id not in ids
    # The tokenizer normalises with NFKC (full-width ，！ become , !), as sentencepiece does.
    assert tok.decode(ids, skip_special_tokens=True) == unicodedata.normalize("NFKC", text)


PAIRS = [  # (english, translation) — each pair says the same thing
    ("The weather is beautiful today.", "今天天气很好。"),
    ("I would like a cup of coffee, please.", "Je voudrais une tasse de café, s'il vous plaît."),
    ("The train to Berlin is late again.", "Der Zug nach Berlin hat schon wieder Verspätung."),
    ("My brother plays football every Sunday.", "我哥哥每个星期天都踢足球。"),
]


def test_me5_puts_translations_closer_than_unrelated_sentences(multilingual):
    tok, model = multilingual
    english = [f"query: {e}" for e, _ in PAIRS]
    foreign = [f"query: {f}" for _, f in PAIRS]
    a = bertlab.embed(english, model, tok)
    b = bertlab.embed(foreign, model, tok)
    sim = a @ b.T  # cosine similarities (embeddings are normalised)
    for i in range(len(PAIRS)):
        others = torch.cat([sim[i, :i], sim[i, i + 1:]])
        assert sim[i, i] > others.max(), f"pair {i}: {sim[i].tolist()}"


def test_embed_is_independent_of_batching_and_padding(minilm):
    tok, model = minilm
    texts = ["short", "a much longer sentence that needs padding in a batch", "medium length text"]
    together = bertlab.embed(texts, model, tok, batch_size=3)
    alone = torch.cat([bertlab.embed([t], model, tok) for t in texts])
    assert torch.allclose(together, alone, atol=1e-5)
