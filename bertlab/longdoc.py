"""Long documents: fit a text longer than the model's position limit (notebook 05).

Three strategies, all ending in ordinary fixed-size inputs for an unchanged classifier:

* **head** truncation: keep the first ``max_length - 2`` tokens (what ``truncation=True`` does);
* **head + tail**: keep the first ``head`` tokens and the last ``max_length - 2 - head``
  (Sun et al. 2019, "How to Fine-Tune BERT for Text Classification?");
* **chunk and pool**: cut the document into overlapping windows, classify every window, pool
  the windows' logits or probabilities into one prediction per document.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

POOLING = ("mean_logits", "mean_probs", "max_probs")


def _check_texts(texts: Sequence[str]) -> list[str]:
    texts = list(texts)
    if not texts:
        raise ValueError("got no documents: pass a non-empty list of texts.")
    return texts


def token_lengths(texts: Sequence[str], tokenizer) -> np.ndarray:
    """Return each text's length in tokens, ``[CLS]`` and ``[SEP]`` included, without truncation."""
    enc = tokenizer(_check_texts(texts), add_special_tokens=True, truncation=False,
                    return_attention_mask=False, return_token_type_ids=False, verbose=False)
    return np.array([len(ids) for ids in enc["input_ids"]])


def head_tail_ids(texts: Sequence[str], tokenizer, max_length: int = 512, head: int = 128) -> list[list[int]]:
    """Return one input per text: its first ``head`` and last ``max_length - 2 - head`` tokens.

    Texts that fit are kept whole. ``head = max_length - 2`` is plain head truncation.
    """
    budget = max_length - 2  # [CLS] … [SEP] (<s> … </s> for sentencepiece models)
    if tokenizer.cls_token_id is None or tokenizer.sep_token_id is None:
        raise ValueError("head_tail_ids() needs a tokenizer with [CLS]/[SEP] (or <s>/</s>) tokens.")
    if not 0 <= head <= budget:
        raise ValueError(f"head={head} must lie between 0 and {budget} (max_length minus special tokens).")
    tail = budget - head
    enc = tokenizer(_check_texts(texts), add_special_tokens=False, truncation=False,
                    return_attention_mask=False, return_token_type_ids=False, verbose=False)
    out = []
    for ids in enc["input_ids"]:
        if len(ids) > budget:
            ids = ids[:head] + (ids[len(ids) - tail:] if tail else [])
        out.append([tokenizer.cls_token_id, *ids, tokenizer.sep_token_id])
    return out


def window_ids(texts: Sequence[str], tokenizer, max_length: int = 512,
               overlap: int = 128) -> tuple[list[list[int]], np.ndarray]:
    """Cut every text into windows of at most ``max_length`` tokens that share ``overlap`` tokens.

    Returns the windows' ``input_ids`` and, for each window, the index of its text. Uses the fast
    tokenizer's own overflow machinery (``return_overflowing_tokens`` with ``stride``).
    """
    budget = max_length - 2
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("window_ids() needs a fast tokenizer (overflow_to_sample_mapping); "
                         "load it with AutoTokenizer.from_pretrained(..., use_fast=True).")
    if not 0 <= overlap < budget:
        raise ValueError(f"overlap={overlap} must be at least 0 and below {budget}, "
                         "or windows would never advance.")
    enc = tokenizer(_check_texts(texts), truncation=True, max_length=max_length, stride=overlap,
                    return_overflowing_tokens=True, return_attention_mask=False,
                    return_token_type_ids=False)
    return enc["input_ids"], np.asarray(enc["overflow_to_sample_mapping"])


def as_dataset(input_ids: Sequence[Sequence[int]]):
    """Wrap ready-made ``input_ids`` as a ``datasets.Dataset`` that ``finetune.predict`` accepts."""
    import datasets

    if len(input_ids) == 0:
        raise ValueError("got no inputs to wrap.")
    return datasets.Dataset.from_dict({
        "input_ids": [list(ids) for ids in input_ids],
        "attention_mask": [[1] * len(ids) for ids in input_ids],
        "length": [len(ids) for ids in input_ids]})


def pool(window_logits: torch.Tensor, doc_ids: Sequence[int], n_docs: int,
         method: str = "mean_logits") -> torch.Tensor:
    """Pool window scores into one row per document (vectorised ``scatter_reduce``).

    ``mean_logits`` averages logits; ``mean_probs`` averages softmax probabilities; ``max_probs``
    takes each class's highest probability over the windows (the most confident window wins).
    Returns ``[n_docs, num_labels]`` scores whose ``argmax`` is the prediction.
    """
    if method not in POOLING:
        raise ValueError(f"unknown pooling {method!r}; choose one of {POOLING}.")
    doc = torch.as_tensor(np.asarray(doc_ids), dtype=torch.long)
    if doc.numel() != len(window_logits):
        raise ValueError(f"{len(window_logits)} windows but {doc.numel()} document ids.")
    if doc.numel() and (int(doc.min()) < 0 or int(doc.max()) >= n_docs):
        raise ValueError(f"document ids must lie in 0..{n_docs - 1}, got {int(doc.min())}..{int(doc.max())}.")
    missing = set(range(n_docs)) - set(doc.tolist())
    if missing:
        raise ValueError(f"documents {sorted(missing)[:5]} have no window.")
    scores = window_logits.float() if method == "mean_logits" else window_logits.float().softmax(-1)
    reduce = "amax" if method == "max_probs" else "mean"
    out = scores.new_zeros(n_docs, scores.shape[1])
    index = doc.to(scores.device)[:, None].expand_as(scores)
    return out.scatter_reduce_(0, index, scores, reduce, include_self=False)


def compute_cost(input_ids: Sequence[Sequence[int]], n_docs: int) -> dict[str, float]:
    """Windows and tokens processed per document, and attention cost (sum of length²) per document."""
    lengths = np.array([len(ids) for ids in input_ids], dtype=float)
    return {"windows_per_doc": len(lengths) / n_docs, "tokens_per_doc": lengths.sum() / n_docs,
            "attention_per_doc": (lengths ** 2).sum() / n_docs}


def n_windows(n_content: int, max_length: int = 512, overlap: int = 128) -> int:
    """Number of windows :func:`window_ids` makes of a text with ``n_content`` tokens (specials excluded)."""
    budget = max_length - 2
    if n_content <= budget:
        return 1
    step = budget - overlap
    return 1 + -(-(n_content - budget) // step)


def encoder_flops(n_tokens: int | np.ndarray, hidden: int = 384, ff: int = 1536,
                  layers: int = 6) -> dict[str, np.ndarray]:
    """Forward FLOPs of a BERT encoder on one sequence, split into the dense layers (linear in n)
    and attention scores + weighted sum (quadratic in n). Defaults: MiniLM-L6."""
    n = np.asarray(n_tokens, dtype=float)
    dense = 2 * n * (4 * hidden * hidden + 2 * hidden * ff) * layers   # Q, K, V, output, FF in/out
    attention = 2 * 2 * n * n * hidden * layers                           # QKᵀ and (weights)V
    return {"dense": dense, "attention": attention}
