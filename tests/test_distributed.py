"""scripts/finetune.py really runs data-parallel: 2 CPU processes (gloo), as on several GPUs."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

import bertlab

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "finetune.py"


def load_script():
    """scripts/finetune.py as a module (it is a script, not part of the bertlab package)."""
    spec = importlib.util.spec_from_file_location("bertlab_finetune_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    done = load_script().launch_cpu(2, out, "--train-examples", "64", "--batch-size", "8",
                                    "--max-length", "32", "--eval-examples", "64")
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
    saved = AutoModelForSequenceClassification.from_pretrained(out / "model")
    assert saved.config.id2label == {0: "negative", 1: "positive"}


def test_distributed_evaluation_scores_the_saved_model_on_each_example_once(two_process_run):
    """The accuracy the processes computed together (their predictions gathered, with the examples
    repeated to even out the shards dropped) is the saved model's own accuracy on those 64."""
    out, _, metrics = two_process_run
    ddp = json.loads((out / "validation_predictions.json").read_text())
    assert metrics["validation_examples"] == len(ddp) == 64
    val = bertlab.load_dataset("rotten_tomatoes")["validation"].select(range(64))
    labels = torch.tensor(val["label"])
    assert metrics["validation_accuracy"] == pytest.approx(float((torch.tensor(ddp) == labels).float().mean()))

    model = AutoModelForSequenceClassification.from_pretrained(out / "model")
    tokenizer = AutoTokenizer.from_pretrained(out / "model")
    logits = bertlab.predict(model, tokenizer, list(val["text"]), max_length=32, device="cpu")
    top2 = logits.topk(2, dim=-1).values
    clear = (top2[:, 0] - top2[:, 1]) > 1e-4        # padding differs between the runs: skip exact ties
    assert clear.sum() >= 60
    assert torch.equal(logits.argmax(-1)[clear], torch.tensor(ddp)[clear])


def test_bad_arguments_are_rejected():
    done = subprocess.run([sys.executable, str(SCRIPT), "--mixed-precision", "fp8"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "invalid choice" in done.stderr
