"""Looking inside a fine-tuned classifier: attention, token attributions, and a deletion test of both."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from scipy import stats
from tqdm import tqdm

from .inference import predict


def _single(enc) -> dict[str, torch.Tensor]:
    batch = {k: v for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
    if batch["input_ids"].shape[0] != 1:
        raise ValueError("pass one example (batch size 1); loop over examples outside.")
    return batch


@torch.inference_mode()
def attention_maps(model, enc) -> torch.Tensor:
    """Return attention probabilities ``[layers, heads, seq, seq]`` of one example (eager attention)."""
    batch = _single(enc)
    previous = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        out = model(**batch, output_attentions=True)
    finally:
        model.set_attn_implementation(previous)
    return torch.stack([a[0] for a in out.attentions]).float()


def attention_rollout(attentions: torch.Tensor, residual: float = 0.5) -> torch.Tensor:
    """Attention rollout ``[seq, seq]`` through all layers, residual counted; row 0 is ``[CLS]``'s."""
    if attentions.dim() != 4:
        raise ValueError("expected attentions of shape [layers, heads, seq, seq].")
    seq = attentions.shape[-1]
    eye = torch.eye(seq, dtype=attentions.dtype, device=attentions.device)
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
    """Integrated gradients of the ``target`` logit from a pad-token baseline: ``(scores [seq], gap)``."""
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
    alphas = (torch.arange(steps, dtype=x.dtype, device=x.device) + 0.5) / steps
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
    """P(``target``) after replacing the ``k`` top-scored tokens, for each k in ``ks`` (specials kept)."""
    batch = _single(enc)
    ids = batch["input_ids"][0]
    n = int(batch["attention_mask"][0].sum())
    fill = replacement if replacement is not None else model.config.pad_token_id
    candidates = torch.arange(1, n - 1, device=ids.device)
    order = candidates[scores[1:n - 1].to(ids.device).argsort(descending=True)]
    rows = []
    for k in ks:                                            # a handful of deletion sizes
        row = ids.clone()
        row[order[:k]] = fill
        rows.append(row)
    ids_k = torch.stack(rows)
    rest = {k: v.expand(len(ks), -1) for k, v in batch.items() if k != "input_ids"}
    probs = model(input_ids=ids_k, **rest).logits.float().softmax(-1)[:, target]
    return probs.cpu().numpy()


def colour_html(tokens: Sequence[str], scores: Sequence[float] | torch.Tensor) -> str:
    """Tokens as HTML with a red (positive score) / blue (negative) background, scaled to the max."""
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


METHODS = ("attention (last layer)", "attention rollout", "gradient × input", "integrated gradients", "random")


def token_scores(model, enc, target: int, methods: Sequence[str] = METHODS, ig_steps: int = 32,
                 seed: int = 0) -> dict[str, torch.Tensor]:
    """Return one importance score per token of one example by each of ``methods`` (see :data:`METHODS`)."""
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise ValueError(f"unknown methods {sorted(unknown)}; choose from {list(METHODS)}.")
    out: dict[str, torch.Tensor] = {}
    if any(m.startswith("attention") for m in methods):
        att = attention_maps(model, enc)
        if "attention (last layer)" in methods:
            out["attention (last layer)"] = att[-1].mean(0)[0]
        if "attention rollout" in methods:
            out["attention rollout"] = attention_rollout(att)[0]
    if "gradient × input" in methods:
        out["gradient × input"] = grad_x_input(model, enc, target)
    if "integrated gradients" in methods:
        out["integrated gradients"] = integrated_gradients(model, enc, target, steps=ig_steps)[0]
    if "random" in methods:
        g = torch.Generator().manual_seed(seed)
        out["random"] = torch.rand(enc["input_ids"].shape[1], generator=g)
    return {m: out[m] for m in methods}


def deletion_benchmark(model, tokenizer, texts: Sequence[str], fractions: Sequence[float] = (0, .1, .2, .3, .4, .5),
                       methods: Sequence[str] = METHODS, max_length: int = 64, ig_steps: int = 32,
                       replacements: Mapping[str, int] | None = None, progress: bool = True) -> pd.DataFrame:
    """Deletion curves of each method on each text, target = the model's prediction: row per fraction and replacement.

    ``replacements`` maps a name to the token id that deleted tokens become (default ``{"[PAD]": pad id}``);
    each method's scores are computed once and used for every replacement.
    """
    if len(texts) == 0:
        raise ValueError("deletion_benchmark() needs at least one text.")
    if replacements is None:
        replacements = {"[PAD]": tokenizer.pad_token_id}
    device = next(model.parameters()).device
    targets = predict(model, tokenizer, list(texts), max_length=max_length).argmax(-1).tolist()
    rows = []
    for i, text in enumerate(tqdm(texts, desc="deletion curves", disable=not progress, mininterval=5)):
        enc = tokenizer(text, truncation=True, max_length=max_length, return_tensors="pt").to(device)
        target = targets[i]
        ks = [int(round(f * (enc["input_ids"].shape[1] - 2))) for f in fractions]  # of the non-special tokens
        for method, scores in token_scores(model, enc, target, methods, ig_steps, seed=i).items():
            for name, token in replacements.items():
                probs = deletion_curve(model, enc, scores.cpu(), target, ks, replacement=token)
                rows += [{"text": i, "method": method, "replacement": name, "fraction": f, "k": k, "prob": float(p)}
                         for f, k, p in zip(fractions, ks, probs)]
    return pd.DataFrame(rows)


def aopc(curve: Sequence[float]) -> float:
    """Area over the perturbation curve: mean drop ``p[0] − p[k]`` over k ≥ 1 (higher = more faithful)."""
    p = np.asarray(curve, dtype=float)
    if p.size < 2:
        raise ValueError("a deletion curve needs the undeleted point and at least one deletion.")
    return float((p[0] - p[1:]).mean())


def aopc_summary(curves: pd.DataFrame, baseline: str = "random") -> pd.DataFrame:
    """Per method: mean AOPC with a 95% t interval, and the paired difference to ``baseline`` with its interval.

    ``curves`` is :func:`deletion_benchmark`'s output for one replacement; rows are sorted by AOPC.
    """
    if "replacement" in curves and curves["replacement"].nunique() > 1:
        raise ValueError("curves mix several replacements; summarise one at a time: "
                         "curves[curves['replacement'] == '[PAD]'].")
    per_text = (curves.groupby(["method", "text"], sort=False)["prob"].apply(lambda p: aopc(p.to_numpy()))
                .unstack())                                   # [methods, texts]
    if baseline not in per_text.index:
        raise ValueError(f"baseline {baseline!r} is not among the methods {list(per_text.index)}.")
    n = per_text.shape[1]
    t = stats.t.ppf(0.975, n - 1)
    vs = per_text.sub(per_text.loc[baseline], axis=1)          # paired: same text, method − baseline
    table = pd.DataFrame({
        "AOPC": per_text.mean(axis=1),
        "± 95% CI": t * per_text.std(axis=1) / np.sqrt(n),
        f"− {baseline}": vs.mean(axis=1),
        "± 95% CI (paired)": t * vs.std(axis=1) / np.sqrt(n),
        f"better than {baseline} on": per_text.gt(per_text.loc[baseline], axis=1).mean(axis=1),
    }).sort_values("AOPC", ascending=False)
    table.loc[baseline, table.columns[2:]] = np.nan
    return table
