"""Every model by name: tokenizers, encoders and classifiers as ordinary ``transformers`` objects.

Offline: ``minilm-l6``, ``me5-small`` (multilingual-e5-small), and the workbook's ``tiny-bert-bbc`` and
``minilm-rotten-tomatoes`` (made by recipe when missing); other names go to ``from_pretrained`` (Hub, folder).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
from torch import nn
from transformers import (AutoConfig, AutoModel, AutoModelForPreTraining, AutoModelForSequenceClassification,
                          AutoTokenizer, BertForMaskedLM, BertForTokenClassification, BertLMHeadModel)

from . import finetune, me5, pretraining, store
from .config import profile as current_profile
from .config import seed_everything
from .data import check_texts, load_dataset
from .inference import predict

MODELS = {
    "minilm-l6": "English BERT encoder, all-MiniLM-L6-v2 (6 layers, hidden 384, uncased WordPiece)",
    "me5-small": "multilingual-e5-small (12 layers, hidden 384, 250k sentencepiece vocabulary)",
    "tiny-bert-bbc": "small BERT pretrained from scratch in notebook 03 (2 layers, hidden 128)",
    "minilm-rotten-tomatoes": "MiniLM fine-tuned for sentiment on Rotten Tomatoes in notebook 04",
    "tiny-mlm-bbc": "notebook 09's small encoder pretrained by BERT's masked LM alone (bidirectional)",
    "tiny-clm-bbc": "notebook 09's small encoder pretrained by GPT's next-token prediction (causal)",
    "tiny-electra-bbc": "notebook 09's small encoder pretrained by ELECTRA's replaced-token detection",
}
OBJECTIVE_MODELS = {"mlm": "tiny-mlm-bbc", "clm": "tiny-clm-bbc", "electra": "tiny-electra-bbc"}
NO_POOLER = {"me5-small"}  # checkpoints without a pooler on purpose (a head gets a fresh one)
SHIPPED = Path(__file__).resolve().with_name("checkpoints")  # package data: installed with bertlab
log = logging.getLogger(__name__)


class ModelNotFoundError(OSError):
    """A model name is neither an offline model nor loadable from the Hub or disk."""


# --------------------------------------------------------------------------- recipes
def recipe(name: str, profile: str | None = None) -> dict:
    """The settings a trained model ``name`` is made with, in ``profile`` (default: the current one)."""
    quick = (profile or current_profile()) == "quick"
    if name == "tiny-bert-bbc":  # quick: ≈ 45 minutes on 2 CPU cores, so it ships in bertlab/checkpoints
        return {"corpus": "bbc_news/train", "vocab_size": 4000, "max_length": 64, "batch_size": 32,
                "lr": 1e-3, "warmup": 0.05, "seed": 0, "steps": 8000 if quick else 30_000}
    if name == "minilm-rotten-tomatoes":  # quick: one pass over the first 4,000 training snippets
        # Both profiles leave the rest of the training split unseen: notebook 08 distils on it.
        return {"model": "minilm-l6", "dataset": "rotten_tomatoes", "splits": "shuffled", "max_length": 64,
                "train_examples": 4000 if quick else 6000, "epochs": 1 if quick else 3,
                "batch_size": 32, "lr": 1e-4, "seed": 0}
    if name in OBJECTIVE_MODELS.values():  # notebook 09: three objectives at the compute of 03's steps
        objective = next(o for o, n in OBJECTIVE_MODELS.items() if n == name)
        return {"objective": objective, "corpus": "bbc_news/train", "tokenizer": "tiny-bert-bbc",
                "blocks": "packed", "max_length": 64, "batch_size": 32, "lr": 1e-3, "warmup": 0.05,
                "seed": 0, "mlm_steps": 8000 if quick else 30_000}
    raise ModelNotFoundError(f"{name!r} is not a trained model of the workbook; those are {', '.join(TRAINED)}.")


def make_tiny_bert(folder: Path) -> dict:
    """Pretrain notebook 03's small BERT into ``folder``; return the facts to record."""
    rec = recipe("tiny-bert-bbc")
    log.warning("Pretraining tiny-bert-bbc from scratch: %d steps (≈ 0.35 s each on a 2-core CPU).", rec["steps"])
    model, tokenizer, history = pretraining.pretrain_tiny_bert(rec)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    every = 100
    per = lambda losses: [round(float(np.mean(losses[i:i + every])), 4) for i in range(0, len(losses), every)]
    return {"train_seconds": round(history.seconds, 1), f"mlm_loss_per_{every}_steps": per(history.mlm_loss),
            f"nsp_loss_per_{every}_steps": per(history.nsp_loss), "held_out": history.evals}


def make_sentiment(folder: Path) -> dict:
    """Fine-tune MiniLM on Rotten Tomatoes as notebook 04 does and save it into ``folder``."""
    rec = recipe("minilm-rotten-tomatoes")
    log.warning("Fine-tuning minilm-rotten-tomatoes (the recipe of notebook 04).")
    reviews = load_dataset(rec["dataset"])
    tokenizer = load_tokenizer(rec["model"])
    encoded = finetune.tokenize_dataset(tokenizer, reviews, rec["max_length"])
    seed_everything(rec["seed"])  # the fresh head's initial weights
    model = load_classifier(rec["model"], reviews["train"].features["label"].names)
    train_set = encoded["train"].select(range(rec["train_examples"] or len(encoded["train"])))
    finetune.train(model, tokenizer, train_set, eval_set=encoded["validation"], epochs=rec["epochs"],
                   batch_size=rec["batch_size"], lr=rec["lr"], seed=rec["seed"])
    logits = predict(model, tokenizer, reviews["test"]["text"], max_length=rec["max_length"])
    model.cpu().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return {"test_accuracy": finetune.metrics(reviews["test"]["label"], logits.argmax(-1).tolist())["accuracy"]}


def make_objective_model(name: str) -> Callable[[Path], dict]:
    """Return the maker of notebook 09's checkpoint ``name`` (pretrained on one objective at equal compute)."""

    def make(folder: Path) -> dict:
        rec = recipe(name)
        log.warning("Pretraining %s from scratch (the compute of %d MLM steps, ≈ 0.1 s each on a 2-core CPU).",
                    name, rec["mlm_steps"])
        tokenizer = load_tokenizer(rec["tokenizer"])
        model, history, budget = pretraining.pretrain_objective(rec["objective"], rec, tokenizer)
        if rec["objective"] == "electra":
            model.discriminator.save_pretrained(folder)
            model.generator.save_pretrained(folder / "generator")
        else:
            model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        every = 100
        per = {f"{k}_loss_per_{every}_steps": [round(float(np.mean(v[i:i + every])), 4) for i in range(0, len(v), every)]
               for k, v in history.losses.items()}
        return {"train_seconds": round(history.seconds, 1), **budget, **per, "held_out": history.evals}

    return make


def load_pretrained(objective: str) -> nn.Module:
    """Return notebook 09's encoder pretrained on ``objective`` ("mlm", "clm" or "electra") with its heads."""
    if objective not in OBJECTIVE_MODELS:
        raise ValueError(f"unknown objective {objective!r}; notebook 09 pretrained {', '.join(OBJECTIVE_MODELS)}")
    folder = Path(model_path(OBJECTIVE_MODELS[objective]))
    if objective == "mlm":
        return BertForMaskedLM.from_pretrained(folder).eval()
    if objective == "clm":
        return BertLMHeadModel.from_pretrained(folder, use_cache=False).eval()  # a classifier keeps no cache
    return pretraining.ReplacedTokenDetector(BertForMaskedLM.from_pretrained(folder / "generator"),
                                             BertForTokenClassification.from_pretrained(folder)).eval()


TRAINED: dict[str, Callable[[Path], dict]] = {
    "tiny-bert-bbc": make_tiny_bert, "minilm-rotten-tomatoes": make_sentiment,
    **{name: make_objective_model(name) for name in OBJECTIVE_MODELS.values()}}


def checkpoint_name(name: str) -> str:
    """The cache name of trained model ``name`` in the current profile, e.g. ``tiny-bert-bbc-quick``."""
    return f"{name}-{current_profile()}"


def checkpoint_info(name: str) -> dict:
    """What was recorded when trained model ``name`` was made: its recipe, losses, scores."""
    recipe(name)  # a clear error for names that are not trained models
    return json.loads((Path(model_path(name)) / store.INFO).read_text())


def save_trained(name: str, model: nn.Module, tokenizer, info: dict | None = None) -> Path:
    """Store ``model`` as trained model ``name`` (made by its recipe), so later notebooks load it by name."""
    recipe(name)  # a clear error for names that are not trained models

    def write(folder: Path) -> dict:
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        return info or {}

    return store.save(checkpoint_name(name), recipe(name), write)


def model_path(name: str) -> str:
    """Return a local folder for an offline model name (made if missing), else ``name`` (Hub id/path)."""
    if name == "minilm-l6":
        return str(store.fetch_asset("minilm-l6"))
    if name == "me5-small":
        return str(me5.build())
    if name in TRAINED:
        return str(store.cached(checkpoint_name(name), recipe(name), TRAINED[name], shipped=SHIPPED))
    return name


# --------------------------------------------------------------------------- the Hub, quickly
HUB_TIMEOUT = 2.5  # seconds for name resolution + TCP connect to the Hub (or the proxy that reaches it)
HUB_RECHECK = 30.0  # seconds before an unreachable Hub is asked again (a reachable one is remembered)
_hub_checks: dict[tuple[str, int], tuple[bool, float]] = {}


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().upper() in ("1", "ON", "YES", "TRUE")


def hub_offline() -> bool:
    """True when the user told huggingface_hub or transformers not to use the network (HF_HUB_OFFLINE=1)."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE) or _env_true("HF_HUB_OFFLINE") or _env_true("TRANSFORMERS_OFFLINE")


def hub_endpoint() -> str:
    """The Hub URL huggingface_hub uses (``HF_ENDPOINT``, default https://huggingface.co)."""
    from huggingface_hub import constants

    return constants.ENDPOINT


def _hub_address(endpoint: str) -> tuple[str, int]:
    """Where a request to ``endpoint`` first connects: its host and port, or its proxy's."""
    url = urlsplit(endpoint)
    host, port = url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)
    proxy = urllib.request.getproxies().get(url.scheme or "https")
    if proxy and not urllib.request.proxy_bypass(host):
        p = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        host, port = p.hostname or host, p.port or (443 if p.scheme == "https" else 80)
    return host, port


def _can_connect(host: str, port: int, timeout: float) -> bool:
    """Resolve ``host`` and open a TCP connection to it, giving up after ``timeout`` seconds in all."""
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:  # no route, no DNS, refused, timed out
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)  # name resolution has no timeout of its own
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def hub_reachable(timeout: float = HUB_TIMEOUT) -> bool:
    """Return True when the Hugging Face Hub answers a TCP connect within ``timeout`` seconds (cached)."""
    address = _hub_address(hub_endpoint())
    seen = _hub_checks.get(address)
    if seen and (seen[0] or time.monotonic() - seen[1] < HUB_RECHECK):
        return seen[0]
    ok = _can_connect(*address, timeout)
    _hub_checks[address] = (ok, time.monotonic())
    return ok


# --------------------------------------------------------------------------- loading
def _load(cls, name: str, **kwargs):
    """Call ``cls.from_pretrained`` on ``name``'s folder and turn Hub/network failures into a clear error.

    A Hub name is looked up only when the Hub can be reached (a 2.5 s check, remembered): with no
    network it is loaded from the local Hugging Face cache if it is there, else bertlab says so at
    once instead of letting huggingface_hub retry for most of a minute.
    """
    path = model_path(name)
    offline = ", ".join(f"{k!r}" for k in MODELS)
    if not (name in MODELS or Path(path).is_dir()) and not hub_offline() and not hub_reachable():
        try:
            return cls.from_pretrained(path, **{**kwargs, "local_files_only": True})
        except (OSError, ValueError):
            raise ModelNotFoundError(
                f"Could not load model {name!r}: it is not one of bertlab's offline models ({offline}) nor "
                f"a folder on disk, and the Hugging Face Hub ({hub_endpoint()}) cannot be reached from "
                f"here (no network?), nor is the model in the local Hugging Face cache. Hub models need "
                f"internet the first time; offline, use one of {offline}.") from None
    try:
        return cls.from_pretrained(path, **kwargs)
    except (OSError, ValueError) as err:
        if name in MODELS or Path(path).is_dir():
            raise
        hint = "HF_HUB_OFFLINE=1 is set, so the Hub was not asked. " if hub_offline() else ""
        raise ModelNotFoundError(
            f"Could not load model {name!r}: it is not one of bertlab's offline models "
            f"({offline}) and from_pretrained could not find it on the Hugging Face Hub or on "
            f"disk ({type(err).__name__}: {str(err).splitlines()[0][:200]}). {hint}Hub models "
            f"need internet the first time; offline, use one of {offline}.") from None


def load_tokenizer(name: str = "minilm-l6"):
    """Return the fast tokenizer of model ``name``."""
    return _load(AutoTokenizer, name)


def load_encoder(name: str = "minilm-l6", **kwargs) -> nn.Module:
    """Return the pretrained encoder (a ``BertModel`` for the offline names), in eval mode."""
    if name in NO_POOLER:
        kwargs.setdefault("add_pooling_layer", False)
    return _load(AutoModel, name, **kwargs).eval()


def load_model(name: str, cls=AutoModelForPreTraining, **kwargs) -> nn.Module:
    """Return model ``name`` as ``transformers`` class ``cls`` (e.g. ``BertForMaskedLM``), in eval mode."""
    return _load(cls, name, **kwargs).eval()


def load_classifier(name: str = "minilm-l6", labels: Sequence[str] | None = None,
                    random_init: bool = False, **kwargs) -> nn.Module:
    """Return classifier ``name``, or ``name`` with a fresh head for the class names ``labels``."""
    config = _load(AutoConfig, name)
    has_head = any(a.endswith("ForSequenceClassification") for a in config.architectures or [])
    if labels is None:
        if not has_head:
            raise ValueError(f"{name!r} has no classification head: pass its class names, e.g. "
                             f"load_classifier({name!r}, labels=ds['train'].features['label'].names).")
    else:
        if isinstance(labels, str):
            raise ValueError(f"labels must be a list of at least two distinct class names, got {labels!r}, "
                             "a single string: pass a list of every class name, e.g. labels=['negative', 'positive'].")
        labels = check_texts(labels, "labels", "pass the class names as strings, e.g. "
                                               "labels=ds['train'].features['label'].names")
        if len(labels) < 2 or len(set(labels)) != len(labels):
            raise ValueError(f"labels must be a list of at least two distinct class names, got {labels!r}: "
                             "pass every class once, e.g. labels=ds['train'].features['label'].names.")
        kwargs.update(num_labels=len(labels), id2label=dict(enumerate(labels)),
                      label2id={label: i for i, label in enumerate(labels)})
        if has_head:
            kwargs["ignore_mismatched_sizes"] = True  # a trained head of another shape is dropped
    if random_init:
        kwargs.pop("ignore_mismatched_sizes", None)
        return AutoModelForSequenceClassification.from_config(_load(AutoConfig, name, **kwargs))
    model = _load(AutoModelForSequenceClassification, name, **kwargs)
    if has_head and labels is not None:  # new labels get a new, untrained head, as BERT initialises it
        model.classifier.weight.data.normal_(0.0, model.config.initializer_range)
        model.classifier.bias.data.zero_()
    return model
