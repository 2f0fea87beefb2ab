"""bertlab: the code behind the BERT-for-text-classification workbook.

Public API used by the notebooks (names kept stable)::

    load_dataset(name) -> datasets.DatasetDict      # bertlab.data
    load_tokenizer(name), load_encoder(name)        # bertlab.models
    load_classifier(name, labels)                   # bertlab.models
    fetch(names=None)                               # bertlab.assets

Importing bertlab has no side effects: nothing is downloaded or printed until you call it.
"""

from .assets import AssetError, cache_dir, fetch
from .config import get_device, pick, profile, quiet, seed_everything
from .data import DatasetError, dataset_names, load_corpus, load_dataset
from .models import (
    OFFLINE_MODELS,
    ModelNotFoundError,
    embed,
    load_classifier,
    load_encoder,
    load_tokenizer,
    mean_pool,
)

__version__ = "0.1.0"

__all__ = [
    "AssetError", "DatasetError", "ModelNotFoundError", "OFFLINE_MODELS",
    "cache_dir", "dataset_names", "embed", "fetch", "get_device", "load_classifier",
    "load_corpus", "load_dataset", "load_encoder", "load_tokenizer", "mean_pool", "pick",
    "profile", "quiet", "seed_everything",
]
