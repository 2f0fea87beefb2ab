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


def test_padding_share_counts_pad_positions(tiny_data, tok):
    train, _ = tiny_data
    grouped = finetune.padding_share(finetune.make_loader(train, tok, 16, length_grouped=True))
    ungrouped = finetune.padding_share(finetune.make_loader(train, tok, 16, length_grouped=False))
    assert 0 <= grouped < ungrouped < 1
    one_by_one = finetune.padding_share(finetune.make_loader(train, tok, 1, length_grouped=False))
    assert one_by_one == 0.0


def test_trainer_recipe_trains_evaluates_and_keeps_best(tiny_data, tok):
    train, val = tiny_data
    model = bertlab.load_classifier("minilm-l6", ["negative", "positive"])
    result = finetune.train_with_trainer(model, train, tok, val_set=val, epochs=2, batch_size=16,
                                         lr=1e-4, progress=False)
    assert len(result.step_loss) == 2 * 6  # one logged loss per optimizer step
    assert len(result.epoch_val_accuracy) == 2 and result.best_epoch in (0, 1)
    logits = finetune.predict(model, val, tok)
    acc = (logits.argmax(-1) == torch.tensor(val["label"])).float().mean().item()
    assert acc == pytest.approx(max(result.epoch_val_accuracy), abs=1e-6)  # best weights loaded


def test_run_is_reproducible_per_seed_and_summarized(tiny_data, tok):
    train, val = tiny_data

    def make():
        return bertlab.load_classifier("minilm-l6", ["negative", "positive"])

    kwargs = dict(batch_size=16, lr=1e-4, max_steps=3)
    a = finetune.run(make, train, val, tok, seed=1, **kwargs)
    b = finetune.run(make, train, val, tok, seed=1, **kwargs)
    assert a["accuracy"] == b["accuracy"] and a["macro_f1"] == b["macro_f1"] and a["seed"] == 1
    with pytest.raises(ValueError, match="trainer must be"):
        finetune.run(make, train, val, tok, trainer="keras")
    table = finetune.summarize_runs([{"model": "m", "accuracy": x} for x in (0.7, 0.8, 0.9)]
                                    + [{"model": "n", "accuracy": 0.5}])
    assert table.loc["m", "mean"] == pytest.approx(0.8) and table.loc["m", "std"] == pytest.approx(0.1)
    assert table.loc["m", "runs"] == 3 and table.loc["n", "runs"] == 1
    with pytest.raises(ValueError, match="no runs"):
        finetune.summarize_runs([])


def test_random_init_has_the_same_architecture_but_fresh_weights():
    pretrained = bertlab.load_classifier("minilm-l6", ["a", "b"])
    scratch = bertlab.load_classifier("minilm-l6", ["a", "b"], random_init=True)
    assert scratch.config.num_hidden_layers == pretrained.config.num_hidden_layers
    assert scratch.config.id2label == {0: "a", 1: "b"}
    assert sum(p.numel() for p in scratch.parameters()) == sum(p.numel() for p in pretrained.parameters())
    w0 = pretrained.bert.encoder.layer[0].attention.self.query.weight
    w1 = scratch.bert.encoder.layer[0].attention.self.query.weight
    assert not torch.allclose(w0, w1)
