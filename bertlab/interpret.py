"""Looking inside a fine-tuned classifier: attention, token attributions, and a test of both.

* attention maps (per layer and head), the ``[CLS]`` row, and attention rollout (Abnar & Zuidema,
  2020): average the heads, add the residual connection as 0.5·I, renormalise, multiply layers;
* gradient × input and integrated gradients (Sundararajan et al., 2017) with respect to the
  input embeddings, summed over the hidden dimension to one score per token;
* deletion curves: remove the k highest-scoring tokens and watch the predicted probability fall.
  A faithful explanation makes it fall faster than removing random tokens.

All functions take one tokenized example (``BatchEncoding`` of batch size 1) and work batched
over interpolation steps or deletion sizes; none loops over tokens in Python.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def _single(enc) -> dict[str, torch.Tensor]:
    batch = {k: v for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
    if batch["input_ids"].shape[0] != 1:
        raise ValueError("pass one example (batch size 1); loop over examples outside.")
    return batch


@torch.inference_mode()
def attention_maps(model, enc) -> torch.Tensor:
    """Attention probabilities ``[layers, heads, seq, seq]`` of one example.

    Needs the eager attention implementation (SDPA kernels do not return the weights); it is
    switched on for the call and restored afterwards.
    """
    batch = _single(enc)
    previous = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        out = model(**batch, output_attentions=True)
    finally:
        model.set_attn_implementation(previous)
    return torch.stack([a[0] for a in out.attentions]).float()


def attention_rollout(attentions: torch.Tensor, residual: float = 0.5) -> torch.Tensor:
    """Rollout ``[seq, seq]``: how much each output position draws on each input token through
    all layers, counting the residual connection. Row 0 is the ``[CLS]`` token's."""
    if attentions.dim() != 4:
        raise ValueError("expected attentions of shape [layers, heads, seq, seq].")
    seq = attentions.shape[-1]
    eye = torch.eye(seq, dtype=attentions.dtype)
    rollout = eye
    for layer in attentions.mean(1):                      # a loop over layers (6), not tokens
        a = residual * eye + (1 - residual) * layer
        a = a / a.sum(-1, keepdim=True)
        rollout = a @ rollout
    return rollout


def _embed(model, batch) -> torch.Tensor:
    return model.get_input_embeddings()(batch["input_ids"])


def _forward_embeds(model, batch, embeds: torch.Tensor) -> torch.Tensor:
    n = embeds.shape[0]
    rest = {k: v.expand(n, -1) for k, v in batch.items() if k != "input_ids"}
    return model(inputs_embeds=embeds, **rest).logits


def grad_x_input(model, enc, target: int) -> torch.Tensor:
    """Gradient of the ``target`` logit times the input embedding, summed over hidden units: ``[seq]``."""
    batch = _single(enc)
    model.eval()
    embeds = _embed(model, batch).detach().requires_grad_(True)
    logit = _forward_embeds(model, batch, embeds)[0, target]
    (grad,) = torch.autograd.grad(logit, embeds)
    return (grad * embeds).sum(-1)[0].detach()


def integrated_gradients(model, enc, target: int, steps: int = 32, baseline_token: int | None = None,
                         batch_size: int = 16) -> tuple[torch.Tensor, float]:
    """Integrated gradients of the ``target`` logit w.r.t. the input embeddings: ``[seq]`` scores.

    The baseline replaces every token except the special ones by ``baseline_token`` (default: the
    pad token). Gradients at ``steps`` points on the straight path (midpoint rule) are computed in
    batches. Returns the scores and the completeness gap: sum(scores) − (f(x) − f(baseline)),
    which shrinks towards 0 as ``steps`` grows.
    """
    batch = _single(enc)
    model.eval()
    ids = batch["input_ids"]
    fill = model.config.pad_token_id if baseline_token is None else baseline_token
    special = torch.zeros_like(ids, dtype=torch.bool)
    special[:, 0] = True
    special[:, (batch["attention_mask"].sum() - 1).item()] = True          # [CLS] … [SEP]
    base_ids = torch.where(special, ids, torch.full_like(ids, fill))
    emb = model.get_input_embeddings()
    x, x0 = emb(ids).detach(), emb(base_ids).detach()
    alphas = (torch.arange(steps, dtype=x.dtype) + 0.5) / steps
    total = torch.zeros_like(x[0])
    for s in range(0, steps, batch_size):
        a = alphas[s:s + batch_size].view(-1, 1, 1)
        path = (x0 + a * (x - x0)).requires_grad_(True)
        logits = _forward_embeds(model, batch, path)[:, target]
        (grad,) = torch.autograd.grad(logits.sum(), path)
        total += grad.sum(0)
    scores = ((x - x0)[0] * total / steps).sum(-1).detach()
    with torch.no_grad():
        ends = _forward_embeds(model, batch, torch.cat([x, x0]))[:, target]
    gap = float(scores.sum() - (ends[0] - ends[1]))
    return scores, gap


@torch.inference_mode()
def deletion_curve(model, enc, scores: torch.Tensor, target: int, ks: Sequence[int],
                   replacement: int | None = None) -> np.ndarray:
    """Probability of ``target`` after replacing the ``k`` highest-scoring tokens (for each k in
    ``ks``) by ``replacement`` (default: the model's pad token id). Special tokens (first and
    last real token) are never deleted. One batched forward pass."""
    batch = _single(enc)
    ids = batch["input_ids"][0]
    n = int(batch["attention_mask"][0].sum())
    fill = replacement if replacement is not None else model.config.pad_token_id
    candidates = torch.arange(1, n - 1)
    order = candidates[scores[1:n - 1].argsort(descending=True)]
    rows = []
    for k in ks:                                            # a handful of deletion sizes
        row = ids.clone()
        row[order[:k]] = fill
        rows.append(row)
    ids_k = torch.stack(rows)
    rest = {k: v.expand(len(ks), -1) for k, v in batch.items() if k != "input_ids"}
    probs = model(input_ids=ids_k, **rest).logits.float().softmax(-1)[:, target]
    return probs.numpy()


def colour_html(tokens: Sequence[str], scores: Sequence[float] | torch.Tensor) -> str:
    """Tokens as HTML with a red (positive score) / blue (negative) background, scaled to the max."""
    import html

    s = np.asarray(torch.as_tensor(scores, dtype=torch.float32))
    if len(tokens) != len(s):
        raise ValueError(f"{len(tokens)} tokens but {len(s)} scores.")
    top = np.abs(s).max() or 1.0
    spans = []
    for tok, v in zip(tokens, s / top):
        rgb = (255, int(255 * (1 - v)), int(255 * (1 - v))) if v >= 0 else (int(255 * (1 + v)), int(255 * (1 + v)), 255)
        spans.append(f'<span style="background: rgb{rgb}; padding: 1px 2px; margin: 1px; '
                     f'border-radius: 3px; color: black">{html.escape(tok)}</span>')
    return "<div style='line-height: 2'>" + " ".join(spans) + "</div>"
