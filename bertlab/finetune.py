"""Fine-tuning a BERT classifier: tokenize once, pad dynamically, batch by length, train, evaluate."""

from __future__ import annotations

import copy
import random
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import datasets
import numpy as np
import pandas as pd
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline
from torch import nn
from torch.utils.data import DataLoader, Sampler
from tqdm import tqdm
from transformers import (DataCollatorWithPadding, Trainer, TrainingArguments,
                          get_linear_schedule_with_warmup)
from transformers.trainer_callback import PrinterCallback

from .config import get_device, seed_everything
from .data import check_texts, short_repr
from .inference import predict


# --------------------------------------------------------------------------- data
def check_text_column(ds) -> None:
    """Raise a one-sentence error unless ``ds`` is a Dataset/DatasetDict whose ``text`` column holds only strings."""
    if not isinstance(ds, (datasets.Dataset, datasets.DatasetDict)):
        raise TypeError(f"tokenize_dataset() needs a datasets.Dataset or DatasetDict, got {short_repr(ds)}: "
                        "wrap texts with datasets.Dataset.from_dict({'text': texts, 'label': labels}).")
    splits = ds.items() if isinstance(ds, datasets.DatasetDict) else [(None, ds)]
    for name, split in splits:
        if "text" not in split.column_names:
            raise ValueError(f"tokenize_dataset() needs a 'text' column, but the data has {split.column_names}: "
                             "rename yours with ds.rename_column('your_column', 'text').")
        check_texts(split["text"], "the 'text' column" + (f" of split {name!r}" if name else ""),
                    "fill in or drop the missing texts first, e.g. ds.filter(lambda row: row['text'] is not None)")


def check_tokenized(tokenized, length_grouped: bool = True) -> None:
    """Raise a one-sentence error unless ``tokenized`` is a non-empty Dataset as tokenize_dataset() makes it."""
    if not isinstance(tokenized, datasets.Dataset):
        raise TypeError(f"the training data must be a tokenized datasets.Dataset, got {short_repr(tokenized)}: "
                        "make one with finetune.tokenize_dataset(tokenizer, ds).")
    columns = tokenized.column_names
    if len(tokenized) == 0:
        raise ValueError(f"the training data is an empty dataset (columns: {columns}): pass a split with rows.")
    if "text" not in columns and "input_ids" not in columns:
        raise ValueError(f"the training data has no 'text' column (columns: {columns}): rename yours with "
                         "ds.rename_column('your_column', 'text') and tokenize it with finetune.tokenize_dataset().")
    needed = ["input_ids", "length"] if length_grouped else ["input_ids"]
    if any(c not in columns for c in needed):
        raise ValueError(f"the training data is not tokenized (it needs {needed}, it has {columns}): "
                         "tokenize it first with finetune.tokenize_dataset(tokenizer, ds).")


def tokenize_dataset(tokenizer, ds, max_length: int = 128):
    """Tokenize a ``Dataset``/``DatasetDict`` once, unpadded; keep ``label``, add ``length`` for batching."""
    check_text_column(ds)

    def encode(batch):
        enc = tokenizer(batch["text"], truncation=True, max_length=max_length)
        enc["length"] = [len(ids) for ids in enc["input_ids"]]
        return enc

    return ds.map(encode, batched=True, remove_columns=["text"])


class LengthGroupedSampler(Sampler[list[int]]):
    """Yield batches of indices of similar length, in random order (sorted pools of ``pool`` batches)."""

    def __init__(self, lengths: Sequence[int], batch_size: int, shuffle: bool = True,
                 pool: int = 50, seed: int = 0) -> None:
        if len(lengths) == 0:
            raise ValueError("cannot batch an empty dataset")
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.pool = pool
        self.rng = random.Random(seed)

    def __iter__(self) -> Iterator[list[int]]:
        idx = list(range(len(self.lengths)))
        if not self.shuffle:  # evaluation: fully sorted, order restored by the caller
            idx.sort(key=lambda i: self.lengths[i])
            yield from (idx[s:s + self.batch_size] for s in range(0, len(idx), self.batch_size))
            return
        self.rng.shuffle(idx)
        span = self.batch_size * self.pool
        batches = []
        for s in range(0, len(idx), span):
            chunk = sorted(idx[s:s + span], key=lambda i: self.lengths[i])
            batches += [chunk[b:b + self.batch_size] for b in range(0, len(chunk), self.batch_size)]
        self.rng.shuffle(batches)
        yield from batches

    def __len__(self) -> int:
        return -(-len(self.lengths) // self.batch_size)


def make_loader(tokenizer, tokenized, batch_size: int = 32, shuffle: bool = True, seed: int = 0,
                length_grouped: bool = True, extra_columns: Sequence[str] = ()) -> DataLoader:
    """Return a dynamically padded (by default length-grouped) DataLoader; ``extra_columns`` ride along."""
    check_tokenized(tokenized, length_grouped)
    missing = [c for c in extra_columns if c not in tokenized.column_names]
    if missing:
        raise ValueError(f"extra_columns {missing} are not in the dataset (it has {tokenized.column_names}).")
    columns = [c for c in ("input_ids", "attention_mask", "token_type_ids", "label") if c in tokenized.column_names]
    columns += list(extra_columns)
    data = tokenized.with_format(columns=columns)
    collator = DataCollatorWithPadding(tokenizer)
    if length_grouped:
        sampler = LengthGroupedSampler(tokenized["length"], batch_size, shuffle, seed=seed)
        return DataLoader(data, batch_sampler=sampler, collate_fn=collator)
    g = torch.Generator().manual_seed(seed)
    return DataLoader(data, batch_size=batch_size, shuffle=shuffle, generator=g, collate_fn=collator)


def padding_share(loader: DataLoader) -> float:
    """Share of all token positions in ``loader``'s batches that are padding."""
    real = padded = 0
    for batch in loader:
        real += int(batch["attention_mask"].sum())
        padded += batch["attention_mask"].numel()
    if padded == 0:
        raise ValueError("padding_share() got a loader with no batches.")
    return 1 - real / padded


def check_labels(tokenized, num_labels: int, what: str = "the dataset") -> None:
    """Raise a one-sentence error unless ``tokenized`` has inputs and integer labels in ``0..num_labels-1``."""
    if not isinstance(tokenized, datasets.Dataset):
        raise TypeError(f"{what} must be a datasets.Dataset, got {short_repr(tokenized)}: "
                        "make one with finetune.tokenize_dataset(tokenizer, ds).")
    columns = tokenized.column_names
    if len(tokenized) == 0:
        raise ValueError(f"{what} is empty (columns: {columns}): nothing to train or evaluate on.")
    if "input_ids" not in columns and "text" not in columns:
        raise ValueError(f"{what} has no 'text' column (columns: {columns}): rename yours with "
                         "ds.rename_column('your_column', 'text') and tokenize it with finetune.tokenize_dataset().")
    if "label" not in columns:
        raise ValueError(f"{what} has no 'label' column (columns: {columns}): add the class ids with "
                         "ds.add_column('label', ids) or rename yours with ds.rename_column('your_column', 'label').")
    labels = np.asarray(tokenized["label"])
    if not np.issubdtype(labels.dtype, np.integer):
        first = next((y for y in tokenized["label"] if not isinstance(y, (int, np.integer))), labels[0])
        raise TypeError(f"the labels of {what} must be integer class ids, got {short_repr(first)}: "
                        "turn class names into ids with ds.class_encode_column('label').")
    bad = np.flatnonzero((labels < 0) | (labels >= num_labels))
    if bad.size:
        raise ValueError(f"Label {int(labels[bad[0]])} is out of range for a classifier with {num_labels} classes "
                         f"(0..{num_labels - 1}) at row {int(bad[0])} of {what}: fix the labels, or load the "
                         "model with every class name, load_classifier(..., labels=class_names).")


# --------------------------------------------------------------------------- training
@dataclass
class TrainResult:
    """What :func:`train` measured."""

    step_loss: list[float] = field(default_factory=list)
    epoch_train_loss: list[float] = field(default_factory=list)
    epoch_val_loss: list[float] = field(default_factory=list)
    epoch_val_accuracy: list[float] = field(default_factory=list)
    best_epoch: int = -1
    examples: int = 0
    tokens: int = 0
    seconds: float = 0.0

    @property
    def examples_per_second(self) -> float:
        """Training throughput (examples/s), evaluation excluded."""
        return self.examples / max(self.seconds, 1e-9)


def make_optimizer(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW with weight decay on weight matrices only (not on the 1-D biases and LayerNorm weights)."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim < 2 else decay).append(p)
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=lr)


def train(model: nn.Module, tokenizer, train_set, eval_set=None, epochs: int = 1,
          batch_size: int = 32, lr: float = 5e-5, weight_decay: float = 0.01,
          warmup: float = 0.1, max_grad_norm: float = 1.0, max_steps: int | None = None,
          seed: int = 0, device: torch.device | str | None = None, progress: bool = True,
          length_grouped: bool = True,
          loss_fn: Callable[[nn.Module, dict[str, torch.Tensor]], torch.Tensor] | None = None,
          extra_columns: Sequence[str] = ()) -> TrainResult:
    """Fine-tune a classifier, keeping the best epoch on ``eval_set``; ``loss_fn`` replaces cross-entropy."""
    seed_everything(seed)
    device = torch.device(device) if device is not None else get_device()
    check_labels(train_set, model.config.num_labels, "train_set")
    if eval_set is not None:
        check_labels(eval_set, model.config.num_labels, "eval_set")
    model.to(device)
    loader = make_loader(tokenizer, train_set, batch_size, shuffle=True, seed=seed,
                         length_grouped=length_grouped, extra_columns=extra_columns)
    total = epochs * len(loader) if max_steps is None else min(max_steps, epochs * len(loader))
    optimizer = make_optimizer(model, lr, weight_decay)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(warmup * total), total)
    use_amp = device.type == "cuda"
    amp_dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)
    result, best_acc, best_state, step = TrainResult(), -1.0, None, 0
    bar = tqdm(total=total, desc="fine-tuning", disable=not progress, mininterval=5)
    for epoch in range(epochs):
        model.train()
        losses = []
        start = time.perf_counter()
        for batch in loader:
            if step >= total:
                break
            batch = {k: v.to(device) for k, v in batch.items()}
            with torch.autocast(device.type, dtype=amp_dtype, enabled=use_amp):
                loss = model(**batch).loss if loss_fn is None else loss_fn(model, batch)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            losses.append(loss.item())
            result.examples += len(batch["input_ids"])
            result.tokens += int(batch["attention_mask"].sum())
            step += 1
            bar.update()
        result.seconds += time.perf_counter() - start
        result.step_loss += losses
        result.epoch_train_loss.append(float(np.mean(losses)) if losses else float("nan"))
        if eval_set is not None:
            logits = predict(model, tokenizer, eval_set, batch_size=128, device=device)
            labels = torch.tensor(eval_set["label"])
            result.epoch_val_loss.append(nn.functional.cross_entropy(logits, labels).item())
            acc = (logits.argmax(-1) == labels).float().mean().item()
            result.epoch_val_accuracy.append(acc)
            if acc > best_acc:
                best_acc, result.best_epoch = acc, epoch
                best_state = copy.deepcopy(model.state_dict())
        if step >= total:
            break
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return result


def train_with_trainer(model: nn.Module, tokenizer, train_set, eval_set=None, epochs: int = 1,
                       batch_size: int = 32, lr: float = 5e-5, weight_decay: float = 0.01,
                       warmup: float = 0.1, max_grad_norm: float = 1.0, seed: int = 0,
                       progress: bool = True) -> TrainResult:
    """Fine-tune with ``transformers.Trainer`` and the recipe of :func:`train`; return a TrainResult."""
    check_labels(train_set, model.config.num_labels, "train_set")
    evaluate = eval_set is not None
    if evaluate:
        check_labels(eval_set, model.config.num_labels, "eval_set")
    columns = [c for c in ("input_ids", "attention_mask", "token_type_ids", "label", "length")
               if c in train_set.column_names]

    def accuracy(pred) -> dict[str, float]:
        return {"accuracy": float((pred.predictions.argmax(-1) == pred.label_ids).mean())}

    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out, num_train_epochs=epochs, per_device_train_batch_size=batch_size,
            per_device_eval_batch_size=128, learning_rate=lr, weight_decay=weight_decay,
            warmup_steps=warmup, max_grad_norm=max_grad_norm, lr_scheduler_type="linear",
            train_sampling_strategy="group_by_length", length_column_name="length",
            eval_strategy="epoch" if evaluate else "no",
            save_strategy="epoch" if evaluate else "no", save_total_limit=1,
            load_best_model_at_end=evaluate, metric_for_best_model="accuracy",
            logging_strategy="steps", logging_steps=1, report_to=[], disable_tqdm=not progress,
            seed=seed, data_seed=seed, use_cpu=get_device().type == "cpu",
            bf16=get_device().type == "cuda", dataloader_num_workers=0)
        trainer = Trainer(model=model, args=args, processing_class=tokenizer,
                          train_dataset=train_set.select_columns(columns),
                          eval_dataset=eval_set.select_columns(columns) if evaluate else None,
                          data_collator=DataCollatorWithPadding(tokenizer),
                          compute_metrics=accuracy if evaluate else None)
        trainer.remove_callback(PrinterCallback)  # per-step logs go to log_history, not stdout
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
    result = TrainResult(seconds=seconds)
    for log in trainer.state.log_history:
        if "loss" in log:
            result.step_loss.append(float(log["loss"]))
        if "eval_loss" in log:
            result.epoch_val_loss.append(float(log["eval_loss"]))
            result.epoch_val_accuracy.append(float(log["eval_accuracy"]))
    if result.epoch_val_accuracy:
        result.best_epoch = int(np.argmax(result.epoch_val_accuracy))
    result.examples = min(len(train_set) * epochs, trainer.state.global_step * batch_size)
    result.tokens = int(sum(train_set["length"])) * epochs
    model.eval()
    return result


# --------------------------------------------------------------------------- evaluation
def metrics(y_true: Sequence[int], y_pred: Sequence[int]) -> dict[str, float]:
    """Return accuracy and macro-F1 (scikit-learn)."""
    return {"accuracy": float(accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, average="macro"))}


def paired_bootstrap(correct_a: Sequence[bool], correct_b: Sequence[bool], n: int = 2000,
                     seed: int = 0) -> dict[str, float]:
    """Accuracy difference A − B on the same examples, with a 95% paired bootstrap interval."""
    a = np.asarray(correct_a, dtype=float)
    b = np.asarray(correct_b, dtype=float)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"need two equally long, non-empty lists of per-example results; got {a.size} and {b.size}.")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, a.size, size=(n, a.size))
    diffs = (a[idx] - b[idx]).mean(1)
    low, high = np.percentile(diffs, [2.5, 97.5])
    return {"difference": float(a.mean() - b.mean()), "low": float(low), "high": float(high)}


def most_confident_mistakes(texts: Sequence[str], y_true: Sequence[int], logits: torch.Tensor,
                            labels: Sequence[str], k: int = 5) -> pd.DataFrame:
    """Return the ``k`` wrong predictions the model was most sure of (``labels``: class names)."""
    probs = logits.softmax(-1)
    conf, pred = probs.max(-1)
    labels_t = torch.as_tensor(list(y_true))
    wrong = (pred != labels_t).nonzero().flatten()
    top = wrong[conf[wrong].argsort(descending=True)[:k]]
    return pd.DataFrame({"text": [texts[i] for i in top.tolist()],
                         "true": [labels[labels_t[i]] for i in top.tolist()],
                         "predicted": [labels[pred[i]] for i in top.tolist()],
                         "confidence": conf[top].numpy().round(3)})


def run(make_model: Callable[[], nn.Module], tokenizer, train_set, eval_set, seed: int = 0,
        fit: Callable[..., TrainResult] = train, keep_predictions: bool = False,
        **train_kwargs) -> dict[str, float]:
    """One run: seed, ``make_model()``, ``fit``, evaluate; return seed, accuracy, macro-F1, train seconds
    (and, with ``keep_predictions``, the predicted class of every ``eval_set`` example)."""
    seed_everything(seed)
    model = make_model()
    result = fit(model, tokenizer, train_set, seed=seed, progress=False, **train_kwargs)
    pred = predict(model, tokenizer, eval_set, batch_size=128).argmax(-1).tolist()
    row = {"seed": seed, **metrics(list(eval_set["label"]), pred), "train_seconds": result.seconds}
    return {**row, "predictions": pred} if keep_predictions else row


def summarize_runs(rows: Sequence[dict], by: str = "model") -> pd.DataFrame:
    """Mean, standard deviation (n-1), min and max of accuracy per ``by`` group, with run counts."""
    frame = pd.DataFrame(list(rows))
    if frame.empty:
        raise ValueError("summarize_runs() got no runs.")
    table = frame.groupby(by, sort=False)["accuracy"].agg(["mean", "std", "min", "max", "count"])
    return table.rename(columns={"count": "runs"})


# --------------------------------------------------------------------------- baselines
def majority_baseline(y_train: Sequence[int], y_test: Sequence[int]) -> dict[str, float]:
    """Always predict the most frequent training label."""
    majority = int(np.bincount(np.asarray(y_train)).argmax())
    return metrics(y_test, [majority] * len(y_test))


def tfidf_baseline(train_texts: Sequence[str], y_train: Sequence[int],
                   test_texts: Sequence[str], y_test: Sequence[int]) -> dict[str, float]:
    """TF-IDF on word 1-2 grams + logistic regression (scikit-learn)."""
    clf = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                        LogisticRegression(C=4.0, max_iter=2000))
    clf.fit(list(train_texts), list(y_train))
    return metrics(y_test, clf.predict(list(test_texts)))


def frozen_embedding_baseline(train_features: torch.Tensor, y_train: Sequence[int],
                              test_features: torch.Tensor, y_test: Sequence[int]) -> dict[str, float]:
    """Logistic regression on frozen sentence embeddings."""
    clf = LogisticRegression(C=1.0, max_iter=3000)
    clf.fit(train_features.numpy(), list(y_train))
    return metrics(y_test, clf.predict(test_features.numpy()))
