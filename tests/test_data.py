"""Datasets: counts after cleaning, fixed disjoint splits, named labels, clear errors."""

import datasets
import numpy as np
import pytest

import bertlab
from bertlab import data
from bertlab.data import DatasetError

# Examples per dataset after the cleaning documented in data/README.md.
EXPECTED_TOTALS = {
    "rotten_tomatoes": 12_752,
    "bbc_news": 2_127,
    "polarity_zh": 17_363,
    "polarity_fr": 1_284,
    "polarity_nl": 2_987,
    "polarity_de": 155,
    "movie_reviews_long": 1_500,
}


@pytest.fixture(scope="module", params=sorted(EXPECTED_TOTALS))
def named(request):
    return request.param, bertlab.load_dataset(request.param)


def test_the_documented_counts_cover_every_offline_dataset():
    assert bertlab.dataset_names() == sorted(EXPECTED_TOTALS)


def test_every_dataset_has_the_documented_count(named):
    name, ds = named
    assert sum(len(d) for d in ds.values()) == EXPECTED_TOTALS[name]


def test_splits_are_train_validation_test_with_text_and_classlabel(named):
    _, ds = named
    assert list(ds) == ["train", "validation", "test"]
    for split in ds.values():
        assert split.column_names == ["text", "label"]
        assert isinstance(split.features["label"], datasets.ClassLabel)


def test_no_text_is_shared_between_splits(named):
    _, ds = named
    train, val, test = (set(ds[s]["text"]) for s in ds)
    assert not train & val and not train & test and not val & test


def test_split_sizes_are_70_10_20_and_stratified(named):
    _, ds = named
    n = sum(len(d) for d in ds.values())
    assert abs(len(ds["test"]) / n - 0.2) < 0.01
    assert abs(len(ds["validation"]) / n - 0.1) < 0.01
    share = {s: sum(ds[s]["label"]) / len(ds[s]) for s in ds}  # positive share (or mean label)
    assert max(share.values()) - min(share.values()) < 0.05


def test_the_first_100_rows_of_every_split_hold_every_class(named):
    # splits are shuffled once when made, so ds[split].select(range(n)) is a fair subset
    name, ds = named
    classes = ds["train"].features["label"].num_classes
    for split, d in ds.items():
        first = d.select(range(min(100, len(d))))["label"]
        assert set(first) == set(range(classes)), f"{name}/{split}: {np.bincount(first).tolist()}"


def test_splits_are_fixed_across_calls():
    a, b = data.load_dataset("polarity_de"), data.load_dataset("polarity_de")
    for split in a:
        assert a[split]["text"] == b[split]["text"] and a[split]["label"] == b[split]["label"]


def test_stratified_split_is_disjoint_complete_seeded_and_shuffled():
    labels = [0] * 600 + [1] * 400  # sorted by label, as many raw sources are
    parts = data.stratified_split(labels)
    every = np.concatenate(list(parts.values()))
    assert sorted(every.tolist()) == list(range(1000))
    assert [len(parts[s]) for s in ("train", "validation", "test")] == [700, 100, 200]
    for ix in parts.values():
        y = np.asarray(labels)[ix]
        assert y.mean() == pytest.approx(0.4, abs=0.01)           # stratified
        assert set(y[:20]) == {0, 1}                              # not in source (label) order
    again = data.stratified_split(labels)
    assert all((again[s] == parts[s]).all() for s in parts)
    other = data.stratified_split(labels, seed=1)
    assert not (other["test"] == parts["test"]).all()


def test_sentiment_datasets_share_label_names():
    for name in ["rotten_tomatoes", "polarity_zh", "polarity_fr", "polarity_nl", "polarity_de",
                 "movie_reviews_long"]:
        assert data.load_dataset(name)["train"].features["label"].names == ["negative", "positive"]


def test_bbc_news_has_five_topics():
    names = data.load_dataset("bbc_news")["train"].features["label"].names
    assert names == ["business", "entertainment", "politics", "sport", "tech"]


def test_dutch_html_entities_are_unescaped():
    texts = data.load_dataset("polarity_nl")["train"]["text"]
    assert not any("&amp;" in t or "&gt;" in t for t in texts)


def test_unknown_dataset_name_is_rejected_with_the_offline_names():
    with pytest.raises(DatasetError, match="Unknown dataset 'sst2'.*rotten_tomatoes.*internet"):
        data.load_dataset("sst2")


def test_dedupe_keeps_first_copy_and_drops_conflicting_texts():
    texts, labels = data.dedupe(["a", "b", "a", "c", "c"], [1, 0, 1, 0, 1])
    assert texts == ["a", "b"] and labels == [1, 0]


def test_empty_dataset_is_a_clear_error():
    with pytest.raises(DatasetError, match="No examples"):
        data.make_dataset_dict([], [], ["negative", "positive"])


def test_label_out_of_range_is_a_clear_error():
    with pytest.raises(DatasetError, match=r"Label ids \[2\] are out of range"):
        data.make_dataset_dict(["x"] * 10, [0, 1] * 4 + [2, 2], ["negative", "positive"])


def test_load_corpus_returns_plain_documents():
    docs = data.load_corpus("bbc_news")
    assert len(docs) == len(data.load_dataset("bbc_news")["train"])
    assert all(isinstance(d, str) and len(d) > 100 for d in docs)


def test_describe_counts_per_split_and_label():
    table = data.describe(data.load_dataset("polarity_de"))
    assert table.loc["test", "total"] == 31
    assert list(table.columns) == ["negative", "positive", "total"]
