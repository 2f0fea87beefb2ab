"""Fine-tuning throughput: the classic tutorial loop vs bertlab's loop vs bertlab's Trainer recipe.

Usage: python benchmarks/finetune_throughput.py [--examples 512] [--batch-size 32] [--record runs/NAME.json]
       (runs on bertlab.get_device(); BERTLAB_DEVICE=cpu forces the CPU for all three;
       --record writes the figures, the machine and the versions to a JSON run record, which
       docs/RESULTS.md may quote: tests/test_claims.py accepts numbers found in runs/*.json)

All three train MiniLM-L6 (a fresh two-class head) for one epoch over the same Rotten Tomatoes
subset, same batch size, lr 5e-5:
1. "seed-style": every example padded to 512 tokens (the tutorial snippet, made to run),
   random batches, default collate, plain AdamW;
2. bertlab loop: tokenized once, dynamic padding, length-grouped batches (bertlab.finetune.train);
3. bertlab.finetune.train_with_trainer: the same recipe through transformers.Trainer, the very
   function notebook 04b runs (DataCollatorWithPadding, group-by-length sampling).
It prints examples/s, real (non-pad) tokens/s, the ratios, and the achieved matmul GFLOP/s next
to a measured sgemm ceiling of this device. (On CUDA, 2 and 3 train in bf16 autocast while the
seed-style loop stays fp32, so the GFLOP/s there are not against the fp32 ceiling.)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

import bertlab
from bertlab import finetune


def sgemm_ceiling(device: torch.device, n: int = 2048, repeats: int = 5) -> float:
    """Measured fp32 matrix-multiply GFLOP/s of ``device`` (best of ``repeats``)."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    a @ b
    sync()
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        sync()
        best = max(best, 2 * n**3 / (time.perf_counter() - start) / 1e9)
    return best


def matmul_flops(model, padded_tokens: int, sequences: list[int]) -> float:
    """Training FLOPs of the linear layers (6 × params × tokens) plus attention (n² terms)."""
    c = model.config
    linear = sum(p.numel() for n, p in model.named_parameters() if p.ndim == 2 and "embeddings" not in n)
    attention = sum(4 * n * n * c.hidden_size * c.num_hidden_layers for n in sequences) * 3
    return 6 * linear * padded_tokens + attention


def seed_style(tokenizer, train, labels, batch_size: int, device: torch.device):
    """The tutorial loop: padding='max_length' to 512, default collate, random batches."""
    enc = tokenizer(list(train["text"]), padding="max_length", truncation=True, max_length=512,
                    return_tensors="pt")
    data = [{"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i],
             "token_type_ids": enc["token_type_ids"][i], "labels": torch.tensor(y)}
            for i, y in enumerate(train["label"])]
    bertlab.seed_everything(0)
    model = bertlab.load_classifier("minilm-l6", labels).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    loader = DataLoader(data, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(0))
    model.train()
    examples = real = padded = 0
    seqs = []
    start = time.perf_counter()
    for batch in loader:
        batch = {k: v.to(device) for k, v in batch.items()}
        loss = model(**batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        examples += len(batch["labels"])
        real += int(batch["attention_mask"].sum())
        padded += batch["input_ids"].numel()
        seqs += [batch["input_ids"].shape[1]] * len(batch["labels"])
    return time.perf_counter() - start, examples, real, padded, seqs, model


def bertlab_loop(tokenizer, train, labels, batch_size: int, device: torch.device):
    """bertlab.finetune.train: dynamic padding + length-grouped batches."""
    tokenized = finetune.tokenize_dataset(tokenizer, train, max_length=512)
    # the batches train() will draw (same loader arguments, same seed), to count padded tokens
    loader = finetune.make_loader(tokenizer, tokenized, batch_size, shuffle=True, seed=0)
    padded = sum(b["input_ids"].numel() for b in loader)
    seqs = [b["input_ids"].shape[1] for b in loader for _ in range(len(b["labels"]))]
    bertlab.seed_everything(0)
    model = bertlab.load_classifier("minilm-l6", labels)
    result = finetune.train(model, tokenizer, tokenized, epochs=1, batch_size=batch_size, lr=5e-5,
                            seed=0, progress=False, device=device)
    return result.seconds, result.examples, result.tokens, padded, seqs, model


def trainer_loop(tokenizer, train, labels, batch_size: int, device: torch.device):
    """bertlab.finetune.train_with_trainer: the same recipe through transformers.Trainer
    (it picks bertlab.get_device() itself; main() checks that this is ``device``)."""
    tokenized = finetune.tokenize_dataset(tokenizer, train, max_length=512)
    bertlab.seed_everything(0)
    model = bertlab.load_classifier("minilm-l6", labels)
    result = finetune.train_with_trainer(model, tokenizer, tokenized, epochs=1, batch_size=batch_size,
                                         lr=5e-5, seed=0, progress=False)
    return result.seconds, result.examples, result.tokens, None, None, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--record", type=Path, default=None, help="write the figures to this JSON file")
    args = parser.parse_args()
    bertlab.quiet()
    device = bertlab.get_device()  # train_with_trainer has no device argument: all three use this one
    ds = bertlab.load_dataset("rotten_tomatoes")
    labels = ds["train"].features["label"].names
    train = ds["train"].select(range(args.examples))  # splits are pre-shuffled: a fair prefix
    tokenizer = bertlab.load_tokenizer("minilm-l6")
    ceiling = sgemm_ceiling(device)
    print(f"machine: {os.cpu_count()} CPUs, torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"device {device}; sgemm ceiling {ceiling:.0f} GFLOP/s (2048×2048 fp32)")
    print(f"data: {args.examples} Rotten Tomatoes snippets, batch {args.batch_size}, one epoch\n")
    rows, record = {}, {}
    for name, fn in (("seed-style (pad to 512)", seed_style), ("bertlab loop", bertlab_loop),
                     ("train_with_trainer", trainer_loop)):
        seconds, examples, real, padded, seqs, model = fn(tokenizer, train, labels, args.batch_size, device)
        assert examples == args.examples, f"{name} trained on {examples} examples, not {args.examples}"
        assert next(model.parameters()).device.type == device.type, f"{name} ran off {device}"
        gflops = matmul_flops(model, padded, seqs) / seconds / 1e9 if padded else float("nan")
        rows[name] = examples / seconds
        record[name] = {"seconds": round(seconds, 1), "examples_per_s": round(examples / seconds, 1),
                        "real_tokens_per_s": round(real / seconds), "matmul_gflops": round(gflops) if padded else None,
                        "share_of_sgemm_ceiling": round(gflops / ceiling, 2) if padded else None}
        print(f"{name:<25} {seconds:7.1f} s  {examples / seconds:7.1f} examples/s  "
              f"{real / seconds:8.0f} real tokens/s  "
              + (f"{gflops:5.0f} GFLOP/s ({gflops / ceiling:.0%} of ceiling)" if padded else ""))
    base = rows["seed-style (pad to 512)"]
    print(f"\nbertlab / seed-style: {rows['bertlab loop'] / base:.1f}×   "
          f"bertlab / train_with_trainer: {rows['bertlab loop'] / rows['train_with_trainer']:.2f}×   "
          f"train_with_trainer / seed-style: {rows['train_with_trainer'] / base:.1f}×")
    if args.record:
        args.record.parent.mkdir(parents=True, exist_ok=True)
        args.record.write_text(json.dumps({
            "command": f"python benchmarks/finetune_throughput.py --examples {args.examples} --batch-size {args.batch_size}",
            "date": datetime.date.today().isoformat(), "cpu": platform.processor() or platform.machine(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), "cpus": os.cpu_count(),
            "threads": torch.get_num_threads(), "device": str(device), "torch": torch.__version__,
            "sgemm_ceiling_gflops": round(ceiling), "loops": record,
            "ratios": {"bertlab_over_seed_style": round(rows["bertlab loop"] / base, 1),
                       "bertlab_over_train_with_trainer": round(rows["bertlab loop"] / rows["train_with_trainer"], 2)},
        }, indent=1) + "\n")
        print(f"run record written to {args.record}")


if __name__ == "__main__":
    main()
