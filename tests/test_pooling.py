"""Sentence read-outs: [CLS], mean and GPT's last token, and a classifier on any encoder that trains like a transformers one."""

import pytest
import torch
from transformers import BertModel

from bertlab import pooling, pretraining


def padded():
    hidden = torch.arange(2 * 4 * 3, dtype=torch.float).reshape(2, 4, 3)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    return hidden, mask


def test_cls_is_the_first_token_mean_ignores_padding_last_is_the_last_real_token():
    hidden, mask = padded()
    assert torch.equal(pooling.pool(hidden, mask, "cls"), hidden[:, 0])
    assert torch.allclose(pooling.pool(hidden, mask, "mean")[1], hidden[1, :2].mean(0))
    assert torch.equal(pooling.pool(hidden, mask, "last"), torch.stack([hidden[0, 3], hidden[1, 1]]))


def test_an_unknown_pooling_is_refused_with_the_choices():
    hidden, mask = padded()
    with pytest.raises(ValueError, match="cls, mean, last"):
        pooling.pool(hidden, mask, "max")
    with pytest.raises(ValueError, match="cls, mean, last"):
        pooling.PooledClassifier(BertModel(pretraining.tiny_bert_config(50)), 2, "first")


def test_the_classifier_returns_logits_and_a_loss_and_learns():
    torch.manual_seed(0)
    model = pooling.PooledClassifier(BertModel(pretraining.tiny_bert_config(50), add_pooling_layer=False), 2, "last")
    assert model.config.num_labels == 2
    ids = torch.randint(5, 50, (8, 6))
    labels = (ids[:, 0] > 27).long()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    first = model(ids, labels=labels).loss.item()
    for _ in range(30):
        loss = model(ids, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert model(ids).logits.shape == (8, 2) and model(ids).loss is None
    assert loss.item() < first - 0.2


def test_the_first_token_of_a_causal_encoder_is_the_same_for_every_input():
    from transformers import BertConfig

    config = BertConfig(**{**pretraining.tiny_bert_config(50).to_dict(), "is_decoder": True})
    model = pooling.PooledClassifier(BertModel(config, add_pooling_layer=False), 2, "cls").eval()
    ids = torch.randint(5, 50, (4, 7))
    ids[:, 0] = 2  # [CLS]
    logits = model(ids).logits
    assert torch.allclose(logits, logits[:1].expand_as(logits), atol=1e-6)
