"""Multilingual classification: tokenizer coverage, shared embedding space, cross-lingual transfer
(notebook 06).

Transfer experiments train a logistic regression on sentence embeddings from one language (or
several) and evaluate it on another; the encoder is either frozen (quick profile) or first
fine-tuned on the source language (full profile). Everything here works on feature matrices, so
one embedding pass serves every experiment.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import torch

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def count_words(text: str) -> int:
    """Words in ``text``: whitespace-separated words, plus one per Chinese character (Chinese is
    written without spaces; a character is the nearest unit to a word that needs no segmenter)."""
    cjk = len(_CJK.findall(text))
    return len(_CJK.sub(" ", text).split()) + cjk


def tokenization_stats(texts: Sequence[str], tokenizer) -> dict[str, float]:
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
    """How well translations line up in an embedding space.

    ``embeddings`` are L2-normalised rows; rows with the same ``sentence_ids`` are translations of
    each other. Returns the mean cosine of translation pairs and of unrelated pairs (different
    sentences, different languages), and retrieval accuracy: the share of non-pivot sentences
    whose nearest ``pivot``-language sentence is their translation.
    """
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


def wilson_interval(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for an accuracy of ``correct`` out of ``n`` (good for small n)."""
    if n <= 0 or not 0 <= correct <= n:
        raise ValueError(f"need 0 <= correct <= n and n > 0, got correct={correct}, n={n}.")
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def balanced_sample(labels: Sequence[int], k: int, seed: int = 0) -> np.ndarray:
    """Indices of ``k`` examples, as evenly spread over the labels as the data allows (seeded)."""
    labels = np.asarray(labels)
    if k > len(labels):
        raise ValueError(f"asked for {k} examples but only {len(labels)} are available.")
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    pools = {c: rng.permutation(np.flatnonzero(labels == c)).tolist() for c in classes}
    picked: list[int] = []
    while len(picked) < k:  # round-robin over the classes that still have examples
        for c in classes:
            if pools[c] and len(picked) < k:
                picked.append(pools[c].pop())
    return np.array(sorted(picked), dtype=int)


def fit_logreg(features: np.ndarray, labels: Sequence[int], sample_weight: np.ndarray | None = None,
               C: float = 1.0):
    """A logistic regression on sentence embeddings (scikit-learn, deterministic lbfgs solver).

    The features are used as they come (unit vectors). Standardising them with statistics of the
    source language looks harmless but hurt transfer here: it blows up directions that barely
    vary in English, such as language identity (full profile, Chinese zero-shot 0.81 → 0.71).
    With very few examples (German: 108) and this regularisation, the model may learn little more
    than the majority class: check the share of positive predictions.
    """
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=C, max_iter=3000)
    return clf.fit(np.asarray(features), np.asarray(labels), sample_weight=sample_weight)


def few_shot_accuracy(source: tuple[np.ndarray, np.ndarray], target_pool: tuple[np.ndarray, np.ndarray],
                      target_test: tuple[np.ndarray, np.ndarray], k: int, seed: int = 0,
                      target_weight: float = 10.0) -> float:
    """Accuracy on ``target_test`` of a classifier trained on the source-language examples plus
    ``k`` target-language examples (balanced, seeded), each counting ``target_weight`` times."""
    (xs, ys), (xp, yp), (xt, yt) = source, target_pool, target_test
    idx = balanced_sample(yp, k, seed) if k else np.array([], dtype=int)
    x = np.concatenate([xs, xp[idx]])
    y = np.concatenate([ys, yp[idx]])
    w = np.concatenate([np.ones(len(ys)), np.full(len(idx), target_weight)])
    return float((fit_logreg(x, y, w).predict(xt) == yt).mean())


def finetune_encoder(name: str, texts: Sequence[str], labels: Sequence[int], label_names: Sequence[str],
                     prefix: str = "", max_length: int = 128, freeze_word_embeddings: bool = True,
                     **train_kwargs):
    """Fine-tune model ``name`` as a classifier on ``texts`` and return its encoder (``base_model``).

    Used by the full profile before the transfer experiments. The classifier reads the pooled
    ``[CLS]`` vector (a fresh pooler for models without one, such as multilingual-e5), while the
    transfer experiments use mean-pooled features of the tuned encoder; a mean-pooling head would
    match them more closely. ``freeze_word_embeddings`` keeps
    the (for multilingual-e5: 250k-row, 96M-parameter) token embedding matrix fixed: the source
    language touches few of its rows, and updating only those would pull them away from the
    languages it never sees. ``train_kwargs`` go to :func:`bertlab.finetune.train`.
    """
    import datasets

    from . import finetune
    from .models import load_classifier, load_tokenizer

    texts = [prefix + t for t in texts]
    if not texts:
        raise ValueError("finetune_encoder() got no training texts.")
    tokenizer = load_tokenizer(name)
    model = load_classifier(name, label_names)
    if freeze_word_embeddings:
        model.base_model.embeddings.word_embeddings.weight.requires_grad_(False)
    data = finetune.tokenize_dataset(datasets.Dataset.from_dict({"text": texts, "label": list(labels)}),
                                     tokenizer, max_length)
    finetune.train(model, data, tokenizer, **train_kwargs)
    return model.base_model.eval()
