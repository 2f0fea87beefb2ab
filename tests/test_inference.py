"""bertlab.inference: one batched, length-sorted loop; same logits whatever the input form, in input order."""

import datasets
import pytest
import torch

import bertlab
from bertlab import finetune, inference

TEXTS = [  # lengths deliberately out of order, so sorting by length reorders them
    "a much longer review that goes on and on about the plot, the actors and the music",
    "great",
    "not good at all, really",
    "an absolute masterpiece of modern cinema",
    "dull",
    "the worst two hours I have spent in a cinema this year, and I have seen many films",
    "fine",
]


@pytest.fixture(scope="module")
def encoder():
    return bertlab.load_encoder("minilm-l6")


def one_by_one(model, tok, texts):
    """Reference logits: each text alone, no padding, in input order."""
    with torch.inference_mode():
        return torch.cat([model(**tok(t, return_tensors="pt")).logits for t in texts])


def test_predict_gives_the_same_logits_for_texts_tokenized_datasets_and_id_lists(classifier, tok):
    reference = one_by_one(classifier, tok, TEXTS)
    raw = datasets.Dataset.from_dict({"text": TEXTS, "label": [0] * len(TEXTS)})
    tokenized = finetune.tokenize_dataset(tok, raw, max_length=256)
    ids = [tok(t)["input_ids"] for t in TEXTS]
    for data in (TEXTS, tokenized, ids, raw):
        logits = bertlab.predict(classifier, tok, data, batch_size=3)
        assert logits.shape == (len(TEXTS), 2) and logits.dtype == torch.float32 and logits.device.type == "cpu"
        assert torch.allclose(logits, reference, atol=1e-5), type(data).__name__


def test_predict_truncates_raw_texts_to_max_length(classifier, tok):
    truncated = [tok(t, truncation=True, max_length=8)["input_ids"] for t in TEXTS]
    assert torch.allclose(bertlab.predict(classifier, tok, TEXTS, max_length=8),
                          bertlab.predict(classifier, tok, truncated), atol=1e-5)


def test_map_batches_pads_length_sorted_batches_and_restores_input_order(tok):
    widths = []

    def lengths(batch):
        assert set(batch) <= set(inference.MODEL_INPUTS) and all(v.device.type == "cpu" for v in batch.values())
        widths.append(batch["input_ids"].shape[1])
        return batch["attention_mask"].sum(1, keepdim=True)

    out = inference.map_batches(lengths, tok, TEXTS, batch_size=2)
    assert out.squeeze(1).tolist() == [len(tok(t)["input_ids"]) for t in TEXTS]  # input order
    assert len(widths) == 4 and widths == sorted(widths)  # shortest inputs first


def test_embed_returns_unit_rows_of_mean_pooled_token_vectors(encoder, tok):
    vectors = bertlab.embed(encoder, tok, TEXTS, batch_size=3)
    assert vectors.shape == (len(TEXTS), 384)
    assert torch.allclose(vectors.norm(dim=-1), torch.ones(len(TEXTS)), atol=1e-5)
    raw = bertlab.embed(encoder, tok, TEXTS[:2], normalize=False)
    with torch.inference_mode():
        hidden = encoder(**tok(TEXTS[1], return_tensors="pt")).last_hidden_state[0]
    assert torch.allclose(raw[1], hidden.mean(0), atol=1e-5)  # one text alone: the plain mean
    assert torch.allclose(vectors[1], raw[1] / raw[1].norm(), atol=1e-5)


def test_embed_is_independent_of_batching_and_padding(encoder, tok):
    together = bertlab.embed(encoder, tok, TEXTS, batch_size=len(TEXTS))
    alone = torch.cat([bertlab.embed(encoder, tok, [t]) for t in TEXTS])
    assert torch.allclose(together, alone, atol=1e-5)


def test_mean_pool_ignores_padding():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    assert torch.equal(bertlab.mean_pool(hidden, torch.tensor([[1, 1, 0]])), torch.tensor([[2.0, 3.0]]))


@pytest.mark.parametrize("empty", [[], datasets.Dataset.from_dict({"text": []})], ids=["list", "dataset"])
def test_empty_input_is_a_clear_error(classifier, encoder, tok, empty):
    with pytest.raises(ValueError, match="got no inputs"):
        bertlab.predict(classifier, tok, empty)
    with pytest.raises(ValueError, match="got no inputs"):
        bertlab.embed(encoder, tok, empty)


def test_a_dataset_without_text_or_input_ids_is_a_clear_error(classifier, tok):
    with pytest.raises(ValueError, match="neither 'input_ids' nor 'text'.*sentence"):
        bertlab.predict(classifier, tok, datasets.Dataset.from_dict({"sentence": ["a"]}))
