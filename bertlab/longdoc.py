"""Long documents (notebook 05): head, head + tail, or chunk-and-pool inputs for an unchanged classifier."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

POOLING = ("mean_logits", "mean_probs", "max_probs")


def _check_texts(texts: Sequence[str]) -> list[str]:
    texts = list(texts)
    if not texts:
        raise ValueError("got no documents: pass a non-empty list of texts.")
    return texts


def token_lengths(tokenizer, texts: Sequence[str]) -> np.ndarray:
    """Return each text's length in tokens, ``[CLS]`` and ``[SEP]`` included, without truncation."""
    enc = tokenizer(_check_texts(texts), add_special_tokens=True, truncation=False,
                    return_attention_mask=False, return_token_type_ids=False, verbose=False)
    return np.array([len(ids) for ids in enc["input_ids"]])


def head_tail_ids(tokenizer, texts: Sequence[str], max_length: int = 512, head: int = 128) -> list[list[int]]:
    """Return one input per text: its first ``head`` and last ``max_length - 2 - head`` tokens."""
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


def window_ids(tokenizer, texts: Sequence[str], max_length: int = 512,
               overlap: int = 128) -> tuple[list[list[int]], np.ndarray]:
    """Cut texts into ``max_length`` windows sharing ``overlap`` tokens; return ids and each window's text."""
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


def pool(window_logits: torch.Tensor, doc_ids: Sequence[int], n_docs: int,
         method: str = "mean_logits") -> torch.Tensor:
    """Pool window scores into ``[n_docs, num_labels]``: mean logits, mean probs or max probs."""
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


def choose(accuracy: Mapping[str, float], cost: Mapping[str, float]) -> str:
    """Return the strategy with the highest accuracy; a tie goes to the lower cost, then to the first listed."""
    if not accuracy:
        raise ValueError("choose() got no strategies: pass a mapping of strategy name to accuracy.")
    missing = [name for name in accuracy if name not in cost]
    if missing:
        raise ValueError(f"no cost for {missing}: pass a cost (e.g. tokens per document) for every strategy.")
    return min(accuracy, key=lambda name: (-accuracy[name], cost[name]))  # min keeps the first of equals


def n_windows(n_content: int, max_length: int = 512, overlap: int = 128) -> int:
    """Number of windows :func:`window_ids` makes of a text with ``n_content`` tokens (specials excluded)."""
    budget = max_length - 2
    if n_content <= budget:
        return 1
    step = budget - overlap
    return 1 + -(-(n_content - budget) // step)


def encoder_flops(n_tokens: int | np.ndarray, hidden: int = 384, ff: int = 1536,
                  layers: int = 6) -> dict[str, np.ndarray]:
    """Forward FLOPs of a BERT encoder on one sequence: dense (linear in n), attention (quadratic)."""
    n = np.asarray(n_tokens, dtype=float)
    dense = 2 * n * (4 * hidden * hidden + 2 * hidden * ff) * layers   # Q, K, V, output, FF in/out
    attention = 2 * 2 * n * n * hidden * layers                           # QKᵀ and (weights)V
    return {"dense": dense, "attention": attention}
