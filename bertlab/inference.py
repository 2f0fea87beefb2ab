"""Batched inference: score many inputs in length-sorted batches (little padding), rows in input order."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import datasets
import torch
from torch import nn
from tqdm import tqdm

from .data import check_texts, short_repr

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
Inputs = Sequence[str] | Sequence[Sequence[int]] | datasets.Dataset


def as_rows(data: Inputs) -> list[str] | list[dict]:
    """Return ``data`` as a non-empty list of texts or of token-id rows, or raise a one-sentence error."""
    if isinstance(data, datasets.Dataset):
        if data.num_rows == 0:
            raise ValueError(f"got no inputs: the dataset has no rows (columns: {data.column_names}); "
                             "pass a non-empty split.")
        if "input_ids" in data.column_names:
            columns = data.select_columns([c for c in MODEL_INPUTS if c in data.column_names]).to_dict()
            return [dict(zip(columns, row)) for row in zip(*columns.values())]
        if "text" not in data.column_names:
            raise ValueError(f"the dataset has neither 'input_ids' nor 'text' (columns: {data.column_names}): "
                             "rename its text column with ds.rename_column('your_column', 'text').")
        return check_texts(data["text"], "the dataset's 'text' column")
    rows = list(data) if isinstance(data, Iterable) and not isinstance(data, (str, bytes, Mapping)) else None
    if rows is not None and not rows:
        raise ValueError("got no inputs: pass a non-empty list of texts, token-id lists or a Dataset.")
    if rows is None or isinstance(rows[0], (str, bytes)) or not isinstance(rows[0], Iterable):  # texts, or a slip
        return check_texts(data if rows is None else rows, "the texts")
    for i, row in enumerate(rows):
        is_ids = isinstance(row, Iterable) and not isinstance(row, (str, bytes))
        if not is_ids or isinstance(row, dict) and "input_ids" not in row:
            raise TypeError(f"entry {i} of the token-id rows is {short_repr(row)}, not a list of token ids: "
                            "pass texts as a list of str, or every entry as a list of token ids.")
    return [r if isinstance(r, dict) else {"input_ids": list(r)} for r in rows]


def check_tokenizer(tokenizer: object) -> None:
    """Raise a one-sentence TypeError unless ``tokenizer`` is a ``transformers`` tokenizer."""
    if not (callable(tokenizer) and hasattr(tokenizer, "pad")):
        raise TypeError(f"the tokenizer must be a transformers tokenizer, got {short_repr(tokenizer)}: pass one "
                        "from bertlab.load_tokenizer(...) in the order (model, tokenizer, data).")


def check_model(model: object, call: str, example: str) -> None:
    """Raise a one-sentence TypeError unless ``model`` is a PyTorch model (``example``: how to get one)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"{call}() needs a PyTorch model as its first argument, got {short_repr(model)}: "
                        f"call {call}(model, tokenizer, ...) with e.g. model = {example}.")


def batches(tokenizer, data: Inputs, batch_size: int = 64, max_length: int = 256
            ) -> Iterator[tuple[list[int], dict[str, torch.Tensor]]]:
    """Yield ``(indices, padded batch)``, shortest first, from texts, token-id lists or a Dataset."""
    check_tokenizer(tokenizer)
    data = as_rows(data)
    if isinstance(data[0], str):
        lengths = [len(t) for t in data]

        def pad(idx: list[int]):
            return tokenizer([data[i] for i in idx], padding=True, truncation=True,
                             max_length=max_length, return_tensors="pt")
    else:
        lengths = [len(r["input_ids"]) for r in data]

        def pad(idx: list[int]):
            return tokenizer.pad([data[i] for i in idx], return_tensors="pt")
    order = sorted(range(len(data)), key=lengths.__getitem__)
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        yield idx, {k: v for k, v in pad(idx).items() if k in MODEL_INPUTS}


@torch.inference_mode()
def map_batches(fn: Callable[[dict[str, torch.Tensor]], torch.Tensor], tokenizer, data: Inputs,
                batch_size: int = 64, max_length: int = 256, progress: bool = False) -> torch.Tensor:
    """Apply ``fn`` (padded batch → one row per input) to all of ``data``; rows in input order."""
    data = as_rows(data)
    out: torch.Tensor | None = None
    steps = batches(tokenizer, data, batch_size, max_length)
    for idx, batch in tqdm(steps, disable=not progress, desc="inference", mininterval=5):
        rows = fn(batch).float().cpu()
        if out is None:
            out = rows.new_empty(len(data), *rows.shape[1:])
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
    check_model(model, "predict", "bertlab.load_classifier('minilm-rotten-tomatoes')")
    device = _device(model, device)
    model.eval()

    def logits(batch: dict[str, torch.Tensor]) -> torch.Tensor:
        out = model(**{k: v.to(device) for k, v in batch.items()})
        if "logits" not in out:
            raise TypeError(f"predict() needs a classifier, but {type(model).__name__} returns no logits: "
                            "load one with bertlab.load_classifier(...), or use embed() for an encoder.")
        return out.logits

    return map_batches(logits, tokenizer, data, batch_size, max_length, progress)


def mean_pool(last_hidden_state: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Return the average of token vectors, ignoring padding (``[batch, hidden]``)."""
    mask = attention_mask.unsqueeze(-1).to(last_hidden_state.dtype)
    return (last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def embed(model: nn.Module, tokenizer, texts: Inputs, batch_size: int = 64, max_length: int = 256,
          normalize: bool = True, device: torch.device | str | None = None,
          progress: bool = False) -> torch.Tensor:
    """Return mean-pooled sentence embeddings ``[n, hidden]`` (L2-normalised unless told not to)."""
    check_model(model, "embed", "bertlab.load_encoder('minilm-l6')")
    device = _device(model, device)
    model.eval()

    def pooled(batch: dict[str, torch.Tensor]) -> torch.Tensor:
        batch = {k: v.to(device) for k, v in batch.items()}
        out = model(**batch)
        if "last_hidden_state" not in out:
            raise TypeError(f"embed() needs an encoder, but {type(model).__name__} returns no last_hidden_state: "
                            "load one with bertlab.load_encoder(...), or pass a classifier's model.base_model.")
        return mean_pool(out.last_hidden_state, batch["attention_mask"])

    out = map_batches(pooled, tokenizer, texts, batch_size, max_length, progress)
    return nn.functional.normalize(out, dim=-1) if normalize else out
