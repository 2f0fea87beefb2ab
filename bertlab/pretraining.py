"""BERT's pretraining objectives: masked language modelling (MLM) and next-sentence prediction (NSP)."""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from torch import nn
from tqdm import tqdm
from transformers import BertConfig, BertForPreTraining, BertTokenizerFast, get_linear_schedule_with_warmup

from .config import get_device, seed_everything
from .data import load_corpus
from .finetune import make_optimizer

IGNORE = -100


# --------------------------------------------------------------------------- masking
def mask_tokens(input_ids: torch.Tensor, special_tokens_mask: torch.Tensor, mask_token_id: int,
                vocab_size: int, mlm_probability: float = 0.15,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(masked inputs, labels)`` for MLM by BERT's 80/10/10 rule; special tokens are never chosen."""
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


def make_nsp_pairs(tokenizer, texts: Sequence[str], max_length: int = 64, seed: int = 0) -> list[dict]:
    """Return shuffled NSP examples (about half IsNext=0, half NotNext=1) from documents."""
    return PairBuilder(tokenizer, max_length, seed).add(texts).build()


# --------------------------------------------------------------------------- tokenizer
def train_wordpiece(texts: Iterable[str], vocab_size: int = 8000, lowercase: bool = True):
    """Train a BERT-style WordPiece tokenizer on ``texts``; return a ``BertTokenizerFast``."""
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


def pretraining_losses(model: nn.Module, batch: dict[str, torch.Tensor]
                       ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Return ``(MLM loss, NSP loss or None)``, projecting to the vocabulary only at masked positions."""
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
             device: torch.device | str | None = None, progress: bool = True,
             eval_examples: list[dict] | None = None, eval_every: int = 0) -> History:
    """Train ``BertForPreTraining``/``BertForMaskedLM`` for ``steps`` batches; return a :class:`History`."""
    if not examples:
        raise ValueError("pretrain() got no examples.")
    device = device or get_device()
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer(model, lr, weight_decay)
    scheduler = get_linear_schedule_with_warmup(optimizer, max(1, int(warmup * steps)), steps)
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
             device: torch.device | str | None = None) -> dict[str, float]:
    """Return masked-token accuracy, NSP accuracy (with an NSP head) and the most-frequent-token baseline."""
    device = device or get_device()
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


# --------------------------------------------------------------------------- the tiny BERT
def tiny_bert_config(vocab_size: int, max_length: int = 64) -> BertConfig:
    """Return the ``BertConfig`` of the small BERT pretrained from scratch (2 layers, hidden 128)."""
    return BertConfig(vocab_size=vocab_size, hidden_size=128, num_hidden_layers=2,
                      num_attention_heads=4, intermediate_size=512,
                      max_position_embeddings=max(128, max_length))


def pretrain_tiny_bert(recipe: dict, progress: bool = True, eval_every: int = 500, tokenizer=None):
    """Pretrain the small BERT by ``recipe``; return ``(model, tokenizer, history)``."""
    seed_everything(recipe["seed"])
    docs = load_corpus("bbc_news", "train")
    if tokenizer is None:
        tokenizer = train_wordpiece(docs, vocab_size=recipe["vocab_size"])
    examples = make_nsp_pairs(tokenizer, docs, max_length=recipe["max_length"], seed=recipe["seed"])
    held_out = make_nsp_pairs(tokenizer, load_corpus("bbc_news", "validation"),
                              max_length=recipe["max_length"], seed=recipe["seed"] + 1)[:1000]
    model = BertForPreTraining(tiny_bert_config(len(tokenizer), recipe["max_length"]))
    history = pretrain(model, examples, MLMCollator(tokenizer, seed=recipe["seed"]),
                       steps=recipe["steps"], batch_size=recipe["batch_size"], lr=recipe["lr"],
                       warmup=recipe["warmup"], seed=recipe["seed"], progress=progress,
                       eval_examples=held_out, eval_every=eval_every)
    return model.cpu().eval(), tokenizer, history
