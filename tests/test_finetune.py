"""Fine-tuning helpers: dynamic padding, length-grouped batches, training loop, metrics, baselines."""

import datasets
import numpy as np
import pytest
import torch

import bertlab
from bertlab import finetune

SENTIMENT = ["negative", "positive"]


@pytest.fixture(autouse=True)
def on_the_cpu(monkeypatch):
    """Train on the CPU even where a GPU is present: the numbers compared here are fp32 numbers."""
    monkeypatch.setenv("BERTLAB_DEVICE", "cpu")


@pytest.fixture(scope="module")
def tok():
    return bertlab.load_tokenizer("minilm-l6")


@pytest.fixture(scope="module")
def tiny_data(tok):
    ds = bertlab.load_dataset("rotten_tomatoes")  # shuffled splits: a prefix is a fair subset
    return (finetune.tokenize_dataset(tok, ds["train"].select(range(32)), 32),
            finetune.tokenize_dataset(tok, ds["validation"].select(range(32)), 32))


def classifier(seed=0):
    torch.manual_seed(seed)
    return bertlab.load_classifier("minilm-l6", labels=SENTIMENT)


# --------------------------------------------------------------------------- data
def test_tokenize_once_without_padding_and_record_lengths(tiny_data, tok):
    train, _ = tiny_data
    assert "text" not in train.column_names and {"input_ids", "label", "length"} <= set(train.column_names)
    assert all(len(ids) == n for ids, n in zip(train["input_ids"], train["length"]))
    assert len(set(train["length"])) > 1 and max(train["length"]) <= 32  # truncated, not padded
    whole = finetune.tokenize_dataset(tok, datasets.DatasetDict(a=datasets.Dataset.from_dict({"text": ["x y"]})))
    assert whole["a"]["input_ids"] == [tok("x y")["input_ids"]]  # a DatasetDict works too


def test_tokenize_without_a_text_column_says_how_to_fix_it(tok):
    with pytest.raises(ValueError, match="'text' column.*rename_column"):
        finetune.tokenize_dataset(tok, datasets.Dataset.from_dict({"sentence": ["a"], "label": [0]}))


def test_length_grouped_sampler_covers_every_index_once_and_groups_lengths():
    lengths = list(range(1000, 0, -1))
    sampler = finetune.LengthGroupedSampler(lengths, batch_size=10, pool=10, seed=0)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(1000))
    spread = max(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches)
    assert spread < 300  # random batches of 10 would span ~80% of the range
    assert len(sampler) == 100
    assert list(finetune.LengthGroupedSampler(lengths, 10, pool=10, seed=0)) == batches  # seeded
    assert list(finetune.LengthGroupedSampler(lengths, 10, pool=10, seed=1)) != batches


def test_empty_dataset_is_rejected():
    with pytest.raises(ValueError, match="empty"):
        finetune.LengthGroupedSampler([], 4)


def test_loader_pads_each_batch_to_its_own_longest(tiny_data, tok):
    train, _ = tiny_data
    for batch in finetune.make_loader(tok, train, 16):
        assert batch["input_ids"].shape[1] == int(batch["attention_mask"].sum(1).max())
        assert set(batch) >= {"input_ids", "attention_mask", "labels"}


def test_loader_carries_extra_columns_with_their_examples(tiny_data, tok):
    train, _ = tiny_data
    data = train.add_column("row", list(range(len(train))))
    seen = []
    for batch in finetune.make_loader(tok, data, 16, extra_columns=["row"]):
        for ids, mask, row, label in zip(batch["input_ids"], batch["attention_mask"], batch["row"], batch["labels"]):
            assert ids[mask.bool()].tolist() == train[int(row)]["input_ids"] and label == train[int(row)]["label"]
            seen.append(int(row))
    assert sorted(seen) == list(range(len(train)))


def test_make_loader_rejects_missing_extra_columns(tok):
    ds = finetune.tokenize_dataset(tok, datasets.Dataset.from_dict({"text": ["a", "b"], "label": [0, 1]}), 8)
    with pytest.raises(ValueError, match="teacher_logits"):
        finetune.make_loader(tok, ds, extra_columns=["teacher_logits"])


def test_padding_share_counts_pad_positions(tiny_data, tok):
    train, _ = tiny_data
    grouped = finetune.padding_share(finetune.make_loader(tok, train, 16, length_grouped=True))
    ungrouped = finetune.padding_share(finetune.make_loader(tok, train, 16, length_grouped=False))
    assert 0 <= grouped < ungrouped < 1
    one_by_one = finetune.padding_share(finetune.make_loader(tok, train, 1, length_grouped=False))
    assert one_by_one == 0.0


# --------------------------------------------------------------------------- training
def test_label_out_of_range_is_a_clear_error(tok):
    ds = datasets.Dataset.from_dict({"text": ["good", "bad"], "label": [0, 2]})
    with pytest.raises(ValueError, match="Label 2 is out of range"):
        finetune.train(classifier(), tok, finetune.tokenize_dataset(tok, ds), progress=False)


def loss_on(model, tok, data) -> float:
    return torch.nn.functional.cross_entropy(bertlab.predict(model, tok, data), torch.tensor(data["label"])).item()


def test_training_lowers_the_loss_and_keeps_the_best_epoch(tiny_data, tok):
    train, val = tiny_data
    model = classifier()
    before = loss_on(model, tok, train)
    result = finetune.train(model, tok, train, eval_set=val, epochs=2, batch_size=16, lr=3e-4, progress=False)
    assert loss_on(model, tok, train) < before - 0.02  # it learned something about its training set
    assert len(result.step_loss) == 2 * 2 and len(result.epoch_val_accuracy) == 2
    assert result.best_epoch == int(np.argmax(result.epoch_val_accuracy))
    assert result.examples == 2 * len(train) and result.tokens == 2 * sum(train["length"])
    assert not model.training
    logits = bertlab.predict(model, tok, val)
    acc = (logits.argmax(-1) == torch.tensor(val["label"])).float().mean().item()
    assert acc == pytest.approx(result.epoch_val_accuracy[result.best_epoch], abs=1e-6)  # best weights restored


def test_max_steps_caps_training(tiny_data, tok):
    train, _ = tiny_data
    result = finetune.train(classifier(), tok, train, epochs=3, max_steps=2, batch_size=8, progress=False)
    assert len(result.step_loss) == 2 and result.examples == 16


def test_weight_decay_skips_biases_and_layernorms():
    model = classifier()
    decay, no_decay = finetune.make_optimizer(model, 1e-4, 0.01).param_groups
    assert decay["weight_decay"] == 0.01 and no_decay["weight_decay"] == 0.0
    assert all(p.ndim >= 2 for p in decay["params"]) and all(p.ndim == 1 for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


def test_trainer_recipe_trains_evaluates_and_keeps_best(tiny_data, tok):
    train, val = tiny_data
    model = classifier()
    result = finetune.train_with_trainer(model, tok, train, eval_set=val, epochs=2, batch_size=16,
                                         lr=1e-4, progress=False)
    assert len(result.step_loss) == 2 * 2  # one logged loss per optimizer step
    assert len(result.epoch_val_accuracy) == 2 and result.best_epoch == int(np.argmax(result.epoch_val_accuracy))
    logits = bertlab.predict(model, tok, val)
    acc = (logits.argmax(-1) == torch.tensor(val["label"])).float().mean().item()
    assert acc == pytest.approx(max(result.epoch_val_accuracy), abs=1e-6)  # best weights loaded


def test_run_is_reproducible_per_seed_and_uses_the_given_fit(tiny_data, tok):
    train, val = tiny_data
    kwargs = dict(batch_size=16, lr=1e-4, max_steps=3)
    a = finetune.run(classifier, tok, train, val, seed=1, **kwargs)
    b = finetune.run(classifier, tok, train, val, seed=1, **kwargs)
    assert a["seed"] == 1 and (a["accuracy"], a["macro_f1"]) == (b["accuracy"], b["macro_f1"])
    calls = []

    def fit(model, tokenizer, train_set, **kw):
        calls.append(kw)
        return finetune.TrainResult(seconds=1.5)

    untrained = finetune.run(classifier, tok, train, val, seed=2, fit=fit, epochs=4)
    assert calls == [{"seed": 2, "progress": False, "epochs": 4}] and untrained["train_seconds"] == 1.5


def test_summarize_runs_per_model():
    table = finetune.summarize_runs([{"model": "m", "accuracy": x} for x in (0.7, 0.8, 0.9)]
                                    + [{"model": "n", "accuracy": 0.5}])
    assert list(table.index) == ["m", "n"]
    assert table.loc["m", "mean"] == pytest.approx(0.8) and table.loc["m", "std"] == pytest.approx(0.1)
    assert table.loc["m", "runs"] == 3 and table.loc["n", "runs"] == 1
    with pytest.raises(ValueError, match="no runs"):
        finetune.summarize_runs([])


# --------------------------------------------------------------------------- evaluation
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
    assert list(table["true"]) == ["neg", "pos"] and list(table["predicted"]) == ["pos", "neg"]


def test_paired_bootstrap_difference_and_interval():
    a = [True] * 80 + [False] * 20
    b = [True] * 60 + [False] * 40
    d = finetune.paired_bootstrap(a, b, n=500)
    assert d["difference"] == pytest.approx(0.2)
    assert d["low"] < 0.2 < d["high"] and d["low"] > 0
    same = finetune.paired_bootstrap(a, a, n=200)
    assert same == {"difference": 0.0, "low": 0.0, "high": 0.0}
    with pytest.raises(ValueError, match="equally long"):
        finetune.paired_bootstrap(a, b[:5])
