"""Fine-tune a bertlab classifier with Hugging Face accelerate: one process, many GPUs, many machines.

The same script runs everywhere; only the launch command changes. accelerate wraps the model in
PyTorch DistributedDataParallel (DDP) when there is more than one process: every process holds a
full copy of the model, reads a different shard of each epoch's batches, and gradients are
averaged across processes after every backward pass, so all copies stay identical.

    # one process (CPU, or the one GPU you have)
    python scripts/finetune.py --train-examples 4000

    # 4 GPUs on one machine (DDP over NCCL); --batch-size is per GPU
    accelerate launch --multi_gpu --num_processes 4 scripts/finetune.py --mixed-precision bf16

    # 2 machines x 8 GPUs: run on each machine, with its own --machine_rank (0 and 1)
    accelerate launch --multi_gpu --num_machines 2 --num_processes 16 --machine_rank 0 \\
        --main_process_ip 10.0.0.1 --main_process_port 29500 scripts/finetune.py

    # 2 CPU processes (DDP over gloo), as the test suite and notebook 08 do via launch_cpu()
    torchrun --nproc_per_node 2 scripts/finetune.py --cpu --train-examples 64

(`accelerate launch` starts GPU processes through torchrun; for CPU processes we call torchrun
directly, since `accelerate launch --cpu` expects MPI for more than one process.)
From Python, ``launch_cpu(2, output, "--train-examples", "64")`` runs that CPU launch.

Each process writes ``rank<r>.json`` into ``--output`` (the training examples it saw, its loss,
a checksum of its final weights); the main process also saves the model, ``metrics.json`` and
``validation_predictions.json`` (the predicted class of each validation example, in order).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing bertlab
    sys.path.insert(0, str(ROOT))

# None of these imports initialises CUDA, so --cpu can still hide the GPUs in main().
import torch  # noqa: E402
from accelerate import Accelerator  # noqa: E402
from accelerate.utils import set_seed  # noqa: E402
from transformers import get_linear_schedule_with_warmup  # noqa: E402

import bertlab  # noqa: E402
from bertlab import finetune  # noqa: E402

# What a CPU launch needs: one thread per process (two processes must not fight over the
# cores), no Hub, quiet libraries, and no GPU even on a machine that has some.
CPU_ENV = {"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TRANSFORMERS_VERBOSITY": "error", "TOKENIZERS_PARALLELISM": "false",
           "CUDA_VISIBLE_DEVICES": ""}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for the processes to meet on)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_cpu(processes: int, output: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run this script in ``processes`` CPU processes (DDP over gloo) and wait for them.

    The command is ``python -m torch.distributed.run --nproc_per_node N --master_addr 127.0.0.1
    --master_port <free port> scripts/finetune.py --cpu --output OUTPUT *args`` (``torchrun``,
    without relying on the ``torchrun`` entry point being on PATH), run from the repository root
    with :data:`CPU_ENV` added to the environment. Returns the finished process (``.args`` is the
    command, ``.stdout``/``.stderr`` its text output); it does not raise on a non-zero exit.
    """
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(processes),
               "--master_addr", "127.0.0.1", "--master_port", str(free_port()),
               str(Path(__file__).resolve()), "--cpu", "--output", str(output), *map(str, args)]
    return subprocess.run(command, env={**os.environ, **CPU_ENV}, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="minilm-l6", help="bertlab model name or a Hub name")
    p.add_argument("--dataset", default="rotten_tomatoes", help="bertlab dataset name")
    p.add_argument("--train-examples", type=int, default=None, help="first N shuffled training examples (default: all)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=32, help="per process")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--warmup", type=float, default=0.1, help="share of steps")
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mixed-precision", choices=["no", "fp16", "bf16"], default="no")
    p.add_argument("--cpu", action="store_true", help="use the CPU even if a GPU is there")
    p.add_argument("--output", type=Path, default=Path("runs/finetune"))
    p.add_argument("--eval-examples", type=int, default=None, help="first N validation examples (default: all)")
    p.add_argument("--no-eval", action="store_true", help="skip the validation pass")
    return p.parse_args(argv)


def weights_checksum(model: torch.nn.Module) -> str:
    """sha256 over every parameter's bytes, in name order: equal only for identical weights."""
    h = hashlib.sha256()
    for name, p in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(p.detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.cpu:  # hide GPUs before CUDA initialises: torchrun's LOCAL_RANK must not pick a GPU
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
    bertlab.quiet()
    accelerator = Accelerator(cpu=args.cpu, mixed_precision=args.mixed_precision)
    set_seed(args.seed)  # the same seed on every process: identical initial weights

    ds = bertlab.load_dataset(args.dataset)
    names = ds["train"].features["label"].names
    tokenizer = bertlab.load_tokenizer(args.model)
    train = ds["train"]  # shuffled once when the dataset was made: any prefix is a fair subset
    if args.train_examples:
        train = train.select(range(min(args.train_examples, len(train))))
    train = train.add_column("idx", list(range(len(train))))
    train_set = finetune.tokenize_dataset(tokenizer, train, args.max_length)
    model = bertlab.load_classifier(args.model, names)
    optimizer = finetune.make_optimizer(model, args.lr, args.weight_decay)
    loader = finetune.make_loader(tokenizer, train_set, args.batch_size, shuffle=True, seed=args.seed,
                                  length_grouped=False, extra_columns=["idx"])
    # Defined in single-process steps: accelerate's prepared scheduler advances once per process
    # at each optimizer step, so the schedule ends on time for any number of processes.
    steps = args.epochs * len(loader)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(args.warmup * steps), steps)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)

    start = weights_checksum(accelerator.unwrap_model(model))
    seen: list[int] = []
    losses: list[float] = []
    model.train()
    for _ in range(args.epochs):
        for batch in loader:
            seen += batch.pop("idx").tolist()
            with accelerator.accumulate(model):
                loss = model(**batch).loss
                accelerator.backward(loss)
                accelerator.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            losses.append(float(loss.detach()))

    predictions: dict[int, int] = {}  # validation index -> predicted class, from all processes
    metrics: dict = {"processes": accelerator.num_processes, "distributed_type": str(accelerator.distributed_type),
                     "steps_per_process": len(losses), "examples": len(train_set)}
    if not args.no_eval:
        val = ds["validation"]
        if args.eval_examples:
            val = val.select(range(min(args.eval_examples, len(val))))
        val = finetune.tokenize_dataset(tokenizer, val.add_column("idx", list(range(len(val)))), args.max_length)
        val_loader = accelerator.prepare(finetune.make_loader(tokenizer, val, 128, shuffle=False, length_grouped=False,
                                                              extra_columns=["idx"]))
        model.eval()
        correct = total = 0
        with torch.inference_mode():
            for batch in val_loader:
                idx = batch.pop("idx")
                pred = model(**batch).logits.argmax(-1)
                # every process's predictions, without the examples repeated to even out the shards
                idx, pred, labels = accelerator.gather_for_metrics((idx, pred, batch["labels"]))
                predictions.update(zip(idx.tolist(), pred.tolist()))
                correct += int((pred == labels).sum())
                total += len(labels)
        metrics["validation_accuracy"] = correct / total
        metrics["validation_examples"] = total

    unwrapped = accelerator.unwrap_model(model)
    args.output.mkdir(parents=True, exist_ok=True)
    rank = accelerator.process_index
    (args.output / f"rank{rank}.json").write_text(json.dumps({
        "rank": rank, "seen": seen, "losses": losses, "start_weights_sha256": start,
        "weights_sha256": weights_checksum(unwrapped)}))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        unwrapped.save_pretrained(args.output / "model")
        tokenizer.save_pretrained(args.output / "model")
        (args.output / "metrics.json").write_text(json.dumps(metrics, indent=1))
        if predictions:
            (args.output / "validation_predictions.json").write_text(
                json.dumps([predictions[i] for i in sorted(predictions)]))
        accelerator.print(json.dumps(metrics))
    accelerator.end_training()
    return metrics


if __name__ == "__main__":
    main()
