"""bertlab.sentiment: notebook 04's classifier, reused from the cache by later notebooks."""

import datasets

import bertlab
from bertlab import pretraining, sentiment


def test_recipe_per_profile_and_train_split():
    quick, full = sentiment.recipe("quick"), sentiment.recipe("full")
    assert quick["train_examples"] == 4000 and quick["epochs"] == 1
    assert full["train_examples"] is None and full["epochs"] == 3
    assert sentiment.checkpoint_name("quick") == "minilm-rotten-tomatoes-quick"
    ds = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"x": list(range(5000))})})
    picked = sentiment.train_split(ds, quick)
    assert len(picked) == 4000 and picked["x"] == sentiment.train_split(ds, quick)["x"]
    assert len(sentiment.train_split(ds, full)) == 5000


def test_classifier_comes_from_the_cache_when_its_recipe_matches(empty_cache, monkeypatch):
    monkeypatch.setenv("BERTLAB_PROFILE", "quick")
    tokenizer = bertlab.load_tokenizer("minilm-l6")
    model = bertlab.load_classifier("minilm-l6")
    pretraining.save_checkpoint(sentiment.checkpoint_name(), model, tokenizer,
                                {"recipe": sentiment.recipe(), "test_accuracy": 0.5})

    def no_training(*args, **kwargs):
        raise AssertionError("classifier() retrained although a matching checkpoint was cached")
    monkeypatch.setattr("bertlab.finetune.train", no_training)
    cached, tok = sentiment.classifier()
    assert cached.config.id2label == {0: "negative", 1: "positive"}
    assert tok("a test")["input_ids"][0] == tokenizer.cls_token_id
