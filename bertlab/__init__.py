"""bertlab: the code behind the BERT-for-text-classification workbook; importing it has no side effects."""

from .config import get_device, pick, profile, quiet, seed_everything, setup, show_source
from .data import DatasetError, dataset_names, load_corpus, load_dataset
from .inference import embed, mean_pool, predict
from .models import (MODELS, ModelNotFoundError, load_classifier, load_encoder, load_model,
                     load_tokenizer)
from .store import AssetError, cache_dir, fetch

__version__ = "0.1.0"

__all__ = [
    "AssetError", "DatasetError", "MODELS", "ModelNotFoundError", "cache_dir", "dataset_names",
    "embed", "fetch", "get_device", "load_classifier", "load_corpus", "load_dataset", "load_encoder",
    "load_model", "load_tokenizer", "mean_pool", "pick", "predict", "profile", "quiet",
    "seed_everything", "setup", "show_source",
]
