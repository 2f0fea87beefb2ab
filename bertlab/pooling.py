"""Sentence classifiers on any encoder, by how they pool tokens: first token ([CLS]), mean, or last token (GPT)."""

from __future__ import annotations

import copy

import torch
from torch import nn
from transformers.modeling_outputs import SequenceClassifierOutput

from .inference import mean_pool

POOLINGS = {"cls": "the first token's vector (BERT's [CLS])",
            "mean": "the average of the real tokens' vectors",
            "last": "the last real token's vector (GPT2ForSequenceClassification's choice)"}


def pool(last_hidden_state: torch.Tensor, attention_mask: torch.Tensor, how: str) -> torch.Tensor:
    """Return one vector per sequence ``[batch, hidden]`` by ``how`` ("cls", "mean" or "last"; right padding)."""
    if how == "cls":
        return last_hidden_state[:, 0]
    if how == "mean":
        return mean_pool(last_hidden_state, attention_mask)
    if how == "last":
        last = attention_mask.sum(1).long() - 1  # right padding: the last 1 of each row
        return last_hidden_state[torch.arange(len(last), device=last.device), last.clamp(min=0)]
    raise ValueError(f"unknown pooling {how!r}; choose one of {', '.join(POOLINGS)}")


class PooledClassifier(nn.Module):
    """A linear classifier on an encoder's pooled token vectors; returns ``.loss`` and ``.logits`` like transformers."""

    def __init__(self, encoder: nn.Module, num_labels: int, pooling: str = "cls", dropout: float = 0.1) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}; choose one of {', '.join(POOLINGS)}")
        if num_labels < 2:
            raise ValueError(f"a classifier needs at least 2 classes, got num_labels={num_labels}")
        self.encoder, self.pooling = encoder, pooling
        self.config = copy.deepcopy(encoder.config)
        self.config.num_labels = num_labels
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(encoder.config.hidden_size, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None, labels: torch.Tensor | None = None
                ) -> SequenceClassifierOutput:
        """Return the logits ``[batch, num_labels]`` and, with ``labels``, the cross-entropy loss."""
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state
        logits = self.classifier(self.dropout(pool(hidden, attention_mask, self.pooling)))
        loss = None if labels is None else nn.functional.cross_entropy(logits, labels)
        return SequenceClassifierOutput(loss=loss, logits=logits)
