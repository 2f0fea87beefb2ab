"""Shared fixtures. The unit tests never ask the Hugging Face Hub, nor PyPI: they prove offline use.

Tests that need a cache of their own use ``empty_cache``; it refuses downloads, so a test that
needs a real asset (MiniLM's weights, a corpus) links it from the real cache with
:func:`link_real_assets` instead of fetching it again.
"""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")  # figures are drawn, never shown

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

import bertlab  # noqa: E402
from bertlab import store  # noqa: E402

# The cache the notebooks use (``make test`` fills it first), read once, before any test
# points BERTLAB_CACHE elsewhere.
REAL_CACHE: Path = store.cache_dir()


def link_real_assets(cache: Path, *names: str) -> None:
    """Make assets ``names`` of the real cache appear in ``cache``, file by file, as symlinks.

    Symlinks are cheap (MiniLM is 90 MB) and safe: whatever the code under test does to the
    entry in ``cache`` (replace it, delete it) removes links, never the real files.
    """
    for name in names:
        source = REAL_CACHE / "assets" / name
        if not store.is_complete(source):
            pytest.skip(f"asset {name!r} is not in the real cache {REAL_CACHE}; "
                        f"run `python -m bertlab fetch {name}` once (needs PyPI)")
        target = cache / "assets" / name
        for path in source.rglob("*"):
            if path.is_file():
                link = target / path.relative_to(source)
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(path)


def _no_download(asset, dest):
    raise AssertionError(
        f"this test tried to download asset {asset.name!r} into its empty cache; link it from the "
        f"real cache instead: link_real_assets(empty_cache, {asset.name!r}) (tests/conftest.py)")


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """Point bertlab at an empty cache folder for the duration of a test; downloads fail loudly."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("BERTLAB_CACHE", str(cache))
    monkeypatch.setattr(store, "pip_download", _no_download)
    return cache


@pytest.fixture
def cache_with_minilm(empty_cache):
    """An empty cache that holds only the real MiniLM-L6 asset (linked, not downloaded)."""
    link_real_assets(empty_cache, "minilm-l6")
    return empty_cache


@pytest.fixture(scope="module")
def tok():
    """MiniLM's tokenizer, from the real cache."""
    return bertlab.load_tokenizer("minilm-l6")


@pytest.fixture(scope="module")
def classifier():
    """MiniLM with a fresh, seeded 2-class head (negative, positive), in eval mode."""
    torch.manual_seed(0)
    return bertlab.load_classifier("minilm-l6", labels=["negative", "positive"]).eval()


@pytest.fixture(scope="session")
def tiny_bert_tokenizer():
    """A BERT tokenizer over a 12-word vocabulary: Chinese characters and emoji are [UNK]."""
    from transformers import BertTokenizer

    words = "[PAD] [UNK] [CLS] [SEP] [MASK] the film was great emoji and more".split()
    return BertTokenizer(vocab={w: i for i, w in enumerate(words)})
