"""Fine-tuning throughput: the classic tutorial loop vs bertlab's loop vs transformers.Trainer.

Usage: python benchmarks/finetune_throughput.py [--examples 512] [--batch-size 32]

All three train MiniLM-L6 for one pass over the same Rotten Tomatoes subset:
1. "seed-style": every example padded to 512 tokens (the tutorial snippet, made to run),
   random batches, default collate;
2. bertlab: tokenized once, dynamic padding, length-grouped batches (bertlab.finetune.train);
3. transformers.Trainer with DataCollatorWithPadding and group_by_length=True.
It prints examples/s, real (non-pad) tokens/s, the ratios, and the achieved matmul GFLOP/s next
to a measured sgemm ceiling of this machine.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch

import bertlab
from bertlab import finetune


def sgemm_ceiling(n: int = 2048, repeats: int = 5) -> float:
    """Measured fp32 matrix-multiply GFLOP/s of this machine (best of ``repeats``)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = max(best, 2 * n**3 / (time.perf_counter() - start) / 1e9)
    return best


def matmul_flops(model, padded_tokens: int, sequences: list[int]) -> float:
    """Training FLOPs of the linear layers (6 × params × tokens) plus attention (n² terms)."""
    c = model.config
    linear = sum(p.numel() for n, p in model.named_parameters() if p.ndim == 2 and "embeddings" not in n)
    attention = sum(4 * n * n * c.hidden_size * c.num_hidden_layers for n in sequences) * 3
    return 6 * linear * padded_tokens + attention


def seed_style(train, tokenizer, batch_size: int):
    """The tutorial loop: padding='max_length' to 512, default collate, random batches."""
    from torch.utils.data import DataLoader

    enc = tokenizer(list(train["text"]), padding="max_length", truncation=True, max_length=512,
                    return_tensors="pt")
    data = [{"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i],
             "token_type_ids": enc["token_type_ids"][i], "labels": torch.tensor(y)}
            for i, y in enumerate(train["label"])]
    model = bertlab.load_classifier("minilm-l6")
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    loader = DataLoader(data, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(0))
    model.train()
    real = padded = 0
    seqs = []
    start = time.perf_counter()
    for batch in loader:
        loss = model(**batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        real += int(batch["attention_mask"].sum())
        padded += batch["input_ids"].numel()
        seqs += [batch["input_ids"].shape[1]] * len(batch["labels"])
    return time.perf_counter() - start, real, padded, seqs, model


def bertlab_loop(train, tokenizer, batch_size: int):
    """bertlab.finetune.train: dynamic padding + length-grouped batches."""
    tokenized = finetune.tokenize_dataset(train, tokenizer, max_length=512)
    model = bertlab.load_classifier("minilm-l6")
    loader = finetune.make_loader(tokenized, tokenizer, batch_size, shuffle=True)
    padded = sum(b["input_ids"].numel() for b in loader)
    seqs = [b["input_ids"].shape[1] for b in loader for _ in range(len(b["labels"]))]
    result = finetune.train(model, tokenized, tokenizer, epochs=1, batch_size=batch_size,
                            progress=False, device="cpu")
    return result.seconds, result.tokens, padded, seqs, model


def trainer_loop(train, tokenizer, batch_size: int):
    """transformers.Trainer with dynamic padding and group_by_length."""
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    tokenized = finetune.tokenize_dataset(train, tokenizer, max_length=512)
    model = bertlab.load_classifier("minilm-l6")
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(output_dir=out, per_device_train_batch_size=batch_size,
                                 num_train_epochs=1, learning_rate=5e-5, warmup_steps=0.1,
                                 weight_decay=0.01, train_sampling_strategy="group_by_length", length_column_name="length",
                                 report_to=[], save_strategy="no", logging_strategy="no",
                                 disable_tqdm=True, use_cpu=True, seed=0, dataloader_num_workers=0)
        trainer = Trainer(model=model, args=args, train_dataset=tokenized,
                          data_collator=DataCollatorWithPadding(tokenizer))
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
    tokens = sum(tokenized["length"])
    return seconds, tokens, None, None, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    bertlab.quiet()
    torch.manual_seed(0)
    tokenizer = bertlab.load_tokenizer("minilm-l6")
    train = bertlab.load_dataset("rotten_tomatoes")["train"].shuffle(seed=0).select(range(args.examples))
    ceiling = sgemm_ceiling()
    print(f"machine: {os.cpu_count()} CPUs, torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"sgemm ceiling {ceiling:.0f} GFLOP/s (2048×2048 fp32)")
    print(f"data: {args.examples} Rotten Tomatoes snippets, batch {args.batch_size}, one epoch\n")
    rows = {}
    for name, fn in (("seed-style (pad to 512)", seed_style), ("bertlab loop", bertlab_loop),
                     ("transformers.Trainer", trainer_loop)):
        seconds, real, padded, seqs, model = fn(train, tokenizer, args.batch_size)
        gflops = matmul_flops(model, padded, seqs) / seconds / 1e9 if padded else float("nan")
        rows[name] = args.examples / seconds
        print(f"{name:<25} {seconds:7.1f} s  {args.examples / seconds:7.1f} examples/s  "
              f"{real / seconds:8.0f} real tokens/s  "
              + (f"{gflops:5.0f} GFLOP/s ({gflops / ceiling:.0%} of ceiling)" if padded else ""))
    base = rows["seed-style (pad to 512)"]
    print(f"\nbertlab / seed-style: {rows['bertlab loop'] / base:.1f}×   "
          f"bertlab / Trainer: {rows['bertlab loop'] / rows['transformers.Trainer']:.2f}×")


if __name__ == "__main__":
    main()
