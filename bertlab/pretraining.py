"""BERT's pretraining objectives: masked language modelling (MLM) and next-sentence prediction (NSP).

* :func:`mask_tokens` — choose 15% of the real tokens; of those 80% → ``[MASK]``, 10% → a random
  token, 10% unchanged; labels are ``-100`` (ignored by the loss) everywhere else.
* :func:`make_nsp_pairs` — segment pairs from real documents: 50% the true continuation
  (label 0, "IsNext"), 50% a segment from another document (label 1, "NotNext"), the label
  convention of ``transformers.BertForPreTraining``.
* :func:`train_wordpiece` — a small WordPiece vocabulary trained with ``tokenizers``.
* :func:`pretrain` — a plain training loop for ``BertForPreTraining`` that records both losses.
* :func:`tiny_bert` / :func:`minilm_mlm` — the two checkpoints of notebook 03, cached as
  ordinary ``save_pretrained`` folders and re-created when missing.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch
from torch import nn

IGNORE = -100


# --------------------------------------------------------------------------- masking
def mask_tokens(input_ids: torch.Tensor, special_tokens_mask: torch.Tensor, mask_token_id: int,
                vocab_size: int, mlm_probability: float = 0.15,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(masked inputs, labels)`` for MLM with BERT's 80/10/10 rule.

    ``special_tokens_mask`` is 1 at ``[CLS]``, ``[SEP]`` and ``[PAD]``: those are never chosen.
    """
    inputs, labels = input_ids.clone(), input_ids.clone()
    shape = input_ids.shape
    chosen = torch.rand(shape, generator=generator) < mlm_probability
    chosen &= ~special_tokens_mask.bool()
    labels[~chosen] = IGNORE
    draw = torch.rand(shape, generator=generator)
    to_mask = chosen & (draw < 0.8)
    to_random = chosen & (draw >= 0.8) & (draw < 0.9)  # the remaining 10% stay unchanged
    inputs[to_mask] = mask_token_id
    inputs[to_random] = torch.randint(vocab_size, shape, generator=generator)[to_random]
    return inputs, labels


class MLMCollator:
    """Pad a list of tokenized examples and mask them afresh on every call (dynamic masking)."""

    def __init__(self, tokenizer, mlm_probability: float = 0.15, seed: int = 0) -> None:
        self.tokenizer = tokenizer
        self.mlm_probability = mlm_probability
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, examples: list[dict]) -> dict[str, torch.Tensor]:
        keep = {"input_ids", "token_type_ids", "attention_mask", "next_sentence_label"}
        batch = self.tokenizer.pad([{k: v for k, v in e.items() if k in keep} for e in examples],
                                   return_tensors="pt")
        special = special_tokens_mask(batch["input_ids"], self.tokenizer)
        batch["input_ids"], batch["labels"] = mask_tokens(
            batch["input_ids"], special, self.tokenizer.mask_token_id, len(self.tokenizer),
            self.mlm_probability, self.generator)
        return dict(batch)


def special_tokens_mask(input_ids: torch.Tensor, tokenizer) -> torch.Tensor:
    """Return a 0/1 tensor marking the tokenizer's special tokens (CLS, SEP, PAD, ...)."""
    return torch.isin(input_ids, torch.tensor(tokenizer.all_special_ids)).long()


# --------------------------------------------------------------------------- NSP pairs
SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"']))\s+(?=[\"'A-Z0-9])")


def split_sentences(document: str) -> list[str]:
    """Split a document into sentences (paragraph breaks, then ``. ! ?`` before a capital)."""
    sentences = []
    for paragraph in re.split(r"\n\s*\n|\n", document):
        sentences += [s.strip() for s in SENTENCE_END.split(paragraph.strip()) if s.strip()]
    return sentences


@dataclass
class PairBuilder:
    """Builds NSP examples of at most ``max_length`` tokens from tokenized documents."""

    tokenizer: object
    max_length: int = 64
    seed: int = 0
    documents: list[list[list[int]]] = field(default_factory=list)  # doc -> sentences -> ids

    def add(self, texts: Iterable[str]) -> "PairBuilder":
        """Tokenize documents sentence by sentence (no special tokens)."""
        for text in texts:
            sents = split_sentences(text)
            if len(sents) < 2:
                continue
            ids = self.tokenizer(sents, add_special_tokens=False)["input_ids"]
            ids = [s for s in ids if s]
            if len(ids) >= 2:
                self.documents.append(ids)
        return self

    def chunks(self, doc: list[list[int]], budget: int) -> list[list[int]]:
        """Group consecutive sentences into chunks of about ``budget`` tokens."""
        out, current = [], []
        for sent in doc:
            current += sent
            if len(current) >= budget:
                out.append(current)
                current = []
        if current:
            out.append(current)
        return out

    def build(self) -> list[dict]:
        """Return examples with input_ids, token_type_ids, attention_mask, next_sentence_label."""
        if len(self.documents) < 2:
            raise ValueError("NSP needs at least two multi-sentence documents.")
        rng = random.Random(self.seed)
        half = (self.max_length - 3) // 2
        all_chunks = [self.chunks(d, half) for d in self.documents]
        examples = []
        for d, chunks in enumerate(all_chunks):
            for i in range(len(chunks) - 1):
                a = chunks[i]
                if rng.random() < 0.5:
                    b, label = chunks[i + 1], 0  # IsNext
                else:
                    other = rng.randrange(len(all_chunks) - 1)
                    other += other >= d  # any document but this one
                    b, label = rng.choice(all_chunks[other]), 1  # NotNext
                a, b = truncate_pair(a, b, self.max_length - 3)
                cls, sep = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
                enc = [cls, *a, sep, *b, sep]  # [CLS] A [SEP] B [SEP]
                types = [0] * (len(a) + 2) + [1] * (len(b) + 1)
                examples.append({"input_ids": enc, "token_type_ids": types,
                                 "attention_mask": [1] * len(enc), "next_sentence_label": label})
        rng.shuffle(examples)
        return examples


def truncate_pair(a: list[int], b: list[int], budget: int) -> tuple[list[int], list[int]]:
    """Trim the longer segment (A from its start, B from its end) until both fit ``budget``."""
    a, b = list(a), list(b)
    while len(a) + len(b) > budget:
        if len(a) > len(b):
            a.pop(0)
        else:
            b.pop()
    return a, b


def make_nsp_pairs(texts: Sequence[str], tokenizer, max_length: int = 64, seed: int = 0) -> list[dict]:
    """Return shuffled NSP examples (about half IsNext=0, half NotNext=1) from documents."""
    return PairBuilder(tokenizer, max_length, seed).add(texts).build()


# --------------------------------------------------------------------------- tokenizer
def train_wordpiece(texts: Iterable[str], vocab_size: int = 8000, lowercase: bool = True):
    """Train a BERT-style WordPiece tokenizer on ``texts``; return a ``BertTokenizerFast``."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=lowercase)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials,
                                        min_frequency=2, show_progress=False)
    tok.train_from_iterator(texts, trainer)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return BertTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                             cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                             do_lower_case=lowercase, model_max_length=512)


# --------------------------------------------------------------------------- training
@dataclass
class History:
    """Per-step losses recorded by :func:`pretrain`."""

    mlm_loss: list[float] = field(default_factory=list)
    nsp_loss: list[float] = field(default_factory=list)
    seconds: float = 0.0
    evals: list[dict] = field(default_factory=list)  # {"step": ..., **evaluate(...)} on held-out data


def linear_warmup(optimizer: torch.optim.Optimizer, warmup: int, total: int):
    """Return a LambdaLR: linear warm-up for ``warmup`` steps, then linear decay to 0."""
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def pretraining_losses(model: nn.Module, batch: dict[str, torch.Tensor]
                       ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Return ``(MLM loss, NSP loss or None)`` for ``BertForPreTraining``/``BertForMaskedLM``.

    Faster than ``model(**batch)``: the vocabulary projection, the most expensive matrix in a
    small BERT, is applied only at the ~15% masked positions instead of at every token.
    """
    labels = batch["labels"]
    out = model.bert(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                     token_type_ids=batch.get("token_type_ids"))
    chosen = labels != IGNORE
    logits = model.cls.predictions(out.last_hidden_state[chosen])
    mlm = nn.functional.cross_entropy(logits, labels[chosen])
    nsp = None
    if hasattr(model.cls, "seq_relationship") and "next_sentence_label" in batch:
        nsp = nn.functional.cross_entropy(model.cls.seq_relationship(out.pooler_output),
                                          batch["next_sentence_label"])
    return mlm, nsp


def pretrain(model: nn.Module, examples: list[dict], collator, steps: int, batch_size: int = 32,
             lr: float = 1e-3, weight_decay: float = 0.01, warmup: float = 0.1, seed: int = 0,
             device: torch.device | str = "cpu", progress: bool = True,
             eval_examples: list[dict] | None = None, eval_every: int = 0) -> History:
    """Train ``BertForPreTraining`` (or ``BertForMaskedLM``) for ``steps`` batches; return losses.

    With ``eval_examples`` and ``eval_every``, :func:`evaluate` runs on them every ``eval_every``
    steps (same masks each time) and the results go to ``History.evals``.
    """
    import time

    from tqdm import tqdm

    if not examples:
        raise ValueError("pretrain() got no examples.")
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=lr)
    scheduler = linear_warmup(optimizer, max(1, int(warmup * steps)), steps)
    rng = random.Random(seed)
    order: list[int] = []
    history = History()
    start, eval_seconds = time.perf_counter(), 0.0
    for step in tqdm(range(steps), desc="pretraining", disable=not progress, mininterval=5):
        if len(order) < batch_size:
            fresh = list(range(len(examples)))
            rng.shuffle(fresh)
            order += fresh
        idx, order = order[:batch_size], order[batch_size:]
        batch = {k: v.to(device) for k, v in collator([examples[i] for i in idx]).items()}
        mlm, nsp = pretraining_losses(model, batch)
        loss = mlm if nsp is None else mlm + nsp
        history.mlm_loss.append(mlm.item())
        if nsp is not None:
            history.nsp_loss.append(nsp.item())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        if eval_examples and eval_every and (step + 1) % eval_every == 0:
            eval_start = time.perf_counter()
            result = evaluate(model, eval_examples, MLMCollator(collator.tokenizer, seed=seed + 1),
                              device=device)
            history.evals.append({"step": step + 1, **result})
            model.train()
            eval_seconds += time.perf_counter() - eval_start
    history.seconds = time.perf_counter() - start - eval_seconds  # training time only
    model.eval()
    return history


@torch.inference_mode()
def evaluate(model: nn.Module, examples: list[dict], collator, batch_size: int = 64,
             device: torch.device | str = "cpu") -> dict[str, float]:
    """Return masked-token accuracy, NSP accuracy (if the model has an NSP head) and the
    accuracy of always predicting the most frequent masked token."""
    model.to(device).eval()
    correct = total = nsp_correct = nsp_total = 0
    counts: dict[int, int] = {}
    for s in range(0, len(examples), batch_size):
        batch = {k: v.to(device) for k, v in collator(examples[s:s + batch_size]).items()}
        nsp_labels = batch.pop("next_sentence_label", None)
        labels = batch.pop("labels")
        out = model(**batch)
        logits = out.prediction_logits if hasattr(out, "prediction_logits") else out.logits
        chosen = labels != IGNORE
        correct += (logits.argmax(-1)[chosen] == labels[chosen]).sum().item()
        total += chosen.sum().item()
        for t in labels[chosen].tolist():
            counts[t] = counts.get(t, 0) + 1
        if nsp_labels is not None and getattr(out, "seq_relationship_logits", None) is not None:
            nsp_correct += (out.seq_relationship_logits.argmax(-1) == nsp_labels).sum().item()
            nsp_total += len(nsp_labels)
    result = {"masked_accuracy": correct / max(1, total), "masked_tokens": float(total),
              "most_frequent_baseline": max(counts.values()) / max(1, total) if counts else 0.0}
    if nsp_total:
        result["nsp_accuracy"] = nsp_correct / nsp_total
    return result


@torch.inference_mode()
def fill_mask(model: nn.Module, tokenizer, text: str, k: int = 5) -> list[list[tuple[str, float]]]:
    """Return the top-``k`` (token, probability) predictions for each ``[MASK]`` in ``text``."""
    enc = tokenizer(text, return_tensors="pt").to(next(model.parameters()).device)
    out = model(**enc)
    logits = out.prediction_logits if hasattr(out, "prediction_logits") else out.logits
    positions = (enc["input_ids"][0] == tokenizer.mask_token_id).nonzero().flatten()
    if len(positions) == 0:
        raise ValueError(f"no {tokenizer.mask_token} in {text!r}")
    result = []
    for p in positions:
        probs = logits[0, p].softmax(-1)
        top = probs.topk(k)
        result.append([(tokenizer.convert_ids_to_tokens(int(i)), round(float(v), 3))
                       for v, i in zip(top.values, top.indices)])
    return result


# --------------------------------------------------------------------------- frozen-encoder MLM head
class FrozenEncoderMLM(nn.Module):
    """An MLM head (BERT's transform + tied decoder + bias) on top of cached encoder features."""

    def __init__(self, word_embeddings: torch.Tensor, hidden_size: int, eps: float = 1e-12) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.LayerNorm = nn.LayerNorm(hidden_size, eps=eps)
        self.register_buffer("decoder_weight", word_embeddings.detach().clone())  # tied, frozen
        self.bias = nn.Parameter(torch.zeros(word_embeddings.shape[0]))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Return vocabulary logits for feature vectors ``[..., hidden]``."""
        h = self.LayerNorm(nn.functional.gelu(self.dense(features)))
        return h @ self.decoder_weight.T + self.bias


@torch.inference_mode()
def encode_masked_positions(encoder: nn.Module, collator, examples: list[dict], layers: Sequence[int],
                            batch_size: int = 64, device: torch.device | str = "cpu",
                            progress: bool = True) -> tuple[dict[int, torch.Tensor], torch.Tensor]:
    """Mask once (static masking, as in the original BERT), run the frozen encoder once, and keep
    the hidden states of the chosen ``layers`` at masked positions only. Returns
    ``({layer: [n_masked, hidden]}, labels [n_masked])``."""
    from tqdm import tqdm

    encoder.to(device).eval()
    feats: dict[int, list[torch.Tensor]] = {layer: [] for layer in layers}
    labels_out = []
    for s in tqdm(range(0, len(examples), batch_size), desc="encoding", disable=not progress, mininterval=5):
        batch = {k: v.to(device) for k, v in collator(examples[s:s + batch_size]).items()}
        batch.pop("next_sentence_label", None)
        labels = batch.pop("labels")
        hidden = encoder(**batch, output_hidden_states=True).hidden_states
        chosen = labels != IGNORE
        for layer in layers:
            feats[layer].append(hidden[layer][chosen].float().cpu())
        labels_out.append(labels[chosen].cpu())
    return {k: torch.cat(v) for k, v in feats.items()}, torch.cat(labels_out)


def train_head(head: FrozenEncoderMLM, features: torch.Tensor, labels: torch.Tensor, steps: int,
               batch_size: int = 256, lr: float = 2e-3, seed: int = 0) -> list[float]:
    """Train the MLM head on cached features; return the loss per step."""
    g = torch.Generator().manual_seed(seed)
    params = [p for p in head.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    scheduler = linear_warmup(optimizer, max(1, steps // 10), steps)
    losses = []
    head.train()
    for _ in range(steps):
        idx = torch.randint(len(labels), (batch_size,), generator=g)
        loss = nn.functional.cross_entropy(head(features[idx]), labels[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    head.eval()
    return losses


@torch.inference_mode()
def head_accuracy(head: FrozenEncoderMLM, features: torch.Tensor, labels: torch.Tensor) -> float:
    """Return the masked-token accuracy of ``head`` on cached features."""
    preds = torch.cat([head(features[s:s + 4096]).argmax(-1) for s in range(0, len(labels), 4096)])
    return (preds == labels).float().mean().item()


def head_to_masked_lm(head: FrozenEncoderMLM, encoder: nn.Module, layer: int | None = None):
    """Return a ``BertForMaskedLM`` made of ``encoder`` (truncated to ``layer`` layers) and the head."""
    import copy

    from transformers import BertForMaskedLM

    config = copy.deepcopy(encoder.config)
    if layer is not None:
        config.num_hidden_layers = layer
    config.tie_word_embeddings = True
    mlm = BertForMaskedLM(config)
    state = {f"bert.{k}": v for k, v in encoder.state_dict().items() if not k.startswith("pooler")}
    state = {k: v for k, v in state.items()
             if not k.startswith("bert.encoder.layer.") or int(k.split(".")[3]) < config.num_hidden_layers}
    mlm.load_state_dict(state, strict=False)
    with torch.no_grad():
        p = mlm.cls.predictions
        p.transform.dense.load_state_dict(head.dense.state_dict())
        p.transform.LayerNorm.load_state_dict(head.LayerNorm.state_dict())
        p.bias.copy_(head.bias)
        if getattr(p.decoder, "bias", None) is not None:
            p.decoder.bias.copy_(head.bias)
    mlm.tie_weights()
    return mlm.eval()


# --------------------------------------------------------------------------- cached checkpoints
def checkpoint_dir(name: str) -> Path:
    """Return the cache folder of a checkpoint made by the workbook."""
    from .assets import cache_dir

    return cache_dir() / "checkpoints" / name


def save_checkpoint(name: str, model: nn.Module, tokenizer, info: dict | None = None) -> Path:
    """Save ``model`` and ``tokenizer`` with ``save_pretrained`` into the cache, atomically."""
    import json

    from .assets import new_tmp_dir, publish, write_manifest

    tmp = new_tmp_dir(name)
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "bertlab_info.json").write_text(json.dumps(info or {}, indent=1))
        write_manifest(tmp, checkpoint=name)
        return publish(tmp, checkpoint_dir(name))
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def load_checkpoint(name: str, cls=None):
    """Return ``(model, tokenizer)`` of a cached checkpoint, or None when it is not there."""
    from transformers import AutoModelForPreTraining, AutoTokenizer

    from .assets import is_complete

    folder = checkpoint_dir(name)
    if not is_complete(folder):
        return None
    cls = cls or AutoModelForPreTraining
    return cls.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder)


# --------------------------------------------------------------------------- the tiny BERT recipe
TINY_BERT = "tiny-bert-bbc"


def tiny_bert_config(vocab_size: int, max_length: int = 64):
    """Return the ``BertConfig`` of the small BERT pretrained from scratch (2 layers, hidden 128)."""
    from transformers import BertConfig

    return BertConfig(vocab_size=vocab_size, hidden_size=128, num_hidden_layers=2,
                      num_attention_heads=4, intermediate_size=512,
                      max_position_embeddings=max(128, max_length))


SHIPPED_CHECKPOINTS = Path(__file__).resolve().parent.parent / "data" / "checkpoints"


def tiny_bert_recipe(profile: str | None = None) -> dict:
    """The settings of the small BERT pretrained from scratch on BBC News (MLM + NSP).

    Quick: 8,000 steps (≈ 25-40 minutes on 2 CPU cores, so the result ships with the repository
    in ``data/checkpoints``); full: 30,000 steps (for a GPU).
    """
    from .config import profile as current

    return {"corpus": "bbc_news/train", "vocab_size": 4000, "max_length": 64, "batch_size": 32,
            "lr": 1e-3, "warmup": 0.05, "seed": 0,
            "steps": 8000 if (profile or current()) == "quick" else 30_000}


def pretrain_tiny_bert(recipe: dict, progress: bool = True, eval_every: int = 500, tokenizer=None):
    """Pretrain the small BERT with ``recipe``; return ``(model, tokenizer, history)``.

    A WordPiece vocabulary is trained first unless ``tokenizer`` is given (training breaks ties
    between equally frequent merges in no fixed order, so a few pieces vary from run to run).

    Held-out NSP pairs and masks (BBC News validation articles) are evaluated every
    ``eval_every`` steps, so the run records when each objective starts to learn.
    """
    from transformers import BertForPreTraining

    from .config import get_device, seed_everything
    from .data import load_corpus

    seed_everything(recipe["seed"])
    docs = load_corpus("bbc_news", "train")
    if tokenizer is None:
        tokenizer = train_wordpiece(docs, vocab_size=recipe["vocab_size"])
    examples = make_nsp_pairs(docs, tokenizer, max_length=recipe["max_length"], seed=recipe["seed"])
    held_out = make_nsp_pairs(load_corpus("bbc_news", "validation"), tokenizer,
                              max_length=recipe["max_length"], seed=recipe["seed"] + 1)[:1000]
    model = BertForPreTraining(tiny_bert_config(len(tokenizer), recipe["max_length"]))
    history = pretrain(model, examples, MLMCollator(tokenizer, seed=recipe["seed"]),
                       steps=recipe["steps"], batch_size=recipe["batch_size"], lr=recipe["lr"],
                       warmup=recipe["warmup"], seed=recipe["seed"], device=get_device(),
                       progress=progress, eval_examples=held_out, eval_every=eval_every)
    return model.cpu().eval(), tokenizer, history


def _made_by_recipe(folder: Path, recipe: dict) -> bool:
    """True when ``folder`` holds a checkpoint whose recorded recipe equals ``recipe``."""
    import json

    info = folder / "bertlab_info.json"
    return info.exists() and json.loads(info.read_text()).get("recipe") == recipe


def tiny_bert(retrain: bool = False, progress: bool = True):
    """Return ``(BertForPreTraining, tokenizer)`` of the small BERT of notebook 03.

    Looked up in the cache, then (quick profile) in the copy shipped in ``data/checkpoints``;
    re-created by :func:`pretrain_tiny_bert` when missing or when ``retrain`` is set.
    """
    import json
    import logging
    import shutil

    from transformers import BertForPreTraining

    from .assets import new_tmp_dir, publish
    from .config import profile

    name, recipe = f"{TINY_BERT}-{profile()}", tiny_bert_recipe()
    if not retrain:
        if _made_by_recipe(checkpoint_dir(name), recipe):
            cached = load_checkpoint(name, BertForPreTraining)
            if cached is not None:
                return cached
        shipped = SHIPPED_CHECKPOINTS / name
        if _made_by_recipe(shipped, recipe):
            tmp = new_tmp_dir(name)
            try:
                shutil.copytree(shipped, tmp, dirs_exist_ok=True)
                publish(tmp, checkpoint_dir(name))
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            return load_checkpoint(name, BertForPreTraining)
    logging.getLogger(__name__).warning(
        "Pretraining %s from scratch: %d steps (about 0.2-0.3 s per step on a 2-core CPU).",
        name, recipe["steps"])
    model, tokenizer, history = pretrain_tiny_bert(recipe, progress=progress)
    every = 100
    save_checkpoint(name, model, tokenizer, {
        "recipe": recipe, "train_seconds": round(history.seconds, 1),
        f"mlm_loss_per_{every}_steps": [round(float(np.mean(history.mlm_loss[i:i + every])), 4)
                                        for i in range(0, len(history.mlm_loss), every)],
        f"nsp_loss_per_{every}_steps": [round(float(np.mean(history.nsp_loss[i:i + every])), 4)
                                        for i in range(0, len(history.nsp_loss), every)],
        "held_out": history.evals})
    return load_checkpoint(name, BertForPreTraining)


def tiny_bert_dir(progress: bool = True) -> Path:
    """Return the cache folder of the tiny BERT checkpoint, re-creating it if missing."""
    from .config import profile

    tiny_bert(progress=progress)
    return checkpoint_dir(f"{TINY_BERT}-{profile()}")


# --------------------------------------------------------------------------- MiniLM + a new MLM head
def minilm_head_recipe(profile: str | None = None) -> dict:
    """Settings of the MLM head trained on the frozen MiniLM encoder (notebook 03)."""
    from .config import profile as current

    quick = (profile or current()) == "quick"
    return {"corpus": "bbc_news/train", "examples": 1200 if quick else 8000, "max_length": 64,
            "layer": 3, "steps": 400 if quick else 3000, "batch_size": 128, "lr": 1e-2, "seed": 0}


def minilm_masked_lm(retrain: bool = False, progress: bool = True):
    """Return ``(BertForMaskedLM, tokenizer)``: frozen MiniLM (first ``layer`` layers) with a new
    MLM head, from the cache or re-created (mask once, encode once, train the head on the cached
    hidden states at the masked positions; the output projection is tied to the input embeddings).
    """
    from transformers import BertForMaskedLM

    from .config import get_device, profile, seed_everything
    from .data import load_corpus
    from .models import load_encoder, load_tokenizer

    name, recipe = f"minilm-mlm-head-{profile()}", minilm_head_recipe()
    if not retrain and _made_by_recipe(checkpoint_dir(name), recipe):
        cached = load_checkpoint(name, BertForMaskedLM)
        if cached is not None:
            return cached
    seed_everything(recipe["seed"])
    tokenizer, encoder = load_tokenizer("minilm-l6"), load_encoder("minilm-l6")
    examples = make_nsp_pairs(load_corpus("bbc_news", "train"), tokenizer, recipe["max_length"],
                              seed=recipe["seed"])[:recipe["examples"]]
    layer = recipe["layer"]
    features, labels = encode_masked_positions(encoder, MLMCollator(tokenizer, seed=recipe["seed"]),
                                               examples, [layer], device=get_device(), progress=progress)
    head = FrozenEncoderMLM(encoder.embeddings.word_embeddings.weight, encoder.config.hidden_size,
                            encoder.config.layer_norm_eps)
    losses = train_head(head, features[layer], labels, recipe["steps"], recipe["batch_size"],
                        recipe["lr"], seed=recipe["seed"])
    save_checkpoint(name, head_to_masked_lm(head, encoder, layer), tokenizer, {
        "recipe": recipe, "masked_positions": len(labels),
        "loss_per_10_steps": [round(float(np.mean(losses[i:i + 10])), 4) for i in range(0, len(losses), 10)]})
    return load_checkpoint(name, BertForMaskedLM)
