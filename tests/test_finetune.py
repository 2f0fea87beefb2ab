"""Fine-tuning helpers: dynamic padding, length-grouped batches, training loop, metrics, baselines."""

import datasets
import pytest
import torch

import bertlab
from bertlab import finetune


@pytest.fixture(scope="module")
def tok():
    return bertlab.load_tokenizer("minilm-l6")


@pytest.fixture(scope="module")
def tiny_data(tok):
    ds = bertlab.load_dataset("rotten_tomatoes")
    return (finetune.tokenize_dataset(ds["train"].select(range(96)), tok, 64),
            finetune.tokenize_dataset(ds["validation"].select(range(64)), tok, 64))


def test_tokenize_once_without_padding_and_record_lengths(tiny_data):
    train, _ = tiny_data
    assert "text" not in train.column_names and "length" in train.column_names
    assert all(len(ids) == n for ids, n in zip(train["input_ids"], train["length"]))
    assert len(set(train["length"])) > 1  # not padded


def test_length_grouped_sampler_covers_every_index_once_and_groups_lengths():
    lengths = list(range(1000, 0, -1))
    sampler = finetune.LengthGroupedSampler(lengths, batch_size=10, pool=10, seed=0)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(1000))
    spread = max(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches)
    assert spread < 300  # random batches of 10 would span ~80% of the range
    assert len(sampler) == 100


def test_empty_dataset_is_rejected():
    with pytest.raises(ValueError, match="empty"):
        finetune.LengthGroupedSampler([], 4)


def test_loader_pads_each_batch_to_its_own_longest(tiny_data, tok):
    train, _ = tiny_data
    for batch in finetune.make_loader(train, tok, 16):
        assert batch["input_ids"].shape[1] == int(batch["attention_mask"].sum(1).max())
        assert set(batch) >= {"input_ids", "attention_mask", "labels"}


def test_label_out_of_range_is_a_clear_error(tok):
    ds = datasets.Dataset.from_dict({"text": ["good", "bad"], "label": [0, 2]})
    model = bertlab.load_classifier("minilm-l6", ["negative", "positive"])
    with pytest.raises(ValueError, match="Label 2 is out of range"):
        finetune.train(model, finetune.tokenize_dataset(ds, tok), tok, progress=False, device="cpu")


def test_training_reduces_loss_keeps_best_epoch_and_predict_restores_order(tiny_data, tok):
    train, val = tiny_data
    model = bertlab.load_classifier("minilm-l6", ["negative", "positive"])
    result = finetune.train(model, train, tok, val_set=val, epochs=2, batch_size=16, lr=1e-4,
                            device="cpu", progress=False)
    assert len(result.epoch_val_accuracy) == 2 and result.best_epoch in (0, 1)
    assert result.examples == 2 * len(train) and result.tokens > 0
    logits = finetune.predict(model, val, tok)
    # order restored: compare with one-by-one prediction of a few examples
    for i in (0, 5, 17):
        single = finetune.predict(model, val.select([i]), tok)
        assert torch.allclose(logits[i], single[0], atol=1e-4)
    acc = (logits.argmax(-1) == torch.tensor(val["label"])).float().mean().item()
    assert acc == pytest.approx(result.epoch_val_accuracy[result.best_epoch], abs=1e-6)


def test_max_steps_caps_training(tiny_data, tok):
    train, _ = tiny_data
    model = bertlab.load_classifier("minilm-l6", ["negative", "positive"])
    result = finetune.train(model, train, tok, max_steps=2, batch_size=8, device="cpu", progress=False)
    assert len(result.step_loss) == 2


def test_weight_decay_skips_biases_and_layernorms():
    model = bertlab.load_classifier("minilm-l6", ["a", "b"])
    decay, no_decay = finetune.make_optimizer(model, 1e-4, 0.01).param_groups
    assert decay["weight_decay"] == 0.01 and no_decay["weight_decay"] == 0.0
    assert all(p.ndim >= 2 for p in decay["params"]) and all(p.ndim == 1 for p in no_decay["params"])


def test_metrics_and_baselines():
    assert finetune.metrics([0, 1, 1, 0], [0, 1, 0, 0]) == {"accuracy": 0.75, "macro_f1": pytest.approx(0.7333, abs=1e-4)}
    assert finetune.majority_baseline([1, 1, 0], [1, 0])["accuracy"] == 0.5
    texts = ["great film", "awful film", "great acting", "awful plot"] * 5
    labels = [1, 0, 1, 0] * 5
    assert finetune.tfidf_baseline(texts, labels, ["great plot", "awful acting"], [1, 0])["accuracy"] == 1.0


def test_most_confident_mistakes_lists_only_errors_by_confidence():
    logits = torch.tensor([[3.0, 0.0], [0.0, 1.0], [0.0, 5.0], [2.0, 0.0]])
    table = finetune.most_confident_mistakes(["a", "b", "c", "d"], [1, 1, 0, 0], logits, ["neg", "pos"], k=5)
    assert list(table["text"]) == ["c", "a"]
