"""Pretraining objectives on one encoder: BERT's MLM (+ NSP), GPT's next-token prediction, ELECTRA's replaced-token detection."""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import torch
from sklearn.metrics import roc_auc_score
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from tqdm import tqdm
from transformers import (BertConfig, BertForMaskedLM, BertForPreTraining, BertForTokenClassification,
                          BertLMHeadModel, BertTokenizerFast, get_linear_schedule_with_warmup)

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
    """Per-step losses recorded by :func:`pretrain`, by name (``mlm``, ``nsp``, ``clm``, ...)."""

    losses: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    evals: list[dict] = field(default_factory=list)  # {"step": ..., **evaluate(...)} on held-out data

    @property
    def mlm_loss(self) -> list[float]:
        """Return the MLM loss of every step."""
        return self.losses.get("mlm", [])

    @property
    def nsp_loss(self) -> list[float]:
        """Return the NSP loss of every step (empty without an NSP head)."""
        return self.losses.get("nsp", [])


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


def bert_losses(model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Return BERT's losses by name: ``mlm``, and ``nsp`` when the model has an NSP head."""
    mlm, nsp = pretraining_losses(model, batch)
    return {"mlm": mlm} if nsp is None else {"mlm": mlm, "nsp": nsp}


def pretrain(model: nn.Module, examples: list[dict], collator, steps: int, batch_size: int = 32,
             lr: float = 1e-3, weight_decay: float = 0.01, warmup: float = 0.1, seed: int = 0,
             device: torch.device | str | None = None, progress: bool = True,
             eval_examples: list[dict] | None = None, eval_every: int = 0,
             objective: str = "mlm") -> History:
    """Train ``model`` on ``objective`` (see :data:`OBJECTIVES`) for ``steps`` batches; return a :class:`History`."""
    if not examples:
        raise ValueError("pretrain() got no examples.")
    spec = get_objective(objective)
    device = device or get_device()
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer(model, lr, weight_decay)
    scheduler = get_linear_schedule_with_warmup(optimizer, max(1, int(warmup * steps)), steps)
    rng = random.Random(seed)
    order: list[int] = []
    history = History()
    start, eval_seconds = time.perf_counter(), 0.0
    for step in tqdm(range(steps), desc=f"pretraining ({objective})", disable=not progress, mininterval=5):
        if len(order) < batch_size:
            fresh = list(range(len(examples)))
            rng.shuffle(fresh)
            order += fresh
        idx, order = order[:batch_size], order[batch_size:]
        batch = {k: v.to(device) for k, v in collator([examples[i] for i in idx]).items()}
        losses = spec.losses(model, batch)
        loss = sum(spec.weights.get(name, 1.0) * value for name, value in losses.items())
        for name, value in losses.items():
            history.losses.setdefault(name, []).append(value.item())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        if eval_examples and eval_every and (step + 1) % eval_every == 0:
            eval_start = time.perf_counter()
            result = spec.evaluate(model, eval_examples, spec.collator(collator.tokenizer, seed=seed + 1),
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


# --------------------------------------------------------------------------- BERT, GPT and ELECTRA
def pack_blocks(tokenizer, texts: Iterable[str], length: int = 64) -> list[dict]:
    """Concatenate the documents' tokens and cut them into ``[CLS] ... [SEP]`` blocks of ``length`` tokens."""
    if length < 3:
        raise ValueError(f"a block needs room for [CLS], one token and [SEP]; length={length} is too short")
    ids = [t for doc in tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"] for t in doc]
    body = length - 2
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    return [{"input_ids": [cls, *ids[s:s + body], sep], "attention_mask": [1] * length}
            for s in range(0, len(ids) - body + 1, body)]


class CausalLMCollator:
    """Pad a list of tokenized examples for next-token prediction (the targets are the inputs, shifted)."""

    def __init__(self, tokenizer, seed: int = 0) -> None:
        self.tokenizer = tokenizer

    def __call__(self, examples: list[dict]) -> dict[str, torch.Tensor]:
        batch = self.tokenizer.pad([{k: e[k] for k in ("input_ids", "attention_mask")} for e in examples],
                                   return_tensors="pt")
        return dict(batch)


def causal_lm_losses(model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Return GPT's loss ``clm``: each position predicts the next token, seeing only those before it."""
    out = model.bert(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    targets, valid = batch["input_ids"][:, 1:], batch["attention_mask"][:, 1:].bool()
    logits = model.cls.predictions(out.last_hidden_state[:, :-1][valid])
    return {"clm": nn.functional.cross_entropy(logits, targets[valid])}


class ReplacedTokenDetector(nn.Module):
    """ELECTRA: a small MLM generator fills the masked positions, the discriminator tells which tokens it replaced."""

    def __init__(self, generator: BertForMaskedLM, discriminator: BertForTokenClassification) -> None:
        super().__init__()
        if discriminator.config.num_labels != 1:
            raise ValueError("the discriminator scores one logit per token: build it with num_labels=1")
        self.generator, self.discriminator = generator, discriminator

    def corrupt(self, batch: dict[str, torch.Tensor], sample: bool = True
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return ``(generator logits at masked positions, corrupted ids, replaced 0/1)`` for an MLM batch."""
        labels, chosen = batch["labels"], batch["labels"] != IGNORE
        hidden = self.generator.bert(input_ids=batch["input_ids"],
                                     attention_mask=batch["attention_mask"]).last_hidden_state
        logits = self.generator.cls.predictions(hidden[chosen])
        with torch.no_grad():
            fill = (torch.multinomial(logits.float().softmax(-1), 1).squeeze(-1) if sample
                    else logits.argmax(-1))
        original = torch.where(chosen, labels, batch["input_ids"])
        corrupted = original.clone()
        corrupted[chosen] = fill
        return logits, corrupted, (corrupted != original).float()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                **kwargs) -> torch.Tensor:
        """Return the discriminator's replaced-token logits ``[batch, n]``."""
        return self.discriminator(input_ids=input_ids, attention_mask=attention_mask).logits.squeeze(-1)


def electra_losses(model: ReplacedTokenDetector, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Return ELECTRA's two losses: the generator's MLM loss and the discriminator's per-token replaced/original loss."""
    gen_logits, corrupted, replaced = model.corrupt(batch)
    chosen = batch["labels"] != IGNORE
    real = batch["attention_mask"].bool()
    scores = model(corrupted, batch["attention_mask"])
    return {"generator": nn.functional.cross_entropy(gen_logits, batch["labels"][chosen]),
            "discriminator": nn.functional.binary_cross_entropy_with_logits(scores[real], replaced[real])}


@torch.inference_mode()
def evaluate_clm(model: nn.Module, examples: list[dict], collator, batch_size: int = 64,
                 device: torch.device | str | None = None) -> dict[str, float]:
    """Return held-out next-token accuracy, loss, perplexity, and the most-frequent-token baseline."""
    device = device or get_device()
    model.to(device).eval()
    correct = total = 0
    loss_sum = 0.0
    counts: dict[int, int] = {}
    for s in range(0, len(examples), batch_size):
        batch = {k: v.to(device) for k, v in collator(examples[s:s + batch_size]).items()}
        hidden = model.bert(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        targets, valid = batch["input_ids"][:, 1:], batch["attention_mask"][:, 1:].bool()
        logits = model.cls.predictions(hidden[:, :-1][valid])
        loss_sum += nn.functional.cross_entropy(logits, targets[valid], reduction="sum").item()
        correct += (logits.argmax(-1) == targets[valid]).sum().item()
        total += int(valid.sum())
        for t in targets[valid].tolist():
            counts[t] = counts.get(t, 0) + 1
    loss = loss_sum / max(1, total)
    return {"next_token_accuracy": correct / max(1, total), "loss": loss, "perplexity": float(torch.tensor(loss).exp()),
            "most_frequent_baseline": max(counts.values()) / max(1, total) if counts else 0.0}


@torch.inference_mode()
def evaluate_electra(model: ReplacedTokenDetector, examples: list[dict], collator, batch_size: int = 64,
                     device: torch.device | str | None = None) -> dict[str, float]:
    """Return held-out replaced-token detection: accuracy, AUC, share replaced (the all-original baseline's error)."""
    device = device or get_device()
    model.to(device).eval()
    scores, truth, gen_correct, gen_total = [], [], 0, 0
    for s in range(0, len(examples), batch_size):
        batch = {k: v.to(device) for k, v in collator(examples[s:s + batch_size]).items()}
        batch.pop("next_sentence_label", None)
        gen_logits, corrupted, replaced = model.corrupt(batch)
        chosen = batch["labels"] != IGNORE
        gen_correct += (gen_logits.argmax(-1) == batch["labels"][chosen]).sum().item()
        gen_total += int(chosen.sum())
        real = batch["attention_mask"].bool()
        scores.append(model(corrupted, batch["attention_mask"])[real].float().cpu())
        truth.append(replaced[real].cpu())
    p, y = torch.cat(scores).sigmoid(), torch.cat(truth)
    share = float(y.mean())
    return {"detection_accuracy": float(((p > 0.5).float() == y).float().mean()),
            "detection_auc": float(roc_auc_score(y.numpy(), p.numpy())) if 0 < share < 1 else float("nan"),
            "replaced_share": share, "all_original_baseline": 1 - share,
            "generator_masked_accuracy": gen_correct / max(1, gen_total)}


@dataclass(frozen=True)
class Objective:
    """One pretraining objective: which attention, how a batch is made, its losses (and weights), its held-out metrics."""

    name: str
    attention: str  # "bidirectional" (BERT, ELECTRA) or "causal" (GPT)
    collator: Callable  # (tokenizer, seed=...) -> collator
    losses: Callable[[nn.Module, dict], dict[str, torch.Tensor]]
    evaluate: Callable  # (model, examples, collator, device=...) -> dict of held-out metrics
    weights: dict[str, float] = field(default_factory=dict)  # loss name -> weight in the sum (default 1)


OBJECTIVES: dict[str, Objective] = {
    "mlm": Objective("mlm", "bidirectional", MLMCollator, bert_losses, evaluate),
    "clm": Objective("clm", "causal", CausalLMCollator, causal_lm_losses, evaluate_clm),
    # ELECTRA weights the discriminator's loss 50 times the generator's (Clark et al., 2020).
    "electra": Objective("electra", "bidirectional", MLMCollator, electra_losses, evaluate_electra,
                         {"discriminator": 50.0}),
}


def get_objective(name: str) -> Objective:
    """Return the :class:`Objective` called ``name`` or raise a clear error listing them."""
    if name not in OBJECTIVES:
        raise ValueError(f"unknown pretraining objective {name!r}; choose one of {', '.join(OBJECTIVES)} "
                         "(mlm = BERT's masked LM, with NSP when the model has its head; clm = GPT's "
                         "next-token prediction; electra = replaced-token detection)")
    return OBJECTIVES[name]


def generator_config(config: BertConfig) -> BertConfig:
    """Return ELECTRA's generator config: the discriminator's depth at half its width (hidden 128 -> 64)."""
    return BertConfig(**{**config.to_dict(), "hidden_size": config.hidden_size // 2,
                         "num_attention_heads": max(1, config.num_attention_heads // 2),
                         "intermediate_size": config.intermediate_size // 2})


def objective_model(objective: str, config: BertConfig) -> nn.Module:
    """Return a freshly initialised model for ``objective`` whose encoder is a ``BertModel`` of ``config``."""
    name = get_objective(objective).name
    if name == "mlm":
        return BertForMaskedLM(config)
    if name == "clm":
        return BertLMHeadModel(BertConfig(**{**config.to_dict(), "is_decoder": True, "use_cache": False}))
    return ReplacedTokenDetector(BertForMaskedLM(generator_config(config)),
                                 BertForTokenClassification(token_scorer_config(config)))


def token_scorer_config(config: BertConfig) -> BertConfig:
    """Return ``config`` for one logit per token (ELECTRA's discriminator head)."""
    settings = {k: v for k, v in config.to_dict().items() if k not in ("id2label", "label2id")}
    return BertConfig(**settings, num_labels=1)


def step_flops(model: nn.Module, batch: dict[str, torch.Tensor], objective: str) -> int:
    """Return the floating-point operations of one training step (forward and backward) on ``batch``."""
    spec = get_objective(objective)
    model.train()
    with FlopCounterMode(display=False) as counter:
        losses = spec.losses(model, batch)
        sum(spec.weights.get(k, 1.0) * v for k, v in losses.items()).backward()
    model.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())


def equal_compute_steps(objective: str, mlm_steps: int, config: BertConfig, tokenizer, examples: list[dict],
                        seed: int = 0) -> tuple[int, int, int]:
    """Return ``(steps, FLOPs per step, MLM's FLOPs per step)``: the steps of ``objective`` that cost ``mlm_steps`` MLM steps."""
    flops = {}
    for name in ("mlm", objective):
        seed_everything(seed)
        batch = get_objective(name).collator(tokenizer, seed=seed)(examples)
        flops[name] = step_flops(objective_model(name, config), batch, name)
    return max(1, round(mlm_steps * flops["mlm"] / flops[objective])), flops[objective], flops["mlm"]


def pretrain_objective(objective: str, recipe: dict, tokenizer, progress: bool = True,
                       eval_every: int | None = None) -> tuple[nn.Module, History, dict]:
    """Pretrain the small encoder on ``objective`` with the compute of ``recipe["mlm_steps"]`` MLM steps.

    Returns ``(model, history, budget)``; ``budget`` records steps, FLOPs per step and in all, and tokens seen.
    """
    docs = load_corpus("bbc_news", "train")
    blocks = pack_blocks(tokenizer, docs, recipe["max_length"])
    held_out = pack_blocks(tokenizer, load_corpus("bbc_news", "validation"), recipe["max_length"])[:1000]
    config = tiny_bert_config(len(tokenizer), recipe["max_length"])
    steps, flops, mlm_flops = equal_compute_steps(objective, recipe["mlm_steps"], config, tokenizer,
                                                  blocks[:recipe["batch_size"]], recipe["seed"])
    seed_everything(recipe["seed"])
    model = objective_model(objective, config)
    history = pretrain(model, blocks, get_objective(objective).collator(tokenizer, seed=recipe["seed"]),
                       steps=steps, batch_size=recipe["batch_size"], lr=recipe["lr"], warmup=recipe["warmup"],
                       seed=recipe["seed"], progress=progress, eval_examples=held_out,
                       eval_every=eval_every or max(1, steps // 8), objective=objective)
    budget = {"steps": steps, "flops_per_step": flops, "mlm_flops_per_step": mlm_flops,
              "total_flops": steps * flops, "tokens_seen": steps * recipe["batch_size"] * recipe["max_length"],
              "parameters": sum(p.numel() for p in model.parameters())}
    return model.cpu().eval(), history, budget


def encoder_of(model: nn.Module) -> nn.Module:
    """Return the ``BertModel`` inside a pretraining model (ELECTRA: the discriminator's), for fine-tuning."""
    if isinstance(model, ReplacedTokenDetector):
        return model.discriminator.bert
    if hasattr(model, "bert"):
        return model.bert
    raise TypeError(f"{type(model).__name__} has no BERT encoder inside: pass a model from "
                    "models.load_pretrained('mlm' | 'clm' | 'electra') or a BertFor... model")


# --------------------------------------------------------------------------- probes: what each objective is good at
@torch.inference_mode()
def guess_tokens(model: nn.Module, objective: str, mask_token_id: int, sep_token_id: int,
                 examples: list[dict], where: str = "middle", seed: int = 0) -> dict[str, float]:
    """Return the accuracy of guessing one hidden token per block, seeing both sides (``middle``) or only its left.

    An MLM gets ``[MASK]`` at the position (``end``: the text is cut after it); a causal LM always sees only the
    left (``where`` changes nothing for it). One position per block, drawn with ``seed`` away from [CLS]/[SEP].
    """
    if where not in ("middle", "end"):
        raise ValueError(f"where must be 'middle' (both sides visible) or 'end' (only the left), not {where!r}")
    device = next(model.parameters()).device
    ids = torch.tensor([e["input_ids"] for e in examples])
    n, length = ids.shape
    g = torch.Generator().manual_seed(seed)
    t = torch.randint(1, length - 1, (n,), generator=g)  # drawn on the CPU: the same positions on any device
    ids, t = ids.to(device), t.to(device)
    rows = torch.arange(n, device=device)
    target = ids[rows, t]
    if get_objective(objective).attention == "causal":
        logits = model(input_ids=ids).logits[rows, t - 1]
    else:
        inputs, mask = ids.clone(), torch.ones_like(ids)
        inputs[rows, t] = mask_token_id
        if where == "end":
            position = torch.arange(length, device=device).expand(n, -1)
            inputs[position == (t + 1)[:, None]] = sep_token_id
            mask = (position <= (t + 1)[:, None]).long()
            inputs = inputs * mask
        logits = model(input_ids=inputs, attention_mask=mask).logits[rows, t]
    return {"accuracy": float((logits.argmax(-1) == target).float().mean()), "positions": n}


@torch.inference_mode()
def continue_text(model: nn.Module, objective: str, tokenizer, text: str, n: int = 8) -> str:
    """Return ``text`` extended by ``n`` greedy tokens: a causal LM predicts the next one, an MLM fills a final [MASK]."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    ids = [tokenizer.cls_token_id, *ids]
    causal = get_objective(objective).attention == "causal"
    device = next(model.parameters()).device
    for _ in range(n):
        if causal:
            logits = model(input_ids=torch.tensor([ids], device=device)).logits[0, -1]
        else:
            inputs = torch.tensor([[*ids, tokenizer.mask_token_id, tokenizer.sep_token_id]], device=device)
            logits = model(input_ids=inputs).logits[0, -2]
        ids.append(int(logits.argmax()))
    return tokenizer.decode(ids[1:])


@torch.inference_mode()
def replaced_probabilities(model: ReplacedTokenDetector, tokenizer, text: str) -> list[tuple[str, float]]:
    """Return each token of ``text`` with the discriminator's probability that it was replaced."""
    enc = tokenizer(text, return_tensors="pt").to(next(model.parameters()).device)
    probs = model(enc["input_ids"], enc["attention_mask"])[0].sigmoid()
    tokens = tokenizer.convert_ids_to_tokens(enc["input_ids"][0])
    return [(tok, round(float(p), 3)) for tok, p in zip(tokens, probs)][1:-1]
