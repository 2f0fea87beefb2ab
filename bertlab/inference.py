"""Batched inference: score many inputs in length-sorted batches (little padding), rows in input order."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import datasets
import torch
from torch import nn
from tqdm import tqdm

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
Inputs = Sequence[str] | Sequence[Sequence[int]] | datasets.Dataset


def batches(tokenizer, data: Inputs, batch_size: int = 64, max_length: int = 256
            ) -> Iterator[tuple[list[int], dict[str, torch.Tensor]]]:
    """Yield ``(indices, padded batch)``, shortest first, from texts, token-id lists or a Dataset."""
    if isinstance(data, datasets.Dataset):
        if "input_ids" in data.column_names:
            columns = data.select_columns([c for c in MODEL_INPUTS if c in data.column_names]).to_dict()
            data = [dict(zip(columns, row)) for row in zip(*columns.values())]
        elif "text" in data.column_names:
            data = data["text"]
        else:
            raise ValueError(f"the dataset has neither 'input_ids' nor 'text' (columns: {data.column_names}).")
    data = list(data)
    if not data:
        raise ValueError("got no inputs: pass a non-empty list of texts, token-id lists or a Dataset.")
    if isinstance(data[0], str):
        lengths = [len(t) for t in data]

        def pad(idx: list[int]):
            return tokenizer([data[i] for i in idx], padding=True, truncation=True,
                             max_length=max_length, return_tensors="pt")
    else:
        rows = [r if isinstance(r, dict) else {"input_ids": list(r)} for r in data]
        lengths = [len(r["input_ids"]) for r in rows]

        def pad(idx: list[int]):
            return tokenizer.pad([rows[i] for i in idx], return_tensors="pt")
    order = sorted(range(len(data)), key=lengths.__getitem__)
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        yield idx, {k: v for k, v in pad(idx).items() if k in MODEL_INPUTS}


@torch.inference_mode()
def map_batches(fn: Callable[[dict[str, torch.Tensor]], torch.Tensor], tokenizer, data: Inputs,
                batch_size: int = 64, max_length: int = 256, progress: bool = False) -> torch.Tensor:
    """Apply ``fn`` (padded batch → one row per input) to all of ``data``; rows in input order."""
    out: torch.Tensor | None = None
    steps = batches(tokenizer, data, batch_size, max_length)
    for idx, batch in tqdm(steps, disable=not progress, desc="inference", mininterval=5):
        rows = fn(batch).float().cpu()
        if out is None:
            n = len(data) if not isinstance(data, datasets.Dataset) else data.num_rows
            out = rows.new_empty(n, *rows.shape[1:])
        out[idx] = rows
    return out


def _device(model: nn.Module, device: torch.device | str | None) -> torch.device:
    """The device to run ``model`` on: ``device`` if given, else where its weights already are."""
    if device is not None:
        model.to(device)
    return next(model.parameters()).device


def predict(model: nn.Module, tokenizer, data: Inputs, batch_size: int = 64, max_length: int = 256,
            device: torch.device | str | None = None, progress: bool = False) -> torch.Tensor:
    """Return a classifier's logits ``[n, num_labels]`` (float32, CPU) for ``data``, in input order."""
    device = _device(model, device)
    model.eval()
    return map_batches(lambda b: model(**{k: v.to(device) for k, v in b.items()}).logits,
                       tokenizer, data, batch_size, max_length, progress)


def mean_pool(last_hidden_state: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Return the average of token vectors, ignoring padding (``[batch, hidden]``)."""
    mask = attention_mask.unsqueeze(-1).to(last_hidden_state.dtype)
    return (last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def embed(model: nn.Module, tokenizer, texts: Inputs, batch_size: int = 64, max_length: int = 256,
          normalize: bool = True, device: torch.device | str | None = None,
          progress: bool = False) -> torch.Tensor:
    """Return mean-pooled sentence embeddings ``[n, hidden]`` (L2-normalised unless told not to)."""
    device = _device(model, device)
    model.eval()

    def pooled(batch: dict[str, torch.Tensor]) -> torch.Tensor:
        batch = {k: v.to(device) for k, v in batch.items()}
        return mean_pool(model(**batch).last_hidden_state, batch["attention_mask"])

    out = map_batches(pooled, tokenizer, texts, batch_size, max_length, progress)
    return nn.functional.normalize(out, dim=-1) if normalize else out
