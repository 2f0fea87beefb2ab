"""The workbook's fine-tuned sentiment classifier: MiniLM on Rotten Tomatoes (notebook 04).

Notebook 04 trains it in the open and saves it in the cache with the recipe it followed; the
later notebooks (long documents, interpretability, efficiency) call :func:`classifier`, which
loads that checkpoint, or re-creates it with the same recipe (≈ 3 minutes on 2 CPU cores in the
quick profile) when it is missing or was made by another recipe.
"""

from __future__ import annotations

NAME = "minilm-rotten-tomatoes"


def recipe(profile: str | None = None) -> dict:
    """Settings of notebook 04's fine-tuning run (quick: one pass over 4,000 snippets)."""
    from .config import profile as current

    quick = (profile or current()) == "quick"
    return {"model": "minilm-l6", "dataset": "rotten_tomatoes", "max_length": 64,
            "train_examples": 4000 if quick else None, "epochs": 1 if quick else 3,
            "batch_size": 32, "lr": 1e-4, "seed": 0}


def checkpoint_name(profile: str | None = None) -> str:
    """Cache name of the classifier of the given (default: current) profile."""
    from .config import profile as current

    return f"{NAME}-{profile or current()}"


def train_split(encoded, rec: dict):
    """The recipe's training examples: a seeded shuffle of the train split, cut to size."""
    n = rec["train_examples"] or len(encoded["train"])
    return encoded["train"].shuffle(seed=rec["seed"]).select(range(n))


def classifier(retrain: bool = False, progress: bool = True):
    """Return ``(model, tokenizer)``: the fine-tuned sentiment classifier, from the cache or re-created."""
    import logging

    from transformers import AutoModelForSequenceClassification

    from . import finetune
    from .config import get_device, seed_everything
    from .data import load_dataset
    from .models import load_classifier, load_tokenizer
    from .pretraining import _made_by_recipe, checkpoint_dir, load_checkpoint, save_checkpoint

    name, rec = checkpoint_name(), recipe()
    if not retrain and _made_by_recipe(checkpoint_dir(name), rec):
        cached = load_checkpoint(name, AutoModelForSequenceClassification)
        if cached is not None:
            return cached
    logging.getLogger(__name__).warning("Fine-tuning %s (the recipe of notebook 04).", name)
    seed_everything(rec["seed"])
    reviews = load_dataset(rec["dataset"])
    tokenizer = load_tokenizer(rec["model"])
    encoded = finetune.tokenize_dataset(reviews, tokenizer, rec["max_length"])
    model = load_classifier(rec["model"], reviews["train"].features["label"].names)
    finetune.train(model, train_split(encoded, rec), tokenizer, val_set=encoded["validation"],
                   epochs=rec["epochs"], batch_size=rec["batch_size"], lr=rec["lr"], seed=rec["seed"],
                   device=get_device(), progress=progress)
    test_pred = finetune.predict(model, encoded["test"], tokenizer).argmax(-1).tolist()
    accuracy = finetune.metrics(list(encoded["test"]["label"]), test_pred)["accuracy"]
    save_checkpoint(name, model.cpu(), tokenizer, {"recipe": rec, "test_accuracy": accuracy})
    return load_checkpoint(name, AutoModelForSequenceClassification)
