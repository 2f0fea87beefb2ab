"""Cross-lingual classification (notebook 06): tokenizer coverage, shared embedding space, transfer."""

from __future__ import annotations

import re
from collections.abc import Sequence

import datasets
import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from . import finetune
from .models import load_classifier, load_tokenizer

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def count_words(text: str) -> int:
    """Count words: whitespace-separated words plus one per Chinese character (written without spaces)."""
    cjk = len(_CJK.findall(text))
    return len(_CJK.sub(" ", text).split()) + cjk


def tokenization_stats(tokenizer, texts: Sequence[str]) -> dict[str, float]:
    """Tokens per word, tokens per character and share of unknown tokens, over ``texts``."""
    texts = list(texts)
    if not texts:
        raise ValueError("tokenization_stats() got no texts.")
    ids = tokenizer(texts, add_special_tokens=False, truncation=False, return_attention_mask=False,
                    return_token_type_ids=False, verbose=False)["input_ids"]
    tokens = sum(len(x) for x in ids)
    unk = sum(int(np.sum(np.asarray(x) == tokenizer.unk_token_id)) for x in ids)
    words = sum(count_words(t) for t in texts)
    chars = sum(len(t.replace(" ", "")) for t in texts)
    return {"tokens_per_word": tokens / words, "tokens_per_char": tokens / chars,
            "unk_rate": unk / max(tokens, 1)}


def translation_report(embeddings: torch.Tensor, sentence_ids: Sequence[int],
                       languages: Sequence[str], pivot: str = "en") -> dict[str, float]:
    """Mean cosine of translations (same id) and unrelated pairs, and nearest-``pivot`` retrieval accuracy."""
    emb = torch.nn.functional.normalize(torch.as_tensor(embeddings, dtype=torch.float32), dim=-1)
    sid, lang = np.asarray(sentence_ids), np.asarray(languages)
    if not (len(emb) == len(sid) == len(lang)):
        raise ValueError("embeddings, sentence_ids and languages must have the same length.")
    sim = (emb @ emb.T).numpy()
    cross = lang[:, None] != lang[None, :]
    same = sid[:, None] == sid[None, :]
    pivots = np.flatnonzero(lang == pivot)
    others = np.flatnonzero(lang != pivot)
    if len(pivots) == 0 or len(others) == 0:
        raise ValueError(f"need sentences in the pivot language {pivot!r} and in others.")
    nearest = pivots[sim[np.ix_(others, pivots)].argmax(1)]
    return {"translation_cosine": float(sim[cross & same].mean()),
            "unrelated_cosine": float(sim[cross & ~same].mean()),
            "retrieval_accuracy": float(np.mean(sid[nearest] == sid[others]))}


def balanced_sample(y: Sequence[int], k: int, seed: int = 0) -> np.ndarray:
    """Indices of ``k`` examples, as evenly spread over the classes in ``y`` as the data allows (seeded)."""
    y = np.asarray(y)
    if k > len(y):
        raise ValueError(f"asked for {k} examples but only {len(y)} are available.")
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    pools = {c: rng.permutation(np.flatnonzero(y == c)).tolist() for c in classes}
    picked: list[int] = []
    while len(picked) < k:  # round-robin over the classes that still have examples
        for c in classes:
            if pools[c] and len(picked) < k:
                picked.append(pools[c].pop())
    return np.array(sorted(picked), dtype=int)


def fit_logreg(features: np.ndarray, y: Sequence[int], sample_weight: np.ndarray | None = None,
               C: float = 1.0):
    """Fit a logistic regression on the embeddings as they come (standardising hurts transfer)."""
    clf = LogisticRegression(C=C, max_iter=3000)
    return clf.fit(np.asarray(features), np.asarray(y), sample_weight=sample_weight)


def few_shot_predictions(source: tuple[np.ndarray, np.ndarray], target_pool: tuple[np.ndarray, np.ndarray],
                         target_x: np.ndarray, k: int, seed: int = 0, target_weight: float = 10.0) -> np.ndarray:
    """Labels predicted for ``target_x`` after training on source and ``k`` balanced, weighted target examples."""
    (xs, ys), (xp, yp) = source, target_pool
    idx = balanced_sample(yp, k, seed) if k else np.array([], dtype=int)
    x = np.concatenate([xs, xp[idx]])
    y = np.concatenate([ys, yp[idx]])
    w = np.concatenate([np.ones(len(ys)), np.full(len(idx), target_weight)])
    return fit_logreg(x, y, w).predict(target_x)


def few_shot_accuracy(source: tuple[np.ndarray, np.ndarray], target_pool: tuple[np.ndarray, np.ndarray],
                      target_test: tuple[np.ndarray, np.ndarray], k: int, seed: int = 0,
                      target_weight: float = 10.0) -> float:
    """Accuracy on ``target_test`` of :func:`few_shot_predictions` with ``k`` target examples."""
    xt, yt = target_test
    return float((few_shot_predictions(source, target_pool, xt, k, seed, target_weight) == yt).mean())


def finetune_encoder(name: str, texts: Sequence[str], y: Sequence[int], labels: Sequence[str],
                     prefix: str = "", max_length: int = 128, freeze_word_embeddings: bool = True,
                     **train_kwargs):
    """Fine-tune ``name`` on ``texts``; return its encoder (frozen word embeddings spare unseen languages)."""
    texts = [prefix + t for t in texts]
    if not texts:
        raise ValueError("finetune_encoder() got no training texts.")
    tokenizer = load_tokenizer(name)
    model = load_classifier(name, labels)
    if freeze_word_embeddings:
        model.base_model.embeddings.word_embeddings.weight.requires_grad_(False)
    data = finetune.tokenize_dataset(tokenizer, datasets.Dataset.from_dict({"text": texts, "label": list(y)}),
                                     max_length)
    finetune.train(model, tokenizer, data, **train_kwargs)
    return model.base_model.eval()
