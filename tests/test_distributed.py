"""scripts/finetune.py really runs data-parallel: 2 CPU processes (gloo), as on several GPUs."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TRANSFORMERS_VERBOSITY": "error", "TOKENIZERS_PARALLELISM": "false",
           "CUDA_VISIBLE_DEVICES": ""}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_addr", "127.0.0.1", "--master_port", str(free_port()),
           str(ROOT / "scripts" / "finetune.py"), "--cpu", "--train-examples", "64", "--batch-size", "8",
           "--max-length", "32", "--eval-examples", "64", "--output", str(out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]
    return out, ranks, json.loads((out / "metrics.json").read_text())


def test_two_gloo_processes_see_different_shards_of_the_data(two_process_run):
    _, (r0, r1), metrics = two_process_run
    assert metrics["processes"] == 2 and metrics["distributed_type"].endswith("MULTI_CPU")
    assert len(r0["seen"]) == len(r1["seen"]) == 32
    assert not set(r0["seen"]) & set(r1["seen"])                    # disjoint shards ...
    assert sorted(r0["seen"] + r1["seen"]) == list(range(64))       # ... that cover the data once
    assert r0["losses"] != r1["losses"]                             # different batches, different losses


def test_both_ranks_end_with_identical_trained_weights(two_process_run):
    out, (r0, r1), metrics = two_process_run
    assert r0["start_weights_sha256"] == r1["start_weights_sha256"]   # same seed, same start
    assert r0["weights_sha256"] == r1["weights_sha256"]               # gradients were all-reduced
    assert r0["weights_sha256"] != r0["start_weights_sha256"]         # and training moved them
    assert metrics["validation_examples"] == 64 and 0 <= metrics["validation_accuracy"] <= 1
    from transformers import AutoModelForSequenceClassification

    saved = AutoModelForSequenceClassification.from_pretrained(out / "model")
    assert saved.config.id2label == {0: "negative", 1: "positive"}


def test_bad_arguments_are_rejected():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "finetune.py"), "--mixed-precision", "fp8"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "invalid choice" in done.stderr
