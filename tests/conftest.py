"""Shared fixtures. The unit tests never ask the Hugging Face Hub: they prove offline use."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """Point bertlab at an empty cache folder for the duration of a test."""
    monkeypatch.setenv("BERTLAB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"
